import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Status } from './collect.ts';
import { renderStatus } from './render.ts';

/**
 * `GET /status`: the status view as JSON, or as the text `npm run status` prints with
 * `?format=text`. A plain (req, res) handler so that whichever listener serves the private
 * port (today the one with /metrics) mounts it with one line.
 */
export function statusHandler(collect: () => Promise<Status>): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    req.resume();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET', 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ error: 'use GET' }));
    }
    const status = await collect();
    const text = new URL(req.url ?? '/', 'http://status').searchParams.get('format') === 'text';
    const body = text ? renderStatus(status) : JSON.stringify(status);
    res.writeHead(200, { 'content-type': text ? 'text/plain; charset=utf-8' : 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
