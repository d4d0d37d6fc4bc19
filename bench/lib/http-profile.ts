import diagnostics from 'node:diagnostics_channel';

/**
 * Times every undici request in this process (the orchestrator's GitHub and Kubernetes
 * clients, client-node's, the bench's own) through undici's diagnostics channels: from
 * the request's creation to the response headers (queueing for a connection included).
 * `label` names a request or returns undefined to ignore it.
 */
export function profileHttp(label: (origin: string, method: string, path: string) => string | undefined) {
  const started = new WeakMap<object, { at: number; label: string }>();
  let samples = new Map<string, number[]>();
  const create = diagnostics.channel('undici:request:create');
  const headers = diagnostics.channel('undici:request:headers');
  const onCreate = (m: unknown) => {
    const { request } = m as { request: { origin: string | URL; method: string; path: string } };
    const l = label(String(request.origin), request.method, request.path);
    if (l) started.set(request, { at: performance.now(), label: l });
  };
  const onHeaders = (m: unknown) => {
    const { request } = m as { request: object };
    const s = started.get(request);
    if (!s) return;
    started.delete(request);
    const list = samples.get(s.label) ?? [];
    list.push(performance.now() - s.at);
    samples.set(s.label, list);
  };
  create.subscribe(onCreate);
  headers.subscribe(onHeaders);
  return {
    /** The samples since the last reset, by label. */
    take(): Map<string, number[]> {
      const out = samples;
      samples = new Map();
      return out;
    },
    stop() {
      create.unsubscribe(onCreate);
      headers.unsubscribe(onHeaders);
    },
  };
}
