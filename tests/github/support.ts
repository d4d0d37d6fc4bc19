import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../runtime/log.ts';
import { createRegistry } from '../../runtime/metrics/registry.ts';
import { GitHubClient, type GitHubClientOptions } from '../../runtime/github/client.ts';
import { createGitHubMetrics, type GitHubMetrics } from '../../runtime/github/metrics.ts';
import { GitHubRateLimiter, type GitHubRateLimiterOptions } from '../../runtime/github/rate-limiter.ts';
import type { Clock } from '../../runtime/util/clock.ts';
import type { GitHubDouble } from '../../sim/github/double.ts';
import { Connections, uniquePrefix } from '../support/valkey.ts';

/**
 * A clock whose sleeps return at once and move time forward: a client waiting out
 * a one-hour rate-limit reset finishes in milliseconds, while the double (sharing
 * the clock) sees that hour pass. Concurrent sleepers move it to the latest wake-up.
 */
export class JumpingClock implements Clock {
  #now: number;
  /** Sum of all requested sleeps. */
  slept = 0;
  sleeps = 0;

  constructor(start = Date.parse('2026-11-02T09:00:00Z')) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  advance(ms: number): void {
    this.#now += ms;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const target = this.#now + ms;
    this.slept += ms;
    this.sleeps++;
    return new Promise((resolve, reject) =>
      setImmediate(() => {
        if (signal?.aborted) return reject(signal.reason);
        this.#now = Math.max(this.#now, target);
        resolve();
      }),
    );
  }
}

/** A logger writing JSON lines into memory, at trace level, through the real redaction. */
export function capturingLogger(): { logger: Logger; text: () => string } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { logger: createLogger({ level: 'trace', destination, name: 'github-test' }), text: () => lines.join('') };
}

/** Per-test wiring: Valkey connections under a unique prefix, clients against a double, closed by close(). */
export class Harness {
  readonly conns = new Connections();
  readonly prefix = `${uniquePrefix('gh')}:`;
  readonly registry = createRegistry();
  readonly metrics: GitHubMetrics = createGitHubMetrics(this.registry);
  readonly #clients: GitHubClient[] = [];

  limiter(options: Partial<GitHubRateLimiterOptions> = {}): GitHubRateLimiter {
    return new GitHubRateLimiter({ valkey: this.conns.command(), keyPrefix: this.prefix, metrics: this.metrics, ...options });
  }

  async client(
    double: GitHubDouble,
    options: Partial<GitHubClientOptions> & { limiterOptions?: Partial<GitHubRateLimiterOptions> } = {},
  ): Promise<GitHubClient> {
    const { limiterOptions, ...rest } = options;
    const limiter = rest.limiter ?? this.limiter({ clock: rest.clock, ...limiterOptions });
    const client = new GitHubClient({
      appId: double.appId,
      privateKey: double.privateKeyPem,
      apiUrl: double.url,
      metrics: this.metrics,
      retry: { attempts: 4, baseMs: 50, maxMs: 200 },
      ...rest,
      limiter,
    });
    this.#clients.push(client);
    await this.conns.ready();
    return client;
  }

  async metricValue(name: string, labels: Record<string, string> = {}): Promise<number> {
    const metric = (await this.registry.getMetricsAsJSON()).find((m) => m.name === name);
    const values = (metric?.values ?? []) as Array<{ value: number; labels: Record<string, string | number>; metricName?: string }>;
    return values
      .filter((v) => !v.metricName?.endsWith('_bucket') && !v.metricName?.endsWith('_sum'))
      .filter((v) => Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val))
      .reduce((sum, v) => sum + v.value, 0);
  }

  async close(): Promise<void> {
    await Promise.all(this.#clients.map((c) => c.close()));
    this.conns.closeAll();
  }
}
