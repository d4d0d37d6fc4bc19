import { PermanentError, RetryableError } from '../util/errors.ts';

/**
 * GitHub answered 409 to generate-jitconfig: a runner with this name already exists
 * (often our own earlier attempt whose response was lost). Neither retryable as is
 * nor permanent: the caller retries with a new name suffix.
 */
export class RunnerNameConflictError extends Error {
  override name = 'RunnerNameConflictError';
  readonly reason = 'github_runner_name_conflict';
  readonly runnerName: string;
  constructor(runnerName: string) {
    super(`GitHub already has a runner named "${runnerName}"; generate the JIT config again with a new name suffix`);
    this.runnerName = runnerName;
  }
}

/**
 * The shared rate limiter would make this call wait longer than the caller allows.
 * Retryable after `retryAfterMs`; the job is kept, never dropped.
 */
export class GitHubRateLimitedError extends RetryableError {
  override name = 'GitHubRateLimitedError';
  readonly reason = 'github_rate_limited';
}

/** A short metric-safe reason for any error the client throws. */
export function errorReason(err: unknown): string {
  if (err instanceof PermanentError) return err.reason;
  if (err instanceof RunnerNameConflictError || err instanceof GitHubRateLimitedError) return err.reason;
  if (err instanceof GitHubTransientError) return err.reason;
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) return 'aborted';
  return 'other';
}

/** A 5xx, timeout or network failure, with its bounded reason. */
export class GitHubTransientError extends RetryableError {
  override name = 'GitHubTransientError';
  readonly reason: 'github_server_error' | 'github_timeout' | 'github_network' | 'github_unauthorized_retry';
  constructor(reason: GitHubTransientError['reason'], message: string, options: { cause?: unknown; retryAfterMs?: number } = {}) {
    super(message, options);
    this.reason = reason;
  }
}

/**
 * GitHub's `message` from an error body, bounded and on one line. Bodies are read
 * but never logged or thrown whole; the message is GitHub's own text (such as
 * "Validation Failed") and never echoes a token or a JIT config.
 */
export function githubMessage(bodyText: string): string | undefined {
  try {
    const parsed = JSON.parse(bodyText) as { message?: unknown };
    if (typeof parsed.message !== 'string') return undefined;
    const oneLine = parsed.message.replace(/\s+/g, ' ').trim();
    return oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine;
  } catch {
    return undefined;
  }
}

/** Maps a non-2xx, non-rate-limit response to the error the caller acts on. */
export function errorForStatus(
  operation: string,
  status: number,
  message: string | undefined,
  context: { runnerName?: string; retryAfterMs?: number } = {},
): Error {
  const said = message ? `: ${message}` : '';
  if (status >= 500) {
    return new GitHubTransientError('github_server_error', `GitHub ${operation} failed with HTTP ${status}${said}`, { retryAfterMs: context.retryAfterMs });
  }
  if (status === 409 && context.runnerName !== undefined) return new RunnerNameConflictError(context.runnerName);
  switch (status) {
    case 404:
      return new PermanentError('github_not_found',
        `GitHub ${operation}: not found (HTTP 404)${said}; check the owner/repository, the runner group, ` +
          'and that the App is installed there with the needed permissions');
    case 422:
      return new PermanentError('github_validation', `GitHub ${operation} rejected the request (HTTP 422)${said}`);
    case 401:
      return new PermanentError('github_unauthorized',
        `GitHub ${operation}: bad credentials (HTTP 401)${said}; check the App id and private key, and that this host's clock is right`);
    case 403:
      return new PermanentError('github_forbidden',
        `GitHub ${operation}: forbidden (HTTP 403)${said}; the App needs "Self-hosted runners: write" (org scope) ` +
          'or "Administration: write" (repo scope) and "Actions: read"');
    case 409:
      return new PermanentError('github_conflict', `GitHub ${operation}: conflict (HTTP 409)${said}`);
    default:
      return new PermanentError('github_http_error', `GitHub ${operation} failed with HTTP ${status}${said}`);
  }
}
