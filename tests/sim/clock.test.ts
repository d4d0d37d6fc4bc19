import assert from 'node:assert/strict';
import { isAbortError } from '../../runtime/util/clock.ts';
import { RealClock, VirtualClock } from '../../sim/k8s/clock.ts';

describe('sim/k8s clocks', () => {
  it('runs virtual timers in time order, same-time timers in the order they were set', async () => {
    const clock = new VirtualClock(0);
    const ran: string[] = [];
    clock.setTimer(300, () => ran.push('c@' + clock.now()));
    clock.setTimer(100, () => ran.push('a@' + clock.now()));
    clock.setTimer(100, () => {
      ran.push('b@' + clock.now());
      clock.setTimer(50, () => ran.push('nested@' + clock.now()));
    });
    const cancelled = clock.setTimer(200, () => ran.push('cancelled'));
    cancelled.cancel();
    await clock.advance(250);
    assert.deepEqual(ran, ['a@100', 'b@100', 'nested@150']);
    assert.equal(clock.now(), 250);
    await clock.advance(100);
    assert.deepEqual(ran.at(-1), 'c@300');
    assert.equal(clock.pendingTimers(), 0);
  });

  it('implements Clock.sleep, including sleeps chained from resolved sleeps and abort', async () => {
    const clock = new VirtualClock(1_000);
    const times: number[] = [];
    const loop = (async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(1_000);
        times.push(clock.now());
      }
    })();
    await clock.advance(3_000);
    await loop;
    assert.deepEqual(times, [2_000, 3_000, 4_000]);
    const ac = new AbortController();
    const p = clock.sleep(10_000, ac.signal);
    ac.abort();
    await assert.rejects(p, (e) => isAbortError(e));
    assert.equal(clock.pendingTimers(), 0);
  });

  it('runs timers due now without being stepped', async () => {
    const clock = new VirtualClock(0);
    let ran = false;
    clock.setTimer(0, () => (ran = true));
    await new Promise((r) => setImmediate(r));
    assert.ok(ran);
    assert.equal(clock.now(), 0);
  });

  it('auto-advances to the next timer when idle, and not while work is held', async () => {
    const clock = new VirtualClock(0);
    const stop = clock.startAutoAdvance({ idleMs: 1 });
    try {
      const release = clock.hold();
      const day = clock.sleep(24 * 3600_000);
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(clock.now(), 0, 'held: time stands still');
      release();
      await day;
      assert.equal(clock.now(), 24 * 3600_000);
    } finally {
      stop();
    }
  });

  it('has a real-time twin with the same interface', async () => {
    const clock = new RealClock();
    const before = clock.now();
    await clock.sleep(5);
    assert.ok(clock.now() - before >= 4);
    let fired = false;
    clock.setTimer(1, () => (fired = true)).cancel();
    await clock.sleep(5);
    assert.equal(fired, false);
  });
});
