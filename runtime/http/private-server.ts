import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../log.ts';

/** A GET handler mounted on the private port (e.g. `/status`). */
export type PrivateRoute = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export interface PrivateServerDeps {
  registry: Registry;
  /** Same readiness as the webhook listener's /readyz. */
  ready: () => Promise<boolean>;
  log: Logger;
}

export interface PrivateServer {
  readonly server: Server;
  /**
   * Adds a GET route, e.g. `mount('/status', handler)`. Paths are exact (no prefixes,
   * no query matching); mounting a path twice, or one of the built-ins, throws.
   */
  mount(path: string, handler: PrivateRoute): void;
}

const BUILT_IN = ['/metrics', '/healthz', '/readyz'] as const;

/**
 * The orchestrator's private HTTP surface: /metrics, /healthz, /readyz and any mounted
 * route (status), on its own port. Nothing here is behind the load balancer: the
 * Service that exposes this port is ClusterIP only, and a NetworkPolicy admits only pods
 * of the cluster (infra/orchestrator.ts). Queue depths, rate-limit state and class
 * labels are not for the internet.
 */
export function createPrivateServer(deps: PrivateServerDeps): PrivateServer {
  const routes = new Map<string, PrivateRoute>();
  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      deps.log.error({ err }, 'private request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return sendJson(res, 405, { error: 'use GET' });
    }
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/metrics') {
      const body = await deps.registry.metrics();
      res.writeHead(200, { 'content-type': deps.registry.contentType });
      return void res.end(body);
    }
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      const ok = await deps.ready().catch(() => false);
      return sendJson(res, ok ? 200 : 503, { status: ok ? 'ready' : 'not ready' });
    }
    const route = routes.get(path);
    if (route) return route(req, res);
    return sendJson(res, 404, { error: 'not found' });
  }

  return {
    server,
    mount(path, handler) {
      if (!path.startsWith('/')) throw new Error(`private route "${path}" must start with "/"`);
      if ((BUILT_IN as readonly string[]).includes(path) || routes.has(path)) throw new Error(`private route ${path} is already mounted`);
      routes.set(path, handler);
    },
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
