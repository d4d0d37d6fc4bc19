import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type GitHubMetrics = ReturnType<typeof createGitHubMetrics>;

/**
 * GitHub client metrics. Labels are closed sets: `operation` is one of the client's
 * operation names, `status_class` is 2xx/3xx/4xx/5xx/network/timeout, `reason` is an
 * error reason, `resource` is GitHub's x-ratelimit-resource, `app` is a configured
 * GitHub App's id (a few, never a secret). Installation ids, repos and runner names
 * never become labels.
 */
export function createGitHubMetrics(registry: Registry) {
  return {
    requestDuration: new Histogram({
      name: 'runs_fleet_github_request_duration_seconds',
      help: 'GitHub API call latency per HTTP attempt, excluding rate-limit waits.',
      labelNames: ['operation', 'status_class'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'runs_fleet_github_errors_total',
      help: 'GitHub API calls that failed after the client gave up, by reason.',
      labelNames: ['operation', 'reason'] as const,
      registers: [registry],
    }),
    retries: new Counter({
      name: 'runs_fleet_github_retries_total',
      help: 'GitHub API attempts retried after a transient failure (5xx, timeout, network).',
      labelNames: ['operation'] as const,
      registers: [registry],
    }),
    rateLimitRemaining: new Gauge({
      name: 'runs_fleet_github_rate_limit_remaining',
      help: 'Lowest x-ratelimit-remaining seen across an App\'s installations, by App id and rate-limit resource.',
      labelNames: ['app', 'resource'] as const,
      registers: [registry],
    }),
    rateLimitWaits: new Counter({
      name: 'runs_fleet_github_rate_limit_waits_total',
      help: 'Times a GitHub call waited for the shared rate limiter, by App id and cause.',
      labelNames: ['app', 'kind'] as const,
      registers: [registry],
    }),
    rateLimitWaitSeconds: new Counter({
      name: 'runs_fleet_github_rate_limit_wait_seconds_total',
      help: 'Total time GitHub calls spent waiting for the shared rate limiter, by App id.',
      labelNames: ['app'] as const,
      registers: [registry],
    }),
    rateLimitAhead: new Counter({
      name: 'runs_fleet_github_rate_limit_ahead_total',
      help: 'Reservations made ahead for the next JIT call, by App id and outcome: used (a call went out with no limiter round trip) or returned (unused in time, or a pause).',
      labelNames: ['app', 'outcome'] as const,
      registers: [registry],
    }),
    rateLimitHits: new Counter({
      name: 'runs_fleet_github_rate_limit_responses_total',
      help: 'GitHub responses that were rate-limit rejections (403/429), by App id and kind.',
      labelNames: ['app', 'kind'] as const,
      registers: [registry],
    }),
    appRequests: new Counter({
      name: 'runs_fleet_github_app_requests_total',
      help: 'GitHub API requests sent, by the App (id) they were sent as: how calls spread over the configured Apps.',
      labelNames: ['app'] as const,
      registers: [registry],
    }),
  };
}
