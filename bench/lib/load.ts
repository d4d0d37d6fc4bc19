import { Worker } from 'node:worker_threads';

export interface LoadOptions {
  url: string;
  concurrency: number;
  count: number;
  /** The request body with `sentinel` where each request's unique number goes. */
  template: string;
  sentinel: string;
  /** Request i carries idBase + i. */
  idBase: number;
  /** Webhook secret the worker signs each body with (X-Hub-Signature-256). */
  secret: string;
}

export interface LoadResult {
  /** Per-request latency, ms (request sent → response body read). */
  latencies: number[];
  statuses: Record<string, number>;
  errors: number;
  elapsedMs: number;
  /** Completed requests per second. */
  rps: number;
}

/** Sends `count` signed POSTs with `concurrency` keep-alive connections from a worker thread. */
export function runLoad(o: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./load-worker.mjs', import.meta.url), { workerData: o, execArgv: [] });
    worker.once('message', (m: { latencies: Float64Array; statuses: Record<string, number>; errors: number; elapsedMs: number }) => {
      resolve({ latencies: Array.from(m.latencies), statuses: m.statuses, errors: m.errors, elapsedMs: m.elapsedMs, rps: (o.count / m.elapsedMs) * 1000 });
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`load worker exited with code ${code}`));
    });
  });
}
