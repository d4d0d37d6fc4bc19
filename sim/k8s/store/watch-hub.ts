import { errors } from '../api/errors.ts';
import type { ResourceType } from '../api/resources.ts';
import type { FieldMatcher, LabelMatcher } from '../api/selectors.ts';
import type { Stored, WatchEventType } from '../api/types.ts';
import type { ObjectStore, StoreEvent } from './store.ts';

export interface WatchFilter {
  namespace?: string;
  labels: LabelMatcher;
  fields: FieldMatcher;
}

export type WatchSink = (type: WatchEventType, obj: Stored) => void;

interface History {
  events: StoreEvent[];
  head: number;
  /** Events at or below this resourceVersion are gone: a watch from an older version gets 410. */
  compactedRv: number;
}

interface Subscriber {
  filter: WatchFilter;
  sink: WatchSink;
}

/**
 * Watch fan-out with a bounded event history per resource, like the API server's watch
 * cache: a watch may resume from any resourceVersion still in the window; older ones are
 * answered with 410 Expired so the client re-lists.
 */
export class WatchHub {
  private readonly histories = new Map<string, History>();
  private readonly subscribers = new Map<string, Set<Subscriber>>();

  constructor(
    private readonly store: ObjectStore,
    private readonly historyLimit = 10_000,
  ) {
    store.onEvent((e) => this.onEvent(e));
  }

  /**
   * Starts a watch. `from` 'current' sends every matching object as ADDED first (resourceVersion
   * unset or "0"); a number replays the events after it. Throws a 410 StatusError when the
   * version has been compacted away.
   */
  subscribe(t: ResourceType, from: number | 'current', filter: WatchFilter, sink: WatchSink): () => void {
    if (from === 'current') {
      for (const obj of this.store.iterate(t, filter.namespace)) if (matches(filter, obj)) sink('ADDED', obj);
    } else {
      const h = this.history(t);
      if (from < h.compactedRv) throw errors.expired(`too old resource version: ${from} (${h.compactedRv})`);
      for (let i = firstAfter(h, from); i < h.events.length; i++) {
        const out = translate(h.events[i]!, filter);
        if (out) sink(out[0], out[1]);
      }
    }
    const sub: Subscriber = { filter, sink };
    let set = this.subscribers.get(t.plural);
    if (!set) this.subscribers.set(t.plural, (set = new Set()));
    set.add(sub);
    return () => set.delete(sub);
  }

  /** Forgets every recorded event (as an etcd compaction would): older resourceVersions now get 410. */
  compact(): void {
    const rv = this.store.currentRv();
    for (const h of this.histories.values()) {
      h.events = [];
      h.head = 0;
      h.compactedRv = rv;
    }
  }

  watcherCount(): number {
    let n = 0;
    for (const s of this.subscribers.values()) n += s.size;
    return n;
  }

  private history(t: ResourceType): History {
    let h = this.histories.get(t.plural);
    if (!h) this.histories.set(t.plural, (h = { events: [], head: 0, compactedRv: 0 }));
    return h;
  }

  private onEvent(e: StoreEvent): void {
    const h = this.history(e.resource);
    h.events.push(e);
    if (h.events.length - h.head > this.historyLimit) {
      h.compactedRv = h.events[h.head]!.rv;
      h.head++;
      // Drop the dead prefix in chunks so trimming stays O(1) amortised.
      if (h.head > 1024 && h.head * 2 > h.events.length) {
        h.events = h.events.slice(h.head);
        h.head = 0;
      }
    }
    const subs = this.subscribers.get(e.resource.plural);
    if (!subs) return;
    for (const s of subs) {
      const out = translate(e, s.filter);
      if (out) s.sink(out[0], out[1]);
    }
  }
}

function firstAfter(h: History, rv: number): number {
  let lo = h.head;
  let hi = h.events.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (h.events[mid]!.rv <= rv) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function matches(f: WatchFilter, obj: Stored): boolean {
  if (f.namespace !== undefined && obj.metadata.namespace !== f.namespace) return false;
  return f.labels(obj.metadata.labels) && f.fields(obj);
}

/** What a filtered watcher sees: an object leaving the selection is DELETED for it, one entering is ADDED. */
function translate(e: StoreEvent, f: WatchFilter): [WatchEventType, Stored] | undefined {
  if (e.type === 'ADDED') return matches(f, e.object) ? ['ADDED', e.object] : undefined;
  if (e.type === 'DELETED') return matches(f, e.old ?? e.object) ? ['DELETED', e.object] : undefined;
  const now = matches(f, e.object);
  const before = e.old ? matches(f, e.old) : false;
  if (now && before) return ['MODIFIED', e.object];
  if (now) return ['ADDED', e.object];
  if (before) return ['DELETED', e.object];
  return undefined;
}
