import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../log.ts';
import { backoffDelay, type BackoffOptions } from '../../util/backoff.ts';
import { isAbortError, type Clock } from '../../util/clock.ts';
import type { WatcherMetrics } from './metrics.ts';

export type InformerEvent = 'add' | 'update' | 'delete';

export interface InformerOptions<T extends KubernetesObject> {
  kc: KubeConfig;
  /** API path of the collection, e.g. `/apis/batch/v1/namespaces/<ns>/jobs`. */
  path: string;
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  /** Bounded metric label: `jobs`, `pods`. */
  resource: string;
  onEvent: (event: InformerEvent, obj: T) => void;
  clock: Clock;
  log: Logger;
  metrics?: WatcherMetrics;
  /** Delay between restarts after the informer stopped on an error (1 s doubling to 30 s by default). */
  restartBackoff?: BackoffOptions;
}

export interface Informer<T extends KubernetesObject> {
  get(name: string, namespace?: string): T | undefined;
  list(): readonly T[];
  /** True once the first list arrived. */
  synced(): boolean;
  /**
   * Starts listing and watching in the background: a watch through a proxy may not
   * answer until its first event, and startup must not wait for that. synced() tells
   * when the first list arrived.
   */
  start(): void;
  stop(): Promise<void>;
}

/**
 * A client-node ListWatch that does not stay dead. client-node 2.0.1 handles a 410 Gone
 * (expired resourceVersion) itself by listing again, and reconnects after a clean close;
 * but a failed list, an abrupt close, or any other error stops it for good after emitting
 * `error`. This wrapper restarts it then, with backoff, resuming from the last
 * resourceVersion (a stale one earns a 410, which means a fresh list).
 */
export function createInformer<T extends KubernetesObject>(o: InformerOptions<T>): Informer<T> {
  const stopped = new AbortController();
  const backoff = o.restartBackoff ?? { baseMs: 1_000, maxMs: 30_000 };
  // Its own reconnect delays use our clock, so a stop() cuts them short.
  const delayFn = (ms: number) => o.clock.sleep(ms, stopped.signal).catch(() => {});
  const lw = new ListWatch<T>(o.path, new Watch(o.kc), o.list, false, o.labelSelector, undefined, { delayFn });
  let failures = 0;
  let restarting = false;

  const emit = (event: InformerEvent) => (obj: T) => {
    failures = 0;
    try {
      o.onEvent(event, obj);
    } catch (err) {
      o.log.error({ err: { message: (err as Error).message }, resource: o.resource }, 'informer handler failed');
    }
  };
  lw.on('add', emit('add'));
  lw.on('update', emit('update'));
  lw.on('delete', emit('delete'));
  lw.on('error', (err) => {
    if (stopped.signal.aborted || restarting) return;
    restarting = true;
    failures++;
    const delay = backoffDelay(failures, backoff);
    o.metrics?.informerRestarts.inc({ resource: o.resource });
    o.log.warn({ resource: o.resource, err: { message: (err as Error)?.message ?? String(err) }, delayMs: delay }, 'informer stopped; restarting');
    void restart(delay);
  });

  async function restart(delayMs: number): Promise<void> {
    try {
      await o.clock.sleep(delayMs, stopped.signal);
    } catch (err) {
      if (isAbortError(err)) return;
    } finally {
      restarting = false;
    }
    if (!stopped.signal.aborted) await lw.start().catch(() => {});
  }

  return {
    get: (name, namespace) => lw.get(name, namespace),
    list: () => lw.list(),
    synced: () => !!lw.latestResourceVersion(),
    start: () => {
      void lw.start().catch(() => {});
    },
    stop: async () => {
      stopped.abort();
      await lw.stop();
    },
  };
}
