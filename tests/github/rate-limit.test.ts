import assert from 'node:assert/strict';
import { GitHubRateLimitedError } from '../../runtime/github/errors.ts';
import { requestCost } from '../../runtime/github/rate-limiter.ts';
import { PermanentError, RetryableError } from '../../runtime/util/errors.ts';
import { systemClock } from '../../runtime/util/clock.ts';
import { ROUTES, startGitHubDouble, type GitHubDouble } from '../../sim/github/double.ts';
import { eventually } from '../support/eventually.ts';
import { Harness, JumpingClock } from './support.ts';

const jit = (name: string) => ({ scope: 'org' as const, owner: 'acme', installationId: 1, name, runnerGroupId: 1, labels: ['self-hosted'] });

describe('github/rate limiting (shared Valkey limiter against the double)', () => {
  let h: Harness;
  const doubles: GitHubDouble[] = [];
  const start = async (...args: Parameters<typeof startGitHubDouble>) => {
    const d = await startGitHubDouble(...args);
    doubles.push(d);
    return d;
  };

  beforeEach(() => {
    h = new Harness();
  });
  afterEach(async () => {
    await h.close();
    await Promise.all(doubles.splice(0).map((d) => d.stop()));
  });

  describe('responses that say "slow down"', () => {
    it('403 secondary limit with retry-after: waits that long, retries, no error surfaces', async () => {
      const clock = new JumpingClock();
      const double = await start({ clock });
      const client = await h.client(double, { clock });
      double.inject(ROUTES.orgJitConfig, { kind: 'secondary', retryAfterS: 30 });
      const before = clock.now();
      const result = await client.generateJitConfig(jit('after-secondary'));
      assert.equal(result.runnerName, 'after-secondary');
      assert.ok(clock.now() - before >= 30_000, `waited ${clock.now() - before} ms of clock time, expected ≥ 30 s`);
      assert.equal(double.stats().rateLimited.secondary, 1);
      assert.equal(double.calls(ROUTES.orgJitConfig), 2);
      assert.equal(await h.metricValue('runs_fleet_github_rate_limit_responses_total', { kind: 'secondary' }), 1);
      assert.equal(await h.metricValue('runs_fleet_github_errors_total'), 0);
      assert.equal(await h.metricValue('runs_fleet_github_retries_total'), 0, 'a rate-limit wait is not a failed try');
    });

    it('429 with retry-after, and a 403 secondary message without one (waits a minute)', async () => {
      const clock = new JumpingClock();
      const double = await start({ clock });
      const client = await h.client(double, { clock });
      double.inject(ROUTES.orgJitConfig, { kind: 'secondary', status: 429, retryAfterS: 5 });
      double.inject(ROUTES.orgJitConfig, { kind: 'status', status: 403, message: 'You have exceeded a secondary rate limit.' });
      const before = clock.now();
      await client.generateJitConfig(jit('after-429'));
      assert.ok(clock.now() - before >= 65_000, `waited ${clock.now() - before} ms, expected 5 s + 60 s`);
      assert.equal(double.calls(ROUTES.orgJitConfig), 3);
    });

    it('a plain 403 (missing permission) is not mistaken for a rate limit', async () => {
      const clock = new JumpingClock();
      const double = await start({ clock });
      const client = await h.client(double, { clock });
      double.inject(ROUTES.orgJitConfig, { kind: 'status', status: 403, message: 'Resource not accessible by integration' });
      await assert.rejects(client.generateJitConfig(jit('forbidden')), (err: unknown) => err instanceof PermanentError && err.reason === 'github_forbidden');
      assert.equal(double.calls(ROUTES.orgJitConfig), 1);
    });

    it('a pause one replica learns of holds back the other replica too', async () => {
      const clock = new JumpingClock();
      const double = await start({ clock });
      const replicaA = await h.client(double, { clock });
      const replicaB = await h.client(double, { clock });
      await replicaB.generateJitConfig(jit('warm-b')); // B has its token; its next call goes straight to the limiter
      double.inject(ROUTES.orgJitConfig, { kind: 'secondary', retryAfterS: 40 });
      await replicaA.generateJitConfig(jit('a-1'));
      const callsBefore = double.calls(ROUTES.orgJitConfig);
      const pausedUntil = clock.now();
      clock.advance(-35_000); // B arrives while A's 40 s pause still has 35 s to run
      const sleptBefore = clock.slept;
      await replicaB.generateJitConfig(jit('b-1'));
      assert.ok(clock.slept - sleptBefore >= 35_000 - 1, `B slept ${clock.slept - sleptBefore} ms`);
      assert.ok(clock.now() >= pausedUntil);
      assert.equal(double.calls(ROUTES.orgJitConfig), callsBefore + 1, 'B sent once, after the pause, and was not refused');
      assert.equal(double.stats().rateLimited.secondary, 1);
    });
  });

  describe('primary budget', () => {
    it('stops when x-ratelimit-remaining reaches 0 and resumes after the reset, with no refusal', async () => {
      const clock = new JumpingClock();
      const double = await start({ clock, primary: { limit: 5, windowMs: 3_600_000 } });
      const client = await h.client(double, { clock });
      const before = clock.now();
      for (let i = 0; i < 8; i++) await client.generateJitConfig(jit(`p-${i}`));
      assert.equal(double.calls(ROUTES.orgJitConfig), 8);
      assert.equal(double.stats().rateLimited.primary, 0, 'the limiter paused before GitHub had to refuse');
      assert.ok(clock.now() - before >= 3_600_000, 'waited for the hourly reset');
      assert.ok(await h.metricValue('runs_fleet_github_rate_limit_waits_total', { kind: 'paused' }) >= 1);
      assert.equal(await h.metricValue('runs_fleet_github_rate_limit_remaining', { resource: 'core' }), 2);
    });

    it('waits until the reset when GitHub refuses because another client spent the budget', async () => {
      const clock = new JumpingClock();
      const double = await start({ clock });
      const client = await h.client(double, { clock });
      await client.generateJitConfig(jit('first'));
      double.spendPrimaryBudget(1, 5000);
      const before = clock.now();
      await client.generateJitConfig(jit('second'));
      assert.equal(double.stats().rateLimited.primary, 1);
      assert.ok(clock.now() - before >= 3_000_000, `waited ${clock.now() - before} ms for the reset`);
      assert.equal(await h.metricValue('runs_fleet_github_rate_limit_responses_total', { kind: 'primary' }), 1);
    });
  });

  describe('waiting', () => {
    it('a wait longer than maxRateLimitWaitMs surfaces as a retryable GitHubRateLimitedError', async () => {
      const clock = new JumpingClock();
      const double = await start({ clock });
      const client = await h.client(double, { clock, maxRateLimitWaitMs: 10_000 });
      double.inject(ROUTES.orgJitConfig, { kind: 'secondary', retryAfterS: 120 });
      await assert.rejects(client.generateJitConfig(jit('too-long')), (err: unknown) => {
        assert.ok(err instanceof GitHubRateLimitedError && err instanceof RetryableError);
        assert.ok(err.retryAfterMs! > 100_000 && err.retryAfterMs! <= 120_000, `retryAfterMs ${err.retryAfterMs}`);
        return true;
      });
      assert.equal(double.calls(ROUTES.orgJitConfig), 1);
    });

    it('a wait ends at once when the signal aborts', async () => {
      const double = await start();
      const client = await h.client(double, { clock: systemClock });
      double.inject(ROUTES.orgJitConfig, { kind: 'secondary', retryAfterS: 30 });
      const controller = new AbortController();
      const pending = client.generateJitConfig(jit('aborted'), { signal: controller.signal });
      pending.catch(() => {});
      // Abort during the 30 s wait: once the refused call has reached the double.
      await eventually(() => double.calls(ROUTES.orgJitConfig), (n) => n === 1);
      controller.abort(new Error('consumer stopping'));
      await assert.rejects(pending, /consumer stopping/);
      assert.equal(double.calls(ROUTES.orgJitConfig), 1);
    });

    it('an unreachable Valkey makes acquire fail as retryable (the call is not sent unlimited)', async () => {
      const unreachable = new Harness();
      try {
        const limiter = unreachable.limiter({ clock: new JumpingClock(), valkey: unreachable.conns.command('redis://127.0.0.1:1') });
        await assert.rejects(limiter.acquire({ app: '1', scope: '1', family: 'f' }, 5), (err: unknown) => {
          assert.ok(err instanceof RetryableError);
          assert.match(err.message, /Valkey did not answer; the call was not sent/);
          return true;
        });
      } finally {
        unreachable.conns.closeAll();
      }
    });

    it('the bucket never lets more than its target through in any window (virtual time)', async () => {
      const clock = new JumpingClock();
      const limiter = h.limiter({ clock, secondary: { points: 100, windowMs: 10_000 } });
      await h.conns.ready();
      const target = 95; // the default headroom, 0.95, of 100 points
      const grants: Array<{ at: number; points: number }> = [];
      for (let i = 0; i < 120; i++) {
        const cost = requestCost(i % 3 === 0 ? 'GET' : 'POST');
        await limiter.acquire({ app: '1', scope: '1', family: 'f' }, cost);
        grants.push({ at: clock.now(), points: cost });
      }
      let peak = 0;
      for (const g of grants) {
        const inWindow = grants.filter((x) => x.at >= g.at && x.at < g.at + 10_000).reduce((s, x) => s + x.points, 0);
        peak = Math.max(peak, inWindow);
      }
      assert.ok(peak <= target, `peak ${peak} points in a window, target ${target}`);
      assert.ok(peak >= target * 0.9, `peak ${peak}: the limiter should use its budget, not idle`);
    });
  });

  describe('bursts against a scaled-down secondary window (real time)', () => {
    const secondary = { points: 300, windowMs: 1_000 };

    it('one replica: every JIT call succeeds, GitHub refuses none, and the window is used near its limit', async () => {
      const double = await start({ secondary });
      const client = await h.client(double, { clock: systemClock, limiterOptions: { secondary } });
      const n = 80;
      const results = await Promise.all(Array.from({ length: n }, (_, i) => client.generateJitConfig(jit(`burst-${i}`))));
      assert.equal(new Set(results.map((r) => r.runnerId)).size, n);
      const stats = double.stats();
      assert.equal(stats.rateLimited.secondary, 0);
      assert.equal(double.calls(ROUTES.orgJitConfig), n);
      assert.equal(stats.tokensIssued, 1, 'one token request for the whole burst');
      const peak = stats.peakSecondaryPoints[`installation:1 ${ROUTES.orgJitConfig}`]!;
      assert.ok(peak <= secondary.points && peak >= secondary.points * 0.7, `peak ${peak} of ${secondary.points} points per window`);
    });

    it('two replicas sharing Valkey stay within one budget', async () => {
      const double = await start({ secondary });
      const [a, b] = [
        await h.client(double, { clock: systemClock, limiterOptions: { secondary } }),
        await h.client(double, { clock: systemClock, limiterOptions: { secondary } }),
      ];
      const n = 40;
      await Promise.all(Array.from({ length: n }, (_, i) => [a.generateJitConfig(jit(`a-${i}`)), b.generateJitConfig(jit(`b-${i}`))]).flat());
      assert.equal(double.calls(ROUTES.orgJitConfig), 2 * n);
      assert.equal(double.stats().rateLimited.secondary, 0);
    });

    it('control: two replicas with separate limiter state overrun GitHub (yet still lose no job)', async () => {
      const double = await start({ secondary });
      const other = new Harness();
      try {
        const a = await h.client(double, { clock: systemClock, limiterOptions: { secondary } });
        const b = await other.client(double, { clock: systemClock, limiterOptions: { secondary } });
        const n = 40;
        const results = await Promise.all(
          Array.from({ length: n }, (_, i) => [a.generateJitConfig(jit(`ca-${i}`)), b.generateJitConfig(jit(`cb-${i}`))]).flat(),
        );
        assert.equal(results.length, 2 * n);
        assert.ok(double.stats().rateLimited.secondary > 0, 'unshared limiters each spend the full budget');
      } finally {
        await other.close();
      }
    });
  });
});
