import type { KubeConfig } from '@kubernetes/client-node';
import { silentLogger, type Logger } from '../../runtime/log.ts';
import { coreAdmission } from './admission/index.ts';
import { Registry, type ListOptions } from './api/registry.ts';
import { resource } from './api/resources.ts';
import type { KObject, Stored } from './api/types.ts';
import { RealClock, VirtualClock, type SimClock } from './clock.ts';
import { Consolidation, DISRUPTED_TAINT } from './controllers/consolidation.ts';
import { DeploymentController } from './controllers/deployment.ts';
import { GarbageCollector } from './controllers/garbage-collector.ts';
import { JobController } from './controllers/job.ts';
import { Kubelet } from './controllers/kubelet.ts';
import { failPod, PodGarbageCollector } from './controllers/pod-gc.ts';
import { PodIndex } from './controllers/pod-index.ts';
import { Provisioner } from './controllers/provisioner.ts';
import { DaemonSetController } from './controllers/daemonset.ts';
import { NodeCosts, type NodeCostReport } from './controllers/node-cost.ts';
import { EKS_DAEMONSETS, type DaemonSetInfo } from '../../runtime/capacity/daemonsets.ts';
import type { PriceOptions } from '../../runtime/capacity/price.ts';
import { EKS_TIMINGS, type TimingProfile } from './timing-profile.ts';
import { Scheduler } from './controllers/scheduler.ts';
import { TtlAfterFinishedController } from './controllers/ttl-after-finished.ts';
import { kubeconfigYaml, makeKubeConfig } from './kubeconfig.ts';
import { daemonOverhead, poolInstanceTypes, type NodePool } from './model/nodepool.ts';
import { defaultContainerRunMs, OutcomeRules, type PodMatch, type PodOutcome } from './model/outcomes.ts';
import { isTerminal } from './model/pods.ts';
import { Rng } from './model/random.ts';
import { isoSeconds } from './model/time.ts';
import { startApiServer, type ApiServer } from './server/http.ts';
import { ObjectStore } from './store/store.ts';
import { WatchHub } from './store/watch-hub.ts';

/** The cluster's delays; defaults from the one timing profile (timing-profile.ts, each number sourced there). */
export interface SimTimings {
  /** Pulling an image a node does not have yet. Default: its size at the profile's pull rate. */
  imagePullMs: number | ((image: string) => number);
  /** Image present → container running. */
  containerStartMs: number;
  /** Running → ready for containers with a readiness (or sidecar startup) probe. */
  readinessMs: number;
  /** Karpenter's decision → Node Ready. */
  provisioningMs: number;
  /** Karpenter batch window idle / max. */
  batchIdleMs: number;
  batchMaxMs: number;
}

export function simTimings(p: TimingProfile): SimTimings {
  const { runnerStartMs: _runner, ...cluster } = p;
  return cluster;
}

export const DEFAULT_TIMINGS: SimTimings = simTimings(EKS_TIMINGS);

export interface SimClusterOptions<C extends SimClock = SimClock> {
  /** 'real' (default): wall-clock time. 'virtual': a VirtualClock starting at `startAt`. Or a clock of your own. */
  clock?: 'real' | 'virtual' | C;
  /** Start of virtual time (epoch ms); default 2026-11-23T09:00:00Z. */
  startAt?: number;
  /** Port on 127.0.0.1; default a free one. */
  port?: number;
  nodePools?: NodePool[];
  timings?: Partial<SimTimings>;
  /** The DaemonSets on every node; default the EKS ones (runtime/capacity/daemonsets.ts). */
  daemonSets?: readonly DaemonSetInfo[];
  /** Spot price ratio for Karpenter's choice and the cost report (runtime/capacity/price.ts). */
  price?: PriceOptions;
  /** How long a main container runs before exiting 0; undefined = until deleted. Default: the pod's `sim.runs-fleet.io/run-ms` annotation; pause runs forever. */
  containerRunMs?: (pod: KObject, container: any) => number | undefined;
  /** How long a container takes to stop after SIGTERM; undefined = the whole grace period (then SIGKILL). pause stops at once. */
  containerStopMs?: (pod: KObject, container: any) => number | undefined;
  /** Watch events kept per resource for resuming watches (older resourceVersions get 410). Default 10,000. */
  watchHistoryLimit?: number;
  /** Real ms between BOOKMARK events on watches with allowWatchBookmarks. Default 5 s. */
  bookmarkIntervalMs?: number;
  /** Record core/v1 Events (Scheduled, Preempted, FailedScheduling, Nominated…). Default true. */
  recordEvents?: boolean;
  /** Namespaces to create besides default, kube-system, kube-public, kube-node-lease. */
  namespaces?: string[];
  /** Seed for generated names and uids (repeatable virtual-clock runs). */
  seed?: number;
  logger?: Logger;
}

/** Read access to the sim's objects, for assertions without going through HTTP. */
export interface SimStoreView {
  get(plural: string, namespace: string, name: string): Stored | undefined;
  list(plural: string, options?: { namespace?: string } & ListOptions): Stored[];
}

export interface SimCluster<C extends SimClock = SimClock> {
  readonly url: string;
  readonly kubeconfigYaml: string;
  makeKubeConfig(): KubeConfig;
  readonly clock: C;
  readonly nodePools: readonly NodePool[];
  readonly store: SimStoreView;
  /** The API semantics layer, for writing objects directly (tests, local mode seeding). */
  readonly api: Registry;
  /**
   * A spot interruption: the node is tainted at once; after `noticeMs` (sim clock, default 0)
   * its running pods get DisruptionTarget (TerminationByKubelet) and phase Failed, and the
   * node is deleted (PodGC then removes the pods).
   */
  injectSpotInterruption(nodeName: string, options?: { noticeMs?: number }): void;
  /** Makes matching pods end this way (later rules win over earlier ones and over annotations). */
  setPodOutcome(match: PodMatch, outcome: PodOutcome): void;
  /** Forgets the watch history: watches resuming from an older resourceVersion get 410 Expired. */
  compactWatchHistory(): void;
  /** Ends every open watch cleanly, as an API server's watch timeout does: clients re-watch from their last resourceVersion. */
  endWatches(): void;
  /** Nodes Karpenter has decided to launch that are not Ready yet. */
  inflightNodeClaims(): { name: string; pool: string; instanceType: string; pods: string[] }[];
  /** Node-seconds and dollars per instance type and capacity type, from launch to deletion. */
  nodeCost(): NodeCostReport;
  stop(): Promise<void>;
}

export function startSimCluster(options: SimClusterOptions & { clock: 'virtual' }): Promise<SimCluster<VirtualClock>>;
export function startSimCluster<C extends SimClock>(options: SimClusterOptions<C> & { clock: C }): Promise<SimCluster<C>>;
export function startSimCluster(options?: SimClusterOptions): Promise<SimCluster<SimClock>>;
/** Starts the simulated cluster: store, controllers and the HTTP API on 127.0.0.1. */
export async function startSimCluster(options: SimClusterOptions = {}): Promise<SimCluster<SimClock>> {
  const log = options.logger ?? silentLogger();
  const clock: SimClock =
    options.clock === 'virtual' ? new VirtualClock(options.startAt) : options.clock === 'real' || !options.clock ? new RealClock() : options.clock;
  // With a logger (local mode, the CLI) a failing controller timer is logged and the sim goes
  // on; without one (tests) it is rethrown so that it cannot go unnoticed.
  if (options.logger) clock.onTimerError ??= (err) => log.error({ err }, 'sim: a controller timer failed');
  const timings = { ...DEFAULT_TIMINGS, ...(options.timings ?? {}) };
  const pools = options.nodePools ?? [];
  // A pool no catalog type satisfies is a mistake in the options: say so before anything starts.
  for (const p of pools) poolInstanceTypes(p);
  const recordEvents = options.recordEvents ?? true;
  const store = new ObjectStore();
  const hub = new WatchHub(store, options.watchHistoryLimit ?? 10_000);
  const api = new Registry(store, clock, new Rng(options.seed), coreAdmission);
  seed(api, options.namespaces ?? []);

  const outcomes = new OutcomeRules();
  const index = new PodIndex(api);
  const kubelet = new Kubelet(api, clock, {
    timings,
    containerRunMs: options.containerRunMs ?? defaultContainerRunMs,
    containerStopMs: options.containerStopMs ?? (() => undefined),
    outcomes,
  });
  const daemonSetList = options.daemonSets ?? EKS_DAEMONSETS;
  const daemonSets = new DaemonSetController(api, clock, index, log);
  daemonSets.install(daemonSetList);
  const costs = new NodeCosts(api, clock, options.price);
  const provisioner = new Provisioner(api, clock, log, {
    pools, provisioningMs: timings.provisioningMs, batchIdleMs: timings.batchIdleMs, batchMaxMs: timings.batchMaxMs, recordEvents, price: options.price, daemonOverhead: daemonOverhead(daemonSetList),
    onLaunch: (name, type, ct) => costs.start(name, type, ct),
    onNodeCreated: (name) => daemonSets.place(name),
    index,
  });
  const controllers: { stop(): void }[] = [
    index,
    daemonSets,
    costs,
    kubelet,
    new Scheduler(api, clock, index, log, { recordEvents }),
    provisioner,
    new Consolidation(api, clock, index, pools, log, recordEvents),
    new PodGarbageCollector(api, clock, index, log),
    new JobController(api, clock, log),
    new DeploymentController(api, clock, log),
    new GarbageCollector(api, clock, log),
    new TtlAfterFinishedController(api, clock, log),
  ];

  let server: ApiServer;
  try {
    provisioner.createInitialNodes();
    server = await startApiServer({ registry: api, hub, clock, log, port: options.port, bookmarkIntervalMs: options.bookmarkIntervalMs });
  } catch (e) {
    for (const c of controllers) c.stop();
    throw e;
  }
  const yaml = kubeconfigYaml(server.url);
  const nodesT = resource('nodes');

  const interrupt = (nodeName: string) => {
    const node = api.find(nodesT, '', nodeName);
    if (!node) return;
    const time = isoSeconds(clock.now());
    for (const pod of index.podsOn(nodeName)) {
      if (isTerminal(pod)) continue;
      failPod(api, pod, time, { reason: 'TerminationByKubelet', message: 'Pod was terminated in response to imminent node shutdown.' }, 'Terminated');
    }
    api.delete(nodesT, '', nodeName, {});
  };

  return {
    url: server.url,
    kubeconfigYaml: yaml,
    makeKubeConfig: () => makeKubeConfig(yaml),
    clock,
    nodePools: pools,
    api,
    store: {
      get: (plural, ns, name) => store.get(resource(plural), ns, name),
      list: (plural, o = {}) => api.list(resource(plural), o.namespace, o).items,
    },
    injectSpotInterruption(nodeName, o = {}) {
      if (!api.find(nodesT, '', nodeName)) throw new Error(`injectSpotInterruption: no node "${nodeName}" (nodes: ${store.list(nodesT).map((n) => n.metadata.name).join(', ') || 'none'})`);
      api.mutate(nodesT, '', nodeName, (d) => {
        d.spec ??= {};
        d.spec.taints = [...(d.spec.taints ?? []).filter((t: { key: string }) => t.key !== DISRUPTED_TAINT.key), { ...DISRUPTED_TAINT }];
      });
      if (!o.noticeMs) interrupt(nodeName);
      else clock.setTimer(o.noticeMs, () => interrupt(nodeName));
    },
    setPodOutcome(match, outcome) {
      outcomes.add(match, outcome);
      kubelet.refreshOutcomes();
    },
    compactWatchHistory: () => hub.compact(),
    endWatches: () => server.watches.endAll(),
    inflightNodeClaims: () => provisioner.inflightClaims(),
    nodeCost: () => costs.report(),
    async stop() {
      for (const c of controllers) c.stop();
      if (clock instanceof VirtualClock) clock.stopAutoAdvance();
      await server.close();
    },
  };
}

function seed(api: Registry, extra: string[]): void {
  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease', ...extra]) {
    if (!api.find(resource('namespaces'), '', ns)) api.create(resource('namespaces'), '', { metadata: { name: ns } });
  }
  for (const [name, value] of [['system-cluster-critical', 2_000_000_000], ['system-node-critical', 2_000_001_000]] as const) {
    api.create(resource('priorityclasses'), '', { metadata: { name }, value, description: 'Used for system critical pods that must not be moved from their current node.' } as KObject);
  }
}
