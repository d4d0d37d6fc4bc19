import type { AppsV1Api, CoreV1Api, V1Pod } from '@kubernetes/client-node';
import type { ConfigDocument } from '../../config/document.ts';
import type { Logger } from '../../log.ts';
import type { Clock } from '../../util/clock.ts';
import { applyAction, type ActionOutcome } from './apply.ts';
import { PLACEHOLDER_LIST_SELECTOR } from './build-placeholder.ts';
import { DEFAULT_DEMAND_OPTIONS, demandSnapshot, emptyDemand, recordArrivals, type DemandOptions } from './demand.ts';
import { desiredForPools } from './desired-pools.ts';
import { anticipatedSlots, emptyFanOut, recordFanOut, type FanOutOptions } from './fan-out.ts';
import { DEFAULT_DESIRED_OPTIONS, type DesiredOptions, type PoolDecision } from './desired.ts';
import type { WarmPoolMetrics } from './metrics.ts';
import { countRunners, newArrivals, placeholdersByPool, RUNNER_LIST_SELECTOR } from './observe.ts';
import { planPlaceholders, type PlaceholderAction } from './plan.ts';
import { memoryStateStore, type StoredPoolState, type WarmPoolStateStore } from './state-store.ts';
import { WarmPoolAccounting } from './accounting.ts';

export const name = 'warmpool.placeholders';

export interface WarmPoolDeps {
  apps: AppsV1Api;
  core: CoreV1Api;
  /** The runner namespace: runner pods and placeholder Deployments live there. */
  namespace: string;
  /** The config document in use (re-read every pass, so a reload applies on the next one). */
  doc: () => ConfigDocument;
  clock: Clock;
  log: Logger;
  metrics?: WarmPoolMetrics;
  store?: WarmPoolStateStore;
  desired?: DesiredOptions;
  demand?: DemandOptions;
  fanOut?: FanOutOptions;
}

export interface ReconcileResult {
  decisions: PoolDecision[];
  actions: Array<{ action: PlaceholderAction; outcome: ActionOutcome | 'failed' }>;
  errors: unknown[];
}

/**
 * The warm-pool controller (run by the leader only): each pass observes placeholder
 * Deployments and runner pods, updates demand, decides per pool, and writes only what
 * differs. State that must survive a leader change goes to the store.
 */
export class WarmPoolController {
  readonly name = name;
  private states: Map<string, StoredPoolState> | undefined;
  /** Runner pod uids already counted as arrivals by this leader (undefined until the first pass). */
  private seen: Set<string> | undefined;
  private accounting: WarmPoolAccounting;

  constructor(private readonly deps: WarmPoolDeps) {
    this.accounting = new WarmPoolAccounting(deps.core, deps.metrics, deps.clock.now());
  }

  async reconcile(): Promise<ReconcileResult> {
    const { apps, core, namespace, clock } = this.deps;
    const doc = this.deps.doc();
    const now = clock.now();
    const [deployments, pods] = await Promise.all([
      apps.listNamespacedDeployment({ namespace, labelSelector: PLACEHOLDER_LIST_SELECTOR }),
      core.listNamespacedPod({ namespace, labelSelector: RUNNER_LIST_SELECTOR }),
    ]);
    const states = await this.loadStates(doc, now);
    this.recordDemand(doc, pods.items, states, now);

    const snapshots = new Map([...states].map(([pool, s]) => [pool, { ...demandSnapshot(s.demand, now, this.demandOptions), fanOut: anticipatedSlots(s.fanOut ?? emptyFanOut(), now) }]));
    const decided = new Map([...states].flatMap(([pool, s]) => (s.decision ? [[pool, s.decision] as const] : [])));
    const decisions = desiredForPools(doc, snapshots, countRunners(doc, pods.items), decided, now, this.deps.desired ?? DEFAULT_DESIRED_OPTIONS);
    for (const d of decisions) states.get(d.pool)!.decision = d.state;

    const observed = placeholdersByPool(deployments.items);
    const result = await this.execute(planPlaceholders(doc, namespace, decisions, observed), decisions);
    await this.save(states);
    await this.accounting.record(doc, decisions, observed, pods.items, now);
    this.logChanges(decisions, result);
    return result;
  }

  /** Drops what this replica remembers; the next pass reloads from the store and counts hits from now on. */
  forget(): void {
    this.states = undefined;
    this.seen = undefined;
    this.accounting = new WarmPoolAccounting(this.deps.core, this.deps.metrics, this.deps.clock.now());
  }

  private get demandOptions(): DemandOptions {
    return this.deps.demand ?? DEFAULT_DEMAND_OPTIONS;
  }

  private async loadStates(doc: ConfigDocument, now: number): Promise<Map<string, StoredPoolState>> {
    this.states ??= await (this.deps.store ?? memoryStateStore()).load(now);
    for (const pool of this.states.keys()) if (!doc.pools.some((p) => p.name === pool)) this.states.delete(pool);
    for (const pool of doc.pools) if (!this.states.has(pool.name)) this.states.set(pool.name, { demand: emptyDemand(now) });
    return this.states;
  }

  /** Valkey being away costs only history (a new leader would start colder), never a pass. */
  private async save(states: Map<string, StoredPoolState>): Promise<void> {
    try {
      await this.deps.store?.save(states);
    } catch (err) {
      this.deps.log.warn({ err }, 'warm-pool state not saved; kept in memory');
    }
  }

  private recordDemand(doc: ConfigDocument, pods: V1Pod[], states: Map<string, StoredPoolState>, now: number): void {
    const since = new Map([...states].map(([pool, s]) => [pool, s.demand.lastArrivalAt]));
    const arrived = newArrivals(doc, pods, this.seen, since);
    // Every pool, arrivals or not: recordFanOut also forgets old runs and expectations that lapsed.
    for (const [pool, state] of states) {
      const arrivals = arrived.get(pool) ?? [];
      if (!arrivals.length && !state.fanOut) continue;
      const fanOut = recordFanOut(state.fanOut ?? emptyFanOut(), arrivals, now, this.deps.fanOut);
      state.fanOut = fanOut.state;
      // A wave that was expected is its pipeline's, not a burst to keep slots for afterwards.
      state.demand = arrivals.reduce((d, a, i) => recordArrivals(d, a.at, 1, this.demandOptions, !fanOut.anticipated[i]), state.demand);
    }
    // Only pods still listed need remembering: a finished Job's pod is gone for good.
    this.seen = new Set(pods.flatMap((p) => (p.metadata?.uid ? [p.metadata.uid] : [])));
  }

  private async execute(actions: PlaceholderAction[], decisions: PoolDecision[]): Promise<ReconcileResult> {
    const result: ReconcileResult = { decisions, actions: [], errors: [] };
    // One pool's failure must not hold the others back; each is retried on the next pass.
    await Promise.all(
      actions.map(async (action) => {
        try {
          result.actions.push({ action, outcome: await applyAction(this.deps.apps, this.deps.namespace, action) });
        } catch (err) {
          result.actions.push({ action, outcome: 'failed' });
          result.errors.push(err);
          this.deps.log.warn({ err, pool: action.pool, kind: action.kind }, 'placeholder write failed; retrying next pass');
        }
      }),
    );
    return result;
  }

  private logChanges(decisions: PoolDecision[], result: ReconcileResult): void {
    for (const { action, outcome } of result.actions) {
      if (outcome === 'failed' || outcome === 'unchanged') continue;
      const decision = decisions.find((d) => d.pool === action.pool);
      this.deps.log.info({ pool: action.pool, kind: action.kind, outcome, desired: decision?.desired, reason: decision?.reason }, decision?.explain ?? `placeholder Deployment ${outcome}`);
    }
  }
}
