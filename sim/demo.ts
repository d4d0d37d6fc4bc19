// `npm run demo`: local mode (see sim/local.ts) plus a scripted, realistic burst of signed
// workflow_job webhooks — matrix fan-out over several runner classes, a spot interruption
// mid-job, a cancelled run — with progress while it runs and a summary at the end.
// Exit codes: 0 the demo ran to its summary, 1 runtime failure, 2 bad arguments or config,
// 3 valkey-server / redis-server not installed, 4 jobs still unfinished at the time limit.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseCommandLine, resolveStack, STACK_OPTIONS, STACK_USAGE, usageFailure, UsageError } from '../runtime/util/cli.ts';
import { EXIT, reportFailure } from './local.ts';
import { runDemo } from './demo/run.ts';
import { renderSummary } from './demo/summary.ts';

const USAGE = `Usage: npm run demo [-- options]

Starts local mode (a private Valkey, the simulated cluster with Pulumi.dev.yaml's runner
classes and warm pools, the GitHub API double, the orchestrator) and plays a burst on
GitHub's side: three pushes in two repositories — a 6-job test matrix, lint, an amd64
image build whose spot node is interrupted mid-build, an e2e matrix through a label alias,
a run cancelled before it starts, and a second push that lands on warm capacity. Prints
each job's progress, then a summary: jobs → runners, warm vs cold starts, per-stage
latencies, and the retry the orchestrator made and why. About 1-2 minutes.

Options:
  --seed N          scenario seed: job durations and arrival jitter (default 1)
  --time-scale X    simulated delays and job durations × X, 0 < X ≤ 1 (default 0.1)
${STACK_USAGE}
  --timeout S       give up waiting after S seconds (default 240)
  --valkey-url URL  use this Valkey instead of starting one
  -h, --help        show this help

Exit codes: 0 ran to its summary, 1 runtime failure, 2 bad arguments or config,
3 valkey-server / redis-server not installed, 4 jobs unfinished at the time limit.
`;

const EXIT_UNFINISHED = 4;

/** The command; `io` takes what it prints before the demo starts (help, usage errors). */
export async function main(argv: string[], io: { out: { write(s: string): unknown }; err: { write(s: string): unknown } } = { out: process.stdout, err: process.stderr }): Promise<number> {
  const parsed = parseCommandLine(argv, {
    seed: { type: 'string' }, 'time-scale': { type: 'string' }, ...STACK_OPTIONS, timeout: { type: 'string' },
    'valkey-url': { type: 'string' },
  }, USAGE, io.out, io.err);
  if ('exit' in parsed) return parsed.exit;
  const args = parsed.values;
  const problems: string[] = [];
  const seed = args.seed === undefined ? 1 : Number(args.seed);
  if (!Number.isInteger(seed) || seed < 0) problems.push(`--seed ${args.seed}: must be a non-negative integer`);
  const timeScale = args['time-scale'] === undefined ? undefined : Number(args['time-scale']);
  if (timeScale !== undefined && !(timeScale > 0 && timeScale <= 1)) problems.push(`--time-scale ${args['time-scale']}: must be a number in (0, 1]`);
  const timeout = args.timeout === undefined ? 240 : Number(args.timeout);
  if (!(timeout >= 10 && timeout <= 3600)) problems.push(`--timeout ${args.timeout}: must be seconds in 10..3600`);
  let stackFile: string | undefined;
  try {
    stackFile = resolveStack(args).file;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    problems.push(e.message);
  }
  if (problems.length) return usageFailure(problems, USAGE, io.err).exit;

  process.stdout.write('runs-fleet demo: starting Valkey, the simulated cluster, the GitHub double and the orchestrator…\n');
  const stop = new AbortController();
  // Repeats (tsx forwards the terminal's Ctrl-C a second time) change nothing: the stop is in order.
  process.on('SIGINT', () => stop.abort());
  process.on('SIGTERM', () => stop.abort());
  const result = await runDemo({
    seed, timeScale, stackFile, valkeyUrl: args['valkey-url'], timeoutMs: timeout * 1000,
    out: (line) => process.stdout.write(`${line}\n`), signal: stop.signal,
  });
  process.stdout.write(`${renderSummary(result).join('\n')}\n`);
  if (result.interrupted) return 130;
  return result.timedOut ? EXIT_UNFINISHED : EXIT.ok;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => process.exit(reportFailure(err, 'runs-fleet demo')),
  );
}
