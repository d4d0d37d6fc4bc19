import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { handleWebhook, type WebhookDeps } from './webhook-handler.ts';

export interface IngressServerDeps extends WebhookDeps {
  registry: Registry;
  /** Ready to take webhooks: Valkey reachable and the config document loaded. */
  ready: () => Promise<boolean>;
  /** GET /status (runtime/status/http.ts), beside /metrics until the private port has its own listener. */
  status?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

/** The orchestrator's HTTP surface: POST /webhook, GET /healthz, /readyz, /metrics, /status. */
export function createIngressServer(deps: IngressServerDeps): Server {
  const server = createServer((req, res) => {
    route(req, res, deps).catch((err) => {
      deps.log.error({ err }, 'request failed');
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  // GitHub waits 10 s for an answer; a client that trickles a body for longer is cut off.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 65_000;
  return server;
}

async function route(req: IncomingMessage, res: ServerResponse, deps: IngressServerDeps): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/webhook') {
    if (req.method !== 'POST') {
      req.resume();
      res.setHeader('allow', 'POST');
      return send(res, 405, { error: 'use POST' });
    }
    const end = deps.metrics.duration.startTimer();
    const r = await handleWebhook(req, deps);
    deps.metrics.requests.inc({ status: String(r.status), outcome: r.outcome });
    end({ outcome: r.outcome });
    return send(res, r.status, r.body);
  }
  if (path === '/status' && deps.status) return deps.status(req, res);
  req.resume();
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'use GET' });
  if (path === '/healthz') return send(res, 200, { status: 'ok' });
  if (path === '/readyz') {
    const ok = await deps.ready().catch(() => false);
    return send(res, ok ? 200 : 503, { status: ok ? 'ready' : 'not ready' });
  }
  if (path === '/metrics') {
    res.writeHead(200, { 'content-type': deps.registry.contentType });
    return void res.end(await deps.registry.metrics());
  }
  return send(res, 404, { error: 'not found' });
}

function send(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export async function listen(server: Server, port: number, host = '0.0.0.0'): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}
