/** Exponential backoff with full jitter, pure so it can be tested and reasoned about. */
export interface BackoffOptions {
  /** Delay before the first retry, in ms. */
  baseMs: number;
  /** Upper bound of any single delay, in ms. */
  maxMs: number;
  /** Multiplier per attempt; 2 by default. */
  factor?: number;
  /** 0 = no jitter, 1 = full jitter (delay uniform in [0, d]); 0.5 by default. */
  jitter?: number;
}

/** Delay before retry number `attempt` (1-based). `random` is injectable for tests. */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const factor = options.factor ?? 2;
  const jitter = options.jitter ?? 0.5;
  const exp = Math.min(options.maxMs, options.baseMs * factor ** Math.max(0, attempt - 1));
  return Math.round(exp * (1 - jitter) + exp * jitter * random());
}
