import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../../runtime/log.ts';
import { errors, StatusError } from '../api/errors.ts';
import type { Registry } from '../api/registry.ts';
import type { SimClock } from '../clock.ts';
import { jsonOf } from '../store/store.ts';
import type { WatchHub } from '../store/watch-hub.ts';
import { handleResource } from './handlers.ts';
import { route } from './routes.ts';
import { WatchStreams } from './watch-stream.ts';

const MAX_BODY = 3 * 1024 * 1024;

export interface ApiServerOptions {
  registry: Registry;
  hub: WatchHub;
  clock: SimClock;
  log: Logger;
  /** 0 (default): a free port. Always bound to 127.0.0.1. */
  port?: number;
  bookmarkIntervalMs?: number;
}

export interface ApiServer {
  readonly url: string;
  readonly port: number;
  readonly watches: WatchStreams;
  close(): Promise<void>;
}

/** The Kubernetes REST API over plain HTTP on loopback. */
export async function startApiServer(o: ApiServerOptions): Promise<ApiServer> {
  const watches = new WatchStreams(o.registry.store, o.hub, { bookmarkIntervalMs: o.bookmarkIntervalMs ?? 5_000 }, () => o.clock.now());
  let host = '127.0.0.1:0';
  const server: Server = createServer((req, res) => {
    const release = o.clock.hold();
    serve(req, res)
      .catch((e) => sendError(res, e, o.log))
      .finally(release);
  });
  server.keepAliveTimeout = 60_000;

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const qi = url.indexOf('?');
    const path = qi >= 0 ? url.slice(0, qi) : url;
    const q = new URLSearchParams(qi >= 0 ? url.slice(qi + 1) : '');
    const body = await readBody(req);
    const r = route(path, host);
    if (r.kind === 'static') {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw errors.methodNotAllowed(`${req.method} is not supported on ${path}`);
      if (r.contentType) {
        res.writeHead(200, { 'Content-Type': r.contentType });
        res.end(String(r.body));
      } else send(res, 200, r.body);
      return;
    }
    const reply = handleResource(o.registry, watches, req, res, r, q, body);
    if (reply) send(res, reply.code, reply.body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  host = `127.0.0.1:${port}`;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    watches,
    close: async () => {
      watches.endAll();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 200).unref();
      });
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  if (req.method === 'GET' || req.method === 'HEAD') {
    req.resume();
    return Promise.resolve('');
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(errors.tooLarge());
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, code: number, body: unknown): void {
  // jsonOf: a stored object's JSON is shared with every watcher that receives it.
  const text = typeof body === 'string' ? body : jsonOf(body as object);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, e: unknown, log: Logger): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  if (e instanceof StatusError) return send(res, e.code, e.toStatus());
  log.error({ err: e }, 'sim api server: internal error');
  send(res, 500, new StatusError(500, 'InternalError', `Internal error occurred: ${(e as Error)?.message ?? String(e)}`).toStatus());
}
