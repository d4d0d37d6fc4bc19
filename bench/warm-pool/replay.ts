import type { Registry } from 'prom-client';
import { buildPlaceholderDeployment } from '../../runtime/controllers/warm-pool/build-placeholder.ts';
import { createWarmPoolMetrics } from '../../runtime/controllers/warm-pool/metrics.ts';
import { WarmPoolController, type ReconcileResult } from '../../runtime/controllers/warm-pool/reconcile.ts';
import { memoryStateStore } from '../../runtime/controllers/warm-pool/state-store.ts';
import { buildRunnerObjects } from '../../runtime/k8s/build-runner-job.ts';
import { createKubeClients, isAlreadyExists, isTransient, type KubeClients } from '../../runtime/k8s/client.ts';
import { IMAGE_WARMING_TAINT, LABEL, RUNNER_CONTAINER } from '../../runtime/k8s/labels.ts';
import { parseRunsOn } from '../../runtime/labels/parse.ts';
import { resolveRunner } from '../../runtime/labels/resolve.ts';
import { silentLogger } from '../../runtime/log.ts';
import { createRegistry } from '../../runtime/metrics/registry.ts';
import type { QueuedJob } from '../../runtime/queue/types.ts';
import { systemClock } from '../../runtime/util/clock.ts';
import { retry } from '../../runtime/util/retry.ts';
import { nodePoolsFromConfig, seedPriorityClasses, startSimCluster, type FromConfigOptions, type SimCluster, type VirtualClock } from '../../sim/k8s/index.ts';
import type { NodeCostReport } from '../../sim/k8s/controllers/node-cost.ts';
import { Meter, type RunnerStart } from './meter.ts';
import {
  CLASS, CONSOLIDATE_AFTER_MS, CONTROLLER_INTERVAL_MS, IMAGE_WARMING, IMAGE_WARMING_INTERVAL_MS, MAX_RUNNERS_PER_NODE, NAMESPACE, TIMINGS, type Policy,
} from './policies.ts';
import { buildPrePullDaemonSet } from '../../runtime/controllers/image-warming/build-prepull.ts';
import { ImageWarmingController } from '../../runtime/controllers/image-warming/controller.ts';
import { DAY_PERIODS, type Trace, type TraceJob } from './traces.ts';

/**
 * Replays one trace through a fresh simulated cluster on a virtual clock under one policy.
 * Time stands still while the driver works: at each instant it first runs the cluster's
 * timers up to it, then creates the runners arriving then (over HTTP, as the orchestrator
 * does) or runs one controller pass, and only then moves on. So a pass or a Job creation
 * takes no virtual time, and a run is repeatable.
 */

export interface ReplayOptions {
  /** Cluster time before the day starts (the fixed pool comes up; nothing is measured). Default 1 h. */
  warmupMs?: number;
  /** After the day, keep going until every runner started, at most this long. Default 1 h. */
  drainMs?: number;
  /** Seed for the sim's names and uids. */
  seed?: number;
  /** Sees every controller pass (for diagnosis). */
  onPass?: (at: number, result: ReconcileResult) => void;
  /**
   * The cluster's NodePools, as nodePoolsFromConfig takes them. Default: the bench's (WhenEmpty
   * after CONSOLIDATE_AFTER_MS, up to MAX_RUNNERS_PER_NODE runners a node); `npm run what-if`
   * passes the stack's own (its consolidateAfter and system nodes, the classes' runnersPerNode).
   */
  cluster?: FromConfigOptions;
  /** Called about every virtual hour with the virtual time and the jobs created so far (progress of a long replay). */
  onProgress?: (at: number, created: number) => void;
}

export interface JobStart {
  job: TraceJob;
  /** Webhook (= Job created) → runner container running, ms; undefined when it never started. */
  startMs?: number;
  /** Its node already existed when the runner pod was created. */
  warm: boolean;
  /** It got its place by preempting a placeholder. */
  preempted: boolean;
}

export interface ReplayResult {
  trace: string;
  policy: string;
  /** One per trace job, in job order. */
  starts: JobStart[];
  placeholderCpuHours: number;
  placeholderCpuHoursByPeriod: Record<string, number>;
  nodesLaunched: number;
  nodeCpuHours: number;
  /** The placeholders' share of node cost over the day (Meter.placeholderUsd). */
  placeholderUsd: number;
  /** What the runner-class nodes cost over the day: the sim's own node cost (launch → deletion, catalog price, spot ratio), 00:00 → 24:00. */
  nodeUsd: number;
  /** Node-seconds of the day by capacity type (how much was spot). */
  nodeHoursByCapacityType: Record<string, number>;
  controller?: ControllerLog & { hits: number; misses: number; placeholderCpuHours: number };
  wallMs: number;
}

/** What the controller did during the day (00:00–24:00), from its own pass results. */
export interface ControllerLog {
  passes: number;
  failedPasses: number;
  /** Minutes of the day each decision reason held (a pass's reason holds until the next pass). */
  reasonMinutes: Record<string, number>;
  /** Milliseconds after the day's start of the first pass held back by the idle cap, if any. */
  firstCostCapAt?: number;
}

/** A day of 15 s ticks is 5,760 steps and each arrival one more; the bound only stops a runaway loop. */
const MIN_MAX_STEPS = 200_000;

export async function replayTrace(trace: Trace, policy: Policy, options: ReplayOptions = {}): Promise<ReplayResult> {
  const wallStart = performance.now();
  const warmupMs = options.warmupMs ?? 3_600_000;
  const drainMs = options.drainMs ?? 3_600_000;
  const runMs = new Map(trace.jobs.map((j) => [String(j.jobId), j.runMs]));
  const sim = await startSimCluster({
    clock: 'virtual',
    startAt: trace.startAt - warmupMs,
    seed: options.seed ?? 1,
    namespaces: [NAMESPACE],
    recordEvents: false,
    // The stack's NodePools (what-if passes them) or the bench's; the image-warming taint when its runner pre-pulls.
    nodePools: nodePoolsFromConfig(policy.doc, { ...(options.cluster ?? { consolidateAfterMs: CONSOLIDATE_AFTER_MS, maxRunnersPerNode: MAX_RUNNERS_PER_NODE }), imageWarming: IMAGE_WARMING }),
    timings: TIMINGS,
    // The runner container runs for the job's duration; the dind sidecar until the runner exits.
    containerRunMs: (pod, c) => (c.name === RUNNER_CONTAINER ? runMs.get(pod.metadata.labels?.[LABEL.jobId] ?? '') : undefined),
  });
  const end = trace.startAt + trace.durationMs;
  const periods = DAY_PERIODS.map((p) => ({ name: p.name, from: trace.startAt + p.from, to: trace.startAt + p.to }));
  const meter = new Meter(sim.api.store, () => sim.clock.now(), { from: trace.startAt, to: end }, periods);
  // The sim's node cost counts every node from launch; its report at 00:00 and at 24:00 bounds the day.
  const costs: { atStart?: NodeCostReport; atEnd?: NodeCostReport } = {};
  try {
    seedPriorityClasses(sim.api, policy.doc);
    const kube = await createKubeClients(sim.makeKubeConfig());
    try {
      const driver = new Driver(sim, kube, policy, options.onPass, options.onProgress);
      await driver.setUp();
      const passes = await driver.run(trace, meter, end + drainMs, (at) => {
        if (at >= trace.startAt && !costs.atStart) costs.atStart = sim.nodeCost();
        if (at >= end && !costs.atEnd) costs.atEnd = sim.nodeCost();
      });
      const result = summarize(trace, policy, meter, costs.atStart, costs.atEnd ?? sim.nodeCost(), sim.clock.now() >= end);
      if (driver.registry) result.controller = { ...passes, ...(await controllerCounters(driver.registry)) };
      result.wallMs = Math.round(performance.now() - wallStart);
      return result;
    } finally {
      await kube.close();
    }
  } finally {
    meter.stop();
    await sim.stop();
  }
}

/**
 * A transport hiccup (a keep-alive socket closed under a request) is not part of the
 * simulation: retried in real time while virtual time stands still, as the provisioner
 * retries transient API errors.
 */
const TRANSPORT_RETRY = { attempts: 5, baseMs: 20, maxMs: 500, retryable: isTransient, clock: systemClock } as const;

class Driver {
  private readonly controller: WarmPoolController | undefined;
  private readonly warming: ImageWarmingController | undefined;
  private placeholderName: string | undefined;
  readonly registry: Registry | undefined;

  constructor(
    private readonly sim: SimCluster<VirtualClock>,
    private readonly kube: KubeClients,
    private readonly policy: Policy,
    private readonly onPass?: ReplayOptions['onPass'],
    private readonly onProgress?: ReplayOptions['onProgress'],
  ) {
    if (policy.controller) {
      this.registry = createRegistry();
      this.controller = new WarmPoolController({
        apps: kube.apps, core: kube.core, namespace: NAMESPACE, doc: () => policy.doc, clock: sim.clock, log: silentLogger(),
        metrics: createWarmPoolMetrics(this.registry), store: memoryStateStore(),
      });
    }
    if (IMAGE_WARMING) this.warming = new ImageWarmingController({ core: kube.core, namespace: NAMESPACE, clock: sim.clock, log: silentLogger() });
  }

  private anyWarmingNode(): boolean {
    return this.sim.store.list('nodes').some((n) => (n as { spec?: { taints?: { key: string }[] } }).spec?.taints?.some((t) => t.key === IMAGE_WARMING_TAINT.key));
  }

  async setUp(): Promise<void> {
    const { doc, fixedReplicas } = this.policy;
    // Part of the cluster the Pulumi program builds whenever placeholders pre-pull (infra/platform.ts).
    if (IMAGE_WARMING) {
      const body = buildPrePullDaemonSet(doc.runner, NAMESPACE);
      await retry(() => this.kube.apps.createNamespacedDaemonSet({ namespace: NAMESPACE, body }), TRANSPORT_RETRY);
    }
    if (fixedReplicas === undefined) return;
    const pool = doc.pools[0]!;
    const cls = doc.classes.find((c) => c.name === pool.class)!;
    const body = buildPlaceholderDeployment(doc.runner, pool, cls, NAMESPACE, this.policy.schedule ? 0 : fixedReplicas);
    this.placeholderName = body.metadata!.name!;
    await retry(() => this.kube.apps.createNamespacedDeployment({ namespace: NAMESPACE, body }), TRANSPORT_RETRY);
  }

  /**
   * Steps through the day: every CONTROLLER_INTERVAL_MS a tick (a controller pass when the
   * policy has one), and each arrival at its instant. Stops once the day is over and every
   * runner started, or at `horizon`.
   */
  async run(trace: Trace, meter: Meter, horizon: number, onInstant: (at: number) => void): Promise<ControllerLog> {
    const clock = this.sim.clock;
    const end = trace.startAt + trace.durationMs;
    let next = 0;
    let tick = clock.now();
    let warmTick = this.warming ? clock.now() : Number.POSITIVE_INFINITY;
    const log: ControllerLog = { passes: 0, failedPasses: 0, reasonMinutes: {} };
    const record = (at: number, r: ReconcileResult) => {
      const reason = r.decisions[0]?.reason;
      if (!reason || at < trace.startAt || at >= end) return;
      log.reasonMinutes[reason] = (log.reasonMinutes[reason] ?? 0) + CONTROLLER_INTERVAL_MS / 60_000;
      if (reason === 'cost_cap' && log.firstCostCapAt === undefined) log.firstCostCapAt = at - trace.startAt;
    };
    // Each tick (the controller's and image warming's) and each arrival is a step; twice that (drain included) before it counts as a runaway.
    const warmTicks = this.warming ? Math.ceil((horizon - tick) / IMAGE_WARMING_INTERVAL_MS) : 0;
    const maxSteps = Math.max(MIN_MAX_STEPS, 2 * (Math.ceil((horizon - tick) / CONTROLLER_INTERVAL_MS) + warmTicks + trace.jobs.length));
    let reported = tick;
    for (let step = 0; step < maxSteps; step++) {
      const arrival = next < trace.jobs.length ? trace.startAt + trace.jobs[next]!.at : Number.POSITIVE_INFINITY;
      const t = Math.min(arrival, tick, warmTick);
      if (t >= horizon || (t >= end && meter.started() >= trace.jobs.length)) {
        await clock.advanceTo(Math.max(clock.now(), Math.min(t, horizon)));
        return log;
      }
      await clock.advanceTo(t);
      onInstant(t);
      if (this.onProgress && t - reported >= 3_600_000) {
        reported = t;
        this.onProgress(t, next);
      }
      while (next < trace.jobs.length && trace.startAt + trace.jobs[next]!.at <= t) await this.createRunner(trace.jobs[next++]!);
      if (warmTick <= t) {
        warmTick += IMAGE_WARMING_INTERVAL_MS;
        // A failed pass is retried on the next one, as in the orchestrator's loop. With no node
        // tainted the pass decides nothing (planImageWarming only opens tainted nodes), so the
        // replay skips its three lists then: a day has 17,280 passes, most with nothing to warm.
        if (this.anyWarmingNode()) await this.warming!.reconcile().catch(() => undefined);
      }
      if (tick <= t) {
        tick += CONTROLLER_INTERVAL_MS;
        if (this.policy.schedule) await this.followSchedule(t);
        if (this.controller) {
          log.passes++;
          try {
            const r = await this.controller.reconcile();
            if (r.errors.length) log.failedPasses++;
            record(t, r);
            this.onPass?.(t, r);
          } catch {
            log.failedPasses++;
          }
        }
      }
    }
    throw new Error(`replay ${trace.name}/${this.policy.name}: more than ${maxSteps} steps`);
  }

  private scheduledReplicas = -1;

  /**
   * A cron pool (the Terraform AWS runner module's idle-config, RunsOn's schedules): the
   * placeholder Deployment scaled to N inside the window and to 0 outside it, nothing else.
   */
  private async followSchedule(at: number): Promise<void> {
    const s = this.policy.schedule!;
    const d = new Date(at);
    const minute = d.getUTCHours() * 60 + d.getUTCMinutes();
    const inside = s.weekdays.includes(d.getUTCDay()) && minute >= s.fromMinute && minute < s.toMinute;
    const replicas = inside ? s.replicas : 0;
    if (replicas === this.scheduledReplicas) return;
    this.scheduledReplicas = replicas;
    const name = this.placeholderName!;
    const body = [{ op: 'replace', path: '/spec/replicas', value: replicas }];
    await retry(() => this.kube.apps.patchNamespacedDeployment({ name, namespace: NAMESPACE, body }), TRANSPORT_RETRY);
  }

  /** As the orchestrator's provisioner: labels → request → class, then the Secret and Job in parallel, then the Job adopts the Secret. */
  private async createRunner(j: TraceJob): Promise<void> {
    const { doc } = this.policy;
    const labels = j.labels ?? [`runs-fleet=${j.runId}/runner=${CLASS}`];
    const request = parseRunsOn(labels, doc.aliases);
    if (!request) throw new Error(`labels ${labels.join(',')} are not a runs-fleet request`);
    const now = this.sim.clock.now();
    const job: QueuedJob = {
      jobId: j.jobId, runId: j.runId, runAttempt: 1, repository: 'bench/app', owner: 'bench', repo: 'app', org: 'bench', installationId: 1,
      labels, request, deliveryId: `d-${j.jobId}`, workflowName: j.workflow, jobName: j.jobName ?? `job-${j.jobId}`, receivedAt: now, enqueuedAt: now,
    };
    const runner = resolveRunner(request, doc);
    const objects = buildRunnerObjects({
      job, runner, doc, namespace: NAMESPACE, runnerName: `rf-${runner.className}-${j.jobId}-1`, encodedJitConfig: 'bench-not-a-jit-config',
    });
    const { core, batch } = this.kube;
    const [created] = await Promise.all([
      createOrRead(() => batch.createNamespacedJob({ namespace: NAMESPACE, body: objects.job }), () => batch.readNamespacedJob({ name: objects.name, namespace: NAMESPACE })),
      createOrRead(() => core.createNamespacedSecret({ namespace: NAMESPACE, body: objects.secret }), () => core.readNamespacedSecret({ name: objects.name, namespace: NAMESPACE })),
    ]);
    const ownerReferences = [{ apiVersion: 'batch/v1', kind: 'Job', name: objects.name, uid: created.metadata!.uid!, controller: true, blockOwnerDeletion: false }];
    const body = [{ op: 'add', path: '/metadata/ownerReferences', value: ownerReferences }];
    await retry(() => core.patchNamespacedSecret({ name: objects.name, namespace: NAMESPACE, body }), TRANSPORT_RETRY);
  }
}

/** A retried create whose first try did land answers 409: then the object is read instead. */
async function createOrRead<T>(create: () => Promise<T>, read: () => Promise<T>): Promise<T> {
  return retry(async () => {
    try {
      return await create();
    } catch (err) {
      if (isAlreadyExists(err)) return read();
      throw err;
    }
  }, TRANSPORT_RETRY);
}

function summarize(trace: Trace, policy: Policy, meter: Meter, atStart: NodeCostReport | undefined, atEnd: NodeCostReport, reachedEnd: boolean): ReplayResult {
  if (!atStart || !reachedEnd) throw new Error(`replay ${trace.name}/${policy.name}: the replay did not cover the whole day, so its cost cannot be measured`);
  const byCapacity: Record<string, number> = {};
  for (const l of atEnd.lines) byCapacity[l.capacityType] = (byCapacity[l.capacityType] ?? 0) + l.nodeSeconds / 3600;
  for (const l of atStart.lines) byCapacity[l.capacityType] = (byCapacity[l.capacityType] ?? 0) - l.nodeSeconds / 3600;
  const byJob = new Map<number, RunnerStart>();
  for (const r of meter.runners.values()) if (!byJob.has(r.jobId)) byJob.set(r.jobId, r);
  const starts = trace.jobs.map((job): JobStart => {
    const r = byJob.get(job.jobId);
    if (!r || r.runningAt === undefined) return { job, warm: false, preempted: false };
    const warm = meter.isWarm(r);
    return { job, startMs: r.runningAt - (trace.startAt + job.at), warm, preempted: warm && r.preempted };
  });
  return {
    trace: trace.name, policy: policy.name, starts,
    placeholderCpuHours: meter.placeholderCpuHours(), placeholderCpuHoursByPeriod: meter.placeholderCpuHoursByPeriod(), nodesLaunched: meter.nodesLaunched(), nodeCpuHours: meter.nodeCpuHours(),
    placeholderUsd: meter.placeholderUsd(), nodeUsd: atEnd.usd - atStart.usd, nodeHoursByCapacityType: byCapacity, wallMs: 0,
  };
}

async function controllerCounters(registry: Registry): Promise<{ hits: number; misses: number; placeholderCpuHours: number }> {
  const total = async (name: string) => ((await registry.getSingleMetric(name)?.get())?.values ?? []).reduce((s, v) => s + v.value, 0);
  return {
    hits: await total('runs_fleet_warm_pool_hits_total'),
    misses: await total('runs_fleet_warm_pool_misses_total'),
    placeholderCpuHours: (await total('runs_fleet_warm_pool_placeholder_cpu_seconds_total')) / 3600,
  };
}
