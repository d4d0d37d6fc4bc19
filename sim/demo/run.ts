import { COMPONENT, LABEL, NODE } from '../../runtime/k8s/labels.ts';
import type { JobRecord } from '../../runtime/queue/job-records.ts';
import type { SimJob } from '../github/double.ts';
import { ROUTES } from '../github/double.ts';
import { startLocal, type LocalMode } from '../local.ts';
import type { RunnerAgentEvent } from '../runner-agent.ts';
import { RUNNER_NAMESPACE } from '../stack.ts';
import { FlowTracker, type TrackedJob } from './flow.ts';
import { duration } from './format.ts';
import { capturingLogger, type LogLine } from './log-capture.ts';
import { buildDemoScenario, type DemoJob, type DemoScenario } from './scenario.ts';

export interface DemoOptions {
  seed?: number;
  timeScale?: number;
  stackFile?: string;
  valkeyUrl?: string;
  /** The whole demo gives up after this long (default 4 min). */
  timeoutMs?: number;
  /** After a runner is lost, how long to wait for the orchestrator's retry to finish (default 90 s). */
  retryWaitMs?: number;
  /** How long to wait for warm pools to be ready before the burst (default 60 s). */
  warmWaitMs?: number;
  /** A status line this often (default 5 s). */
  statusEveryMs?: number;
  out: (line: string) => void;
  /** Ctrl-C: stop early, still with a summary of what happened so far. */
  signal?: AbortSignal;
  /** Called once local mode is up (e.g. to sample the orchestrator's metrics: sim/render-dashboard.ts). */
  onLocal?: (local: LocalMode) => void;
}

export interface NodeFacts {
  name: string;
  instanceType?: string;
  capacityType?: string;
}

/** One attempt of one GitHub job, as the orchestrator recorded it. */
export interface AttemptOutcome {
  key: string;
  jobId: number;
  runAttempt: number;
  record: JobRecord;
  conclusion: string | null;
  node?: NodeFacts;
  deadLetterReason?: string;
  /** What still exists at the end for this attempt's runner, looked up in the double and the cluster (not taken from the record). */
  leftBehind: { registeredRunner: boolean; runnerJob: boolean; secret: boolean };
}

export interface Interruption {
  key: string;
  jobId: number;
  node: NodeFacts;
  at: number;
}

export interface DemoResult {
  scenario: DemoScenario;
  startedAt: number;
  endedAt: number;
  timedOut: boolean;
  /** Stopped early by the signal. */
  interrupted: boolean;
  /** What had not finished when the demo stopped waiting. */
  unfinished: string[];
  attempts: AttemptOutcome[];
  interruption?: Interruption;
  placeholdersReady: number;
  /** The recovery bounds of the config document. */
  limits: { maxInfraRetries: number; maxReprovisions: number };
  github: { jitConfigs: number; rateLimited: number; deliveries: number; failedDeliveries: number };
  /** Warnings and notable decisions from the orchestrator's log. */
  notable: LogLine[];
  metrics: { infraRetries: Record<string, number>; recoveryOutcomes: Record<string, number>; runnerFailures: Record<string, number> };
}

/** Runs the demo scenario against local mode and collects what happened. */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const scenario = buildDemoScenario({ seed: o.seed, timeScale: o.timeScale });
  const capture = capturingLogger('info');
  const byRunAndName = new Map<string, DemoJob>(scenario.jobs.map((j) => [`${j.runId}/${j.name}`, j]));
  const keyOfJob = new Map<number, string>();
  const nodeOfJob = new Map<number, NodeFacts>();
  const pendingInterrupts = new Map<string, number>(); // key → afterTakenMs
  let interruption: Interruption | undefined;
  let local: LocalMode | undefined;

  const demoJobOf = (gh: SimJob | undefined) => (gh ? byRunAndName.get(`${gh.runId}/${gh.name}`) : undefined);
  const keyOf = (jobId: number) => {
    const known = keyOfJob.get(jobId);
    if (known) return known;
    const dj = demoJobOf(local?.stack.github.getJob(jobId));
    if (dj) keyOfJob.set(jobId, dj.key);
    return dj?.key ?? String(jobId);
  };
  const t0 = Date.now();
  const stamp = () => `[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s]`;
  const say = (line: string) => o.out(`${stamp()} ${line}`);

  const onAgent = (e: RunnerAgentEvent) => {
    if (!local) return;
    if (e.type === 'took') {
      const node = e.nodeName ? nodeFacts(local, e.nodeName) : undefined;
      if (node) nodeOfJob.set(e.jobId, node);
      const key = keyOf(e.jobId);
      const after = pendingInterrupts.get(key);
      if (after !== undefined && e.runAttempt === 1 && node) {
        pendingInterrupts.delete(key);
        setTimeout(() => {
          if (!local) return;
          try {
            local.stack.sim.injectSpotInterruption(node.name);
            interruption = { key, jobId: e.jobId, node, at: Date.now() };
            say(`⚡ spot interruption: node ${node.name} (${node.instanceType ?? '?'}, ${node.capacityType ?? '?'}) while ${key} runs on it`);
          } catch (err) {
            say(`spot interruption of ${node.name} not possible: ${(err as Error).message}`);
          }
        }, after).unref();
      }
    } else if (e.type === 'lost') {
      say(`runner ${e.runnerName} lost mid-job (${keyOf(e.jobId)}#${e.runAttempt}); GitHub will mark the job failed`);
    }
  };

  const startedAt = Date.now();
  local = await startLocal({
    stackFile: o.stackFile, timeScale: scenario.timeScale, valkeyUrl: o.valkeyUrl, log: capture.log,
    jobRunMs: (job) => demoJobOf(job)?.runMs ?? 5_000,
    agent: { onEvent: onAgent, lostAfterMs: 2_000 },
  });
  const l = local;
  o.onLocal?.(l);
  const tracker = new FlowTracker({
    valkeyUrl: l.stack.valkeyUrl, prefix: l.stack.queuePrefix,
    onChange: (job) => say(transitionLine(job, keyOf(job.jobId))),
  });
  let statusTimer: NodeJS.Timeout | undefined;
  try {
    await tracker.start();
    say(`local mode up: orchestrator ${l.stack.orchestrators[0]!.url}, simulated cluster ${l.stack.sim.url}, delays × ${scenario.timeScale}`);
    const placeholdersReady = await waitForWarmPools(l, o.warmWaitMs ?? 60_000, say);

    statusTimer = setInterval(() => say(statusLine(l, tracker)), o.statusEveryMs ?? 5_000);
    const burstAt = Date.now();
    const deadline = startedAt + (o.timeoutMs ?? 240_000);
    const announced = new Set<number>();
    for (const step of scenario.steps) {
      const wait = burstAt + step.atMs - Date.now();
      if (wait > 0) await sleep(wait, o.signal);
      if (o.signal?.aborted) break;
      if (step.kind === 'queue') {
        const j = step.job;
        const [owner, repo] = j.repo.split('/') as [string, string];
        if (!announced.has(j.runId)) {
          announced.add(j.runId);
          const run = scenario.jobs.filter((x) => x.runId === j.runId);
          say(`push to ${j.repo}: workflow "${j.workflow}" run ${j.runId} queues ${run.length} jobs (${summariseNames(run)})`);
        }
        const gh = l.stack.github.queueJob({ owner, repo, labels: j.labels, runId: j.runId, name: j.name, workflowName: j.workflow });
        keyOfJob.set(gh.id, j.key);
      } else if (step.kind === 'cancel') {
        const id = [...keyOfJob].find(([, k]) => k === step.key)?.[0];
        const gh = id === undefined ? undefined : l.stack.github.getJob(id);
        if (gh && gh.status === 'queued') {
          l.stack.github.markJobCompleted(gh.id, 'cancelled');
          say(`✗ ${step.key} cancelled on GitHub (${step.why}) before any runner took it`);
        } else say(`${step.key} could not be cancelled: it is ${gh?.status ?? 'unknown'}`);
      } else {
        pendingInterrupts.set(step.key, step.afterTakenMs);
      }
    }

    // Wait for every job to conclude on GitHub, and for the retry of a lost one.
    let unfinished: string[] = [];
    for (;;) {
      await tracker.poll();
      unfinished = pendingWork(l, scenario, tracker, keyOfJob, interruption, o.retryWaitMs ?? 90_000);
      if (!unfinished.length || Date.now() > deadline || o.signal?.aborted) break;
      await sleep(250, o.signal);
    }
    clearInterval(statusTimer);
    statusTimer = undefined;
    await l.stack.github.deliveriesSettled();
    await sleep(300); // the last completed webhooks reach the records
    await tracker.poll();

    const attempts: AttemptOutcome[] = tracker.jobs().map((t) => ({
      key: keyOf(t.jobId), jobId: t.jobId, runAttempt: t.runAttempt, record: t.record,
      conclusion: l.stack.github.getJob(t.jobId)?.conclusion ?? null, node: nodeOfJob.get(t.jobId),
      ...(t.deadLetterReason && { deadLetterReason: t.deadLetterReason }),
      leftBehind: {
        registeredRunner: !!(t.record.runnerName && l.stack.github.findRunner(t.record.runnerName)),
        runnerJob: !!(t.record.jobName && l.stack.sim.store.get('jobs', RUNNER_NAMESPACE, t.record.jobName)),
        secret: !!(t.record.jobName && l.stack.sim.store.get('secrets', RUNNER_NAMESPACE, t.record.jobName)),
      },
    }));
    const stats = l.stack.github.stats();
    const deliveries = l.stack.github.listDeliveries();
    const registry = l.stack.orchestrators[0]!.registry;
    return {
      scenario, startedAt, endedAt: Date.now(), timedOut: unfinished.length > 0 && !o.signal?.aborted, interrupted: !!o.signal?.aborted, unfinished, attempts, interruption, placeholdersReady,
      limits: { maxInfraRetries: l.document.doc.runner.maxInfraRetries, maxReprovisions: l.document.doc.runner.maxReprovisions },
      github: {
        jitConfigs: l.stack.github.calls(ROUTES.orgJitConfig) + l.stack.github.calls(ROUTES.repoJitConfig),
        rateLimited: stats.rateLimited.primary + stats.rateLimited.secondary,
        deliveries: deliveries.length,
        failedDeliveries: deliveries.filter((d) => d.statusCode < 200 || d.statusCode >= 300).length,
      },
      notable: capture.lines().filter((x) => x.level >= 40 || /cancel|re-run|provisioned again|lost/i.test(x.msg)),
      metrics: {
        infraRetries: await counter(registry, 'runs_fleet_infra_retries_total', (lb) => `${lb.action ?? ''} ${lb.kind ?? ''}`.trim()),
        recoveryOutcomes: await counter(registry, 'runs_fleet_recovery_outcomes_total', (lb) => String(lb.outcome ?? '')),
        runnerFailures: await counter(registry, 'runs_fleet_runner_failures_total', (lb) => String(lb.kind ?? lb.reason ?? '')),
      },
    };
  } finally {
    if (statusTimer) clearInterval(statusTimer);
    await tracker.stop();
    await l.stop();
  }
}

function transitionLine(job: TrackedJob, key: string): string {
  const r = job.record;
  const s = r.stages;
  const since = (at: number | undefined) => (at !== undefined && s.receivedAt !== undefined ? duration(at - s.receivedAt) : '—');
  const name = `${key}${job.runAttempt > 1 ? ` (attempt ${job.runAttempt})` : ''}`;
  switch (job.phase) {
    case 'queued':
      return `  ${name}: webhook stored in the queue`;
    case 'job created':
      return `  ${name}: runner Job created for ${r.className} ${since(s.jobCreatedAt)} after the webhook`;
    case 'scheduled':
      return `  ${name}: pod scheduled${r.start ? ` (${r.start})` : ''}`;
    case 'running':
      return `  ${name}: pod running${r.start ? `, ${r.start} start` : ''}, ${since(s.runningAt)} after the webhook`;
    case 'in progress':
      return `  ${name}: GitHub assigned it to runner ${r.pickedBy ?? r.runnerName ?? '?'}`;
    case 'completed':
      return `  ${name}: completed, ${r.conclusion ?? '?'}`;
    case 'cancelled':
      return `  ${name}: cancelled${r.status === 'cancelled_cleaned' ? '; the orchestrator removed its runner Job and registered runner' : ''}`;
    case 'dead-lettered':
      return `  ${name}: no runner (${job.deadLetterReason})`;
    case 'infra retry':
      return `  ${name}: lost to ${r.failure ?? 'infrastructure'}; ${r.status === 'infra_rerun' ? `re-run through GitHub (infrastructure retry ${r.infraRetries ?? 1})` : 'provisioned again'}`;
  }
}

function summariseNames(jobs: DemoJob[]): string {
  const counts = new Map<string, number>();
  for (const j of jobs) {
    const base = j.name.replace(/ \(\d+\)$/, '');
    counts.set(base, (counts.get(base) ?? 0) + 1);
  }
  return [...counts].map(([n, c]) => (c > 1 ? `${n} ×${c}` : n)).join(', ');
}

function nodeFacts(l: LocalMode, name: string): NodeFacts {
  const node = l.stack.sim.store.get('nodes', '', name);
  const labels = node?.metadata.labels ?? {};
  return { name, instanceType: labels['node.kubernetes.io/instance-type'], capacityType: labels[NODE.capacityType] };
}

function placeholders(l: LocalMode) {
  return l.stack.sim.store.list('pods', { namespace: RUNNER_NAMESPACE, labelSelector: `${LABEL.component}=${COMPONENT.placeholder}` });
}

/**
 * Waits until the warm-pool controller has the placeholders it wants running, so the burst
 * meets the capacity an operator would have at that hour. The controller runs on the leader,
 * after the first lease and its first pass.
 */
async function waitForWarmPools(l: LocalMode, maxMs: number, say: (s: string) => void): Promise<number> {
  const registry = l.stack.orchestrators[0]!.registry;
  if (!registry.getSingleMetric(WARM_DESIRED)) {
    say('no warm-pool controller runs in this orchestrator: every start will be cold or on leftover capacity');
    return 0;
  }
  if (!l.document.doc.pools.length) return 0;
  say(`waiting for the warm pools (${l.document.doc.pools.map((p) => `${p.name}: ${p.class} min ${p.min}`).join(', ')}); the leader's warm-pool controller creates placeholders on its first pass…`);
  const start = Date.now();
  let last = '';
  for (;;) {
    const desired = Object.values(await gaugeValues(registry, WARM_DESIRED)).reduce((a, b) => a + b, 0);
    const pods = placeholders(l);
    const running = pods.filter((p) => (p as { status?: { phase?: string } }).status?.phase === 'Running').length;
    const now = `${running}/${desired}`;
    if (now !== last && desired > 0) say(`  placeholders running: ${running} of ${desired} wanted`);
    last = now;
    if (desired > 0 && running >= desired) return running;
    if (Date.now() - start > maxMs) {
      say(`  warm pools not ready after ${maxMs / 1000} s (${running} of ${desired} placeholders running); starting the burst anyway`);
      return running;
    }
    await sleep(250);
  }
}

const WARM_DESIRED = 'runs_fleet_warm_pool_desired_placeholders';

async function gaugeValues(registry: import('prom-client').Registry, name: string): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return {};
  const out: Record<string, number> = {};
  for (const v of (await metric.get()).values) out[JSON.stringify(v.labels)] = v.value;
  return out;
}

function statusLine(l: LocalMode, tracker: FlowTracker): string {
  const jobs = tracker.jobs();
  const count = (pred: (t: TrackedJob) => boolean) => jobs.filter(pred).length;
  const done = count((t) => ['completed', 'cancelled', 'dead-lettered', 'infra retry'].includes(t.phase));
  const running = count((t) => t.phase === 'in progress');
  const nodes = l.stack.sim.store.list('nodes');
  const launching = l.stack.sim.inflightNodeClaims().length;
  return `status: ${jobs.length} jobs — ${jobs.length - done - running} waiting for a runner, ${running} running, ${done} done · ${nodes.length} nodes` +
    `${launching ? ` (+${launching} launching)` : ''} · ${placeholders(l).length} placeholders · ${l.agent.busy()} busy runners`;
}

function pendingWork(
  l: LocalMode, scenario: DemoScenario, tracker: FlowTracker, keyOfJob: Map<number, string>, interruption: Interruption | undefined, retryWaitMs: number,
): string[] {
  const open: string[] = [];
  const gh = l.stack.github;
  for (const [id, key] of keyOfJob) if (gh.getJob(id)?.status !== 'completed') open.push(`${key}: ${gh.getJob(id)?.status ?? 'unknown'} on GitHub`);
  if (keyOfJob.size < scenario.jobs.length) open.push(`${scenario.jobs.length - keyOfJob.size} jobs not sent yet`);
  for (const t of tracker.jobs()) {
    const job = gh.getJob(t.jobId);
    if (job && job.status !== 'completed') open.push(`${t.jobId}#${t.runAttempt}: ${job.status} on GitHub`);
  }
  if (interruption && Date.now() - interruption.at < retryWaitMs) {
    const lost = gh.getJob(interruption.jobId);
    const retried = tracker.jobs().some((t) => {
      const j = gh.getJob(t.jobId);
      return j && lost && j.runId === lost.runId && j.name === lost.name && j.runAttempt > lost.runAttempt && j.status === 'completed';
    });
    const requeued = tracker.jobs().some((t) => t.jobId === interruption.jobId && t.runAttempt === lost?.runAttempt && t.record.status === 'completed' && lost?.conclusion === 'success');
    if (!retried && !requeued) open.push(`${interruption.key}: waiting for the orchestrator's retry after the spot interruption`);
  }
  return open;
}

async function counter(registry: import('prom-client').Registry, name: string, label: (labels: Partial<Record<string, string | number>>) => string): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return {};
  const out: Record<string, number> = {};
  for (const v of (await metric.get()).values) if (v.value) out[label(v.labels) || 'total'] = (out[label(v.labels) || 'total'] ?? 0) + v.value;
  return out;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
