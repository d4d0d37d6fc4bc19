import assert from 'node:assert/strict';
import { V1MicroTime } from '@kubernetes/client-node';
import { leaseView } from '../../runtime/controllers/leader/elector.ts';
import {
  decideLease, DEFAULT_TIMING, expiresAt, mustStepDown, observationKey, validateTiming, type LeaseView,
} from '../../runtime/controllers/leader/lease-decision.ts';

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
const lease = (o: Partial<LeaseView> = {}): LeaseView => ({ holder: 'a', leaseDurationMs: 15_000, renewTime: T0, acquireTime: T0, transitions: 3, ...o });
const seenAt = (l: LeaseView, at: number) => ({ key: observationKey(l), at });

describe('lease decision (pure)', () => {
  it('creates a missing Lease, renews our own, takes a released one at once', () => {
    assert.deepEqual(decideLease(undefined, 'me', undefined, T0), { action: 'create' });
    assert.deepEqual(decideLease(lease({ holder: 'me' }), 'me', undefined, T0 + 60_000), { action: 'renew' });
    assert.deepEqual(decideLease(lease({ holder: undefined }), 'me', undefined, T0), { action: 'acquire', transitions: 4 });
  });

  it('waits while another holder is within its lease, takes over when it ran out', () => {
    const l = lease();
    const wait = decideLease(l, 'me', seenAt(l, T0 + 100), T0 + 14_999);
    assert.deepEqual(wait, { action: 'wait', holder: 'a', expiresAt: T0 + 15_000 });
    assert.deepEqual(decideLease(l, 'me', seenAt(l, T0 + 100), T0 + 15_000), { action: 'acquire', transitions: 4 });
  });

  it('a holder writing future renew times (fast clock) is bounded by when we first saw the renewal', () => {
    const ahead = lease({ renewTime: T0 + 3_600_000 });
    assert.equal(expiresAt(ahead, seenAt(ahead, T0)), T0 + 15_000);
    assert.equal(decideLease(ahead, 'me', seenAt(ahead, T0), T0 + 15_000).action, 'acquire');
  });

  it('a new renewal resets the observation (a stale observation key does not count)', () => {
    const old = lease();
    const renewed = lease({ renewTime: T0 + 10_000 });
    const d = decideLease(renewed, 'me', seenAt(old, T0), T0 + 16_000);
    assert.equal(d.action, 'wait');
  });

  it('steps down once renewals failed for the renew deadline', () => {
    assert.equal(mustStepDown(T0, T0 + DEFAULT_TIMING.renewDeadlineMs - 1, DEFAULT_TIMING), false);
    assert.equal(mustStepDown(T0, T0 + DEFAULT_TIMING.renewDeadlineMs, DEFAULT_TIMING), true);
  });

  it('rejects timings where the old leader could still act when a new one starts', () => {
    assert.deepEqual(validateTiming(DEFAULT_TIMING), []);
    assert.match(validateTiming({ leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }).join(), /leaseDurationMs must exceed/);
    assert.match(validateTiming({ leaseDurationMs: 15_000, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }).join(), /renewDeadlineMs must exceed/);
    assert.match(validateTiming({ leaseDurationMs: 15_500, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }).join(), /whole seconds/);
  });

  it('reads MicroTime strings (as the API returns them) and empty holders', () => {
    const v = leaseView({ spec: { holderIdentity: '', leaseDurationSeconds: 15, renewTime: '2026-01-05T12:00:00.123456Z' as unknown as V1MicroTime } });
    assert.equal(v.holder, undefined);
    assert.equal(v.renewTime, Date.parse('2026-01-05T12:00:00.123Z'));
    // And what we write serialises with microseconds (the API rejects milliseconds).
    assert.equal(JSON.stringify({ t: new V1MicroTime(T0 + 123) }), '{"t":"2026-01-05T12:00:00.123000Z"}');
  });
});
