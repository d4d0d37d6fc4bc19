import { Worker } from 'node:worker_threads';
import type { Trace } from '../../bench/warm-pool/traces.ts';
import type { ConfigDocument } from '../../runtime/config/document.ts';
import { LabelError } from '../../runtime/labels/errors.ts';
import { parseRunsOn } from '../../runtime/labels/parse.ts';
import { resolveRunner } from '../../runtime/labels/resolve.ts';
import type { FromConfigOptions } from '../k8s/index.ts';
import { skip, TraceError, type RecordedJob, type Skipped } from './records.ts';

/** What one configuration gives on the trace (the replay's own numbers). */
export interface Outcome {
  jobs: number;
  p50StartS: number;
  p95StartS: number;
  coldStarts: number;
  warmHitRate: number;
  neverStarted: number;
  nodesLaunched: number;
  /** The sim's node cost over the window ÷ its days. */
  nodeUsdPerDay: number;
  /** The placeholders' share of it ÷ the days. */
  idleUsdPerDay: number;
  wallMs: number;
}

export interface Side {
  name: 'current' | 'proposed';
  doc: ConfigDocument;
  cluster: FromConfigOptions;
}

export type WorkerRequest = { trace: Trace; side: Side; days: number };
export type WorkerReply =
  | { type: 'progress'; at: number; created: number }
  | { type: 'done'; outcome: Outcome }
  | { type: 'error'; message: string };

/**
 * Leaves out jobs with no runs-fleet label (a GitHub export lists every job of a run) and
 * checks that every other one resolves to a class under each configuration, as the
 * orchestrator would resolve it. A job that does not (unknown class, bad label) stops the
 * what-if with where it came from, unless `skipUnknown` leaves such jobs out.
 */
export function classify(jobs: readonly RecordedJob[], sides: readonly Side[], skipped: Skipped, skipUnknown: boolean): RecordedJob[] {
  const out: RecordedJob[] = [];
  const bad: Array<{ job: RecordedJob; side: string; detail: string }> = [];
  for (const job of jobs) {
    let keep = true;
    for (const side of sides) {
      try {
        const request = parseRunsOn(job.labels, side.doc.aliases);
        if (!request) {
          keep = false;
          skip(skipped, 'not a runs-fleet job (no runs-fleet label or alias)');
          break;
        }
        resolveRunner(request, side.doc);
      } catch (err) {
        if (!(err instanceof LabelError)) throw err;
        keep = false;
        bad.push({ job, side: side.name, detail: `${err.reason}: ${err.detail}` });
        break;
      }
    }
    if (keep) out.push(job);
  }
  if (bad.length && !skipUnknown) {
    const shown = bad.slice(0, 5).map((b) => `  ${b.job.source}: labels ${JSON.stringify(b.job.labels)} under the ${b.side} config: ${b.detail}`);
    throw new TraceError([
      `${bad.length} job(s) name a class or label the ${[...new Set(bad.map((b) => b.side))].join(' and ')} config cannot serve:`,
      ...shown,
      ...(bad.length > 5 ? [`  … and ${bad.length - 5} more`] : []),
      'Replay against the stack those jobs ran under (--stack / --stack-file), or leave them out with --skip-unknown.',
    ].join('\n'));
  }
  for (const b of bad) skip(skipped, `labels the ${b.side} config cannot serve (--skip-unknown)`);
  return out;
}

const WORKER = new URL('./worker.ts', import.meta.url);

/**
 * Replays the trace under each configuration on its own worker thread (each its own
 * simulated cluster on its own virtual clock, as the bench's sweep does), so the two run
 * side by side on two cores and neither's result depends on the other.
 */
export async function replaySides(
  trace: Trace, sides: readonly Side[], days: number, onProgress: (side: string, at: number, created: number) => void,
): Promise<Outcome[]> {
  // tsx registers its loader through execArgv; the workers inherit it and so load .ts too.
  const execArgv = process.execArgv.some((a) => a.includes('tsx')) ? process.execArgv : [...process.execArgv, '--import', 'tsx'];
  return Promise.all(sides.map((side) => new Promise<Outcome>((resolve, reject) => {
    const worker = new Worker(WORKER, { execArgv });
    worker.on('message', (m: WorkerReply) => {
      if (m.type === 'progress') onProgress(side.name, m.at, m.created);
      else {
        void worker.terminate();
        if (m.type === 'done') resolve(m.outcome);
        else reject(new Error(`replay under the ${side.name} config: ${m.message}`));
      }
    });
    worker.once('error', reject);
    worker.postMessage({ trace, side, days } satisfies WorkerRequest);
  })));
}
