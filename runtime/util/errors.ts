/** A failure that may succeed if tried again later (network, 5xx, 429, conflicts). */
export class RetryableError extends Error {
  override name = 'RetryableError';
  /** Server-suggested wait before the next try (e.g. from `retry-after`), in ms. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: { cause?: unknown; retryAfterMs?: number } = {}) {
    super(message, { cause: options.cause });
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * A failure that will fail the same way every time (unknown runner class, invalid
 * size, 422 from GitHub). The caller stops retrying and records `reason`.
 */
export class PermanentError extends Error {
  override name = 'PermanentError';
  /** A short, bounded, metric-safe reason such as `unknown_class`. */
  readonly reason: string;
  constructor(reason: string, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.reason = reason;
  }
}

/** A configuration error: names the input (env var, file, config path) and the fix. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.length === 1 ? problems[0]! : `${problems.length} configuration problems:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}
