// `npm run what-if`: replays the last N days of real jobs — the orchestrator's own job records
// in Valkey, or a CSV exported from GitHub's jobs API — through the simulated cluster under the
// stack's current config and under a proposed change (--set pools[0].min=4), and prints start
// times, cold starts and $/day for both: what to run before `pulumi config set`.
import { relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DAY_MS } from '../../bench/warm-pool/traces.ts';
import { percentile } from '../../bench/warm-pool/stats.ts';
import { loadValkeyUrl } from '../../runtime/config/env.ts';
import { connectValkey, waitReady } from '../../runtime/queue/connection.ts';
import { findLocalModeState } from '../../runtime/status/cli.ts';
import { EXIT_USAGE, parseCommandLine, resolveStack, STACK_OPTIONS, STACK_USAGE, usageFailure, UsageError } from '../../runtime/util/cli.ts';
import { ConfigError } from '../../runtime/util/errors.ts';
import { loadStackDocument, type StackDocument } from '../stack-document.ts';
import { readCsvTrace } from './csv.ts';
import { chooseWindow, toTrace, TraceError, type RecordedJob, type Skipped } from './records.ts';
import { classify, replaySides, type Outcome, type Side } from './replay.ts';
import { applySets, parseSet, type ConfigSet } from './set.ts';
import { readValkeyTrace } from './valkey.ts';

export const USAGE = `Usage: npm run what-if -- --set PATH=VALUE [--set …] [options]

Replays the last N days of real jobs through the simulated cluster (sim/k8s: the stack's
NodePools, Karpenter-like node launches, the sourced timing profile, catalog prices) with the
orchestrator's warm-pool controller, once under the stack's current config and once with the
proposed change, and prints for both: jobs, p50/p95 start (webhook → runner running), cold
starts, node $/day and idle placeholder $/day, and the difference. Run it before
\`pulumi config set\`. Nothing is deployed or written; Valkey is only read.

The jobs come from (one of):
  --csv FILE          a CSV of GitHub's jobs API (columns created_at, started_at, completed_at,
                      labels; id, run_id, run_attempt, name, workflow_name, status, conclusion
                      used when present), e.g. for one run:
                        gh api --paginate repos/OWNER/REPO/actions/runs/RUN_ID/jobs --jq \\
                          '.jobs[] | [.id,.run_id,.run_attempt,.workflow_name,.name,.status,.conclusion,
                          .created_at,.started_at,.completed_at,(.labels|join(","))] | @csv'
                      after a header line with those names
  --valkey-url URL    the orchestrator's job records in this Valkey (default: $RUNS_FLEET_VALKEY_URL
                      with $RUNS_FLEET_VALKEY_PASSWORD, as \`npm run jobs\`; else the running local mode)
  --prefix P          Valkey key prefix of the deployment (default runs-fleet; local mode's own)

Options:
${STACK_USAGE}
  --set PATH=VALUE    the proposed change of the stack config, repeatable: the path as
                      \`pulumi config set --path\` takes it, "runs-fleet:" optional, e.g.
                      --set 'pools[0].min=4' --set 'pools[0].schedules[0].min=6'
                      (VALUE is JSON when it parses, else a string); validated like the stack
  --days N            replay the last N days (default 7; records are kept 7 days)
  --max-jobs N        replay at most N jobs (default 20000): older days are dropped to fit, and
                      the report says so (a replay takes ~20-40 s per simulated day)
  --skip-unknown      leave out jobs whose labels the config cannot serve instead of stopping
  --json              machine-readable output
  -h, --help          show this help

Progress goes to stderr. Exit codes: 0 compared, 1 Valkey unreachable or the replay failed,
2 bad arguments, an invalid stack config or change, or a missing or malformed trace.
`;

const OPTIONS = {
  ...STACK_OPTIONS,
  csv: { type: 'string' }, 'valkey-url': { type: 'string' }, prefix: { type: 'string' }, set: { type: 'string', multiple: true },
  days: { type: 'string' }, 'max-jobs': { type: 'string' }, 'skip-unknown': { type: 'boolean' }, json: { type: 'boolean' },
} as const;

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** The clock "the last N days" ends at (tests). */
  now?: () => number;
  env?: NodeJS.ProcessEnv;
}

const int = (flag: string, v: string | undefined, fallback: number, lo: number, hi: number): number => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new UsageError(`--${flag} ${v}: use a whole number from ${lo} to ${hi}`);
  return n;
};

export async function main(argv: readonly string[], out: Io['out'] = (s) => process.stdout.write(s), err: Io['err'] = (s) => process.stderr.write(s), io: Omit<Io, 'out' | 'err'> = {}): Promise<number> {
  const e = { write: err };
  const parsed = parseCommandLine(argv, OPTIONS, USAGE, { write: out }, e);
  if ('exit' in parsed) return parsed.exit;
  const v = parsed.values;
  const env = io.env ?? process.env;
  const now = io.now?.() ?? Date.now();

  // Everything the command line decides, checked before anything is read or run.
  let stack: { stack: string; file: string };
  let sets: ConfigSet[];
  let days: number;
  let maxJobs: number;
  let current: StackDocument;
  let proposed: StackDocument;
  try {
    stack = resolveStack(v);
    sets = (v.set ?? []).map(parseSet);
    if (!sets.length) throw new UsageError('name the proposed change with --set PATH=VALUE, e.g. --set \'pools[0].min=4\'');
    if (v.csv !== undefined && (v['valkey-url'] !== undefined || v.prefix !== undefined))
      throw new UsageError('--csv and --valkey-url/--prefix: the jobs come from one of them, not both');
    days = int('days', v.days, 7, 1, 60);
    maxJobs = int('max-jobs', v['max-jobs'], 20_000, 1, 1_000_000);
  } catch (x) {
    if (x instanceof UsageError) return usageFailure([x.message], USAGE, e).exit;
    throw x;
  }
  const rel = (p: string) => relative(process.cwd(), p) || p;
  try {
    current = loadStackDocument(stack.file);
  } catch (x) {
    if (!(x instanceof ConfigError)) throw x;
    err(`what-if: the stack config is invalid:\n${x.message}\n`);
    return EXIT_USAGE;
  }
  try {
    proposed = loadStackDocument(stack.file, (raw) => applySets(raw, sets));
  } catch (x) {
    if (x instanceof UsageError) return usageFailure([x.message], USAGE, e).exit;
    if (!(x instanceof ConfigError)) throw x;
    const problems = x.problems.map((p) => `  ${p.startsWith(`${stack.file}: `) ? p.slice(stack.file.length + 2) : p}`);
    return usageFailure([`--set ${sets.map((s) => s.text).join(' --set ')}: the proposed config is invalid, nothing was replayed:`, ...problems,
      `Fix the value (the same rules as ${rel(stack.file)}; docs/configuration.md lists them).`], USAGE, e).exit;
  }

  // The jobs.
  let recorded: RecordedJob[];
  const skipped: Skipped = new Map();
  let source: string;
  let trimmedNow: number | undefined;
  try {
    if (v.csv !== undefined) {
      const csv = readCsvTrace(resolve(v.csv));
      recorded = csv.jobs;
      for (const [k, n] of csv.skipped) skipped.set(k, n);
      source = `${v.csv} (${csv.rows} rows)`;
    } else {
      const found = valkeySource(v['valkey-url'], v.prefix, env);
      if ('problem' in found) {
        err(`what-if: ${found.problem}\n`);
        return found.exit;
      }
      const client = connectValkey(found.url, 'command');
      client.on('error', () => {});
      try {
        try {
          await waitReady(client, 10_000);
        } catch {
          // The host only: the URL may carry a password.
          err(`what-if: Valkey at ${new URL(found.url).host} is not reachable within 10 s: check --valkey-url (or RUNS_FLEET_VALKEY_URL), and run this where the orchestrator's Valkey is reachable (kubectl port-forward)\n`);
          return 1;
        }
        err(`what-if: reading job records (prefix ${found.prefix}) from Valkey at ${new URL(found.url).host}…\n`);
        const trace = await readValkeyTrace(client, found.prefix, now - days * DAY_MS, (n) => { if (n % 5000 === 0) err(`  ${n} records read\n`); });
        if (!trace.records) throw new TraceError(`Valkey at ${new URL(found.url).host} holds no job records under prefix ${found.prefix}: is --prefix the deployment's (default runs-fleet), and has the orchestrator served jobs in the last 7 days?`);
        recorded = trace.jobs;
        for (const [k, n] of trace.skipped) skipped.set(k, n);
        source = `Valkey ${new URL(found.url).host}, prefix ${found.prefix} (${trace.records} records)`;
        trimmedNow = now;
      } finally {
        client.disconnect();
      }
    }
    const sides: Side[] = [
      { name: 'current', doc: current.doc, cluster: clusterOf(current) },
      { name: 'proposed', doc: proposed.doc, cluster: clusterOf(proposed) },
    ];
    const served = classify(recorded, sides, skipped, v['skip-unknown'] ?? false);
    if (!served.length) throw new TraceError(`${source}: no job to replay${skipped.size ? ` (left out: ${describeSkipped(skipped)})` : ''}`);
    const { window, jobs } = chooseWindow(served, days, { now: trimmedNow, maxJobs, what: source });
    const trace = toTrace(jobs, window, 'what-if');
    err(`what-if: replaying ${jobs.length} jobs over ${window.days} day(s) from ${iso(window.from)} under the current and the proposed config (two simulated clusters, side by side)…\n`);
    for (const n of window.notes) err(`  note: ${n}\n`);
    const progress = progressPrinter(err, window.from, window.days, jobs.length);
    const started = performance.now();
    const [cur, prop] = await replaySides(trace, sides, window.days, progress);
    const wallS = (performance.now() - started) / 1000;
    err(`what-if: replayed in ${wallS.toFixed(0)} s\n`);
    const real = jobs.map((j) => (j.startedAt - j.createdAt) / 1000).sort((a, b) => a - b);
    const report: Report = {
      stack: stack.stack, stackFile: rel(stack.file), changes: sets.map((s) => s.text), source,
      window: { from: iso(window.from), days: window.days, notes: window.notes }, skipped: Object.fromEntries(skipped),
      current: cur!, proposed: prop!, recorded: { p50StartS: percentile(real, 0.5), p95StartS: percentile(real, 0.95) },
    };
    out(v.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
    return 0;
  } catch (x) {
    if (x instanceof TraceError) {
      err(`what-if: ${x.message}\n`);
      return EXIT_USAGE;
    }
    if (x instanceof Error && x.message.startsWith('replay under')) {
      err(`what-if: ${x.message}\n`);
      return 1;
    }
    throw x;
  }
}

function clusterOf(s: StackDocument): Side['cluster'] {
  // The NodePools the stack deploys: its consolidateAfter, its system nodes, each class's runnersPerNode.
  return { consolidateAfterMs: s.consolidateAfterMs, systemNode: s.systemNodes };
}

type ValkeySource = { url: string; prefix: string } | { problem: string; exit: number };

/** --valkey-url, else the environment `npm run jobs` reads, else the running local mode. */
function valkeySource(flag: string | undefined, prefix: string | undefined, env: NodeJS.ProcessEnv): ValkeySource {
  if (flag !== undefined) {
    if (!/^(redis|rediss|valkey|valkeys):\/\//.test(flag)) return { problem: `--valkey-url ${flag}: use redis://host:6379 (or rediss:// for TLS)`, exit: EXIT_USAGE };
    return { url: flag, prefix: prefix ?? 'runs-fleet' };
  }
  if (env.RUNS_FLEET_VALKEY_URL?.trim()) {
    try {
      return { url: loadValkeyUrl(env), prefix: prefix ?? 'runs-fleet' };
    } catch (x) {
      if (x instanceof ConfigError) return { problem: x.message, exit: EXIT_USAGE };
      throw x;
    }
  }
  const local = findLocalModeState();
  if (local?.valkeyUrl) return { url: local.valkeyUrl, prefix: prefix ?? local.prefix ?? 'runs-fleet' };
  return { problem: 'no jobs to replay: pass --csv FILE (an export of GitHub\'s jobs API), or --valkey-url URL (or set RUNS_FLEET_VALKEY_URL) for the orchestrator\'s job records, or start local mode (npm start); npm run what-if -- --help', exit: EXIT_USAGE };
}

function describeSkipped(s: Skipped): string {
  return [...s].map(([why, n]) => `${n} ${why}`).join('; ');
}

const iso = (t: number) => new Date(t).toISOString().slice(0, 10);

/** One stderr line at most every 10 s: where each side's virtual clock is, and the jobs it has created. */
function progressPrinter(err: (s: string) => void, from: number, days: number, jobs: number) {
  const at = new Map<string, { at: number; created: number }>();
  let last = performance.now();
  return (side: string, t: number, created: number) => {
    at.set(side, { at: t, created });
    if (performance.now() - last < 10_000) return;
    last = performance.now();
    const parts = [...at].map(([s, p]) => `${s} ${Math.min(100, Math.round((100 * (p.at - from)) / (days * DAY_MS)))}% (${new Date(p.at).toISOString().slice(0, 16).replace('T', ' ')}, ${p.created}/${jobs} jobs)`);
    err(`  ${parts.join(' · ')}\n`);
  };
}

export interface Report {
  stack: string;
  stackFile: string;
  changes: string[];
  source: string;
  window: { from: string; days: number; notes: string[] };
  skipped: Record<string, number>;
  current: Outcome;
  proposed: Outcome;
  /** What really happened to the same jobs (their recorded start), for calibration. */
  recorded: { p50StartS: number; p95StartS: number };
}

export function renderReport(r: Report): string {
  const rows: Array<[string, (o: Outcome) => number, number]> = [
    ['jobs', (o) => o.jobs, 0],
    ['p50 start (s)', (o) => o.p50StartS, 1],
    ['p95 start (s)', (o) => o.p95StartS, 1],
    ['cold starts', (o) => o.coldStarts, 0],
    ['warm hits (%)', (o) => 100 * o.warmHitRate, 1],
    ['node $/day', (o) => o.nodeUsdPerDay, 2],
    ['idle $/day', (o) => o.idleUsdPerDay, 2],
  ];
  const fmt = (n: number, d: number) => (Number.isFinite(n) ? n.toFixed(d) : '-');
  const delta = (a: number, b: number, d: number) => {
    if (!Number.isFinite(a) || !Number.isFinite(b)) return '-';
    const x = Number((b - a).toFixed(d));
    return x === 0 ? '0' : `${x > 0 ? '+' : ''}${x.toFixed(d)}`;
  };
  const table = [['', 'current', 'proposed', 'delta'], ...rows.map(([name, get, d]) => [name, fmt(get(r.current), d), fmt(get(r.proposed), d), delta(get(r.current), get(r.proposed), d)])];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const lines = [
    `runs-fleet what-if: stack "${r.stack}" (${r.stackFile}), change ${r.changes.map((c) => `--set ${c}`).join(' ')}`,
    `${r.current.jobs} jobs from ${r.source}, ${r.window.days} day(s) from ${r.window.from}`,
    ...r.window.notes.map((n) => `note: ${n}`),
    ...(Object.keys(r.skipped).length ? [`left out: ${Object.entries(r.skipped).map(([k, n]) => `${n} ${k}`).join('; ')}`] : []),
    '',
    ...table.map((row) => `  ${row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('   ')}`),
    '',
    `Recorded (what these jobs really saw): p50 start ${fmt(r.recorded.p50StartS, 1)} s, p95 ${fmt(r.recorded.p95StartS, 1)} s.`,
    ...(r.current.neverStarted || r.proposed.neverStarted ? [`Never started within the replay (an hour after the window): current ${r.current.neverStarted}, proposed ${r.proposed.neverStarted}.`] : []),
    'Both replays: the simulated cluster (sim/k8s, timings sim/k8s/timing-profile.ts, prices runtime/capacity/price.ts) with the',
    'orchestrator\'s warm-pool controller every 15 s; node $ is every runner node\'s time, idle $ the placeholders\' share of it.',
  ];
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
