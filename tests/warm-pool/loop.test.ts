import assert from 'node:assert/strict';
import { startWarmPoolLoop } from '../../runtime/controllers/warm-pool/loop.ts';
import { silentLogger } from '../../runtime/log.ts';
import { ManualClock, settle, until } from './support/manual-clock.ts';

function recorder(fail = false) {
  const calls: string[] = [];
  return {
    calls,
    reconcile: async () => {
      calls.push('reconcile');
      if (fail) throw new Error('api down');
    },
    forget: () => void calls.push('forget'),
  };
}

describe('warm-pool loop', () => {
  it('reconciles every interval while leader, forgets on losing the lease, and wakes early', async () => {
    const clock = new ManualClock();
    const r = recorder();
    let leader = false;
    const loop = startWarmPoolLoop(r, { clock, log: silentLogger(), isLeader: () => leader, intervalMs: 1_000 });
    await until(() => clock.waiting === 1, 'the first sleep');
    assert.deepEqual(r.calls, [], 'a follower writes nothing');

    leader = true;
    await clock.advance(1_000);
    await until(() => r.calls.length === 1, 'a pass as leader');
    await clock.advance(1_000);
    await until(() => r.calls.length === 2, 'the next pass');

    loop.wake();
    await until(() => r.calls.length === 3, 'a pass on wake, before the interval');

    leader = false;
    await clock.advance(1_000);
    await until(() => r.calls.length === 4, 'forget after losing the lease');
    assert.deepEqual(r.calls, ['reconcile', 'reconcile', 'reconcile', 'forget']);

    await loop.stop();
    await loop.stop();
    leader = true;
    await clock.advance(5_000);
    await settle();
    assert.equal(r.calls.length, 4, 'nothing after stop');
  });

  it('keeps going after a failed pass', async () => {
    const clock = new ManualClock();
    const r = recorder(true);
    const loop = startWarmPoolLoop(r, { clock, log: silentLogger(), isLeader: () => true, intervalMs: 1_000 });
    await until(() => r.calls.length === 1 && clock.waiting === 1, 'the first failed pass');
    await clock.advance(1_000);
    await until(() => r.calls.length === 2, 'another pass');
    await loop.stop();
  });
});
