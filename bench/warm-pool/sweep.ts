import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { PolicyStats } from './stats.ts';

/**
 * Runs the sweep's replays on worker threads, one per core (os.availableParallelism; the
 * machines are 2 shared cores), each replay in its own simulated cluster on its own virtual
 * clock, so the results do not depend on how many run at once — only the wall time does.
 * WARM_POOL_WORKERS overrides the count.
 */

export interface SweepTask {
  id: number;
  trace: string;
  seed: number;
  policy: string;
}

export type SweepReply = { id: number; stats: PolicyStats; jobs: number; error?: undefined } | { id: number; error: string };

export interface SweepResult extends SweepTask {
  stats: PolicyStats;
  jobs: number;
}

const WORKER = new URL('./worker.ts', import.meta.url);

export function workerCount(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.WARM_POOL_WORKERS);
  return Number.isInteger(n) && n > 0 ? n : Math.max(1, availableParallelism());
}

export async function runSweep(
  tasks: readonly Omit<SweepTask, 'id'>[],
  o: { workers: number; progress: (done: SweepResult, finished: number, total: number) => void; signal: AbortSignal },
): Promise<SweepResult[]> {
  const queue = tasks.map((t, id) => ({ ...t, id }));
  // Longest first (controllers, then the big traces), so the last replay left is a short one.
  const weight = (t: SweepTask) => (t.policy.startsWith('controller') ? 4 : 1) * (t.trace === 'small-team' ? 0.3 : 1);
  queue.sort((a, b) => weight(b) - weight(a) || a.id - b.id);
  const results: SweepResult[] = new Array(tasks.length);
  let finished = 0;
  // tsx registers its loader through execArgv; the workers inherit it and so load .ts too.
  const execArgv = process.execArgv.some((a) => a.includes('tsx')) ? process.execArgv : [...process.execArgv, '--import', 'tsx'];
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const worker = new Worker(WORKER, { execArgv });
      const next = () => {
        const task = queue.shift();
        if (!task || o.signal.aborted) {
          void worker.terminate().then(() => (o.signal.aborted ? reject(new Error('stopped')) : resolve()));
          return;
        }
        worker.once('message', (reply: SweepReply) => {
          if (reply.error !== undefined) {
            void worker.terminate();
            reject(new Error(`replay ${task.trace} seed ${task.seed} ${task.policy}: ${reply.error}`));
            return;
          }
          const r = { ...task, stats: reply.stats, jobs: reply.jobs };
          results[task.id] = r;
          o.progress(r, ++finished, tasks.length);
          next();
        });
        worker.postMessage(task);
      };
      worker.once('error', reject);
      next();
    });
  await Promise.all(Array.from({ length: Math.min(o.workers, Math.max(1, tasks.length)) }, one));
  return results;
}
