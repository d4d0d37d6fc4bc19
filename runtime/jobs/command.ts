import type { Valkey } from 'iovalkey';
import type { ConfigDocument } from '../config/document.ts';
import { LabelError } from '../labels/errors.ts';
import { resolveRunner } from '../labels/resolve.ts';
import type { RunnerRequest } from '../labels/types.ts';
import { QueueInspector } from '../queue/inspect.ts';
import { JobQueue } from '../queue/job-queue.ts';
import { JobRecords } from '../queue/job-records.ts';
import { EXIT_USAGE, parseCommandLine } from '../util/cli.ts';
import { formatDeadLetter, formatDeadLetters, formatInFlight, formatRecord, formatSummary, formatWaiting } from './format.ts';

export const USAGE = `Usage: npm run jobs -- list [--count N] [--json]
       npm run jobs -- show ID [--attempt N] [--json]
       npm run jobs -- replay ID [--force]

What the queue holds, and a way back for jobs that never got a runner. Reads Valkey at
RUNS_FLEET_VALKEY_URL (and RUNS_FLEET_VALKEY_PASSWORD), as the orchestrator does; in the
cluster: kubectl -n runs-fleet-system exec deploy/runs-fleet-orchestrator -- npm run jobs -- list

  list          queue depth, the replicas reading it, jobs waiting and in flight, dead letters
  show ID       one dead letter (ID like 1717171717171-0) with its job record, or the record
                of a GitHub job id (ID digits only; --attempt N, default 1)
  replay ID     queue a dead-lettered job again, after its cause is fixed; it is checked
                against the config document (RUNS_FLEET_CONFIG_FILE) first, unless --force
  --prefix P    Valkey key prefix of the deployment (default runs-fleet)
  --count N     at most N entries per list (default 50)
  --json        machine-readable output
  -h, --help    show this help

Exit codes: 0 done, 1 not found or refused, 2 bad arguments or configuration.
`;

export interface JobsCommandDeps {
  valkey: Valkey;
  /** The config document, when one is configured: replay checks the job against it. */
  doc?: () => ConfigDocument;
  out: { write(s: string): unknown };
  err: { write(s: string): unknown };
  now?: () => number;
}

const OPTIONS = {
  prefix: { type: 'string' }, count: { type: 'string' }, attempt: { type: 'string' }, json: { type: 'boolean', default: false },
  force: { type: 'boolean', default: false },
} as const;

/** `npm run jobs`: returns the exit code. The subcommand and its ID come first, flags after. */
export async function runJobsCommand(argv: string[], deps: JobsCommandDeps): Promise<number> {
  const [sub, maybeId, ...rest] = argv;
  if (sub === '-h' || sub === '--help') {
    deps.out.write(USAGE);
    return 0;
  }
  const hasId = maybeId !== undefined && !maybeId.startsWith('-');
  const parsed = parseCommandLine(hasId ? rest : [maybeId, ...rest].filter((a) => a !== undefined), OPTIONS, USAGE, deps.out, deps.err);
  if ('exit' in parsed) return parsed.exit;
  const v = parsed.values;
  const count = v.count === undefined ? 50 : Number(v.count);
  if (!Number.isInteger(count) || count < 1 || count > 10_000) return usage(deps, `--count ${v.count}: use a whole number from 1 to 10000`);
  const prefix = v.prefix ?? 'runs-fleet';
  const inspect = new QueueInspector(deps.valkey, prefix);
  const records = new JobRecords(deps.valkey, prefix);
  const print = (text: string, json: unknown) => deps.out.write(v.json ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`);

  switch (sub) {
    case 'list': {
      if (hasId) return usage(deps, `list takes no ID (got "${maybeId}")`);
      const [summary, inFlight, waiting, dead] = await Promise.all([inspect.summary(), inspect.inFlight(count), inspect.waiting(count), inspect.deadLetters(count)]);
      print([formatSummary(summary), formatWaiting(waiting), formatInFlight(inFlight), formatDeadLetters(dead)].join('\n\n'), { summary, waiting, inFlight, deadLetters: dead });
      return 0;
    }
    case 'show': {
      if (!hasId) return usage(deps, 'show needs an ID: a dead-letter id (from `list`) or a GitHub job id');
      if (/^\d+$/.test(maybeId!)) {
        const attempt = v.attempt === undefined ? 1 : Number(v.attempt);
        if (!Number.isInteger(attempt) || attempt < 1) return usage(deps, `--attempt ${v.attempt}: use a run attempt, 1 or more`);
        const record = await records.get(Number(maybeId), attempt);
        print(formatRecord(Number(maybeId), attempt, record), { jobId: Number(maybeId), runAttempt: attempt, record: record ?? null });
        return record ? 0 : 1;
      }
      const dead = await inspect.deadLetter(maybeId!);
      if (!dead) return notFound(deps, maybeId!);
      const record = await records.get(dead.job.jobId, dead.job.runAttempt);
      print(formatDeadLetter(dead, record), { deadLetter: dead, record: record ?? null });
      return 0;
    }
    case 'replay':
      if (!hasId) return usage(deps, 'replay needs the ID of a dead letter (from `npm run jobs -- list`)');
      return replay(maybeId!, v.force, prefix, inspect, deps);
    default:
      return usage(deps, sub === undefined ? 'name a command: list, show or replay' : `unknown command "${sub}": use list, show or replay`);
  }
}

async function replay(id: string, force: boolean, prefix: string, inspect: QueueInspector, deps: JobsCommandDeps): Promise<number> {
  const dead = await inspect.deadLetter(id);
  if (!dead) return notFound(deps, id);
  const doc = deps.doc?.();
  if (doc && !force) {
    try {
      resolveRunner(dead.job.request as RunnerRequest, doc);
    } catch (err) {
      if (!(err instanceof LabelError)) throw err;
      deps.err.write(`jobs: not replayed: the job would fail again (${err.reason}: ${err.detail}).\nFix the config document first, or replay anyway with --force.\n`);
      return 1;
    }
  }
  // Replay never claims or reads the group, so any consumer name will do.
  const queue = new JobQueue(deps.valkey, { prefix, consumer: 'jobs-command' });
  const entryId = await queue.replay(id, dead.job, deps.now?.() ?? Date.now());
  if (!entryId) return notFound(deps, id);
  deps.out.write(`replayed ${dead.job.repository} job ${dead.job.jobId} attempt ${dead.job.runAttempt} as queue entry ${entryId}\n`);
  return 0;
}

function usage(deps: JobsCommandDeps, problem: string): number {
  deps.err.write(`jobs: ${problem}\n\n${USAGE}`);
  return EXIT_USAGE;
}

function notFound(deps: JobsCommandDeps, id: string): number {
  deps.err.write(`jobs: no dead letter ${id}: list them with \`npm run jobs -- list\` (a replayed one is gone from the list)\n`);
  return 1;
}
