import assert from 'node:assert/strict';
import { requestCost, type LimitKey } from '../../runtime/github/rate-limiter.ts';
import { systemClock } from '../../runtime/util/clock.ts';
import { ROUTES, startGitHubDouble, type GitHubDouble } from '../../sim/github/double.ts';
import { eventually } from '../support/eventually.ts';
import { Harness, JumpingClock } from './support.ts';

const KEY: LimitKey = { app: '1', scope: '1', family: 'f' };
/** 100 points per 10 s with a bucket of 20: room for a call and one reserved ahead. */
const SECONDARY = { points: 100, windowMs: 10_000, burst: 20 };
const jit = (name: string) => ({ scope: 'org' as const, owner: 'acme', installationId: 1, name, runnerGroupId: 1, labels: ['self-hosted'] });

describe('github/rate limiter: the next call reserved ahead (aheadMs)', () => {
  let h: Harness;
  const doubles: GitHubDouble[] = [];

  let reader: ReturnType<Harness['conns']['command']>;
  beforeEach(() => {
    h = new Harness();
    reader = h.conns.command();
  });
  afterEach(async () => {
    await h.close();
    await Promise.all(doubles.splice(0).map((d) => d.stop()));
  });

  const bucketTokens = async () => {
    const raw = await reader.hget(`${h.prefix}github:ratelimit:app:1:1:f:bucket`, 'tokens');
    return Number(raw);
  };
  const heldAhead = () => h.metricValue('runs_fleet_github_rate_limit_ahead_total');

  it('with a reservation held, the next acquire answers without Valkey (it returns while Valkey is paused)', async () => {
    // A clock that only moves when told: the bucket does not refill between reads, so its tokens are exact.
    const limiter = h.limiter({ clock: new JumpingClock(), secondary: SECONDARY, aheadMs: 5_000 });
    const pauser = h.conns.command();
    const probe = h.conns.command();
    await h.conns.ready();
    await limiter.acquire(KEY, 5, { ahead: true });
    // The reservation ahead is made in the background: it is held once Valkey has taken its points.
    await eventually(bucketTokens, (t) => t === SECONDARY.burst - 10);
    await pauser.call('CLIENT', 'PAUSE', '1500', 'ALL');
    try {
      const order: string[] = [];
      const ping = probe.ping().then(() => order.push('valkey answered'));
      await limiter.acquire(KEY, 5, { ahead: true }).then(() => order.push('acquired'));
      await ping;
      assert.deepEqual(order, ['acquired', 'valkey answered']);
    } finally {
      await pauser.call('CLIENT', 'UNPAUSE');
    }
    assert.equal(await h.metricValue('runs_fleet_github_rate_limit_ahead_total', { outcome: 'used' }), 1);
  });

  it('without `ahead`, or with aheadMs 0, nothing is reserved beyond the call itself', async () => {
    const clock = new JumpingClock();
    const off = h.limiter({ clock, secondary: SECONDARY });
    const on = h.limiter({ clock, secondary: SECONDARY, aheadMs: 5_000 });
    await h.conns.ready();
    await off.acquire(KEY, 5, { ahead: true });
    await on.acquire(KEY, 5);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await bucketTokens(), SECONDARY.burst - 10, 'two calls, two reservations, none ahead');
    assert.equal(await heldAhead(), 0);
  });

  it('a reservation not used within aheadMs gives its points back', async () => {
    const limiter = h.limiter({ clock: new JumpingClock(), secondary: SECONDARY, aheadMs: 150 });
    await h.conns.ready();
    await limiter.acquire(KEY, 5, { ahead: true });
    await eventually(bucketTokens, (t) => t === SECONDARY.burst - 10);
    await eventually(() => h.metricValue('runs_fleet_github_rate_limit_ahead_total', { outcome: 'returned' }), (n) => n === 1);
    // Back to the call's own 5 points spent.
    await eventually(bucketTokens, (t) => t === SECONDARY.burst - 5);
  });

  it('only points free now are taken ahead: a drained bucket gets no reservation ahead (no debt for other replicas)', async () => {
    const clock = new JumpingClock();
    const limiter = h.limiter({ clock, secondary: SECONDARY, aheadMs: 5_000 });
    await h.conns.ready();
    // Three POSTs leave 5 of the bucket's 20; the fourth takes them, and the one ahead of it finds no room.
    for (let i = 0; i < 3; i++) await limiter.acquire(KEY, 5);
    await limiter.acquire(KEY, 5, { ahead: true });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await bucketTokens(), 0, 'a reservation ahead never takes the bucket below zero');
    // So the next call waits for the refill like any other.
    const before = clock.now();
    await limiter.acquire(KEY, 5, { ahead: true });
    assert.ok(clock.now() > before, 'the next call waited for its points');
    assert.equal(await heldAhead(), 0);
  });

  it('a pause this replica observes gives back what it holds, and the next call waits the pause out', async () => {
    const clock = new JumpingClock();
    const limiter = h.limiter({ clock, secondary: SECONDARY, aheadMs: 60 * 60_000 });
    await h.conns.ready();
    await limiter.acquire(KEY, 5, { ahead: true });
    await eventually(bucketTokens, (t) => t === SECONDARY.burst - 10);
    await limiter.observe(KEY, { status: 403, headers: { 'retry-after': '30' }, message: 'You have exceeded a secondary rate limit.' });
    assert.equal(await h.metricValue('runs_fleet_github_rate_limit_ahead_total', { outcome: 'returned' }), 1);
    const before = clock.now();
    await limiter.acquire(KEY, 5, { ahead: true });
    assert.ok(clock.now() - before >= 30_000, `waited ${clock.now() - before} ms of clock time, expected the 30 s pause`);
  });

  it('any window sees at most capacity + rate·(window + aheadMs) points sent (virtual time)', async () => {
    const clock = new JumpingClock();
    const aheadMs = 1_000;
    const limiter = h.limiter({ clock, secondary: SECONDARY, aheadMs });
    await h.conns.ready();
    const { capacity, ratePerMs } = limiter.bucket;
    const sends: Array<{ at: number; points: number }> = [];
    for (let i = 0; i < 120; i++) {
      const cost = requestCost(i % 3 === 0 ? 'GET' : 'POST');
      await limiter.acquire(KEY, cost, { ahead: true });
      sends.push({ at: clock.now(), points: cost });
      // Calls spaced out now and then, so reservations ahead are held and used.
      if (i % 10 === 0) await clock.sleep(2_000);
    }
    const bound = capacity + ratePerMs * (SECONDARY.windowMs + aheadMs);
    let peak = 0;
    for (const s of sends) peak = Math.max(peak, sends.filter((x) => x.at >= s.at && x.at < s.at + SECONDARY.windowMs).reduce((a, x) => a + x.points, 0));
    assert.ok(peak <= bound, `peak ${peak} points in a window, bound ${bound}`);
    assert.ok(peak <= SECONDARY.points, `peak ${peak}: within GitHub's ${SECONDARY.points}`);
    assert.ok((await h.metricValue('runs_fleet_github_rate_limit_ahead_total', { outcome: 'used' })) > 0, 'some calls went out on a reservation made ahead');
  });

  it('the client reserves ahead for JIT calls only: paced JIT calls after the first go out without a limiter round trip', async () => {
    const double = await startGitHubDouble({});
    doubles.push(double);
    const client = await h.client(double, { clock: systemClock, limiterOptions: { aheadMs: 5_000 } });
    for (let i = 0; i < 5; i++) {
      await client.generateJitConfig(jit(`ahead-${i}`));
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(double.calls(ROUTES.orgJitConfig), 5);
    assert.equal(await h.metricValue('runs_fleet_github_rate_limit_ahead_total', { outcome: 'used' }), 4);
  });
});
