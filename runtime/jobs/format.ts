import type { JobRecord } from '../queue/job-records.ts';
import type { DeadLetterEntry, InFlightEntry, QueueSummary, WaitingEntry } from '../queue/inspect.ts';
import type { QueuedJob } from '../queue/types.ts';
import { echo } from '../labels/bounds.ts';

/** Plain-text views for `npm run jobs`; pure, so they are tested without a terminal. */

const when = (ms: number | undefined) => (ms === undefined || Number.isNaN(ms) ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));
const jobRef = (j: QueuedJob) => `${j.repository} job ${j.jobId} attempt ${j.runAttempt}${j.jobName ? ` (${echo(j.jobName, 40)})` : ''}`;
const seconds = (ms: number) => `${Math.round(ms / 1000)}s`;

export function formatSummary(s: QueueSummary): string {
  const consumers = s.consumers.length
    ? s.consumers.map((c) => `  ${c.name}: ${c.pending} in flight, idle ${seconds(c.idleMs)}`).join('\n')
    : '  (none has joined yet)';
  return [
    `queue: ${s.waiting} waiting, ${s.inFlight} in flight, ${s.deadLetters} dead-lettered (stream length ${s.length})`,
    'replicas reading the queue:',
    consumers,
  ].join('\n');
}

export function formatInFlight(entries: InFlightEntry[]): string {
  if (!entries.length) return 'in flight: none';
  return ['in flight (delivered to a replica, not yet done):', ...entries.map((e) =>
    `  ${e.id}  ${e.job ? jobRef(e.job) : '(entry trimmed)'}  on ${e.consumer}, ${e.deliveries} deliveries, idle ${seconds(e.idleMs)}`)].join('\n');
}

export function formatWaiting(entries: WaitingEntry[]): string {
  if (!entries.length) return 'waiting: none';
  return ['waiting (not yet read by any replica):', ...entries.map((e) => `  ${e.id}  ${jobRef(e.job)}`)].join('\n');
}

export function formatDeadLetters(entries: DeadLetterEntry[]): string {
  if (!entries.length) return 'dead letters: none';
  return [
    'dead letters (newest first; `npm run jobs -- show ID` for one, `npm run jobs -- replay ID` after fixing the cause):',
    ...entries.map((d) => `  ${d.id}  ${when(d.at)}  ${jobRef(d.job)}\n      ${echo(d.reason, 200)}`),
  ].join('\n');
}

export function formatDeadLetter(d: DeadLetterEntry, record: JobRecord | undefined): string {
  const j = d.job;
  return [
    `dead letter ${d.id}`,
    `  job:        ${jobRef(j)} (run ${j.runId})`,
    `  labels:     ${j.labels.slice(0, 10).map((l) => echo(l, 80)).join(', ')}${j.labels.length > 10 ? `, … ${j.labels.length - 10} more` : ''}`,
    `  reason:     ${d.reason}`,
    `  deliveries: ${d.deliveries}`,
    `  dead since: ${when(d.at)}`,
    `  record:     ${record?.status ?? '(expired)'}${record?.failure ? ` — ${record.failure}` : ''}`,
    '',
    `Fix the cause (the config document, the GitHub App, the cluster), then: npm run jobs -- replay ${d.id}`,
  ].join('\n');
}

export function formatRecord(jobId: number, runAttempt: number, record: JobRecord | undefined): string {
  if (!record) return `job ${jobId} attempt ${runAttempt}: no record (not a runs-fleet job, or older than the record TTL)`;
  const { stages, ...fields } = record;
  const lines = Object.entries(fields).map(([k, v]) => `  ${k}: ${echo(String(v), 300)}`);
  const times = Object.entries(stages).map(([k, v]) => `  ${k}: ${when(v)}`);
  return [`job ${jobId} attempt ${runAttempt}`, ...lines, ...(times.length ? ['stages:', ...times] : [])].join('\n');
}
