/**
 * The pure half of leader election: given the Lease as last read, decide what this
 * replica does next. The elector (elector.ts) reads, asks, writes, and sleeps.
 */

export interface ElectionTiming {
  /** How long a holder's claim lasts after its last renewal (Lease `leaseDurationSeconds`). */
  leaseDurationMs: number;
  /** The leader steps down when it could not renew for this long; shorter than the lease, so it stops before anyone may take over. */
  renewDeadlineMs: number;
  /** Time between tries (followers) and between renewals (leader). */
  retryPeriodMs: number;
}

/** client-go's defaults: lease 15 s, renew deadline 10 s, retry 2 s. */
export const DEFAULT_TIMING: ElectionTiming = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/** The Lease fields that matter, times as epoch ms (the API returns MicroTime strings). */
export interface LeaseView {
  holder: string | undefined;
  leaseDurationMs: number;
  renewTime: number | undefined;
  acquireTime: number | undefined;
  transitions: number;
}

/** When this replica first saw the current (holder, renewTime) pair: bounds a holder whose clock runs ahead. */
export interface Observation {
  key: string;
  at: number;
}

export type LeaseDecision =
  | { action: 'create' }
  | { action: 'renew' }
  | { action: 'acquire'; transitions: number }
  | { action: 'wait'; holder: string; expiresAt: number };

export function validateTiming(t: ElectionTiming): string[] {
  const problems: string[] = [];
  if (!(t.retryPeriodMs > 0)) problems.push('retryPeriodMs must be > 0');
  if (!(t.renewDeadlineMs > t.retryPeriodMs)) problems.push('renewDeadlineMs must exceed retryPeriodMs (the leader renews several times per deadline)');
  if (!(t.leaseDurationMs > t.renewDeadlineMs)) problems.push('leaseDurationMs must exceed renewDeadlineMs (the old leader must stop before a new one may start)');
  if (t.leaseDurationMs % 1000 !== 0) problems.push('leaseDurationMs must be whole seconds (Lease leaseDurationSeconds)');
  return problems;
}

export function observationKey(lease: LeaseView): string {
  return `${lease.holder ?? ''}@${lease.renewTime ?? ''}`;
}

/**
 * When another holder's claim runs out. Normally its renewTime + duration; a renewTime
 * ahead of our clock (skew) is bounded by when we first saw that renewal, so a holder
 * with a fast clock cannot keep the Lease by writing future times. Handover after a
 * leader dies therefore takes at most the lease duration; the gap between renew deadline
 * and lease duration is the clock skew the protocol tolerates.
 */
export function expiresAt(lease: LeaseView, observed: Observation): number {
  const renewed = Math.min(lease.renewTime ?? observed.at, observed.at);
  return renewed + lease.leaseDurationMs;
}

export function decideLease(lease: LeaseView | undefined, identity: string, observed: Observation | undefined, now: number): LeaseDecision {
  if (!lease) return { action: 'create' };
  if (lease.holder === identity) return { action: 'renew' };
  // Released on shutdown (empty holder): take it at once.
  if (!lease.holder) return { action: 'acquire', transitions: lease.transitions + 1 };
  const seen = observed && observed.key === observationKey(lease) ? observed : { key: observationKey(lease), at: now };
  const until = expiresAt(lease, seen);
  if (now >= until) return { action: 'acquire', transitions: lease.transitions + 1 };
  return { action: 'wait', holder: lease.holder, expiresAt: until };
}

/** A leader that has not renewed for the renew deadline must stop acting: it may no longer hold the Lease. */
export function mustStepDown(lastRenewedAt: number, now: number, timing: ElectionTiming): boolean {
  return now - lastRenewedAt >= timing.renewDeadlineMs;
}
