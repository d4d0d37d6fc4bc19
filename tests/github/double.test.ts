import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { createAppJwt, loadAppPrivateKey } from '../../runtime/github/app-jwt.ts';
import { ROUTES, startGitHubDouble, type GitHubDouble, type GitHubDoubleOptions } from '../../sim/github/double.ts';
import { decodeJitConfig } from '../../sim/github/jit-config.ts';
import { JumpingClock } from './support.ts';

/** Raw HTTP against the double: status codes, bodies and headers exactly as a client sees them. */
describe('sim/github double (raw HTTP)', () => {
  let double: GitHubDouble;
  let clock: JumpingClock;
  const started: GitHubDouble[] = [];

  async function start(options: GitHubDoubleOptions = {}): Promise<GitHubDouble> {
    clock = new JumpingClock();
    double = await startGitHubDouble({ clock, ...options });
    started.push(double);
    return double;
  }
  afterEach(async () => {
    await Promise.all(started.splice(0).map((d) => d.stop()));
  });

  const jwt = () => createAppJwt(loadAppPrivateKey(double.privateKeyPem), double.appId, clock.now());

  async function call(method: string, path: string, auth: string | undefined, body?: unknown, signal?: AbortSignal) {
    const res = await request(`${double.url}${path}`, {
      method: method as 'GET',
      headers: { ...(auth && { authorization: `Bearer ${auth}` }), ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal,
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, json: text ? JSON.parse(text) : undefined };
  }

  async function installationToken(id = 1): Promise<string> {
    const res = await call('POST', `/app/installations/${id}/access_tokens`, await jwt());
    assert.equal(res.status, 201);
    return res.json.token;
  }

  const jitBody = (name: string, labels: unknown = ['self-hosted', 'linux', 'gpu']) => ({ name, runner_group_id: 1, labels });

  it('issues expiring installation tokens in GitHub\'s shape', async () => {
    await start({ tokenTtlMs: 3_600_000 });
    const res = await call('POST', '/app/installations/1/access_tokens', await jwt());
    assert.equal(res.status, 201);
    assert.match(res.json.token, /^ghs_/);
    assert.equal(Date.parse(res.json.expires_at), Math.floor((clock.now() + 3_600_000) / 1000) * 1000);
    assert.equal(res.json.repository_selection, 'all');
    assert.equal(res.json.permissions.organization_self_hosted_runners, 'write');
    assert.equal((await call('POST', '/app/installations/99/access_tokens', await jwt())).status, 404);

    const token = res.json.token as string;
    assert.equal((await call('GET', '/orgs/acme/actions/runners', token)).status, 200);
    clock.advance(3_600_001);
    const expired = await call('GET', '/orgs/acme/actions/runners', token);
    assert.deepEqual([expired.status, expired.json.message], [401, 'Bad credentials']);
    assert.equal((await call('GET', '/orgs/acme/actions/runners', await jwt())).status, 401, 'a JWT is not an installation token');
  });

  it('puts x-ratelimit-* headers on every response', async () => {
    await start();
    const token = await installationToken();
    for (const res of [
      await call('GET', '/orgs/acme/actions/runners', token),
      await call('POST', '/orgs/acme/actions/runners/generate-jitconfig', token, { labels: [] }),
      await call('GET', '/orgs/acme/actions/runners', undefined),
      await call('GET', '/nowhere', token),
    ]) {
      for (const h of ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-used', 'x-ratelimit-reset', 'x-ratelimit-resource']) {
        assert.ok(res.headers[h] !== undefined, `${h} missing on a ${res.status}`);
      }
    }
    const ok = await call('GET', '/orgs/acme/actions/runners', token);
    assert.deepEqual(
      [ok.headers['x-ratelimit-limit'], ok.headers['x-ratelimit-used'], ok.headers['x-ratelimit-remaining']],
      ['5000', '3', '4997'],
    );
  });

  describe('generate-jitconfig', () => {
    it('201 with the runner and a base64 JIT config; 409 for a taken name in the same scope', async () => {
      await start();
      const token = await installationToken();
      const res = await call('POST', '/orgs/acme/actions/runners/generate-jitconfig', token, jitBody('rf-1'));
      assert.equal(res.status, 201);
      const { runner, encoded_jit_config } = res.json;
      assert.deepEqual(Object.keys(runner).sort(), ['busy', 'ephemeral', 'id', 'labels', 'name', 'os', 'runner_group_id', 'status']);
      assert.equal(runner.ephemeral, true);
      assert.deepEqual(runner.labels.map((l: { name: string; type: string }) => `${l.name}:${l.type}`), ['self-hosted:read-only', 'linux:read-only', 'gpu:custom']);
      assert.deepEqual(decodeJitConfig(encoded_jit_config), {
        runnerId: runner.id, runnerName: 'rf-1', runnerGroupId: 1, workFolder: '_work', serverUrl: double.url,
      });
      const dup = await call('POST', '/orgs/acme/actions/runners/generate-jitconfig', token, jitBody('rf-1'));
      assert.equal(dup.status, 409);
      assert.match(dup.json.message, /^Already exists/);
      assert.equal((await call('POST', '/repos/acme/web/actions/runners/generate-jitconfig', token, jitBody('rf-1'))).status, 201, 'another scope');
    });

    it('422 for missing or invalid fields, 400 for bad JSON', async () => {
      await start();
      const token = await installationToken();
      const path = '/orgs/acme/actions/runners/generate-jitconfig';
      const bad: Array<[unknown, number]> = [
        [{ runner_group_id: 1, labels: ['x'] }, 422],
        [{ name: 'n', labels: ['x'] }, 422],
        [{ name: 'n', runner_group_id: 1 }, 422],
        [jitBody('n', []), 422],
        [jitBody('n', Array.from({ length: 101 }, (_, i) => `l${i}`)), 422],
        [jitBody('n', [3]), 422],
        ['{not json', 400],
      ];
      for (const [body, status] of bad) {
        const res = await call('POST', path, token, body);
        assert.equal(res.status, status, JSON.stringify(body));
        assert.ok(res.json.documentation_url);
      }
      assert.equal((await call('POST', path, token, jitBody('ok', Array.from({ length: 100 }, (_, i) => `l${i}`)))).status, 201);
      assert.equal(double.listRunners().length, 1);
    });

    it('404 for owners and repos outside the configured installations', async () => {
      await start({ installations: [{ id: 7, account: 'acme' }, { id: 8, account: 'octo', repositories: ['app'] }] });
      const acme = await installationToken(7);
      const octo = await installationToken(8);
      assert.equal((await call('POST', '/orgs/acme/actions/runners/generate-jitconfig', acme, jitBody('a'))).status, 201);
      assert.equal((await call('POST', '/orgs/other/actions/runners/generate-jitconfig', acme, jitBody('a'))).status, 404);
      assert.equal((await call('POST', '/orgs/octo/actions/runners/generate-jitconfig', acme, jitBody('a'))).status, 404, "acme's token");
      assert.equal((await call('POST', '/repos/octo/app/actions/runners/generate-jitconfig', octo, jitBody('a'))).status, 201);
      assert.equal((await call('POST', '/repos/octo/lib/actions/runners/generate-jitconfig', octo, jitBody('a'))).status, 404);
      assert.equal((await call('GET', '/orgs/other/installation', await jwt())).status, 404);
      const inst = await call('GET', '/repos/octo/app/installation', await jwt());
      assert.deepEqual([inst.status, inst.json.id, inst.json.account.login], [200, 8, 'octo']);
    });
  });

  it('paginates runners with a Link header; DELETE is 204, 404 when gone, 422 while busy', async () => {
    await start();
    const token = await installationToken();
    for (const name of ['a', 'b', 'c']) await call('POST', '/orgs/acme/actions/runners/generate-jitconfig', token, jitBody(name));
    const page1 = await call('GET', '/orgs/acme/actions/runners?per_page=2&page=1', token);
    assert.equal(page1.json.total_count, 3);
    assert.deepEqual(page1.json.runners.map((r: { name: string }) => r.name), ['a', 'b']);
    assert.match(String(page1.headers.link), /page=2>; rel="next"/);
    const page2 = await call('GET', '/orgs/acme/actions/runners?per_page=2&page=2', token);
    assert.deepEqual(page2.json.runners.map((r: { name: string }) => r.name), ['c']);
    assert.equal(page2.headers.link, undefined);

    const [a, b] = page1.json.runners as Array<{ id: number; name: string }>;
    assert.equal((await call('GET', `/orgs/acme/actions/runners/${a!.id}`, token)).json.name, 'a');
    double.setRunnerState('b', { busy: true, status: 'online' });
    assert.equal((await call('DELETE', `/orgs/acme/actions/runners/${b!.id}`, token)).status, 422);
    assert.equal((await call('DELETE', `/orgs/acme/actions/runners/${a!.id}`, token)).status, 204);
    assert.equal((await call('DELETE', `/orgs/acme/actions/runners/${a!.id}`, token)).status, 404);
  });

  it('jobs: a runner takes the oldest queued job its labels fit; re-run makes a queued attempt 2', async () => {
    await start();
    const token = await installationToken();
    const gpu = double.queueJob({ owner: 'acme', repo: 'web', labels: ['self-hosted', 'gpu'] });
    const cpu = double.queueJob({ owner: 'acme', repo: 'web', labels: ['self-hosted', 'cpu'] });
    await call('POST', '/orgs/acme/actions/runners/generate-jitconfig', token, jitBody('r-cpu', ['cpu']));
    assert.equal(double.runnerTakesJob('r-cpu')?.id, cpu.id, 'self-hosted is implicit; gpu job does not fit');
    assert.equal(double.findRunner('r-cpu')?.busy, true);
    const running = await call('GET', `/repos/acme/web/actions/jobs/${cpu.id}`, token);
    assert.deepEqual([running.json.status, running.json.runner_name, running.json.runner_id], ['in_progress', 'r-cpu', double.findRunner('r-cpu')!.id]);
    assert.equal((await call('GET', `/repos/acme/other/actions/jobs/${cpu.id}`, token)).status, 404);

    assert.equal((await call('POST', `/repos/acme/web/actions/jobs/${cpu.id}/rerun`, token)).status, 403, 'not finished yet');
    double.markJobCompleted(cpu.id, 'failure');
    assert.equal(double.findRunner('r-cpu'), undefined, 'an ephemeral runner leaves after its job');
    assert.equal((await call('POST', `/repos/acme/web/actions/jobs/${cpu.id}/rerun`, token)).status, 201);

    const queuedRuns = await call('GET', '/repos/acme/web/actions/runs?status=queued', token);
    assert.deepEqual(queuedRuns.json.workflow_runs.map((r: { id: number }) => r.id).sort(), [gpu.runId, cpu.runId].sort());
    const jobs = await call('GET', `/repos/acme/web/actions/runs/${cpu.runId}/jobs`, token);
    assert.equal(jobs.json.total_count, 1);
    assert.deepEqual([jobs.json.jobs[0].run_attempt, jobs.json.jobs[0].status], [2, 'queued']);
    const all = await call('GET', `/repos/acme/web/actions/runs/${cpu.runId}/jobs?filter=all`, token);
    assert.equal(all.json.total_count, 2);
  });

  describe('rate limits', () => {
    it('primary: refuses with 403, remaining 0 and "API rate limit exceeded" once the budget is spent', async () => {
      await start({ primary: { limit: 3 } });
      const token = await installationToken();
      for (let i = 0; i < 3; i++) assert.equal((await call('GET', '/orgs/acme/actions/runners', token)).status, 200);
      const refused = await call('GET', '/orgs/acme/actions/runners', token);
      assert.equal(refused.status, 403);
      assert.equal(refused.headers['x-ratelimit-remaining'], '0');
      assert.match(refused.json.message, /^API rate limit exceeded for installation ID 1/);
      assert.equal(double.stats().rateLimited.primary, 1);
      clock.advance(3_600_000);
      assert.equal((await call('GET', '/orgs/acme/actions/runners', token)).status, 401, 'token expired with the hour');
      assert.equal((await call('GET', '/orgs/acme/actions/runners', await installationToken())).status, 200, 'budget reset');
    });

    it('primary can answer 429 instead', async () => {
      await start({ primary: { limit: 1, status: 429 } });
      const token = await installationToken();
      await call('GET', '/orgs/acme/actions/runners', token);
      assert.equal((await call('GET', '/orgs/acme/actions/runners', token)).status, 429);
    });

    it('secondary: POSTs cost 5 points per endpoint; over the window → 403 with retry-after', async () => {
      await start({ secondary: { points: 12, windowMs: 60_000 } });
      const token = await installationToken();
      const path = '/orgs/acme/actions/runners/generate-jitconfig';
      assert.equal((await call('POST', path, token, jitBody('s1'))).status, 201);
      assert.equal((await call('POST', path, token, jitBody('s2'))).status, 201);
      const refused = await call('POST', path, token, jitBody('s3'));
      assert.equal(refused.status, 403);
      assert.match(refused.json.message, /^You have exceeded a secondary rate limit/);
      assert.equal(refused.headers['retry-after'], '60');
      assert.equal((await call('GET', '/orgs/acme/actions/runners', token)).status, 200, 'another endpoint has its own points');
      clock.advance(60_000);
      assert.equal((await call('POST', path, token, jitBody('s3'))).status, 201, 'the window slid past the first POST');
      assert.equal(double.stats().rateLimited.secondary, 1);
      assert.equal(double.stats().peakSecondaryPoints[`installation:1 ${ROUTES.orgJitConfig}`], 10);
    });

    it('secondary: more concurrent requests than the cap are refused', async () => {
      await start({ secondary: { concurrency: 2 } });
      const token = await installationToken();
      double.inject(ROUTES.orgRunners, { kind: 'hang' }, 2);
      const controller = new AbortController();
      const hung = [1, 2].map(() => call('GET', '/orgs/acme/actions/runners', token, undefined, controller.signal).catch(() => undefined));
      while (double.calls(ROUTES.orgRunners) < 2) await new Promise((r) => setTimeout(r, 5));
      const third = await call('GET', '/orgs/acme/actions/runners', token);
      assert.equal(third.status, 403);
      assert.ok(third.headers['retry-after']);
      controller.abort();
      await Promise.all(hung);
    });
  });

  it('failure injection: the next N calls to a route fail, then it recovers; calls are counted per route', async () => {
    await start();
    const token = await installationToken();
    double.inject(ROUTES.orgRunners, { kind: 'status', status: 502 }, 2);
    double.inject('*', { kind: 'status', status: 500 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call('GET', '/orgs/acme/actions/runners', token)).status);
    assert.deepEqual(statuses, [502, 502, 500, 200]);
    assert.equal(double.calls(ROUTES.orgRunners), 4);
    assert.equal(double.callCounts()[ROUTES.createAccessToken], 1);
    assert.equal(double.stats().injectedFaults, 3);
    double.inject(ROUTES.orgRunners, { kind: 'reset' });
    await assert.rejects(call('GET', '/orgs/acme/actions/runners', token));
    double.inject(ROUTES.orgRunners, { kind: 'delay', ms: 20 });
    assert.equal((await call('GET', '/orgs/acme/actions/runners', token)).status, 200);
  });

  describe('webhook deliveries', () => {
    let receiver: Server;
    let answer = 202;
    const got: Array<{ headers: Record<string, unknown>; body: string }> = [];
    const secret = 'wh-secret';

    beforeEach(async () => {
      got.length = 0;
      answer = 202;
      receiver = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
          res.writeHead(answer).end();
        });
      });
      await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    });
    afterEach(async () => {
      receiver.closeAllConnections();
      await new Promise((r) => receiver.close(r));
    });
    const receiverUrl = () => `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhook`;

    it('autoDeliver sends signed workflow_job webhooks for each state change and records them', async () => {
      await start({ webhookUrl: receiverUrl(), webhookSecret: secret, autoDeliver: true });
      const job = double.queueJob({ owner: 'acme', repo: 'web', labels: ['self-hosted', 'runs-fleet'] });
      double.markJobInProgress(job.id, 'rf-1');
      double.markJobCompleted(job.id, 'success');
      await double.deliveriesSettled();
      assert.equal(got.length, 3);
      const payloads = got.map((g) => JSON.parse(g.body));
      assert.deepEqual(payloads.map((p) => p.action), ['queued', 'in_progress', 'completed']);
      for (const g of got) {
        assert.equal(g.headers['x-hub-signature-256'], `sha256=${createHmac('sha256', secret).update(g.body).digest('hex')}`);
        assert.equal(g.headers['x-github-event'], 'workflow_job');
        assert.equal(g.headers['content-type'], 'application/json');
      }
      assert.deepEqual(
        [payloads[0].workflow_job.id, payloads[0].workflow_job.run_id, payloads[0].installation.id, payloads[0].repository.full_name],
        [job.id, job.runId, 1, 'acme/web'],
      );
      assert.equal(payloads[1].workflow_job.runner_name, 'rf-1');
      assert.equal(payloads[2].workflow_job.conclusion, 'success');
      const deliveries = double.listDeliveries();
      assert.deepEqual(deliveries.map((d) => [d.action, d.statusCode, d.status]), [
        ['queued', 202, 'OK'], ['in_progress', 202, 'OK'], ['completed', 202, 'OK'],
      ]);
      assert.equal(deliveries[0]!.guid, got[0]!.headers['x-github-delivery']);
    });

    it('records failed deliveries (bad status, unreachable) and lists them newest first with a cursor', async () => {
      await start({ webhookUrl: receiverUrl(), webhookSecret: secret });
      const job = double.queueJob({ owner: 'acme', repo: 'web', labels: ['x'] });
      answer = 503;
      const failed = await double.deliverWorkflowJob(job.id, 'queued');
      assert.deepEqual([failed.statusCode, failed.status], [503, 'Invalid HTTP Response: 503']);
      double.setWebhook('http://127.0.0.1:1/unreachable');
      const unreachable = await double.deliverWorkflowJob(job.id, 'queued');
      assert.equal(unreachable.statusCode, 0);

      const first = await call('GET', '/app/hook/deliveries?per_page=1', await jwt());
      assert.equal(first.status, 200);
      assert.deepEqual(Object.keys(first.json[0]).sort(), [
        'action', 'delivered_at', 'duration', 'event', 'guid', 'id', 'installation_id', 'redelivery', 'repository_id', 'status', 'status_code', 'throttled_at',
      ]);
      assert.equal(first.json[0].id, unreachable.id);
      const next = /<([^>]+)>; rel="next"/.exec(String(first.headers.link))![1]!;
      const second = await call('GET', next.slice(double.url.length), await jwt());
      assert.equal(second.json[0].id, failed.id);
      assert.equal(second.headers.link, undefined);

      double.setWebhook(receiverUrl());
      answer = 200;
      assert.equal((await call('POST', `/app/hook/deliveries/${failed.id}/attempts`, await jwt())).status, 202);
      await double.deliveriesSettled();
      assert.equal(got.at(-1)!.headers['x-github-delivery'], failed.guid);
      assert.equal(double.listDeliveries().at(-1)!.redelivery, true);
    });
  });
});
