import { V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import { isAlreadyExists, isConflict, isNotFound } from '../../k8s/client.ts';
import type { Logger } from '../../log.ts';
import { isAbortError, type Clock } from '../../util/clock.ts';
import { timeOf } from '../warm-pool/observe.ts';
import {
  decideLease, DEFAULT_TIMING, mustStepDown, observationKey, validateTiming, type ElectionTiming, type LeaseView, type Observation,
} from './lease-decision.ts';
import type { LeaderMetrics } from './metrics.ts';

export interface LeaderElectorOptions {
  coordination: Pick<CoordinationV1Api, 'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'>;
  namespace: string;
  /** The Lease's name; every replica of one deployment uses the same. */
  name: string;
  /** This replica (pod name): the Lease holderIdentity. */
  identity: string;
  clock: Clock;
  log: Logger;
  metrics?: LeaderMetrics;
  timing?: Partial<ElectionTiming>;
}

export type LeadershipListener = (leading: boolean, term: AbortSignal | undefined) => void;

/**
 * Leader election on a coordination.k8s.io Lease, client-go style: followers try every
 * retry period and take the Lease once the holder's claim ran out; the leader renews every
 * retry period and steps down as soon as it could not renew for the renew deadline (or
 * sees another holder). Each term of leadership has an AbortSignal that is aborted when the
 * term ends, so leader-only work stops with it. stop() steps down and releases the Lease,
 * so another replica takes over at once instead of after the lease duration.
 */
export class LeaderElector {
  readonly timing: ElectionTiming;
  private readonly stopped = new AbortController();
  private readonly listeners = new Set<LeadershipListener>();
  private termController: AbortController | undefined;
  private lastRenewedAt = 0;
  private observed: Observation | undefined;
  private loop: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly o: LeaderElectorOptions) {
    this.timing = { ...DEFAULT_TIMING, ...o.timing };
    const problems = validateTiming(this.timing);
    if (problems.length) throw new Error(`leader election timing: ${problems.join('; ')}`);
  }

  start(): void {
    if (this.loop) throw new Error('leader elector already started');
    this.loop = this.run();
  }

  isLeader(): boolean {
    return this.termController !== undefined;
  }

  /** The current term's signal (aborted when leadership ends), or undefined while following. */
  term(): AbortSignal | undefined {
    return this.termController?.signal;
  }

  /** Called on every change; a listener added while leading is told at once. Returns an unsubscribe function. */
  onChange(listener: LeadershipListener): () => void {
    this.listeners.add(listener);
    if (this.termController) this.notify(listener, true, this.termController.signal);
    return () => this.listeners.delete(listener);
  }

  stop(): Promise<void> {
    return (this.stopping ??= this.shutdown());
  }

  private async run(): Promise<void> {
    const { clock } = this.o;
    while (!this.stopped.signal.aborted) {
      await this.tick();
      try {
        await clock.sleep(this.timing.retryPeriodMs, this.stopped.signal);
      } catch (err) {
        if (!isAbortError(err)) throw err;
      }
    }
  }

  private async tick(): Promise<void> {
    const { clock, log, metrics } = this.o;
    // A hung API call must not keep a leader acting past its deadline: bound each try.
    const budget = this.isLeader() ? Math.max(1, this.lastRenewedAt + this.timing.renewDeadlineMs - clock.now()) : this.timing.retryPeriodMs;
    const timeout = new AbortController();
    const attempt = this.tryAcquireOrRenew();
    attempt.catch(() => {}); // a try that outlives its budget may still fail later: already accounted for
    try {
      const outcome = await Promise.race([
        attempt,
        clock.sleep(budget, AbortSignal.any([timeout.signal, this.stopped.signal])).then(() => 'timeout' as const),
      ]);
      if (outcome === 'timeout') throw new Error(`Lease call took longer than ${budget} ms`);
      if (outcome === 'leading') {
        this.lastRenewedAt = clock.now();
        if (!this.isLeader()) this.beginTerm();
      } else if (this.isLeader()) this.endTerm('lost', 'another replica holds the Lease');
    } catch (err) {
      if (this.stopped.signal.aborted && isAbortError(err)) return;
      metrics?.renewFailures.inc();
      log.warn({ err: { message: (err as Error).message }, leading: this.isLeader() }, 'leader Lease call failed');
    } finally {
      timeout.abort();
    }
    if (this.isLeader() && mustStepDown(this.lastRenewedAt, clock.now(), this.timing))
      this.endTerm('lost', `no renewal for ${this.timing.renewDeadlineMs} ms`);
  }

  /** One read and at most one write. Conflicts (another replica wrote first) mean "not leading this round". */
  private async tryAcquireOrRenew(): Promise<'leading' | 'following'> {
    const { coordination, namespace, name, identity, clock } = this.o;
    const lease = await this.read();
    const view = lease ? leaseView(lease) : undefined;
    if (view) {
      const key = observationKey(view);
      if (this.observed?.key !== key) this.observed = { key, at: clock.now() };
    }
    const decision = decideLease(view, identity, this.observed, clock.now());
    const now = new V1MicroTime(clock.now());
    try {
      if (decision.action === 'create') {
        await coordination.createNamespacedLease({
          namespace,
          body: {
            metadata: { name, namespace },
            spec: { holderIdentity: identity, leaseDurationSeconds: this.timing.leaseDurationMs / 1000, acquireTime: now, renewTime: now, leaseTransitions: 0 },
          },
        });
        return 'leading';
      }
      if (decision.action === 'wait') return 'following';
      const spec = lease!.spec ?? {};
      const body: V1Lease = {
        ...lease!,
        spec: {
          ...spec,
          holderIdentity: identity,
          leaseDurationSeconds: this.timing.leaseDurationMs / 1000,
          renewTime: now,
          ...(decision.action === 'acquire' ? { acquireTime: now, leaseTransitions: decision.transitions } : {}),
        },
      };
      // The read's resourceVersion makes this a compare-and-swap: a concurrent writer gets 409.
      await coordination.replaceNamespacedLease({ name, namespace, body });
      return 'leading';
    } catch (err) {
      if (isConflict(err) || isAlreadyExists(err)) return 'following';
      throw err;
    }
  }

  private async read(): Promise<V1Lease | undefined> {
    try {
      return await this.o.coordination.readNamespacedLease({ name: this.o.name, namespace: this.o.namespace });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private beginTerm(): void {
    this.termController = new AbortController();
    this.o.metrics?.isLeader.set(1);
    this.o.metrics?.transitions.inc({ event: 'acquired' });
    this.o.log.info({ identity: this.o.identity, lease: this.o.name }, 'became leader');
    for (const l of this.listeners) this.notify(l, true, this.termController.signal);
  }

  private endTerm(event: 'lost' | 'released', why: string): void {
    const term = this.termController;
    if (!term) return;
    this.termController = undefined;
    term.abort(new DOMException(`leadership ended: ${why}`, 'AbortError'));
    this.o.metrics?.isLeader.set(0);
    this.o.metrics?.transitions.inc({ event });
    this.o.log.info({ identity: this.o.identity, lease: this.o.name, why }, 'stopped leading');
    for (const l of this.listeners) this.notify(l, false, undefined);
  }

  private notify(listener: LeadershipListener, leading: boolean, term: AbortSignal | undefined): void {
    try {
      listener(leading, term);
    } catch (err) {
      this.o.log.error({ err: { message: (err as Error).message } }, 'leadership listener failed');
    }
  }

  private async shutdown(): Promise<void> {
    this.stopped.abort();
    await this.loop;
    const wasLeading = this.isLeader();
    this.endTerm('released', 'shutting down');
    if (wasLeading) await this.release();
  }

  /** Empties holderIdentity so a follower takes over on its next try instead of waiting out the lease. */
  private async release(): Promise<void> {
    const { coordination, namespace, name, identity, clock, log } = this.o;
    try {
      const lease = await this.read();
      if (!lease || lease.spec?.holderIdentity !== identity) return;
      const now = new V1MicroTime(clock.now());
      await coordination.replaceNamespacedLease({
        name, namespace,
        body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now } },
      });
      log.info({ lease: name }, 'leader Lease released');
    } catch (err) {
      log.warn({ err: { message: (err as Error).message } }, 'could not release the leader Lease; it expires on its own');
    }
  }
}

/** MicroTime fields come back as strings (client-node does not revive them): parse them here, once. */
export function leaseView(lease: V1Lease): LeaseView {
  const s = lease.spec ?? {};
  return {
    holder: s.holderIdentity || undefined,
    leaseDurationMs: (s.leaseDurationSeconds ?? 15) * 1000,
    renewTime: timeOf(s.renewTime as Date | string | undefined),
    acquireTime: timeOf(s.acquireTime as Date | string | undefined),
    transitions: s.leaseTransitions ?? 0,
  };
}
