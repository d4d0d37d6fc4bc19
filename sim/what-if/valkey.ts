import type { Valkey } from 'iovalkey';
import { JobRecords, type JobRecord } from '../../runtime/queue/job-records.ts';
import { skip, type RecordedJob, type Skipped } from './records.ts';

/**
 * The orchestrator's own job records (runtime/queue/job-records.ts: one hash per job id + run
 * attempt, kept 7 days): found with SCAN (never KEYS, which blocks a live Valkey) and read with
 * the same JobRecords.get the orchestrator uses. Read-only. A job is replayed by the labels the
 * ingress recorded, so a proposed alias or class change re-routes it; a record written before
 * labels were kept is replayed by the class (and pool) it resolved to.
 */

export interface ValkeyTrace {
  jobs: RecordedJob[];
  skipped: Skipped;
  records: number;
}

const BATCH = 500;

export async function readValkeyTrace(client: Valkey, prefix: string, since: number, onProgress?: (read: number) => void): Promise<ValkeyTrace> {
  const records = new JobRecords(client, prefix);
  const pattern = records.keys.record(0, 0).replace(/0:0$/, '*');
  const keyRe = /:job:(\d+):(\d+)$/;
  const keys: Array<[number, number, string]> = [];
  let cursor = '0';
  do {
    const [next, found] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    for (const k of found) {
      const m = keyRe.exec(k);
      if (m) keys.push([Number(m[1]), Number(m[2]), k]);
    }
  } while (cursor !== '0');

  const skipped: Skipped = new Map();
  const jobs: RecordedJob[] = [];
  for (let i = 0; i < keys.length; i += BATCH) {
    const batch = keys.slice(i, i + BATCH);
    const read = await Promise.all(batch.map(([id, attempt]) => records.get(id, attempt)));
    read.forEach((r, j) => {
      const job = r && toJob(r, batch[j]![2], since, skipped);
      if (job) jobs.push(job);
    });
    onProgress?.(Math.min(keys.length, i + BATCH));
  }
  return { jobs, skipped, records: keys.length };
}

function toJob(r: JobRecord, key: string, since: number, skipped: Skipped): RecordedJob | undefined {
  const { receivedAt, runningAt, finishedAt, inProgressAt } = r.stages;
  if (receivedAt === undefined) { skip(skipped, 'no receivedAt (not stored by the ingress)'); return undefined; }
  if (receivedAt < since) { skip(skipped, 'older than --days'); return undefined; }
  if (!r.className) { skip(skipped, `never got a runner (status ${r.status ?? 'unknown'})`); return undefined; }
  const started = runningAt ?? inProgressAt;
  if (started === undefined) { skip(skipped, `never started (status ${r.status ?? 'unknown'})`); return undefined; }
  const ended = finishedAt ?? (r.completedOnGitHubAt ? Number(r.completedOnGitHubAt) : undefined);
  if (ended === undefined || !Number.isFinite(ended)) { skip(skipped, 'still running (no finishedAt)'); return undefined; }
  // A record keeps the job's name but not its run: its jobs replay as runs of their own (no fan-out learned).
  return { createdAt: receivedAt, startedAt: started, runMs: Math.max(0, ended - started), labels: recordedLabels(r), source: `record ${key}`, ...(r.jobName ? { jobName: r.jobName } : {}) };
}

/** The labels the ingress recorded; a record from before they were kept is replayed by the class it resolved to. */
function recordedLabels(r: JobRecord): string[] {
  if (r.labels) {
    try {
      const parsed: unknown = JSON.parse(r.labels);
      if (Array.isArray(parsed) && parsed.every((l) => typeof l === 'string')) return parsed;
    } catch {}
  }
  return [`runs-fleet/runner=${r.className}${r.pool ? `/pool=${r.pool}` : ''}`];
}
