import { Valkey, type RedisOptions } from 'iovalkey';

export type { Valkey };

/**
 * Connections to Valkey. Two kinds, because their failure modes differ:
 * - `command`: fails fast while Valkey is unreachable (no offline queue), so the
 *   ingress can answer 503 within GitHub's 10 s instead of hanging or, worse, 2xx.
 * - `blocking`: for XREADGROUP BLOCK; its command timeout must exceed the BLOCK time
 *   (iovalkey applies commandTimeout to blocking commands too).
 */
export function connectValkey(url: string, kind: 'command' | 'blocking', extra: RedisOptions = {}): Valkey {
  const common: RedisOptions = {
    lazyConnect: false,
    // iovalkey defaults to IPv4 only; 0 lets DNS pick, as clusters may be IPv6.
    family: 0,
    connectTimeout: 5_000,
    retryStrategy: (n) => Math.min(n * 200, 5_000),
  };
  const byKind: RedisOptions =
    kind === 'command'
      ? {
          enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 3_000,
          // Commands made in one turn of the event loop go out as one pipeline (iovalkey flushes
          // on setImmediate, after every ready socket was handled): deliveries that arrive together
          // cost Valkey one read and the ingress one write. Measured (32 concurrent deliveries,
          // 2 cores): Valkey CPU per delivery 38–41 µs instead of 56–65, the ingress's own 5–10 % less.
          enableAutoPipelining: true,
        }
      : { enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined, enableAutoPipelining: false };
  return new Valkey(url, { ...common, ...byKind, ...extra });
}

/** Resolves once the connection is ready, or rejects after `timeoutMs`. */
export async function waitReady(client: Valkey, timeoutMs = 10_000): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Valkey not ready after ${timeoutMs} ms (status ${client.status})`));
    }, timeoutMs);
    const onReady = () => { cleanup(); resolve(); };
    const cleanup = () => { clearTimeout(timer); client.off('ready', onReady); };
    client.on('ready', onReady);
  });
}

/** Readiness: connected and answering PING. */
export async function valkeyReady(client: Valkey): Promise<boolean> {
  if (client.status !== 'ready') return false;
  try {
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  }
}
