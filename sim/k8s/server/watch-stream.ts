import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors, StatusError } from '../api/errors.ts';
import { apiVersionOf, type ResourceType } from '../api/resources.ts';
import { parseFieldSelector, parseLabelSelector } from '../api/selectors.ts';
import type { Stored, WatchEventType } from '../api/types.ts';
import { jsonOf, type ObjectStore } from '../store/store.ts';
import type { WatchHub } from '../store/watch-hub.ts';
import { toTable, wantsTable } from './table.ts';

export interface WatchStreamOptions {
  /** Real milliseconds between BOOKMARK events for watches that ask for them. */
  bookmarkIntervalMs: number;
}

/**
 * One `?watch=true` request: newline-delimited JSON events until the client goes away, the
 * server stops, or timeoutSeconds passes. An expired resourceVersion is answered like the
 * real server does: HTTP 200, one ERROR event carrying a 410 Expired Status, end of stream.
 */
export class WatchStreams {
  private readonly open = new Set<ServerResponse>();

  constructor(
    private readonly store: ObjectStore,
    private readonly hub: WatchHub,
    private readonly options: WatchStreamOptions,
    private readonly now: () => number,
  ) {}

  serve(req: IncomingMessage, res: ServerResponse, t: ResourceType, ns: string | undefined, q: URLSearchParams): void {
    const labels = parseLabelSelector(q.get('labelSelector'));
    const fields = parseFieldSelector(q.get('fieldSelector'), t);
    const rvParam = q.get('resourceVersion') ?? '';
    const initialEvents = q.get('sendInitialEvents') === 'true';
    const bookmarks = q.get('allowWatchBookmarks') === 'true';
    let from: number | 'current' = 'current';
    if (rvParam !== '' && rvParam !== '0' && !initialEvents) {
      from = Number(rvParam);
      if (!Number.isInteger(from) || from < 0) throw errors.badRequest(`invalid resource version "${rvParam}"`);
    }

    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    this.open.add(res);
    const write = (type: string, objJson: string) => {
      if (!res.writableEnded) res.write(`{"type":"${type}","object":${objJson}}\n`);
    };
    const bookmark = (annotations?: Record<string, string>) =>
      write('BOOKMARK', JSON.stringify({ kind: t.kind, apiVersion: apiVersionOf(t), metadata: { resourceVersion: String(this.store.currentRv()), ...(annotations ? { annotations } : {}) } }));

    let unsubscribe: (() => void) | undefined;
    try {
      // kubectl get -w asks for Tables: each event then carries a one-row Table.
      const encode = wantsTable(req.headers.accept) ? (obj: Stored) => JSON.stringify(toTable(t, [obj], this.now())) : jsonOf;
      unsubscribe = this.hub.subscribe(t, from, { namespace: ns, labels, fields }, (type: WatchEventType, obj: Stored) => write(type, encode(obj)));
    } catch (e) {
      if (e instanceof StatusError) {
        write('ERROR', JSON.stringify(e.toStatus()));
        this.open.delete(res);
        res.end();
        return;
      }
      throw e;
    }
    if (initialEvents && bookmarks) bookmark({ 'k8s.io/initial-events-end': 'true' });

    const timers: NodeJS.Timeout[] = [];
    if (bookmarks) timers.push(setInterval(() => bookmark(), this.options.bookmarkIntervalMs).unref());
    const timeout = Number(q.get('timeoutSeconds') ?? '');
    if (timeout > 0) timers.push(setTimeout(() => res.end(), timeout * 1000).unref());
    const cleanup = () => {
      unsubscribe?.();
      unsubscribe = undefined;
      for (const tm of timers) clearTimeout(tm);
      this.open.delete(res);
    };
    res.on('close', cleanup);
    res.on('finish', cleanup);
    req.on('close', cleanup);
  }

  /** Ends every open watch cleanly (informers then re-watch, and find the server gone). */
  endAll(): void {
    for (const res of this.open) res.end();
    this.open.clear();
  }

  count(): number {
    return this.open.size;
  }
}
