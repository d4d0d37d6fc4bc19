import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocal, DEFAULT_STACK_FILE, REPO_ROOT, type LocalMode } from '../../sim/local.ts';
import { loadStackDocument } from '../../sim/stack-document.ts';
import { RUNNER_NAMESPACE } from '../../sim/stack.ts';
import { eventually } from '../support/eventually.ts';
import { floorsSince } from '../support/floors.ts';

const TSX = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
/** Where a spawned local mode tells `npm run status` its URL: not the user's own ~/.cache/runs-fleet. */
const LOCAL_ENV = { ...process.env, RUNS_FLEET_LOCAL_STATE: join(tmpdir(), `runs-fleet-local-state-${process.pid}.json`) };

const portOpen = (url: string) =>
  new Promise<boolean>((resolve) => {
    const { hostname, port } = new URL(url);
    const s = connect(Number(port), hostname);
    s.once('connect', () => { s.end(); resolve(true); });
    s.once('error', () => resolve(false));
  });

describe('local mode (npm start)', function () {
  this.timeout(20_000);
  let local: LocalMode | undefined;
  afterEach(async () => {
    await local?.stop();
    local = undefined;
  });

  it('runs Pulumi.dev.yaml\'s classes and pools, answers a signed webhook with a runner Job, runs the job, and stops its own Valkey', async () => {
    // Delays × 0.01: a node launch takes 400 ms.
    local = await startLocal({ timeScale: 0.01, jobRunMs: () => 100 });
    const { stack, document } = local;
    assert.deepEqual(stack.sim.nodePools.map((p) => p.name).filter((n) => n !== 'system'), document.doc.classes.map((c) => c.name));
    assert.deepEqual(document.doc.pools.map((p) => p.name), ['default', 'small', 'amd64']);
    assert.equal(readFileSync(local.webhookSecretFile, 'utf8'), stack.webhookSecret);
    assert.equal(statSync(local.webhookSecretFile).mode & 0o077, 0, 'the secret file is private to its owner');
    assert.ok(!local.banner().includes(stack.webhookSecret), 'the banner names the secret file, never the secret');
    assert.match(local.banner(), new RegExp(`POST ${stack.webhookUrl}`));

    // A signed webhook straight to the ingress, as GitHub sends it.
    stack.github.setWebhook(undefined); // no auto-delivery: this test delivers
    const job = stack.github.queueJob({ owner: 'octo-org', repo: 'app', labels: ['linux-arm64-large'] });
    const hook = stack.github.buildWorkflowJobWebhook(job.id, 'queued');
    const res = await fetch(stack.webhookUrl, { method: 'POST', headers: hook.headers, body: hook.body });
    assert.equal(res.status, 202);
    const [k8sJob] = await eventually(() => stack.sim.store.list('jobs', { namespace: RUNNER_NAMESPACE }), (l) => l.length === 1);
    assert.equal(k8sJob!.metadata.labels?.['runs-fleet.io/class'], '8cpu-linux-arm64', 'the alias from Pulumi.dev.yaml resolved');

    // The simulated runner takes the job once its pod runs, and finishes it.
    const done = await eventually(() => stack.github.getJob(job.id), (j) => j?.status === 'completed', 10_000);
    assert.equal(done?.conclusion, 'success');
    assert.match(done!.runnerName ?? '', /^rf-8cpu-linux-arm64-/);

    const valkeyUrl = stack.valkeyUrl;
    const webhookUrl = stack.webhookUrl;
    await local.stop();
    local = undefined;
    assert.equal(await portOpen(valkeyUrl.replace('redis:', 'http:')), false, 'its Valkey is stopped');
    assert.equal(await portOpen(webhookUrl), false, 'the webhook no longer listens');
  });

  it('queues jobs and cancels them through the control endpoint (GitHub\'s side)', async () => {
    local = await startLocal({ timeScale: 0.01, valkeyUrl: process.env.RUNS_FLEET_TEST_VALKEY_URL, jobRunMs: () => 60_000 });
    const { stack, control } = local;
    const post = (path: string, body?: unknown) => fetch(`${control.url}${path}`, { method: 'POST', body: body === undefined ? undefined : JSON.stringify(body) });
    const created = await post('/jobs', { repo: 'octo-org/web', labels: ['runs-fleet=9/runner=2cpu-linux-arm64'], count: 3 });
    assert.equal(created.status, 201);
    const { jobs } = (await created.json()) as { jobs: { id: number }[] };
    assert.equal(jobs.length, 3);
    await eventually(() => stack.sim.store.list('jobs', { namespace: RUNNER_NAMESPACE }), (l) => l.length === 3);

    assert.equal((await post('/jobs', { labels: [] })).status, 422);
    assert.equal((await post('/jobs/1/cancel')).status, 404);
    // Cancel one before its runner takes it: the orchestrator removes its runner Job.
    const victim = jobs[0]!.id;
    const state = stack.github.getJob(victim)!.status;
    if (state === 'queued') {
      assert.equal((await post(`/jobs/${victim}/cancel`)).status, 202);
      await eventually(() => stack.sim.store.get('jobs', RUNNER_NAMESPACE, `runner-${victim}-1`), (j) => !j || Boolean(j.metadata.deletionTimestamp));
    }
    const view = (await (await fetch(`${control.url}/jobs`)).json()) as { jobs: { id: number; status: string }[] };
    assert.deepEqual(view.jobs.map((j) => j.id), jobs.map((j) => j.id));
  });

  it('rejects a stack file that is not one, naming the file', async () => {
    await assert.rejects(startLocal({ stackFile: join(REPO_ROOT, 'package.json') }), /package\.json has no "config:" section/);
  });
});

describe('npm start as a process', function () {
  this.timeout(60_000);

  it('--help explains the options and exit codes (exit 0); a bad option exits 2', async () => {
    const help = await run(['sim/local.ts', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: npm start/);
    assert.match(help.stdout, /Exit codes: 0/);
    const bad = await run(['sim/local.ts', '--time-scale', '7']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--time-scale 7: must be a number in \(0, 1\]/);
  });

  it('prints where the webhook listens, takes a job from the printed curl command, and stops cleanly on SIGTERM', async () => {
    // --pretty: the human screen although stdout is a pipe here (JSON otherwise, see the next test).
    const child = spawn(TSX, ['sim/local.ts', '--time-scale', '0.01', '--job-seconds', '0', '--pretty'], { cwd: REPO_ROOT, env: LOCAL_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    const since = Date.now();
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.resume();
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      // The banner waits for the warm pools (leader election, then placeholder nodes).
      await eventually(() => stdout, (s) => s.includes('Stop: Ctrl-C'), 40_000, 50);
      const def = loadStackDocument(DEFAULT_STACK_FILE).doc.pools.find((p) => p.name === 'default')!;
      const held = floorsSince(def, since).map((n) => `${n}\\/${n}`).join('|');
      assert.match(stdout, new RegExp(`warm pools +ready after [\\d.]+ s: default (${held}), small 1\\/1, amd64 0\\/0`));
      assert.match(stdout, /installation 1 \(every owner and repository\): a webhook you sign by hand must carry "installation": \{"id": 1\}/);
      const webhook = /POST (http:\/\/127\.0\.0\.1:\d+\/webhook)/.exec(stdout)?.[1];
      assert.ok(webhook, 'the banner names the webhook URL');
      const control = /curl -s -XPOST (http:\/\/127\.0\.0\.1:\d+)\/jobs -d '(\{[^']+\})'/.exec(stdout);
      assert.ok(control, 'the banner shows how to send a job');
      assert.equal((await fetch(`${control![1]}/jobs`, { method: 'POST', body: control![2] })).status, 201);
      await eventually(() => stdout, (s) => /job \d+#1 +completed +success/.test(s), 10_000, 50);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
    assert.match(stdout, /runs-fleet: stopped/);
  });

  it('writes only JSON lines when stdout is not a terminal: log records, the ready record and job transitions', async () => {
    const child = spawn(TSX, ['sim/local.ts', '--time-scale', '0.01', '--job-seconds', '0', '--log-level', 'info'], { cwd: REPO_ROOT, env: LOCAL_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.resume();
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    let ready: Record<string, any> | undefined;
    try {
      await eventually(() => stdout, (s) => s.includes('"msg":"runs-fleet local mode ready"'), 40_000, 50);
      ready = stdout.split('\n').map((l) => JSON.parse(l || '{}')).find((r) => r.msg === 'runs-fleet local mode ready');
      assert.equal(ready!.installationId, 1);
      assert.equal(ready!.warmPools.ready, true);
      assert.equal((await fetch(`${ready!.controlUrl}/jobs`, { method: 'POST', body: '{"labels":["runs-fleet=1/runner=2cpu-linux-arm64"]}' })).status, 201);
      await eventually(() => stdout, (s) => s.includes('"phase":"completed"'), 10_000, 50);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
    const lines = stdout.trim().split('\n');
    for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `not a JSON line: ${line}`);
    const records = lines.map((l) => JSON.parse(l) as { service: string; msg: string });
    assert.ok(records.some((r) => r.service === 'orchestrator' && r.msg === 'orchestrator started'), 'the orchestrator\'s own records are in the same stream');
    assert.equal(records.at(-1)!.msg, 'runs-fleet: stopped');
  });
});

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(TSX, args, { cwd: REPO_ROOT, env: LOCAL_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
