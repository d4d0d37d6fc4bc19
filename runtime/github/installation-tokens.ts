import type { Clock } from '../util/clock.ts';
import { systemClock } from '../util/clock.ts';

export interface InstallationToken {
  token: string;
  /** Epoch ms (from the response's `expires_at`). */
  expiresAtMs: number;
}

export type FetchInstallationToken = (installationId: number) => Promise<InstallationToken>;

export interface InstallationTokenCacheOptions {
  clock?: Clock;
  /** A token is replaced this long before it expires (GitHub's are valid 1 h); 5 min by default. */
  refreshBeforeMs?: number;
}

/**
 * Installation tokens, cached per installation until shortly before expiry. A
 * refresh is single-flight: concurrent callers share one token request, so a burst
 * of jobs for one installation costs one POST /access_tokens, not one per job.
 */
export class InstallationTokenCache {
  readonly #fetch: FetchInstallationToken;
  readonly #clock: Clock;
  readonly #refreshBeforeMs: number;
  readonly #tokens = new Map<number, InstallationToken>();
  readonly #inFlight = new Map<number, Promise<InstallationToken>>();

  constructor(fetch: FetchInstallationToken, options: InstallationTokenCacheOptions = {}) {
    this.#fetch = fetch;
    this.#clock = options.clock ?? systemClock;
    this.#refreshBeforeMs = options.refreshBeforeMs ?? 5 * 60_000;
  }

  /**
   * A valid token for the installation. `signal` aborts only this caller's wait; the
   * shared request keeps going for the others (it has its own deadline).
   */
  async get(installationId: number, signal?: AbortSignal): Promise<string> {
    const cached = this.#tokens.get(installationId);
    if (cached && this.#clock.now() < cached.expiresAtMs - this.#refreshBeforeMs) return cached.token;
    let pending = this.#inFlight.get(installationId);
    if (!pending) {
      pending = this.#fetch(installationId)
        .then((token) => {
          this.#tokens.set(installationId, token);
          return token;
        })
        .finally(() => this.#inFlight.delete(installationId));
      this.#inFlight.set(installationId, pending);
    }
    return (await raceAbort(pending, signal)).token;
  }

  /**
   * Drops the cached token after GitHub answered 401 with it. Passing the rejected
   * token keeps a concurrent caller's failure from discarding a newer one.
   */
  invalidate(installationId: number, rejectedToken?: string): void {
    const cached = this.#tokens.get(installationId);
    if (cached && (rejectedToken === undefined || cached.token === rejectedToken)) this.#tokens.delete(installationId);
  }

  get size(): number {
    return this.#tokens.size;
  }
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e) => { signal.removeEventListener('abort', onAbort); reject(e); },
    );
  });
}
