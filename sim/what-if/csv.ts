import { readFileSync } from 'node:fs';
import { CsvError, parse } from 'csv-parse/sync';
import { skip, TraceError, type RecordedJob, type Skipped } from './records.ts';

/**
 * A CSV export of GitHub's jobs API: one row per job, a header row naming the columns after
 * the fields of "List jobs for a workflow run" (GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs,
 * docs.github.com/en/rest/actions/workflow-jobs): `created_at`, `started_at`, `completed_at`
 * (ISO 8601) and `labels` are needed; `id`, `run_id`, `run_attempt`, `name`, `workflow_name`,
 * `status` and `conclusion` are used when present, and other columns are ignored. `labels`
 * is a JSON array (`.labels | tojson`) or the labels joined by commas (`.labels | join(",")`).
 * Parsed by csv-parse (quoting, embedded commas and newlines as RFC 4180 has them).
 */

export const REQUIRED_COLUMNS = ['created_at', 'started_at', 'completed_at', 'labels'] as const;

/** `gh` one-liner for the docs and the errors: a run's jobs as this CSV. */
export const EXPORT_HINT =
  `gh api --paginate repos/OWNER/REPO/actions/runs/RUN_ID/jobs --jq '.jobs[] | [.id, .run_id, .run_attempt, .workflow_name, .name, .status, .conclusion, .created_at, .started_at, .completed_at, (.labels | join(","))] | @csv'` +
  ` (after the header line id,run_id,run_attempt,workflow_name,name,status,conclusion,created_at,started_at,completed_at,labels)`;

const ISO_8601 = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/;

export interface CsvTrace {
  jobs: RecordedJob[];
  skipped: Skipped;
  rows: number;
}

export function readCsvTrace(file: string): CsvTrace {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TraceError(code === 'ENOENT'
      ? `--csv ${file}: no such file; export the jobs first, e.g. ${EXPORT_HINT}`
      : `--csv ${file}: cannot be read (${code ?? 'error'})`);
  }
  return parseCsvTrace(text, file);
}

type Row = { record: Record<string, string>; info: { lines: number } };

export function parseCsvTrace(text: string, file: string): CsvTrace {
  if (!text.trim()) throw new TraceError(`${file}: is empty; expected a header row (${REQUIRED_COLUMNS.join(', ')}, …) and one row per job`);
  let rows: Row[];
  try {
    rows = parse(text, { columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()), info: true, skip_empty_lines: true, trim: true, bom: true }) as unknown as Row[];
  } catch (err) {
    if (err instanceof CsvError) {
      const e = err as CsvError & { lines?: number; column?: string | number };
      const column = e.column === undefined || e.column === null ? '' : `, column ${e.column}`;
      throw new TraceError(`${file} line ${e.lines ?? '?'}${column}: malformed CSV (${e.code}: ${e.message.replace(/^[^:]*: /, '')}); every row needs as many fields as the header, and a field with a comma needs "quotes"`);
    }
    throw err;
  }
  const header = Object.keys(rows[0]?.record ?? {});
  if (!rows.length) throw new TraceError(`${file}: has a header row but no jobs`);
  const missing = REQUIRED_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length)
    throw new TraceError(`${file}: no column ${missing.join(', ')} in the header (found: ${header.join(', ')}); the columns are named after GitHub's jobs API fields, e.g. ${EXPORT_HINT}`);

  const skipped: Skipped = new Map();
  const jobs: RecordedJob[] = [];
  for (const { record: r, info } of rows) {
    const where = `${file} line ${info.lines}`;
    const status = r.status?.toLowerCase();
    const conclusion = r.conclusion?.toLowerCase();
    if (conclusion === 'skipped') { skip(skipped, 'skipped on GitHub (never needed a runner)'); continue; }
    if (status && status !== 'completed') { skip(skipped, `not completed yet (status ${status})`); continue; }
    if (!r.started_at) { skip(skipped, 'never started (no started_at)'); continue; }
    if (!r.completed_at) { skip(skipped, 'not completed yet (no completed_at)'); continue; }
    const createdAt = time(r.created_at, where, 'created_at');
    const startedAt = time(r.started_at, where, 'started_at');
    const completedAt = time(r.completed_at, where, 'completed_at');
    if (completedAt < startedAt) throw new TraceError(`${where}, column completed_at: ${r.completed_at} is before started_at ${r.started_at}; check the export`);
    const labels = parseLabels(r.labels ?? '', where);
    const id = r.id ? ` (job ${r.id}${r.name ? ` "${r.name}"` : ''})` : '';
    const runId = Number(r.run_id);
    jobs.push({
      createdAt, startedAt: Math.max(startedAt, createdAt), runMs: completedAt - startedAt, labels, source: `${where}${id}`,
      ...(r.run_id && Number.isSafeInteger(runId) ? { runId } : {}), ...(r.workflow_name ? { workflow: r.workflow_name } : {}), ...(r.name ? { jobName: r.name } : {}),
    });
  }
  return { jobs, skipped, rows: rows.length };
}

function time(value: string | undefined, where: string, column: string): number {
  const v = value ?? '';
  const t = ISO_8601.test(v) ? Date.parse(v.replace(' ', 'T')) : Number.NaN;
  if (!Number.isFinite(t)) throw new TraceError(`${where}, column ${column}: ${v === '' ? 'empty' : JSON.stringify(v)}, expected an ISO 8601 time such as 2026-11-23T09:15:02Z (as GitHub's jobs API gives it)`);
  return t;
}

function parseLabels(value: string, where: string): string[] {
  let labels: unknown;
  if (value.startsWith('[')) {
    try {
      labels = JSON.parse(value);
    } catch {
      throw new TraceError(`${where}, column labels: ${JSON.stringify(value.slice(0, 80))} starts like a JSON array but is not one; give the labels as a JSON array or joined by commas`);
    }
    if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string'))
      throw new TraceError(`${where}, column labels: expected a JSON array of strings`);
  } else labels = value.split(',');
  const out = (labels as string[]).map((l) => l.trim()).filter(Boolean);
  if (!out.length) throw new TraceError(`${where}, column labels: empty; export the job's runs-on labels (.labels | join(","))`);
  return out;
}
