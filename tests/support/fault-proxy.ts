import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxyFault {
  method?: string;
  /** Matched against the request path (with query). */
  path: RegExp;
  /** Answer with this status (a Kubernetes Status body) instead of forwarding. */
  status?: number;
  /** Hold the request this long before forwarding (to trip client timeouts). */
  delayMs?: number;
  times: number;
}

/**
 * A real HTTP hop in front of an API server that can fail or stall chosen requests:
 * lets tests put 500s and timeouts between a real client and the simulated cluster.
 */
export async function startFaultProxy(target: string) {
  const upstream = new URL(target);
  const faults: ProxyFault[] = [];
  const hits: { method: string; path: string; fault: boolean }[] = [];
  const server: Server = createServer((req, res) => {
    const fault = take(req);
    hits.push({ method: req.method ?? '', path: req.url ?? '', fault: Boolean(fault?.status) });
    if (fault?.status) {
      req.resume();
      res.writeHead(fault.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: fault.status, reason: 'InternalError', message: 'injected fault' }));
      return;
    }
    const forward = () => {
      const up = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      req.pipe(up);
      res.on('close', () => up.destroy());
    };
    if (fault?.delayMs) setTimeout(forward, fault.delayMs);
    else forward();
  });
  function take(req: IncomingMessage): ProxyFault | undefined {
    const f = faults.find((x) => x.times > 0 && (!x.method || x.method === req.method) && x.path.test(req.url ?? ''));
    if (f) f.times--;
    return f;
  }
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    inject: (fault: ProxyFault) => void faults.push(fault),
    hits: () => hits,
    async stop() {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
    },
  };
}
