import { parentPort } from 'node:worker_threads';
import { policyByName } from './policies.ts';
import { replayTrace } from './replay.ts';
import { policyStats } from './stats.ts';
import { generateTrace, TRACE_SPECS } from './traces.ts';
import type { SweepTask, SweepReply } from './sweep.ts';

/**
 * One worker thread of the sweep: replays the (trace, seed, policy) it is sent, each in a fresh
 * simulated cluster of its own, and answers with the stats. Only names cross the thread
 * boundary; the trace and policy are rebuilt here (both are pure functions of their names).
 */
parentPort!.on('message', (task: SweepTask) => {
  void (async (): Promise<SweepReply> => {
    try {
      const spec = TRACE_SPECS.find((s) => s.name === task.trace);
      if (!spec) throw new Error(`unknown trace ${task.trace}`);
      const trace = generateTrace({ ...spec, seed: task.seed });
      const stats = policyStats(await replayTrace(trace, policyByName(task.policy)));
      return { id: task.id, stats, jobs: trace.jobs.length };
    } catch (err) {
      return { id: task.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
    }
  })().then((reply) => parentPort!.postMessage(reply));
});
