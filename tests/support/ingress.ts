import type { Server } from 'node:http';
import { createIngressMetrics } from '../../runtime/ingress/metrics.ts';
import { createIngressServer, listen, type IngressServerDeps } from '../../runtime/ingress/server.ts';
import { parseRunsOn } from '../../runtime/labels/parse.ts';
import { silentLogger } from '../../runtime/log.ts';
import { createRegistry } from '../../runtime/metrics/registry.ts';
import { JobQueue } from '../../runtime/queue/job-queue.ts';
import { systemClock } from '../../runtime/util/clock.ts';
import { Connections, uniquePrefix } from './valkey.ts';

export const SECRET = 'test-webhook-secret-current';
export const PREVIOUS_SECRET = 'test-webhook-secret-previous';

/** An ingress on a real HTTP server, writing to a real queue under a unique prefix. */
export async function startTestIngress(overrides: Partial<IngressServerDeps> = {}) {
  const conns = new Connections();
  const queue = new JobQueue(conns.command(), { prefix: uniquePrefix('ingress'), consumer: 'test' });
  await conns.ready();
  await queue.ensureGroup();
  const registry = createRegistry();
  const server: Server = createIngressServer({
    secrets: () => [SECRET, PREVIOUS_SECRET],
    classify: (labels) => parseRunsOn(labels),
    enqueue: (job) => queue.enqueue(job),
    clock: systemClock,
    log: silentLogger(),
    metrics: createIngressMetrics(registry),
    ready: async () => true,
    ...overrides,
  });
  const { port } = await listen(server, 0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}`,
    queue,
    registry,
    async stop() {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
      conns.closeAll();
    },
  };
}

export async function post(url: string, body: string | Buffer, headers: Record<string, string>) {
  const res = await fetch(url, { method: 'POST', body, headers });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, json };
}
