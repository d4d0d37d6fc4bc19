import { backoffDelay, type BackoffOptions } from './backoff.ts';
import { systemClock, type Clock } from './clock.ts';
import { PermanentError, RetryableError } from './errors.ts';

export interface RetryOptions extends BackoffOptions {
  /** Total tries, including the first. */
  attempts: number;
  clock?: Clock;
  signal?: AbortSignal;
  /** Decides whether an error is worth another try; by default only RetryableError is. */
  retryable?: (err: unknown) => boolean;
  /** Called before each wait, for logging and metrics. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

const defaultRetryable = (err: unknown) => err instanceof RetryableError;

/**
 * The one retry helper. Runs `fn` until it succeeds, throws a non-retryable error,
 * or runs out of attempts; waits with backoff (or the server's `retryAfterMs`, when
 * longer) between tries, and stops at once when `signal` aborts.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const clock = options.clock ?? systemClock;
  const retryable = options.retryable ?? defaultRetryable;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (err instanceof PermanentError || !retryable(err) || attempt >= options.attempts) throw err;
      const suggested = err instanceof RetryableError ? (err.retryAfterMs ?? 0) : 0;
      const delay = Math.max(backoffDelay(attempt, options), suggested);
      options.onRetry?.(err, attempt, delay);
      await clock.sleep(delay, options.signal);
    }
  }
}
