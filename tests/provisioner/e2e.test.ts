import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { readFileSync } from 'node:fs';
import diagnostics from 'node:diagnostics_channel';
import { JOB_STAGE_CHANNEL, type JobStageEvent } from '../../runtime/util/job-stages.ts';
import { parseConfigDocument } from '../../runtime/config/document.ts';
import { createProvisionerMetrics } from '../../runtime/controllers/provisioner/metrics.ts';
import { GitHubClient } from '../../runtime/github/client.ts';
import { GitHubRateLimiter } from '../../runtime/github/rate-limiter.ts';
import { createKubeClients } from '../../runtime/k8s/client.ts';
import { REDACT_PATHS, silentLogger } from '../../runtime/log.ts';
import { createRegistry } from '../../runtime/metrics/registry.ts';
import { JobQueue } from '../../runtime/queue/job-queue.ts';
import { JobRecords } from '../../runtime/queue/job-records.ts';
import { systemClock } from '../../runtime/util/clock.ts';
import { provision } from '../../runtime/controllers/provisioner/provision.ts';
import { parseRunsOn } from '../../runtime/labels/parse.ts';
import type { QueuedJob } from '../../runtime/queue/types.ts';
import { LABEL } from '../../runtime/k8s/labels.ts';
import { startLocalStack, RUNNER_NAMESPACE, type LocalStack } from '../../sim/stack.ts';
import { sampleDocument } from '../support/config.ts';
import { startFaultProxy } from '../support/fault-proxy.ts';
import { Connections, testValkeyUrl, uniquePrefix } from '../support/valkey.ts';
import { eventually } from '../support/eventually.ts';
import { kubeconfigYaml, makeKubeConfig } from '../../sim/k8s/kubeconfig.ts';
import { ROUTES } from '../../sim/github/double.ts';

const FAST = { blockMs: 100, reclaimIdleMs: 300, reclaimEveryMs: 100 };

function capturedLogger() {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } });
  const log = pino({ level: 'debug', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, stream);
  return { log, text: () => lines.join('') };
}

async function stack(extra: Partial<Parameters<typeof startLocalStack>[0]> = {}) {
  return startLocalStack({
    doc: sampleDocument(), valkeyUrl: testValkeyUrl(), queuePrefix: uniquePrefix('e2e'),
    sim: { timings: { provisioningMs: 200, imagePullMs: 10, containerStartMs: 10, readinessMs: 10, batchIdleMs: 20, batchMaxMs: 100 } },
    orchestrator: { consumer: FAST }, ...extra,
  });
}

const jobsIn = (s: LocalStack) => s.sim.store.list('jobs', { namespace: RUNNER_NAMESPACE });
const secretsIn = (s: LocalStack) => s.sim.store.list('secrets', { namespace: RUNNER_NAMESPACE });

describe('provisioning end to end (webhook → Valkey → consumer → GitHub double → simulated cluster)', function () {
  this.timeout(30_000);
  let s: LocalStack | undefined;
  afterEach(async () => {
    await s?.stop();
    s = undefined;
  });

  it('turns a signed queued webhook into a JIT runner, a Secret and a Job as specified', async () => {
    const { log, text } = capturedLogger();
    s = await stack({ log });
    const job = s.github.queueJob({ owner: 'octo-org', repo: 'app', labels: ['self-hosted', 'runs-fleet=77/runner=4cpu-linux-arm64/pool=default'] });
    await s.github.deliveriesSettled();
    // The record is written just after the Job is adopted; wait for it rather than race it.
    const record = await eventually(() => s!.orchestrators[0]!.records.get(job.id, 1), (r) => r?.status === 'job_created');
    const [k8sJob] = await eventually(() => jobsIn(s!), (l) => l.length === 1);
    const name = `runner-${job.id}-1`;
    assert.equal(k8sJob!.metadata.name, name);

    const runnerName = (k8sJob!.metadata.annotations as Record<string, string>)['runs-fleet.io/runner-name']!;
    const registered = s.github.findRunner(runnerName);
    assert.ok(registered, 'a JIT runner was registered with GitHub under the name on the Job');
    assert.deepEqual([...registered!.labels].sort(), ['runs-fleet=77/runner=4cpu-linux-arm64/pool=default', 'self-hosted'].sort());

    const secret = await eventually(() => s!.sim.store.get('secrets', RUNNER_NAMESPACE, name), (x) => Boolean(x?.metadata.ownerReferences?.length));
    assert.deepEqual(secret!.metadata.ownerReferences!.map((o) => [o.kind, o.name, o.uid]), [['Job', name, k8sJob!.metadata.uid]]);
    const jit = Buffer.from(String((secret as any).data.jitToken), 'base64').toString();
    assert.equal(jit, registered!.encodedJitConfig, 'the Secret carries the JIT config GitHub issued');

    const spec = (k8sJob as any).spec;
    assert.equal(spec.backoffLimit, 0);
    assert.equal(spec.template.spec.automountServiceAccountToken, false);
    assert.equal(spec.template.metadata.labels[LABEL.pool], 'default');
    const env = spec.template.spec.containers.find((c: any) => c.name === 'runner').env;
    assert.deepEqual(env.find((e: any) => e.name === 'ACTIONS_RUNNER_INPUT_JITCONFIG').valueFrom.secretKeyRef, { name, key: 'jitToken' });

    assert.equal(record?.runnerName, runnerName);
    assert.ok(record!.stages.receivedAt! <= record!.stages.enqueuedAt! && record!.stages.enqueuedAt! <= record!.stages.jobCreatedAt!);
    assert.ok(!text().includes(registered!.encodedJitConfig), 'the JIT config never reaches a log line');
    for (const token of s.github.issuedTokens()) assert.ok(!text().includes(token), 'no installation token in the logs');
  });

  it('publishes each stage of a job on the job-stage diagnostics channel, in order, once', async () => {
    const seen: JobStageEvent[] = [];
    const onStage = (m: unknown) => void seen.push(m as JobStageEvent);
    diagnostics.subscribe(JOB_STAGE_CHANNEL, onStage);
    try {
      s = await stack();
      const job = s.github.queueJob({ owner: 'octo-org', repo: 'app', labels: ['self-hosted', 'runs-fleet=78/runner=4cpu-linux-arm64/pool=default'] });
      await s.github.deliveriesSettled();
      await eventually(() => s!.orchestrators[0]!.records.get(job.id, 1), (r) => r?.status === 'job_created');
      const mine = seen.filter((e) => e.jobId === job.id && e.runAttempt === 1);
      assert.deepEqual(mine.map((e) => e.stage), ['received', 'checked', 'enqueuing', 'provisioning', 'jit_issued', 'objects_sent']);
      for (let i = 1; i < mine.length; i++) assert.ok(mine[i]!.at >= mine[i - 1]!.at, `${mine[i]!.stage} is stamped after ${mine[i - 1]!.stage}`);
      const record = await s.orchestrators[0]!.records.get(job.id, 1);
      // Both clocks read the system time: the stages fall within the record's whole-millisecond stamps.
      assert.ok(mine[0]!.at >= record!.stages.receivedAt! - 1 && mine.at(-1)!.at <= record!.stages.jobCreatedAt! + 1);
    } finally {
      diagnostics.unsubscribe(JOB_STAGE_CHANNEL, onStage);
    }
  });

  it('the same job delivered to three orchestrators at once yields one Job', async () => {
    s = await stack({ replicas: 3 });
    const job = s.github.queueJob({ owner: 'octo-org', repo: 'app', labels: ['runs-fleet=1/runner=2cpu-linux-arm64'] });
    const hook = s.github.buildWorkflowJobWebhook(job.id, 'queued');
    const answers = await Promise.all(
      s.orchestrators.map((o) => fetch(`${o.url}/webhook`, { method: 'POST', headers: hook.headers, body: hook.body }).then((r) => r.status)),
    );
    assert.deepEqual(answers, [202, 202, 202]);
    await eventually(() => jobsIn(s!), (l) => l.length === 1);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(jobsIn(s).length, 1);
    assert.equal(s.github.listRunners().length, 1, 'one JIT runner, not three');
  });

  it('retries through API server 500s and timeouts, and creates the Job once', async () => {
    s = await stack();
    const proxy = await startFaultProxy(s.sim.url);
    try {
      const faulty = await s.addReplica({ kubeConfig: makeKubeConfig(kubeconfigYaml(proxy.url)), kubeRequestTimeoutMs: 400 });
      await s.orchestrators[0]!.stop(); // only the replica behind the proxy consumes
      proxy.inject({ method: 'POST', path: /\/jobs(\?|$)/, status: 500, times: 2 });
      proxy.inject({ method: 'POST', path: /\/secrets(\?|$)/, delayMs: 1_500, times: 1 });
      const job = s.github.queueJob({ owner: 'octo-org', repo: 'app', labels: ['runs-fleet=1/runner=2cpu-linux-arm64'] });
      const hook = s.github.buildWorkflowJobWebhook(job.id, 'queued');
      assert.equal((await fetch(`${faulty.url}/webhook`, { method: 'POST', headers: hook.headers, body: hook.body })).status, 202);
      const name = `runner-${job.id}-1`;
      await eventually(() => s!.sim.store.get('secrets', RUNNER_NAMESPACE, name), (x) => Boolean(x?.metadata.ownerReferences?.length));
      assert.equal(jobsIn(s).length, 1);
      assert.equal(secretsIn(s).length, 1);
      const jobPosts = proxy.hits().filter((h) => h.method === 'POST' && /\/jobs(\?|$)/.test(h.path));
      assert.ok(jobPosts.length >= 3, `the Job POST was retried after two 500s (${jobPosts.length} POSTs)`);
      assert.match(await faulty.registry.metrics(), /runs_fleet_kube_requests_total\{verb="POST",resource="jobs",code="500"\} 2/);
    } finally {
      await proxy.stop();
    }
  });

  it('waits out a GitHub secondary rate limit (403 + retry-after) and still provisions the job', async () => {
    s = await stack();
    s.github.inject(ROUTES.orgJitConfig, { kind: 'secondary', retryAfterS: 1 }, 1);
    const job = s.github.queueJob({ owner: 'octo-org', repo: 'app', labels: ['runs-fleet=1/runner=2cpu-linux-arm64'] });
    await eventually(() => s!.orchestrators[0]!.records.get(job.id, 1), (r) => r?.status === 'job_created', 15_000);
    assert.equal(jobsIn(s).length, 1);
    assert.equal(s.github.calls(ROUTES.orgJitConfig), 2, 'one refused call, one retried call');
    assert.equal(s.github.stats().injectedFaults, 1);
  });

  it('when GitHub refuses the runner for good (404), no Job or Secret is made and the entry is dead-lettered', async () => {
    s = await stack();
    s.github.inject(ROUTES.orgJitConfig, { kind: 'status', status: 404, message: 'Not Found' }, 1);
    s.github.queueJob({ owner: 'octo-org', repo: 'app', labels: ['runs-fleet=1/runner=2cpu-linux-arm64'] });
    const q = s.orchestrators[0]!.queue;
    const [dead] = await eventually(() => q.deadLetters(), (l) => l.length === 1);
    assert.match(dead!.reason, /^github_not_found: /);
    assert.equal(jobsIn(s).length, 0);
    assert.equal(secretsIn(s).length, 0);
  });

  it('a consumer killed between create and ack: another replica finds the Job and makes no second runner', async () => {
    s = await stack({ replicas: 0 });
    // The victim: the real provision() on its own connections, reading as consumer "victim".
    const victim = await victimConsumer(s);
    try {
      const ghJob = s.github.queueJob({ owner: 'octo-org', repo: 'app', labels: ['runs-fleet=1/runner=2cpu-linux-arm64'] });
      await victim.queue.enqueue(queuedFrom(ghJob, s.github.defaultInstallationId));
      const [entry] = await victim.queue.read(1, 100);
      assert.equal(await provision(entry!, victim.deps), 'created');
      // …and dies here: no ack.
    } finally {
      await victim.close();
    }
    const survivor = await s.addReplica({ consumer: { ...FAST, reclaimIdleMs: 200 } });
    await eventually(() => survivor.queue.depth(), (d) => d.pending === 0 && d.lag === 0, 10_000);
    assert.equal(jobsIn(s).length, 1);
    assert.equal(secretsIn(s).length, 1);
    assert.equal(s.github.listRunners().length, 1, 'the survivor did not register a second runner');
    assert.match(await survivor.registry.metrics(), /runs_fleet_jobs_provisioned_total\{class="2cpu-linux-arm64",outcome="existed"\} 1/);
  });

  describe('bad input: rejected before the answer — no queue entry, no Job, a reason in the record, the log and a metric', () => {
    for (const [label, reason] of [
      ['runs-fleet=1/runner=gpu-linux-amd64', 'unknown_class'],
      ['runs-fleet=1/runner=2cpu-linux-arm64/cpu=8', 'impossible_size'],
      ['runs-fleet=1/runner=4cpu-linux-arm64/disk=500', 'oversize_disk'],
    ] as const) {
      it(`${label} → ${reason}`, async () => {
        const { log, text } = capturedLogger();
        s = await stack({ log });
        const job = s.github.queueJob({ owner: 'octo-org', repo: 'app', labels: [label] });
        await s.github.deliveriesSettled();
        const o = s.orchestrators[0]!;
        const record = await o.records.get(job.id, 1);
        assert.equal(record?.status, 'rejected');
        assert.match(record!.failure!, new RegExp(`^${reason}: `));
        assert.equal((await o.queue.depth()).length, 0, 'never queued');
        assert.equal(jobsIn(s).length, 0);
        assert.equal(s.github.listRunners().length, 0, 'no runner registered for a job that cannot run');
        assert.match(await o.registry.metrics(), new RegExp(`runs_fleet_jobs_rejected_total\\{reason="${reason}"\\} 1`));
        assert.match(text(), new RegExp(`"reason":"${reason}"`));
      });
    }
  });
});

/** The provisioning half of a replica, wired from the same parts as the orchestrator, so a test can stop it mid-job. */
async function victimConsumer(s: LocalStack) {
  const conns = new Connections();
  const command = conns.command(s.valkeyUrl);
  await conns.ready();
  const queue = new JobQueue(command, { prefix: s.queuePrefix, consumer: 'victim' });
  await queue.ensureGroup();
  const kube = await createKubeClients(s.sim.makeKubeConfig());
  const limiter = new GitHubRateLimiter({ valkey: command, keyPrefix: `${s.queuePrefix}:github:` });
  const github = new GitHubClient({ appId: s.github.appId, privateKey: s.github.privateKeyPem, apiUrl: s.github.url, limiter });
  const doc = parseConfigDocument(JSON.parse(readFileSync(s.configFile, 'utf8')));
  const deps = {
    kube, github, records: new JobRecords(command, s.queuePrefix), doc: () => doc, namespace: RUNNER_NAMESPACE, clock: systemClock,
    log: silentLogger(), metrics: createProvisionerMetrics(createRegistry()),
  };
  return {
    queue, deps,
    async close() {
      await github.close();
      await kube.close();
      conns.closeAll();
    },
  };
}

function queuedFrom(job: { id: number; runId: number; runAttempt: number; labels: string[] }, installationId: number): QueuedJob {
  return {
    jobId: job.id, runId: job.runId, runAttempt: job.runAttempt, repository: 'octo-org/app', owner: 'octo-org', repo: 'app', org: 'octo-org',
    installationId, labels: job.labels, request: parseRunsOn(job.labels), deliveryId: 'd-victim', workflowName: 'ci', jobName: 'build',
    receivedAt: Date.now(), enqueuedAt: Date.now(),
  };
}
