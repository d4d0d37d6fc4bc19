import { parentPort } from 'node:worker_threads';
import { replayTrace } from '../../bench/warm-pool/replay.ts';
import { percentile } from '../../bench/warm-pool/stats.ts';
import type { Outcome, WorkerReply, WorkerRequest } from './replay.ts';

/**
 * One side of a what-if: the recorded trace through a fresh simulated cluster (the stack's
 * NodePools, the sim's sourced timing profile) with the orchestrator's real WarmPoolController
 * running the side's config every 15 s, as the leader does — the bench's replayTrace.
 */
parentPort!.once('message', (req: WorkerRequest) => {
  const post = (m: WorkerReply) => parentPort!.postMessage(m);
  void (async () => {
    try {
      const { trace, side, days } = req;
      const r = await replayTrace(trace, { name: side.name, kind: 'controller', title: side.name, config: side.name, doc: side.doc, controller: true }, {
        cluster: side.cluster,
        onProgress: (at, created) => post({ type: 'progress', at, created }),
      });
      const started = r.starts.flatMap((s) => (s.startMs === undefined ? [] : [s.startMs / 1000])).sort((a, b) => a - b);
      const outcome: Outcome = {
        jobs: r.starts.length,
        p50StartS: percentile(started, 0.5),
        p95StartS: percentile(started, 0.95),
        coldStarts: r.starts.filter((s) => !s.warm).length,
        warmHitRate: r.starts.filter((s) => s.warm).length / Math.max(1, r.starts.length),
        neverStarted: r.starts.length - started.length,
        nodesLaunched: r.nodesLaunched,
        nodeUsdPerDay: r.nodeUsd / days,
        idleUsdPerDay: r.placeholderUsd / days,
        wallMs: r.wallMs,
      };
      post({ type: 'done', outcome });
    } catch (err) {
      post({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  })();
});
