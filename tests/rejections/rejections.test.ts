import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { parseConfigDocument } from '../../runtime/config/document.ts';
import { REDACT_PATHS } from '../../runtime/log.ts';
import { RUNNER_NAMESPACE, startLocalStack, type LocalStack } from '../../sim/stack.ts';
import { sampleDocument } from '../support/config.ts';
import { eventually } from '../support/eventually.ts';
import { testValkeyUrl, uniquePrefix } from '../support/valkey.ts';

const FAST = { blockMs: 100, reclaimIdleMs: 300, reclaimEveryMs: 100 };

function capturedLogger() {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } });
  return { log: pino({ level: 'debug', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, stream), lines };
}

describe('jobs runs-fleet cannot serve (webhook → record `rejected` → check run on the GitHub double)', function () {
  this.timeout(30_000);
  let s: LocalStack | undefined;
  afterEach(async () => {
    await s?.stop();
    s = undefined;
  });

  async function stack(log?: pino.Logger, doc = sampleDocument()) {
    s = await startLocalStack({
      doc, valkeyUrl: testValkeyUrl(), queuePrefix: uniquePrefix('reject'), github: { autoDeliver: false },
      orchestrator: { consumer: FAST }, ...(log && { log }),
    });
    return s;
  }

  async function deliver(st: LocalStack, jobId: number) {
    const hook = st.github.buildWorkflowJobWebhook(jobId, 'queued');
    const res = await fetch(st.webhookUrl, { method: 'POST', headers: hook.headers, body: hook.body });
    const text = await res.text();
    return { status: res.status, text, json: JSON.parse(text) as Record<string, unknown> };
  }

  it('an unknown class is rejected before the answer and gets one check run within 5 s', async () => {
    const st = await stack();
    const job = st.github.queueJob({ owner: 'octo-org', repo: 'web', name: 'docs', labels: ['runs-fleet/runner=2cpu-linux-x64'] });
    const started = Date.now();
    const reply = await deliver(st, job.id);
    assert.equal(reply.status, 202);
    assert.equal(reply.json.status, 'rejected');
    assert.equal(reply.json.reason, 'unknown_class');

    const record = await st.orchestrators[0]!.records.get(job.id, 1);
    assert.equal(record?.status, 'rejected', 'the record says rejected as soon as the webhook is answered');
    assert.match(record!.failure!, /^unknown_class: runner=2cpu-linux-x64 names no runner class/);

    const [run] = await eventually(() => st.github.checkRuns(), (l) => l.length === 1, 5_000);
    assert.ok(Date.now() - started < 5_000);
    assert.equal(run!.headSha, job.headSha);
    assert.deepEqual([run!.status, run!.conclusion], ['completed', 'action_required']);
    assert.match(run!.name, /docs/);
    assert.match(run!.output.title!, /docs.*unknown_class/);
    for (const part of ['runs-fleet/runner=2cpu-linux-x64', 'unknown_class', 'Fix:', '`2cpu-linux-arm64`', '`4cpu-linux-amd64`'])
      assert.ok(run!.output.summary!.includes(part), `summary mentions ${part}`);

    assert.equal((await deliver(st, job.id)).json.status, 'rejected', 'a redelivery is rejected again');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(st.github.checkRuns().length, 1, 'once per job and attempt');
    assert.equal(st.sim.store.list('jobs', { namespace: RUNNER_NAMESPACE }).length, 0);
    assert.equal((await st.orchestrators[0]!.queue.depth()).length, 0, 'nothing was queued');
    assert.equal(st.github.getJob(job.id)?.status, 'queued', 'the run is not cancelled unless runner.cancelRejectedRuns is set');
    const metrics = await st.orchestrators[0]!.registry.metrics();
    assert.match(metrics, /runs_fleet_jobs_rejected_total\{reason="unknown_class"\} 2/);
    assert.match(metrics, /runs_fleet_rejection_check_runs_total\{outcome="created"\} 1/);
  });

  it('a request beyond every class is rejected with the classes listed', async () => {
    const st = await stack();
    const job = st.github.queueJob({ owner: 'octo-org', repo: 'app', name: 'huge', labels: ['runs-fleet/cpu=64'] });
    assert.equal((await deliver(st, job.id)).json.reason, 'no_matching_class');
    const [run] = await eventually(() => st.github.checkRuns(), (l) => l.length === 1, 5_000);
    assert.match(run!.output.summary!, /8cpu-linux-arm64/);
    assert.equal((await st.orchestrators[0]!.records.get(job.id, 1))?.status, 'rejected');
  });

  it('runner.cancelRejectedRuns: the run of a rejected job is cancelled after the check run', async () => {
    const st = await stack(undefined, parseConfigDocument({ ...sampleDocument(), runner: { cancelRejectedRuns: true } }));
    const job = st.github.queueJob({ owner: 'octo-org', repo: 'app', name: 'typo', labels: ['runs-fleet/runner=2cpu-linux-x64'] });
    assert.equal((await deliver(st, job.id)).json.reason, 'unknown_class');
    await eventually(() => st.github.getJob(job.id)?.conclusion, (c) => c === 'cancelled', 5_000);
    assert.equal(st.github.checkRuns().length, 1);
  });

  it('a 1,000,000-character label gets a reply under 16 KB and no log line over 16 KB', async () => {
    const { log, lines } = capturedLogger();
    const st = await stack(log);
    const huge = `runs-fleet/runner=${'x'.repeat(1_000_000)}`;
    const job = st.github.queueJob({ owner: 'octo-org', repo: 'app', name: 'big', labels: ['self-hosted', huge] });
    const reply = await deliver(st, job.id);
    assert.equal(reply.json.reason, 'label_too_long');
    assert.ok(Buffer.byteLength(reply.text) < 16_384, `reply is ${Buffer.byteLength(reply.text)} bytes`);
    const [run] = await eventually(() => st.github.checkRuns(), (l) => l.length === 1, 5_000);
    assert.ok(run!.output.summary!.length < 16_384, `check run summary is ${run!.output.summary!.length} characters`);
    await st.stop();
    s = undefined;
    const longest = Math.max(...lines.map((l) => Buffer.byteLength(l)));
    assert.ok(longest < 16_384, `longest log line is ${longest} bytes`);
    assert.ok(lines.some((l) => l.includes('label_too_long')), 'the rejection was logged');
  });
});
