/**
 * GitHub's limits as the double enforces them.
 * - Primary: a budget per identity (installation or app) per window (5000 per hour),
 *   the window starting at the identity's first request, reported in x-ratelimit-*.
 *   Source: docs.github.com "Rate limits for the REST API", primary rate limit for
 *   GitHub App installations ("the installation's minimum rate limit of 5,000 requests
 *   per hour"): the budget belongs to the installation, i.e. to one App on one account.
 * - Secondary: points per endpoint per identity in any sliding window (900 per 60 s,
 *   GET 1 / writes 5) — sliding is the strictest reading of "per minute", so a client
 *   that passes here passes GitHub whatever window GitHub really uses — and a cap on
 *   concurrent requests (100). Source: the same page, "About secondary rate limits":
 *   "No more than 900 points per minute are allowed for REST API endpoints", "No more
 *   than 100 concurrent requests are allowed"; "Calculating points": most GET 1, most
 *   POST/PATCH/PUT/DELETE 5. The page does not say whom the points are counted against;
 *   the double counts them per identity GitHub authenticates — an App installation
 *   (token) or the App itself (JWT) — as it does the primary budget, so several Apps
 *   installed on one org each have their own (what the Terraform AWS runner module's
 *   multi-App support relies on: github-aws-runners/terraform-aws-github-runner #5037,
 *   #5216 "rate limits are per installation, meaning per App per org").
 *   Not modelled: the content-creation limit (80 per minute, 500 per hour) and the CPU
 *   time limit, which the docs give no per-endpoint numbers for.
 */

export interface PrimaryLimitOptions {
  limit: number;
  windowMs: number;
  /** GitHub answers 403 or 429 when the budget is spent. */
  status: 403 | 429;
}

export interface SecondaryLimitOptions {
  points: number;
  windowMs: number;
  concurrency: number;
  status: 403 | 429;
}

export interface RateLimitHeaderValues {
  limit: number;
  remaining: number;
  used: number;
  /** Epoch seconds. */
  reset: number;
  resource: string;
}

export function rateLimitHeaders(v: RateLimitHeaderValues): Record<string, string> {
  return {
    'x-ratelimit-limit': String(v.limit),
    'x-ratelimit-remaining': String(v.remaining),
    'x-ratelimit-used': String(v.used),
    'x-ratelimit-reset': String(v.reset),
    'x-ratelimit-resource': v.resource,
  };
}

interface Budget {
  windowStartMs: number;
  used: number;
}

export class PrimaryBudgets {
  readonly #budgets = new Map<string, Budget>();
  readonly options: PrimaryLimitOptions;

  constructor(options: PrimaryLimitOptions) {
    this.options = options;
  }

  #budget(identity: string, nowMs: number): Budget {
    let b = this.#budgets.get(identity);
    if (!b || nowMs >= b.windowStartMs + this.options.windowMs) {
      b = { windowStartMs: nowMs, used: 0 };
      this.#budgets.set(identity, b);
    }
    return b;
  }

  /** Spends one request of `identity`'s budget if any is left. */
  take(identity: string, nowMs: number): { allowed: boolean; headers: RateLimitHeaderValues } {
    const b = this.#budget(identity, nowMs);
    const allowed = b.used < this.options.limit;
    if (allowed) b.used++;
    return { allowed, headers: this.#values(b) };
  }

  /** Current values without spending (for responses that are refused before counting). */
  peek(identity: string, nowMs: number): RateLimitHeaderValues {
    return this.#values(this.#budget(identity, nowMs));
  }

  /** Spends `n` requests at once (tests: "another replica used the budget"). */
  spend(identity: string, n: number, nowMs: number): void {
    const b = this.#budget(identity, nowMs);
    b.used = Math.min(this.options.limit, b.used + n);
  }

  #values(b: Budget): RateLimitHeaderValues {
    return {
      limit: this.options.limit,
      remaining: Math.max(0, this.options.limit - b.used),
      used: b.used,
      reset: Math.ceil((b.windowStartMs + this.options.windowMs) / 1000),
      resource: 'core',
    };
  }
}

interface Spend {
  atMs: number;
  points: number;
}

export class SecondaryLimits {
  readonly options: SecondaryLimitOptions;
  readonly #logs = new Map<string, Spend[]>();
  readonly #inFlight = new Map<string, number>();
  /** Most points accepted in any window, per endpoint key: how close a client came to the limit. */
  readonly peakPoints = new Map<string, number>();

  constructor(options: SecondaryLimitOptions) {
    this.options = options;
  }

  /** Counts `points` against `key` (identity + endpoint) unless the window is full. */
  take(key: string, points: number, nowMs: number): { allowed: true } | { allowed: false; retryAfterS: number } {
    const log = this.#logs.get(key) ?? [];
    const horizon = nowMs - this.options.windowMs;
    while (log.length && log[0]!.atMs <= horizon) log.shift();
    let used = log.reduce((sum, s) => sum + s.points, 0);
    if (used + points > this.options.points) {
      // The earliest moment enough old points leave the window.
      let freedAtMs = nowMs;
      for (const s of log) {
        used -= s.points;
        freedAtMs = s.atMs + this.options.windowMs;
        if (used + points <= this.options.points) break;
      }
      this.#logs.set(key, log);
      return { allowed: false, retryAfterS: Math.max(1, Math.ceil((freedAtMs - nowMs) / 1000)) };
    }
    log.push({ atMs: nowMs, points });
    this.#logs.set(key, log);
    used += points;
    if (used > (this.peakPoints.get(key) ?? 0)) this.peakPoints.set(key, used);
    return { allowed: true };
  }

  /** Enters a request for the concurrency cap; false when over it (nothing to leave then). */
  enter(identity: string): boolean {
    const n = this.#inFlight.get(identity) ?? 0;
    if (n >= this.options.concurrency) return false;
    this.#inFlight.set(identity, n + 1);
    return true;
  }

  leave(identity: string): void {
    const n = (this.#inFlight.get(identity) ?? 1) - 1;
    if (n <= 0) this.#inFlight.delete(identity);
    else this.#inFlight.set(identity, n);
  }
}
