import type { Valkey } from 'iovalkey';
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import type { Clock } from '../util/clock.ts';
import { systemClock } from '../util/clock.ts';
import { RetryableError } from '../util/errors.ts';
import { GitHubRateLimitedError } from './errors.ts';
import type { GitHubMetrics } from './metrics.ts';
import { classifyRateLimit, readRateLimitHeaders, type HeaderBag, type RateLimitVerdict } from './rate-limit-signals.ts';

/**
 * The one rate limiter for every GitHub call of every orchestrator replica. All
 * replicas consume the job stream, so a per-process limiter would let each of them
 * spend the whole budget; the state therefore lives in Valkey and changes only in
 * atomic Lua scripts. Every key is under its GitHub App's id: each App has its own
 * budgets (GitHub counts an App's installations, and the App itself, apart from any
 * other App's), and a call several Apps could make reserves on the one with room
 * (acquireAny).
 *
 * - Secondary limit (GitHub: 900 points per minute per endpoint, GET = 1, writes = 5):
 *   a token bucket per App, installation (or the App's JWT calls) and endpoint family. Callers reserve their
 *   points and sleep until their slot (GCRA style: the bucket may go negative), so a
 *   queue of waiters costs one script call each, not a polling herd.
 * - Primary budget (x-ratelimit-remaining/reset): when it reaches zero every call for
 *   that installation pauses until the reset.
 * - 403/429 with retry-after (or a secondary-limit message): the endpoint family
 *   pauses for that long and the caller retries. Waiting never fails the job; only a
 *   wait longer than the caller's `maxWaitMs` surfaces, as a retryable error.
 */

export interface SecondaryLimitSettings {
  /** Points GitHub allows per window and endpoint (900). */
  points: number;
  /** GitHub's window (60 s); benchmarks scale it down. */
  windowMs: number;
  /**
   * Fraction of `points` this limiter aims for in any window (0.95). The slack absorbs
   * request latency jitter between our grant and GitHub's count; measured against the
   * double's strict sliding window, 0.95 peaked at 855 of 900 points with no refusal,
   * and a refusal is not a loss anyway: every replica pauses and the call is retried.
   */
  headroom: number;
  /** Bucket capacity in points: how much may go out at once after a quiet spell. */
  burst?: number;
}

export interface GitHubRateLimiterOptions {
  valkey: Valkey;
  /** Key prefix shared by all replicas of one deployment, e.g. `runs-fleet:`. */
  keyPrefix: string;
  clock?: Clock;
  secondary?: Partial<SecondaryLimitSettings>;
  /** Pause when a secondary limit names no time (GitHub: at least one minute). */
  defaultPauseMs?: number;
  /** Added to x-ratelimit-reset, which is GitHub's clock, not ours. */
  resetSkewMs?: number;
  /** Pause an installation when its remaining primary budget falls to this (0). */
  primaryReserve?: number;
  /**
   * Longest a single acquire may wait before it throws GitHubRateLimitedError. 65 min by
   * default: longer than GitHub's hourly primary window, so by default calls wait out
   * any limit. A caller that cannot hold a job that long passes less and requeues.
   */
  maxWaitMs?: number;
  metrics?: GitHubMetrics;
  logger?: Logger;
  /**
   * How long a reservation made ahead may be held (0, off, by default). With it, an
   * acquire that asks for `ahead` and went out at once reserves the next call's points
   * in the background, off the caller's path, so the next acquire with the same
   * candidates and cost returns without a Valkey round trip. Only points free right now
   * are taken ahead (never a wait, so never a debt on the shared bucket), at most one
   * reservation per replica and candidate set, and one not used within `aheadMs` is
   * given back. Sends then lag their reservations by at most `aheadMs`, so any window W
   * sees at most capacity + rate·(W + aheadMs) points: at GitHub's 900 and the 0.95
   * headroom, 869 points for 1 s. A pause this replica observes drops what it holds; one
   * recorded by another replica is seen at its next round trip, so a held reservation can
   * send one call into it (refused, then paused and retried like any refusal).
   */
  aheadMs?: number;
}

/**
 * Who is limited. `app` is the GitHub App id (every key lives under it, so each App has
 * its own budget and every replica shares it); `scope` is an installation id or `app`
 * (the App's own JWT calls); `family` names the endpoint.
 */
export interface LimitKey {
  app: string;
  scope: string;
  family: string;
}

export interface AcquireOptions {
  signal?: AbortSignal;
  maxWaitMs?: number;
  /** Reserve the next call's points ahead (see `aheadMs`): for calls on every job's path. */
  ahead?: boolean;
}

/** Points reserved ahead for the next call with the same candidates and cost. */
interface HeldReservation {
  index: number;
  app: string;
  bucket: string;
  cost: number;
  epoch: number;
  at: number;
}

export interface RateLimitResponse {
  status: number;
  headers: HeaderBag;
  /** GitHub's error message, when the body had one. */
  message?: string;
}

/** GitHub's secondary-limit cost: reads 1 point, writes 5. */
export function requestCost(method: string): number {
  const m = method.toUpperCase();
  return m === 'GET' || m === 'HEAD' || m === 'OPTIONS' ? 1 : 5;
}

const MAX_COST = 5;

/**
 * KEYS: (scope pause, family pause, bucket) for each candidate. ARGV: now, cost, capacity,
 * rate/ms, max wait, ttl, first candidate to look at. → {code, waitMs, epoch, index}.
 * Picks, in one atomic step, the candidate whose call could go out soonest (ties: the one
 * with the most points left, then the first from the rotating start) and reserves its
 * points there: replicas choosing among the same Apps at once each see the others'
 * reservations, so a burst spreads over the Apps instead of piling onto one.
 */
const ACQUIRE = `
local now = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local cap = tonumber(ARGV[3])
local rate = tonumber(ARGV[4])
local n = #KEYS / 3
local start = tonumber(ARGV[7]) % n
local best, bestWait, bestTokens, bestPaused, bestTs, bestEpoch
for j = 0, n - 1 do
  local i = (start + j) % n
  local pause = math.max(tonumber(redis.call('GET', KEYS[i * 3 + 1]) or '0'), tonumber(redis.call('GET', KEYS[i * 3 + 2]) or '0'))
  local wait, tokens, ts, epoch, paused
  if pause > now then
    wait = math.ceil(pause - now)
    tokens = -1
    paused = true
  else
    local state = redis.call('HMGET', KEYS[i * 3 + 3], 'tokens', 'ts', 'epoch')
    tokens = tonumber(state[1]) or cap
    ts = tonumber(state[2]) or now
    epoch = tonumber(state[3]) or 0
    if now > ts then
      tokens = math.min(cap, tokens + (now - ts) * rate)
      ts = now
    end
    wait = 0
    if tokens < cost then wait = math.ceil(math.max(0, ts - now) + (cost - tokens) / rate) end
    paused = false
  end
  if best == nil or wait < bestWait or (wait == bestWait and tokens > bestTokens) then
    best, bestWait, bestTokens, bestPaused, bestTs, bestEpoch = i, wait, tokens, paused, ts, epoch
  end
end
if bestPaused then return {0, bestWait, 0, best} end
if bestWait > tonumber(ARGV[5]) then return {2, bestWait, bestEpoch, best} end
local bucket = KEYS[best * 3 + 3]
redis.call('HSET', bucket, 'tokens', tostring(bestTokens - cost), 'ts', tostring(bestTs), 'epoch', tostring(bestEpoch))
-- the bucket outlives the last reservation it holds
redis.call('PEXPIRE', bucket, bestWait + tonumber(ARGV[6]))
return {1, bestWait, bestEpoch, best}`;

/** KEYS: scope pause, family pause, bucket. ARGV: now, epoch. → 1 when a reservation is still good. */
const STILL_VALID = `
local now = tonumber(ARGV[1])
local pause = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), tonumber(redis.call('GET', KEYS[2]) or '0'))
if pause > now then return 0 end
local epoch = tonumber(redis.call('HGET', KEYS[3], 'epoch') or '0')
if epoch ~= tonumber(ARGV[2]) then return 0 end
return 1`;

/**
 * KEYS: family pause, bucket. ARGV: until, now, bucket ttl. Pauses the family, empties
 * the bucket from the pause end on, and bumps the epoch: every outstanding
 * reservation is void and its holder queues again after the pause.
 */
const PAUSE_FAMILY = `
local untilMs = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilMs <= cur then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', math.ceil(untilMs - now) + 1000)
local epoch = tonumber(redis.call('HGET', KEYS[2], 'epoch') or '0') + 1
redis.call('HSET', KEYS[2], 'tokens', '0', 'ts', ARGV[1], 'epoch', tostring(epoch))
redis.call('PEXPIRE', KEYS[2], math.ceil(untilMs - now) + tonumber(ARGV[3]))
return 1`;

/** KEYS: scope pause. ARGV: until, now. Extends, never shortens, an installation pause. */
const PAUSE_SCOPE = `
local untilMs = tonumber(ARGV[1])
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilMs <= cur then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', math.ceil(untilMs - tonumber(ARGV[2])) + 1000)
return 1`;

/** KEYS: bucket. ARGV: cost, capacity, epoch. Returns an aborted caller's points. */
const REFUND = `
local state = redis.call('HMGET', KEYS[1], 'tokens', 'epoch')
if not state[1] or tonumber(state[2] or '0') ~= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'tokens', tostring(math.min(tonumber(ARGV[2]), tonumber(state[1]) + tonumber(ARGV[1]))))
return 1`;

interface LimiterCommands {
  ghRlAcquireBest(numKeys: number, ...keysAndArgv: (string | number)[]): Promise<[number, number, number, number]>;
  ghRlStillValid(k1: string, k2: string, k3: string, now: number, epoch: number): Promise<number>;
  ghRlPauseFamily(k1: string, k2: string, until: number, now: number, ttl: number): Promise<number>;
  ghRlPauseScope(k1: string, until: number, now: number): Promise<number>;
  ghRlRefund(k1: string, cost: number, capacity: number, epoch: number): Promise<number>;
}

function defineScripts(valkey: Valkey): LimiterCommands {
  const v = valkey as unknown as LimiterCommands & Valkey;
  if (typeof v.ghRlAcquireBest !== 'function') {
    // The number of keys varies with the candidates: passed first on each call.
    valkey.defineCommand('ghRlAcquireBest', { lua: ACQUIRE });
    valkey.defineCommand('ghRlStillValid', { numberOfKeys: 3, lua: STILL_VALID });
    valkey.defineCommand('ghRlPauseFamily', { numberOfKeys: 2, lua: PAUSE_FAMILY });
    valkey.defineCommand('ghRlPauseScope', { numberOfKeys: 1, lua: PAUSE_SCOPE });
    valkey.defineCommand('ghRlRefund', { numberOfKeys: 1, lua: REFUND });
  }
  return v;
}

export class GitHubRateLimiter {
  readonly #cmd: LimiterCommands;
  readonly #prefix: string;
  readonly #clock: Clock;
  readonly #capacity: number;
  readonly #ratePerMs: number;
  readonly #bucketTtlMs: number;
  readonly #defaultPauseMs: number;
  readonly #resetSkewMs: number;
  readonly #primaryReserve: number;
  readonly #maxWaitMs: number;
  readonly #metrics: GitHubMetrics | undefined;
  readonly #log: Logger;
  /** Last remaining budget per App and resource, then scope, for the min-over-installations gauge. */
  readonly #remaining = new Map<string, Map<string, number>>();
  /** Where acquireAny starts looking among equal candidates. */
  #turn = 0;
  readonly #aheadMs: number;
  /** By candidate set and cost: at most one reservation held ahead, and one being made. */
  readonly #held = new Map<string, HeldReservation>();
  readonly #reserving = new Set<string>();

  constructor(options: GitHubRateLimiterOptions) {
    const points = options.secondary?.points ?? 900;
    const windowMs = options.secondary?.windowMs ?? 60_000;
    const headroom = options.secondary?.headroom ?? 0.95;
    if (!(points >= MAX_COST && windowMs > 0 && headroom > 0 && headroom <= 1)) {
      throw new RangeError(`GitHub rate limiter: secondary.points must be ≥ ${MAX_COST}, windowMs > 0 and headroom in (0, 1]`);
    }
    const target = points * headroom;
    // Any window of length W sees at most capacity + rate·W points: keep that at `target`.
    this.#capacity = Math.min(target, Math.max(MAX_COST, options.secondary?.burst ?? Math.round(points * 0.05)));
    this.#ratePerMs = Math.max(target - this.#capacity, 1) / windowMs;
    this.#bucketTtlMs = windowMs * 2;
    this.#cmd = defineScripts(options.valkey);
    this.#prefix = `${options.keyPrefix}github:ratelimit:`;
    this.#clock = options.clock ?? systemClock;
    this.#defaultPauseMs = options.defaultPauseMs ?? 60_000;
    this.#resetSkewMs = options.resetSkewMs ?? 1_000;
    this.#primaryReserve = options.primaryReserve ?? 0;
    this.#maxWaitMs = options.maxWaitMs ?? 65 * 60_000;
    this.#metrics = options.metrics;
    this.#log = options.logger ?? silentLogger();
    this.#aheadMs = options.aheadMs ?? 0;
  }

  /** Points per ms the bucket refills at, and its capacity (for benches and tests). */
  get bucket(): { capacity: number; ratePerMs: number } {
    return { capacity: this.#capacity, ratePerMs: this.#ratePerMs };
  }

  #keys(key: LimitKey): [string, string, string] {
    // `{app id}:` first: one App's keys never touch another's, and all replicas of a deployment share each App's.
    const scope = `${this.#prefix}app:${key.app}:${key.scope}`;
    return [`${scope}:pause`, `${scope}:${key.family}:pause`, `${scope}:${key.family}:bucket`];
  }

  /**
   * Waits until a call costing `cost` points may go out for `key`. Resolves with the
   * time waited; rejects with the signal's reason when aborted, GitHubRateLimitedError
   * when the wait would exceed maxWaitMs, RetryableError when Valkey is unreachable.
   */
  async acquire(key: LimitKey, cost: number, options: AcquireOptions = {}): Promise<number> {
    return (await this.acquireAny([key], cost, options)).waitedMs;
  }

  /**
   * Like acquire, for a call that any of `candidates` may make (the same endpoint through
   * several Apps installed on one org): reserves on the one whose call can go out
   * soonest, the one with the most points left among equals, and resolves with its index.
   */
  async acquireAny(candidates: readonly LimitKey[], cost: number, options: AcquireOptions = {}): Promise<{ index: number; waitedMs: number }> {
    if (candidates.length === 0) throw new RangeError('GitHub rate limiter: acquireAny needs at least one candidate');
    const keys = candidates.map((k) => this.#keys(k));
    const flat = keys.flat();
    const aheadKey = options.ahead && this.#aheadMs > 0 ? `${cost} ${flat.join(' ')}` : undefined;
    if (aheadKey) {
      options.signal?.throwIfAborted();
      const held = this.#takeHeld(aheadKey);
      if (held !== undefined) {
        this.#reserveAhead(aheadKey, flat, cost, candidates);
        return { index: held, waitedMs: 0 };
      }
    }
    const started = this.#clock.now();
    const deadline = started + (options.maxWaitMs ?? this.#maxWaitMs);
    for (;;) {
      options.signal?.throwIfAborted();
      const now = this.#clock.now();
      const [code, waitMs, epoch, index] = await this.#valkey(() => this.#reserve(flat, candidates.length, now, cost, deadline - now));
      const key = candidates[index]!;
      if (code === 1 && waitMs === 0) {
        // Room now, so likely for the next call too: reserve it while this one goes out.
        if (aheadKey) this.#reserveAhead(aheadKey, flat, cost, candidates);
        return { index, waitedMs: this.#clock.now() - started };
      }
      if (code === 2 || now + waitMs > deadline) {
        throw new GitHubRateLimitedError(
          `GitHub rate limit: ${key.family} would wait ${Math.ceil(waitMs / 1000)} s, longer than allowed; retry later`,
          { retryAfterMs: waitMs },
        );
      }
      const [scopePause, familyPause, bucket] = keys[index]!;
      this.#metrics?.rateLimitWaits.inc({ kind: code === 0 ? 'paused' : 'bucket', app: key.app });
      await this.#sleep(waitMs, options.signal, code === 1 ? { bucket, cost, epoch } : undefined);
      this.#metrics?.rateLimitWaitSeconds.inc({ app: key.app }, waitMs / 1000);
      if (code === 0) continue;
      const valid = await this.#valkey(() => this.#cmd.ghRlStillValid(scopePause, familyPause, bucket, this.#clock.now(), epoch));
      if (valid === 1) return { index, waitedMs: this.#clock.now() - started };
      // A pause began while we slept: our reservation is void, queue again.
    }
  }

  /**
   * Records what a response says about the budgets. Returns the verdict: when it is
   * not `none` the response was a rate-limit rejection, the pause is recorded for
   * all replicas, and the caller should acquire again and retry.
   */
  async observe(key: LimitKey, response: RateLimitResponse): Promise<RateLimitVerdict> {
    const now = this.#clock.now();
    const snapshot = readRateLimitHeaders(response.headers);
    if (snapshot.remaining !== undefined) this.#recordRemaining(snapshot.resource ?? 'core', key, snapshot.remaining);
    const verdict = classifyRateLimit({
      status: response.status,
      headers: response.headers,
      message: response.message,
      nowMs: now,
      defaultPauseMs: this.#defaultPauseMs,
      resetSkewMs: this.#resetSkewMs,
    });
    // Pauses are rare: whatever is held ahead is given back, and the next acquire sees the pause.
    if (verdict.kind !== 'none') for (const k of [...this.#held.keys()]) this.#release(k);
    const [scopePause, familyPause, bucket] = this.#keys(key);
    if (verdict.kind === 'primary') {
      this.#metrics?.rateLimitHits.inc({ kind: 'primary', app: key.app });
      this.#log.warn({ family: key.family, waitMs: verdict.untilMs - now }, 'GitHub primary rate limit exhausted; pausing the installation until reset');
      await this.#valkey(() => this.#cmd.ghRlPauseScope(scopePause, verdict.untilMs, now));
    } else if (verdict.kind === 'secondary') {
      this.#metrics?.rateLimitHits.inc({ kind: 'secondary', app: key.app });
      this.#log.warn({ family: key.family, waitMs: verdict.untilMs - now }, 'GitHub secondary rate limit; pausing this endpoint');
      await this.#valkey(() => this.#cmd.ghRlPauseFamily(familyPause, bucket, verdict.untilMs, now, this.#bucketTtlMs));
    } else if (
      snapshot.remaining !== undefined && snapshot.remaining <= this.#primaryReserve && snapshot.resetMs !== undefined && snapshot.resetMs > now
    ) {
      // Budget spent by this very call: stop before GitHub has to refuse the next one.
      this.#log.info({ family: key.family, waitMs: snapshot.resetMs - now }, 'GitHub primary budget used up; pausing the installation until reset');
      await this.#valkey(() => this.#cmd.ghRlPauseScope(scopePause, snapshot.resetMs! + this.#resetSkewMs, now));
    }
    return verdict;
  }

  #recordRemaining(resource: string, key: LimitKey, remaining: number): void {
    if (!this.#metrics) return;
    // Per App: the lowest remaining budget over that App's installations (and its JWT calls).
    const group = `${key.app} ${resource}`;
    let byScope = this.#remaining.get(group);
    if (!byScope) this.#remaining.set(group, (byScope = new Map()));
    byScope.set(key.scope, remaining);
    this.#metrics.rateLimitRemaining.set({ resource, app: key.app }, Math.min(...byScope.values()));
  }

  /** One ACQUIRE step: reserves on the best candidate unless that would wait longer than `maxWaitMs` (see ACQUIRE). */
  #reserve(flat: string[], candidates: number, now: number, cost: number, maxWaitMs: number) {
    // Equal candidates (all idle) are taken in turn, from a rotating start.
    const rotate = candidates > 1 ? this.#turn++ : 0;
    return this.#cmd.ghRlAcquireBest(flat.length, ...flat, now, cost, this.#capacity, this.#ratePerMs, maxWaitMs, this.#bucketTtlMs, rotate);
  }

  /** The held reservation's candidate index, when one is held and young enough to use. */
  #takeHeld(aheadKey: string): number | undefined {
    const held = this.#held.get(aheadKey);
    if (!held) return undefined;
    if (this.#clock.now() - held.at > this.#aheadMs) {
      this.#release(aheadKey);
      return undefined;
    }
    this.#held.delete(aheadKey);
    this.#metrics?.rateLimitAhead.inc({ app: held.app, outcome: 'used' });
    return held.index;
  }

  /** In the background: reserves the next call's points if they are free now (max wait 0). */
  #reserveAhead(aheadKey: string, flat: string[], cost: number, candidates: readonly LimitKey[]): void {
    if (this.#held.has(aheadKey) || this.#reserving.has(aheadKey)) return;
    this.#reserving.add(aheadKey);
    const now = this.#clock.now();
    this.#reserve(flat, candidates.length, now, cost, 0)
      .then(([code, waitMs, epoch, index]) => {
        if (code !== 1 || waitMs !== 0) return;
        const held: HeldReservation = { index, app: candidates[index]!.app, bucket: flat[index * 3 + 2]!, cost, epoch, at: now };
        this.#held.set(aheadKey, held);
        // Unused within aheadMs: the points go back to every replica.
        setTimeout(() => { if (this.#held.get(aheadKey) === held) this.#release(aheadKey); }, this.#aheadMs).unref();
      })
      .catch(() => undefined)
      .finally(() => this.#reserving.delete(aheadKey));
  }

  #release(aheadKey: string): void {
    const held = this.#held.get(aheadKey);
    if (!held) return;
    this.#held.delete(aheadKey);
    this.#metrics?.rateLimitAhead.inc({ app: held.app, outcome: 'returned' });
    this.#cmd.ghRlRefund(held.bucket, held.cost, this.#capacity, held.epoch).catch(() => undefined);
  }

  async #sleep(ms: number, signal: AbortSignal | undefined, reservation?: { bucket: string; cost: number; epoch: number }): Promise<void> {
    try {
      await this.#clock.sleep(ms, signal);
    } catch (err) {
      if (reservation) {
        // Give the points back so an aborted caller does not slow the others; best effort.
        await this.#cmd.ghRlRefund(reservation.bucket, reservation.cost, this.#capacity, reservation.epoch).catch(() => undefined);
      }
      throw err;
    }
  }

  async #valkey<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new RetryableError('GitHub rate limiter: Valkey did not answer; the call was not sent', { cause: err });
    }
  }
}
