// HTTP load generator for bench/lib/load.ts, in its own thread so that the client does not
// share an event loop with the servers it measures. Plain JS: no loader needed in the worker.
import { createHmac, randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { Pool } from 'undici';

const { url, concurrency, count, template, sentinel, idBase, secret } = workerData;
const target = new URL(url);
const pool = new Pool(target.origin, { connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
const parts = template.split(sentinel);

function build(i) {
  // A unique job id per request, so the ingress dedupe never short-cuts a store.
  const body = parts.join(String(idBase + i));
  return {
    path: target.pathname,
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/044aadd',
      'x-github-event': 'workflow_job',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    },
    body,
  };
}

const latencies = new Float64Array(count);
const statuses = {};
let next = 0;
let errors = 0;

async function loop() {
  for (;;) {
    const i = next++;
    if (i >= count) return;
    const req = build(i);
    const start = performance.now();
    try {
      const res = await pool.request(req);
      await res.body.dump();
      statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
    } catch {
      errors++;
    }
    latencies[i] = performance.now() - start;
  }
}

const t0 = performance.now();
await Promise.all(Array.from({ length: concurrency }, loop));
const elapsedMs = performance.now() - t0;
await pool.close();
parentPort.postMessage({ latencies, statuses, errors, elapsedMs }, [latencies.buffer]);
