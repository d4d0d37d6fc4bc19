import assert from 'node:assert/strict';
import { request } from 'undici';
import { createAppJwt, loadAppPrivateKey } from '../../runtime/github/app-jwt.ts';
import type { GitHubClient } from '../../runtime/github/client.ts';
import { systemClock, type Clock } from '../../runtime/util/clock.ts';
import { PermanentError } from '../../runtime/util/errors.ts';
import { ROUTES, startGitHubDouble, type DoubleApp, type GitHubDouble, type GitHubDoubleOptions } from '../../sim/github/double.ts';
import { Harness, JumpingClock } from './support.ts';

/**
 * Several GitHub Apps: the double plays three (each its own id, key and installations),
 * the client acts as all of them against it over HTTP, with the limiter in real Valkey.
 * App 201 and App 202 are both installed on acme; only 201 on solo; only 203 on other.
 */
const APPS: NonNullable<GitHubDoubleOptions['apps']> = [
  { appId: 201, installations: [{ id: 2011, account: 'acme' }, { id: 2012, account: 'solo' }] },
  { appId: 202, installations: [{ id: 2021, account: 'acme' }] },
  { appId: 203, installations: [{ id: 2031, account: 'other' }] },
];

const jit = (owner: string, name: string, installationId?: number) => ({
  scope: 'org' as const, owner, name, runnerGroupId: 1, labels: ['self-hosted'], ...(installationId !== undefined && { installationId }),
});

describe('github/several Apps (client, shared limiter and double)', () => {
  let double: GitHubDouble;
  let h: Harness;

  async function start(options: GitHubDoubleOptions = {}, clock: Clock = new JumpingClock()): Promise<GitHubDouble> {
    double = await startGitHubDouble({ clock, apps: APPS, ...options });
    return double;
  }
  const appsOf = (d: GitHubDouble) => d.apps.map((a) => ({ appId: a.appId, privateKey: a.privateKeyPem }));
  const jitCalls = (appId: number) => double.stats().byApp[String(appId)]?.calls[ROUTES.orgJitConfig] ?? 0;
  const tokenCalls = (appId: number) => double.stats().byApp[String(appId)]?.calls[ROUTES.createAccessToken] ?? 0;

  beforeEach(() => {
    h = new Harness();
  });
  afterEach(async () => {
    await h.close();
    await double?.stop();
  });

  it('JIT calls for an org two Apps are installed on spread over both; the third App, not installed there, is never used for it', async () => {
    const clock = new JumpingClock();
    await start({}, clock);
    const client = await h.client(double, { clock, apps: appsOf(double) });
    // The job's installation is App 201's (its webhook came from 201), yet 202 takes its share.
    const n = 24;
    await Promise.all(Array.from({ length: n }, (_, i) => client.generateJitConfig(jit('acme', `spread-${i}`, 2011))));
    assert.equal(double.calls(ROUTES.orgJitConfig), n);
    const [a, b] = [jitCalls(201), jitCalls(202)];
    assert.equal(a + b, n);
    assert.ok(a >= n / 4 && b >= n / 4, `both Apps used: App 201 made ${a}, App 202 made ${b} of ${n}`);
    assert.equal(jitCalls(203), 0, 'App 203 is not installed on acme');
    assert.equal(tokenCalls(203), 0, 'no token was even requested for App 203');
    assert.equal(double.stats().tokensIssued, 2, 'one token per (App, installation): 2011 and 2021');
    // Each runner is registered on acme, whichever App asked.
    assert.ok(double.listRunners().every((r) => r.scope.kind === 'org' && r.scope.org === 'acme'));
    assert.ok((await h.metricValue('runs_fleet_github_app_requests_total', { app: '202' })) > 0, 'requests are counted per App id');
  });

  it('an App GitHub just refused (paused in the shared limiter) is passed over for one with room, without waiting', async () => {
    await start({}, systemClock);
    const client = await h.client(double, { clock: systemClock, apps: appsOf(double) });
    await client.generateJitConfig(jit('acme', 'warm-up')); // both Apps look up their installation on acme
    // Another replica got a secondary-limit 403 for App 201's JIT endpoint: the limiter pauses it for 60 s, for every replica.
    const refused = { status: 403, headers: { 'retry-after': '60' }, message: 'You have exceeded a secondary rate limit.' };
    const other = h.limiter();
    await h.conns.ready();
    assert.equal((await other.observe({ app: '201', scope: '2011', family: 'generate_jitconfig_org' }, refused)).kind, 'secondary');
    const before = [jitCalls(201), jitCalls(202)];
    const started = performance.now();
    await Promise.all(Array.from({ length: 6 }, (_, i) => client.generateJitConfig(jit('acme', `avoid-${i}`))));
    assert.deepEqual([jitCalls(201) - before[0]!, jitCalls(202) - before[1]!], [0, 6], 'all six went to App 202');
    assert.ok(performance.now() - started < 5_000, 'none waited for App 201\'s pause');
  });

  it('an org only one App is installed on uses that App alone', async () => {
    const clock = new JumpingClock();
    await start({}, clock);
    const client = await h.client(double, { clock, apps: appsOf(double) });
    await Promise.all(Array.from({ length: 6 }, (_, i) => client.generateJitConfig(jit('solo', `solo-${i}`))));
    assert.deepEqual([jitCalls(201), jitCalls(202), jitCalls(203)], [6, 0, 0]);
    await Promise.all(Array.from({ length: 6 }, (_, i) => client.generateJitConfig(jit('other', `other-${i}`))));
    assert.deepEqual([jitCalls(201), jitCalls(202), jitCalls(203)], [6, 0, 6]);
    // An org no App is installed on: not found, and nothing is sent but the lookups.
    await assert.rejects(client.generateJitConfig(jit('nobody', 'n')), (err: unknown) =>
      err instanceof PermanentError && err.reason === 'github_not_found' && /no configured App is installed on nobody/.test(err.message));
    assert.equal(double.calls(ROUTES.orgJitConfig), 12);
  });

  it('each App\'s budget is shared by two replicas: no refusal, both Apps near their own limit', async () => {
    const secondary = { points: 100, windowMs: 1_000 };
    await start({ secondary }, systemClock);
    const r1: GitHubClient = await h.client(double, { clock: systemClock, apps: appsOf(double), limiterOptions: { secondary } });
    const r2: GitHubClient = await h.client(double, { clock: systemClock, apps: appsOf(double), limiterOptions: { secondary } });
    const n = 30;
    await Promise.all(Array.from({ length: n }, (_, i) => [r1.generateJitConfig(jit('acme', `r1-${i}`)), r2.generateJitConfig(jit('acme', `r2-${i}`))]).flat());
    const stats = double.stats();
    assert.equal(double.calls(ROUTES.orgJitConfig), 2 * n);
    assert.equal(stats.rateLimited.secondary, 0, 'two replicas, one budget per App: GitHub refused nothing');
    for (const installation of [2011, 2021]) {
      const peak = stats.peakSecondaryPoints[`installation:${installation} ${ROUTES.orgJitConfig}`] ?? 0;
      // 300 points of JIT calls over two Apps of 100 per window: each App's window is used, none overrun.
      assert.ok(peak <= secondary.points && peak >= secondary.points * 0.7, `installation ${installation}: peak ${peak} of ${secondary.points} points`);
    }
  });

  it('control: the same burst with one App gets half the room (its one budget), still without refusal', async () => {
    const secondary = { points: 100, windowMs: 1_000 };
    await start({ secondary }, systemClock);
    const one = [{ appId: double.apps[0]!.appId, privateKey: double.apps[0]!.privateKeyPem }];
    const client = await h.client(double, { clock: systemClock, apps: one, limiterOptions: { secondary } });
    const started = performance.now();
    await Promise.all(Array.from({ length: 40 }, (_, i) => client.generateJitConfig(jit('acme', `one-${i}`))));
    const oneAppS = (performance.now() - started) / 1000;
    assert.equal(jitCalls(202), 0);
    assert.equal(double.stats().rateLimited.secondary, 0);
    const two = await h.client(double, { clock: systemClock, apps: appsOf(double), limiterOptions: { secondary } });
    // App 201's bucket is drained by the first burst: wait a window so both start full.
    await new Promise((r) => setTimeout(r, secondary.windowMs));
    const again = performance.now();
    await Promise.all(Array.from({ length: 40 }, (_, i) => two.generateJitConfig(jit('acme', `two-${i}`))));
    const twoAppsS = (performance.now() - again) / 1000;
    assert.equal(double.stats().rateLimited.secondary, 0);
    assert.ok(twoAppsS < oneAppS * 0.75, `two Apps took ${twoAppsS.toFixed(2)} s for what one App took ${oneAppS.toFixed(2)} s`);
  });
});

describe('sim/github double with several Apps (raw HTTP)', () => {
  let double: GitHubDouble;
  let clock: JumpingClock;
  afterEach(async () => {
    await double.stop();
  });

  async function call(method: string, path: string, auth: string, body?: unknown) {
    const res = await request(`${double.url}${path}`, {
      method: method as 'GET',
      headers: { authorization: `Bearer ${auth}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, json: text ? JSON.parse(text) : undefined };
  }
  const app = (id: number): DoubleApp => double.apps.find((a) => a.appId === id)!;
  const jwtAs = (issuer: number, keyOf: number) => createAppJwt(loadAppPrivateKey(app(keyOf).privateKeyPem), issuer, clock.now());

  it('gives each App its own key: a JWT naming one App signed with another\'s key is refused', async () => {
    clock = new JumpingClock();
    double = await startGitHubDouble({ clock, apps: APPS });
    assert.notEqual(app(201).privateKeyPem, app(202).privateKeyPem);
    const own = await call('GET', '/app/installations', await jwtAs(202, 202));
    assert.equal(own.status, 200);
    assert.deepEqual(own.json.map((i: { id: number }) => i.id), [2021], 'an App lists only its own installations');
    assert.equal(own.json[0].app_id, 202);
    const forged = await call('GET', '/app/installations', await jwtAs(202, 201));
    assert.equal(forged.status, 401);
    assert.equal(forged.json.message, 'A JSON web token could not be decoded');
    // An installation of another App: GitHub answers 404 to the App asking for its token.
    assert.equal((await call('POST', '/app/installations/2011/access_tokens', await jwtAs(202, 202))).status, 404);
    assert.equal((await call('POST', '/app/installations/2021/access_tokens', await jwtAs(202, 202))).status, 201);
    // And the org lookup is per App: 203 is not installed on acme.
    assert.equal((await call('GET', '/orgs/acme/installation', await jwtAs(201, 201))).json.id, 2011);
    assert.equal((await call('GET', '/orgs/acme/installation', await jwtAs(202, 202))).json.id, 2021);
    assert.equal((await call('GET', '/orgs/acme/installation', await jwtAs(203, 203))).status, 404);
  });

  it('counts the secondary limit per App: one App over its points is refused, the other App on the same org is not', async () => {
    clock = new JumpingClock();
    double = await startGitHubDouble({ clock, apps: APPS, secondary: { points: 10, windowMs: 60_000 } });
    const token = async (appId: number, installation: number) =>
      (await call('POST', `/app/installations/${installation}/access_tokens`, await jwtAs(appId, appId))).json.token as string;
    const [a, b] = [await token(201, 2011), await token(202, 2021)];
    const path = '/orgs/acme/actions/runners/generate-jitconfig';
    const body = (name: string) => ({ name, runner_group_id: 1, labels: ['self-hosted'] });
    assert.equal((await call('POST', path, a, body('a1'))).status, 201);
    assert.equal((await call('POST', path, a, body('a2'))).status, 201);
    const refused = await call('POST', path, a, body('a3'));
    assert.equal(refused.status, 403);
    assert.match(refused.json.message, /^You have exceeded a secondary rate limit/);
    assert.ok(Number(refused.headers['retry-after']) > 0, 'GitHub says when to come back');
    assert.equal(refused.headers['x-ratelimit-resource'], 'core');
    assert.equal((await call('POST', path, b, body('b1'))).status, 201, 'App 202 has its own points on the same org and endpoint');
    // The Apps' own JWT calls too: App 201 spends its 10 GET points, App 202 still has its own.
    for (let i = 0; i < 10; i++) assert.equal((await call('GET', '/app/installations', await jwtAs(201, 201))).status, 200);
    assert.equal((await call('GET', '/app/installations', await jwtAs(201, 201))).status, 403);
    assert.equal((await call('GET', '/app/installations', await jwtAs(202, 202))).status, 200);
    const byApp = double.stats().byApp;
    assert.deepEqual([byApp['201']!.rateLimited.secondary, byApp['202']!.rateLimited.secondary], [2, 0]);
  });
});
