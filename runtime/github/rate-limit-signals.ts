/**
 * Pure reading of GitHub's rate-limit signals, following GitHub's documented
 * handling: `retry-after` wins; `x-ratelimit-remaining: 0` means wait until
 * `x-ratelimit-reset`; any other 429, or a 403 that says "rate limit", means wait
 * at least a minute.
 */

export type HeaderBag = Record<string, string | string[] | undefined>;

export interface RateLimitSnapshot {
  limit?: number;
  remaining?: number;
  used?: number;
  /** Epoch ms when the primary budget resets. */
  resetMs?: number;
  /** `core`, `search`, `graphql`, … (bounded; safe as a metric label). */
  resource?: string;
}

export type RateLimitVerdict =
  | { kind: 'none' }
  /** The installation's primary budget is spent: every call for it waits. */
  | { kind: 'primary'; untilMs: number }
  /** A secondary limit on this endpoint: calls to it wait. */
  | { kind: 'secondary'; untilMs: number };

function header(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function int(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

export function readRateLimitHeaders(headers: HeaderBag): RateLimitSnapshot {
  const reset = int(header(headers, 'x-ratelimit-reset'));
  return {
    limit: int(header(headers, 'x-ratelimit-limit')),
    remaining: int(header(headers, 'x-ratelimit-remaining')),
    used: int(header(headers, 'x-ratelimit-used')),
    resetMs: reset === undefined ? undefined : reset * 1000,
    resource: header(headers, 'x-ratelimit-resource'),
  };
}

/** `retry-after` in ms: delta-seconds or an HTTP date. */
export function retryAfterMs(headers: HeaderBag, nowMs: number): number | undefined {
  const raw = header(headers, 'retry-after');
  if (raw === undefined) return undefined;
  const seconds = int(raw);
  if (seconds !== undefined) return Math.max(0, seconds * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

export interface ClassifyInput {
  status: number;
  headers: HeaderBag;
  /** GitHub's error `message`, when the body had one. */
  message?: string;
  nowMs: number;
  /** Wait when a secondary limit names no time (GitHub: "at least one minute"). */
  defaultPauseMs: number;
  /** Added to `x-ratelimit-reset`, which comes from GitHub's clock, not ours. */
  resetSkewMs: number;
}

export function classifyRateLimit(input: ClassifyInput): RateLimitVerdict {
  if (input.status !== 403 && input.status !== 429) return { kind: 'none' };
  const snapshot = readRateLimitHeaders(input.headers);
  const after = retryAfterMs(input.headers, input.nowMs);
  if (snapshot.remaining === 0) {
    const reset = snapshot.resetMs !== undefined ? snapshot.resetMs + input.resetSkewMs : input.nowMs + input.defaultPauseMs;
    return { kind: 'primary', untilMs: Math.max(reset, input.nowMs + (after ?? 0)) };
  }
  if (after !== undefined) return { kind: 'secondary', untilMs: input.nowMs + after };
  if (input.status === 429 || /rate limit/i.test(input.message ?? '')) {
    return { kind: 'secondary', untilMs: input.nowMs + input.defaultPauseMs };
  }
  return { kind: 'none' };
}
