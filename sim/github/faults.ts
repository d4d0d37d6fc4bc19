/**
 * Failure injection: the next N requests to a route (or to any route, `*`) get a
 * fault instead of, or before, normal handling. Faults queue per route in the order
 * injected; a route-specific fault is used before a `*` one.
 */
export type Fault =
  /** Answer with this status and GitHub's error body shape (500, 502, 404, …). */
  | { kind: 'status'; status: number; message?: string; retryAfterS?: number }
  /** "You have exceeded a secondary rate limit", with retry-after. */
  | { kind: 'secondary'; retryAfterS?: number; status?: 403 | 429 }
  /** "API rate limit exceeded": x-ratelimit-remaining 0 until a reset `resetInS` away. */
  | { kind: 'primary'; resetInS?: number; status?: 403 | 429 }
  /** Wait this long (real time), then handle normally. */
  | { kind: 'delay'; ms: number }
  /** Never answer (until the client gives up or the double stops). */
  | { kind: 'hang' }
  /** Destroy the connection without a response (a network error). */
  | { kind: 'reset' }
  /** Hold the request until `until` settles, then handle it normally; `onArrive` is called when it arrives. */
  | { kind: 'hold'; until: Promise<unknown>; onArrive?: () => void }
  /** Handle the request (its effect happens, e.g. a runner is registered), then drop the connection: a lost reply. */
  | { kind: 'drop-reply' };

interface Pending {
  fault: Fault;
  remaining: number;
}

export class FaultInjector {
  readonly #byRoute = new Map<string, Pending[]>();
  #injected = 0;

  inject(route: string, fault: Fault, times = 1): void {
    if (!Number.isInteger(times) || times < 1) throw new RangeError(`inject: times must be a positive integer (got ${times})`);
    const queue = this.#byRoute.get(route) ?? [];
    queue.push({ fault, remaining: times });
    this.#byRoute.set(route, queue);
  }

  /** The fault for this request, if any, consuming one use. */
  take(route: string): Fault | undefined {
    for (const key of [route, '*']) {
      const queue = this.#byRoute.get(key);
      const head = queue?.[0];
      if (!queue || !head) continue;
      if (--head.remaining === 0) queue.shift();
      this.#injected++;
      return head.fault;
    }
    return undefined;
  }

  clear(): void {
    this.#byRoute.clear();
  }

  /** Faults served so far. */
  get injected(): number {
    return this.#injected;
  }
}
