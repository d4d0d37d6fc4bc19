import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Status } from '../../runtime/status/collect.ts';
import { findLocalMode, main } from '../../runtime/status/cli.ts';
import { startLocal, type LocalMode } from '../../sim/local.ts';
import { ROUTES } from '../../sim/github/routes.ts';
import { RUNNER_NAMESPACE } from '../../sim/stack.ts';
import { eventually } from '../support/eventually.ts';
import { floorsSince } from '../support/floors.ts';

async function status(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, (s) => { out += s; }, (s) => { err += s; });
  return { code, out, err };
}

describe('status view (npm run status, GET /status) in local mode', function () {
  this.timeout(60_000);
  let local: LocalMode;
  let url: string;
  let since: number;
  const defaultFloors = () => floorsSince(local.document.doc.pools.find((p) => p.name === 'default')!, since);
  before(async () => {
    since = Date.now();
    local = await startLocal({ timeScale: 0.01, valkeyUrl: process.env.RUNS_FLEET_TEST_VALKEY_URL, jobRunMs: () => 60_000 });
    url = local.stack.orchestrators[0]!.privateUrl;
  });
  after(() => local?.stop());

  it('shows the warm pools filling to their desired size, the leader and the GitHub budget', async () => {
    const pools = await local.waitForWarmPools(30_000);
    assert.ok(pools.ready, JSON.stringify(pools));
    const doc = local.document.doc;
    assert.deepEqual(pools.pools.map((p) => p.name), doc.pools.map((p) => p.name));
    for (const p of pools.pools) assert.ok(p.desired !== undefined && p.ready === p.desired, JSON.stringify(p));
    const s = (await (await fetch(`${url}/status`)).json()) as Status;
    assert.ok(s.pools.ok && s.leader.ok && s.github.ok && s.queue.ok);
    assert.equal(s.replica.identity, 'orchestrator-0');
    assert.equal(s.replica.leader, true);
    assert.equal(s.leader.value.holder, 'orchestrator-0');
    const def = s.pools.value.find((p) => p.name === 'default')!;
    assert.ok(defaultFloors().includes(def.desired ?? -1), `the default pool holds its floor (min, or its office-hours schedule's) when idle: ${def.desired} not in ${defaultFloors()}`);
    assert.equal(typeof s.github.value.remaining.core, 'number', 'the installation token call left a core budget');
    // The budget is also shown per App, by its id (the local stack has one App).
    const app = s.github.value.apps[String(local.stack.github.appId)];
    assert.ok(app && app.requests > 0 && typeof app.remaining.core === 'number', JSON.stringify(s.github.value.apps));
  });

  it('counts jobs in flight, warm-pool hits and dead letters as jobs arrive', async () => {
    const before = (await (await fetch(`${url}/status`)).json()) as Status;
    assert.ok(before.queue.ok);
    const deadBefore = before.queue.value.deadLetters;
    // GitHub refuses one job's runner for good (404 on the JIT call): the consumer dead-letters it.
    // Two jobs that run take warm capacity.
    const jitCalls = local.stack.github.calls(ROUTES.orgJitConfig);
    local.stack.github.inject(ROUTES.orgJitConfig, { kind: 'status', status: 404, message: 'Not Found' }, 1);
    const refused = local.stack.github.queueJob({ owner: 'octo-org', repo: 'app', labels: ['runs-fleet=1/runner=4cpu-linux-arm64'] });
    await eventually(() => local.stack.github.calls(ROUTES.orgJitConfig), (n) => n > jitCalls, 20_000);
    local.stack.github.queueJob({ owner: 'octo-org', repo: 'app', labels: ['runs-fleet=2/runner=4cpu-linux-arm64'] });
    local.stack.github.queueJob({ owner: 'octo-org', repo: 'app', labels: ['runs-fleet=3/runner=4cpu-linux-arm64'] });
    await eventually(() => local.stack.sim.store.list('pods', { namespace: RUNNER_NAMESPACE }), (l) => l.filter((p) => p.metadata.labels?.['runs-fleet.io/job-id']).length >= 2, 20_000);
    const s = await eventually(
      async () => (await (await fetch(`${url}/status`)).json()) as Status,
      (x) => x.queue.ok && x.queue.value.deadLetters > deadBefore && x.pools.ok && x.pools.value.find((p) => p.name === 'default')!.hits + x.pools.value.find((p) => p.name === 'default')!.misses >= 2,
      20_000,
    );
    assert.ok(s.queue.ok && s.pools.ok);
    const dead = s.queue.value.recentDeadLetters.find((d) => d.jobId === refused.id);
    assert.ok(dead, `the refused job is among the recent dead letters: ${JSON.stringify(s.queue.value.recentDeadLetters)}`);
    assert.equal(dead.repository, 'octo-org/app');
    assert.match(dead.reason, /^github_not_found: /);
    const def = s.pools.value.find((p) => p.name === 'default')!;
    assert.ok(def.hits >= 1, `a job took a placeholder's place: ${JSON.stringify(def)}`);
  });

  it('prints the same as a screen through npm run status, found by itself in local mode, or as JSON', async () => {
    const text = await status('--url', url);
    assert.equal(text.code, 0, text.err);
    for (const want of [/^runs-fleet status at .* — answered by orchestrator-0 \(the leader\)$/m, /^Queue +\d+ waiting, \d+ in flight, \d+ dead letters?;/m,
      /dead letter job \d+ octo-org\/app: /, /^Warm pools POOL +CLASS +MIN\.\.MAX +DESIRED +READY +HITS +MISSES$/m, new RegExp(`^ +default +4cpu-linux-arm64 +2\\.\\.10 +(${defaultFloors().join('|')}) +\\1 +\\d+ +\\d+$`, 'm'),
      /^GitHub +budget left: core \d+/m, new RegExp(`^ +App ${local.stack.github.appId}: \\d+ requests, budget left core \\d+`, 'm'), /^Leader +orchestrator-0, renewed \d+ s ago/m]) assert.match(text.out, want);
    const screen = (t: string) => t.split('\n').slice(1).join('\n').replace(/renewed \d+ s/, 'renewed N s').replace(/for \d+ s/g, 'for N s').replace(/\(\d+ (s|min|h) ago\)/g, '(N ago)');
    assert.equal(screen(await (await fetch(`${url}/status?format=text`)).text()), screen(text.out), 'the HTTP text is the screen');

    const json = await status('--url', url, '--json');
    assert.equal((JSON.parse(json.out) as Status).replica.identity, 'orchestrator-0');

    const dir = mkdtempSync(join(tmpdir(), 'runs-fleet-status-'));
    try {
      const file = join(dir, 'local-mode.json');
      assert.equal(findLocalMode(file), undefined, 'no file: no local mode');
      writeFileSync(file, JSON.stringify({ pid: process.pid, url }));
      assert.equal(findLocalMode(file), url);
      writeFileSync(file, JSON.stringify({ pid: 2 ** 22 + 12345, url }));
      assert.equal(findLocalMode(file), undefined, 'a file left by a local mode that is gone is ignored');
      process.env.RUNS_FLEET_LOCAL_STATE = join(dir, 'absent.json');
      const none = await status();
      assert.equal(none.code, 1);
      assert.match(none.err, /no local mode is running and no --url was given: start local mode \(bash bootstrap\.sh start\), or port-forward/);
    } finally {
      delete process.env.RUNS_FLEET_LOCAL_STATE;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 with the usage for bad arguments, 1 when nothing answers', async () => {
    for (const argv of [['--bogus'], ['--url', 'localhost:1'], ['--watch', '0']]) {
      const r = await status(...argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.err, /Usage: npm run status/);
    }
    const dead = await status('--url', 'http://127.0.0.1:1');
    assert.equal(dead.code, 1);
    assert.match(dead.err, /http:\/\/127\.0\.0\.1:1 did not answer/);
    assert.match((await status('--help')).out, /kubectl -n runs-fleet-system port-forward svc\/runs-fleet-orchestrator-metrics 19090:9090/);
  });
});
