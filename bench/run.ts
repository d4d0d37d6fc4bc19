// `npm run bench`: runs every benchmark (bench/*.bench.ts, and plain bench scripts), writes
// bench/results/<name>.json and regenerates docs/benchmarks.md from all stored results.
// Exit codes: 0 every benchmark ran, 1 a benchmark failed (the others still ran),
// 2 bad arguments, 3 with --strict: a benchmark missed its target.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseCommandLine } from '../runtime/util/cli.ts';
import { REPO_ROOT } from '../sim/local.ts';
import { describeMachine } from './lib/machine.ts';
import { renderBenchmarksDoc } from './lib/markdown.ts';
import type { Bench, StoredResult } from './lib/types.ts';

const BENCH_DIR = join(REPO_ROOT, 'bench');
const RESULTS_DIR = join(BENCH_DIR, 'results');
const DOC = join(REPO_ROOT, 'docs', 'benchmarks.md');
/** The order of sections in the doc; others follow by name. */
const ORDER = ['ingress', 'webhook-to-job', 'jit-burst', 'warm-pool'];
/** Plain scripts that are benchmarks too (their stdout is markdown). */
const SCRIPTS = ['warm-pool.ts'];

const USAGE = `Usage: npm run bench [-- options]

Runs the benchmark suite on 127.0.0.1 and writes bench/results/<name>.json and
docs/benchmarks.md (tables, the machine and the versions). Each benchmark measures
runs-fleet against a baseline in the same run and reports the ratio.

Options:
  --only NAME[,NAME]  run only these benchmarks (the doc keeps the others' last results)
  --quick             smaller samples, to try the suite out (marked as quick in the doc)
  --strict            exit 3 when a benchmark misses its target
  --list              list the benchmarks and exit
  --render-only       rewrite docs/benchmarks.md from the stored results, running nothing
  -h, --help          show this help

Exit codes: 0 every benchmark ran, 1 a benchmark failed, 2 bad arguments,
3 (with --strict) a target was missed.
`;

type Entry = { name: string; file: string; kind: 'module' | 'script' };

function discover(): Entry[] {
  const entries: Entry[] = readdirSync(BENCH_DIR)
    .filter((f) => f.endsWith('.bench.ts'))
    .map((f) => ({ name: f.replace(/\.bench\.ts$/, ''), file: join(BENCH_DIR, f), kind: 'module' as const }));
  for (const s of SCRIPTS) {
    const name = s.replace(/\.ts$/, '');
    if (existsSync(join(BENCH_DIR, s)) && !entries.some((e) => e.name === name)) entries.push({ name, file: join(BENCH_DIR, s), kind: 'script' });
  }
  return entries.sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
}

const rank = (name: string) => (ORDER.includes(name) ? ORDER.indexOf(name) : ORDER.length);

async function main(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(argv, {
    only: { type: 'string', multiple: true }, quick: { type: 'boolean', default: false }, strict: { type: 'boolean', default: false },
    list: { type: 'boolean', default: false }, 'render-only': { type: 'boolean', default: false },
  }, USAGE);
  if ('exit' in parsed) return parsed.exit;
  const args = parsed.values;
  const all = discover();
  if (args.list) {
    for (const e of all) process.stdout.write(`${e.name.padEnd(16)} ${relative(REPO_ROOT, e.file)}\n`);
    return 0;
  }
  const only = (args.only ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  const unknown = only.filter((n) => !all.some((e) => e.name === n));
  if (unknown.length) {
    process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; there are: ${all.map((e) => e.name).join(', ')}\n`);
    return 2;
  }
  const selected = args['render-only'] ? [] : only.length ? all.filter((e) => only.includes(e.name)) : all;

  const stop = new AbortController();
  process.on('SIGINT', () => stop.abort());
  mkdirSync(RESULTS_DIR, { recursive: true });
  const machine = describeMachine();
  if (selected.length) process.stdout.write(`runs-fleet benchmarks: ${selected.map((e) => e.name).join(', ')}${args.quick ? ' (quick)' : ''}\n` +
    `machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB; Node ${machine.node}; ${machine.valkey}; load ${machine.loadAverage}\n`);
  let failed = 0;
  let missed = 0;
  for (const entry of selected) {
    if (stop.signal.aborted) break;
    const started = Date.now();
    const progress = (m: string) => process.stdout.write(`[${entry.name} ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${m}\n`);
    try {
      const stored = entry.kind === 'module'
        ? await runModule(entry, { progress, quick: args.quick, signal: stop.signal }, started)
        : await runScript(entry, progress, args.quick, started);
      writeFileSync(join(RESULTS_DIR, `${entry.name}.json`), `${JSON.stringify(stored, null, 2)}\n`);
      progress(`done in ${Math.round(stored.durationMs / 1000)} s: ${stored.result.headline}`);
      if (stored.result.target && !stored.result.target.met) {
        missed++;
        progress(`target not met: ${stored.result.target.goal}`);
      }
    } catch (err) {
      failed++;
      progress(`FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }
  const results = readdirSync(RESULTS_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(RESULTS_DIR, f), 'utf8')) as StoredResult)
    .filter((r) => r && typeof r.name === 'string' && r.result);
  writeFileSync(DOC, renderBenchmarksDoc(results, ORDER));
  process.stdout.write(selected.length
    ? `wrote ${selected.map((e) => `${relative(REPO_ROOT, RESULTS_DIR)}/${e.name}.json`).join(', ')} and ${relative(REPO_ROOT, DOC)} (${results.length} benchmarks)\n`
    : `rewrote ${relative(REPO_ROOT, DOC)} from ${results.length} stored results\n`);
  if (failed) return 1;
  if (args.strict && missed) return 3;
  return 0;
}

async function runModule(entry: Entry, ctx: Parameters<Bench['run']>[0], started: number): Promise<StoredResult> {
  const mod = (await import(pathToFileURL(entry.file).href)) as { default?: Bench };
  const bench = mod.default;
  if (!bench || typeof bench.run !== 'function') throw new Error(`${relative(REPO_ROOT, entry.file)} has no default export with run(ctx): see bench/lib/types.ts`);
  const machine = describeMachine();
  const result = await bench.run(ctx);
  return {
    name: entry.name, title: bench.title, description: bench.description, ranAt: new Date(started).toISOString(), durationMs: Date.now() - started,
    quick: ctx.quick, machine, result,
  };
}

/** A benchmark that is a plain script: run it with tsx; its stdout (markdown) becomes its section. */
async function runScript(entry: Entry, progress: (m: string) => void, quick: boolean, started: number): Promise<StoredResult> {
  const machine = describeMachine();
  const tsx = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
  const markdown = await new Promise<string>((resolve, reject) => {
    const child = spawn(tsx, [entry.file, ...(quick ? ['--quick'] : [])], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    let errBuf = '';
    child.stderr.on('data', (d) => {
      errBuf += String(d);
      const lines = errBuf.split('\n');
      errBuf = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) progress(l.trim());
    });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${relative(REPO_ROOT, entry.file)} exited with code ${code}`))));
  });
  const title = /^#+\s+(.+)$/m.exec(markdown)?.[1] ?? entry.name;
  return {
    name: entry.name, title, description: `run as a script (\`npx tsx ${relative(REPO_ROOT, entry.file)}\`); its report follows.`,
    ranAt: new Date(started).toISOString(), durationMs: Date.now() - started, quick, machine,
    result: { headline: 'see its section', tables: [] }, markdown: markdown.replace(/^#+\s+.+\n/m, ''),
  };
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`runs-fleet bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
