import { pathToFileURL } from 'node:url';
import type { Bench, BenchContext, BenchResult, Table } from './lib/types.ts';
import { markdownTable } from './lib/markdown.ts';
import {
  CLASS, CLASS_CPU, CONSOLIDATE_AFTER_MS, CONTROLLER_INTERVAL_MS, CONTROLLER_POOL, COST_CURVE, curvePolicy, IMAGE_PULL_MS, MAX_RUNNERS_PER_NODE, POLICIES, TIMINGS,
  type Policy, type PolicyName,
} from './warm-pool/policies.ts';
import { DEFAULT_DEMAND_OPTIONS } from '../runtime/controllers/warm-pool/demand.ts';
import { DEFAULT_BUDGET_PACING } from '../runtime/controllers/warm-pool/idle-budget.ts';
import { replayTrace } from './warm-pool/replay.ts';
import { policyStats, type PolicyStats } from './warm-pool/stats.ts';
import { DAY_PERIODS, generateTrace, TRACE_SPECS, type Trace } from './warm-pool/traces.ts';

/**
 * Warm-pool policies against each other on the same arrival traces: each trace is replayed
 * through a fresh simulated cluster on a virtual clock once per policy, and start times,
 * warm hits and idle placeholder CPU are measured from the cluster's own state changes.
 */

export interface TraceOutcome {
  trace: string;
  title: string;
  summary: string;
  seed: number;
  jobs: number;
  matrixBursts: number;
  /** The trace's matrix bursts alone (the scheduled cron matrix left out): count, jobs and size range. */
  matrix: { bursts: number; jobs: number; size: readonly [number, number] };
  policies: PolicyStats[];
  /** controller ÷ fixed pool (and the uncapped controller ÷ fixed pool). */
  ratios: { p50: number; p95: number; idleCpuHours: number; nodeCpuHours: number; uncappedP95: number; uncappedIdleCpuHours: number };
}

/** One setting of the cost curve (working day only). */
export interface CurvePoint {
  setting: string;
  stats: PolicyStats;
}

export interface WarmPoolOutcome {
  traces: TraceOutcome[];
  /** The controller at other settings on the working day (empty with `quick`). */
  curve: CurvePoint[];
  /** The issue's bar: on the working day, a lower p95 than the fixed pool at equal or lower idle cost. */
  target: { goal: string; met: boolean };
}

const TARGET_TRACE = 'working-day';
/** A node launch alone (Karpenter → Ready): a start at least this long waited for a node of its own. */
const LAUNCH_S = TIMINGS.provisioningMs! / 1000;
const GOAL = 'working day: controller p95 start < fixed pool p95, at ≤ its idle placeholder CPU-h';

/** Replays every trace (only the working day with `quick`) under every policy. */
export async function runWarmPool(ctx: Pick<BenchContext, 'progress' | 'quick' | 'signal'>): Promise<WarmPoolOutcome> {
  const specs = ctx.quick ? TRACE_SPECS.filter((s) => s.name === TARGET_TRACE) : TRACE_SPECS;
  const traces: TraceOutcome[] = [];
  for (const spec of specs) {
    const trace = generateTrace(spec);
    const stats: PolicyStats[] = [];
    for (const policy of POLICIES) {
      if (ctx.signal.aborted) throw new Error('stopped');
      ctx.progress(`${trace.name}: ${trace.jobs.length} jobs under ${policy.name}`);
      const s = policyStats(await replayTrace(trace, policy));
      ctx.progress(`${trace.name}/${policy.name}: p50 ${s.p50StartS} s, p95 ${s.p95StartS} s, warm ${pct(s.warmHitRate)}, idle ${s.idlePlaceholderCpuHours} CPU-h (${(s.wallMs / 1000).toFixed(1)} s wall)`);
      stats.push(s);
    }
    traces.push(outcome(trace, stats));
  }
  const curve: CurvePoint[] = [];
  if (!ctx.quick) {
    const trace = generateTrace(TRACE_SPECS.find((s) => s.name === TARGET_TRACE)!);
    for (const setting of COST_CURVE) {
      if (ctx.signal.aborted) throw new Error('stopped');
      ctx.progress(`${trace.name}: cost curve, controller with ${setting.title}`);
      const stats = policyStats(await replayTrace(trace, curvePolicy(setting)));
      ctx.progress(`${trace.name}/${setting.title}: p95 ${stats.p95StartS} s, ${stats.coldStarts} cold, idle ${stats.idlePlaceholderCpuHours} CPU-h`);
      curve.push({ setting: setting.title, stats });
    }
  }
  const day = traces.find((t) => t.trace === TARGET_TRACE)!;
  const [fixed, controller] = [find(day, 'fixed'), find(day, 'controller')];
  return { traces, curve, target: { goal: GOAL, met: controller.p95StartS < fixed.p95StartS && controller.idlePlaceholderCpuHours <= fixed.idlePlaceholderCpuHours } };
}

function matrixOf(trace: Trace): TraceOutcome['matrix'] {
  const jobs = trace.jobs.filter((j) => j.source === 'matrix');
  return { bursts: new Set(jobs.map((j) => j.runId)).size, jobs: jobs.length, size: trace.shape.matrixSize };
}

function outcome(trace: Trace, policies: PolicyStats[]): TraceOutcome {
  const t = { policies } as TraceOutcome;
  const [fixed, controller, uncapped] = [find(t, 'fixed'), find(t, 'controller'), find(t, 'controller-uncapped')];
  return {
    trace: trace.name, title: trace.title, summary: trace.summary, seed: trace.seed, jobs: trace.jobs.length,
    matrixBursts: new Set(trace.jobs.filter((j) => j.source !== 'push').map((j) => j.runId)).size,
    matrix: matrixOf(trace),
    policies,
    ratios: {
      p50: controller.p50StartS / fixed.p50StartS,
      p95: controller.p95StartS / fixed.p95StartS,
      idleCpuHours: controller.idlePlaceholderCpuHours / fixed.idlePlaceholderCpuHours,
      nodeCpuHours: controller.nodeCpuHours / fixed.nodeCpuHours,
      uncappedP95: uncapped.p95StartS / fixed.p95StartS,
      uncappedIdleCpuHours: uncapped.idlePlaceholderCpuHours / fixed.idlePlaceholderCpuHours,
    },
  };
}

function find(t: Pick<TraceOutcome, 'policies'>, name: PolicyName): PolicyStats {
  const s = t.policies.find((p) => p.policy === name);
  if (!s) throw new Error(`no result for policy ${name}`);
  return s;
}

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
const x = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '—');
const title = (p: PolicyStats) => POLICIES.find((q) => q.name === p.policy)?.title ?? p.policy;

/** The tables: one per trace, the ratios, and the working day by time of day. */
export function tables(o: WarmPoolOutcome): Table[] {
  const perTrace = o.traces.map((t): Table => ({
    title: `${t.title}: ${t.jobs} jobs, ${t.matrixBursts} matrix bursts incl. scheduled ones (start = webhook → runner running, seconds)`,
    columns: ['policy', 'p50 start', 'p90 start', 'p95 start', 'cold starts', 'warm-hit rate', 'took a placeholder', 'idle placeholder CPU-h', 'nodes launched', 'node CPU-h'],
    rows: t.policies.map((p) => [
      title(p), p.p50StartS, p.p90StartS, p.p95StartS, p.coldStarts, pct(p.warmHitRate), pct(p.placeholderHitRate), p.idlePlaceholderCpuHours, p.nodesLaunched, p.nodeCpuHours,
    ]),
  }));
  const ratios: Table = {
    title: 'Controller ÷ fixed pool, per trace (below 1× is better for the controller)',
    columns: ['trace', 'p50', 'p95', 'idle placeholder CPU-h', 'node CPU-h', 'p95, no idle cap', 'idle CPU-h, no idle cap'],
    rows: o.traces.map((t) => [t.title, x(t.ratios.p50), x(t.ratios.p95), x(t.ratios.idleCpuHours), x(t.ratios.nodeCpuHours), x(t.ratios.uncappedP95), x(t.ratios.uncappedIdleCpuHours)]),
  };
  const day = o.traces.find((t) => t.trace === TARGET_TRACE);
  const byPeriod: Table[] = day
    ? [{
        title: `${day.title} by time of day (UTC): cold starts (of jobs) / idle placeholder CPU-h`,
        columns: ['policy', ...DAY_PERIODS.map((p) => p.name)],
        rows: day.policies.map((p) => [title(p), ...DAY_PERIODS.map((d) => {
          const b = p.byPeriod[d.name]!;
          return `${b.cold} of ${b.jobs} / ${b.idleCpuHours}`;
        })]),
      }]
    : [];
  return [...perTrace, ratios, ...byPeriod, ...curveTable(o)];
}

/** The cost curve beside the fixed pool and the benchmark's controller, cheapest first. */
function curveTable(o: WarmPoolOutcome): Table[] {
  const day = o.traces.find((t) => t.trace === TARGET_TRACE);
  if (!day || !o.curve.length) return [];
  const fixed = find(day, 'fixed');
  const points = [
    { setting: 'fixed pool (2)', stats: fixed },
    { setting: `controller as benchmarked (idle cap ${CONTROLLER_POOL.idleCpuHoursPerDayCap} CPU-h)`, stats: find(day, 'controller') },
    ...o.curve,
  ].sort((a, b) => a.stats.idlePlaceholderCpuHours - b.stats.idlePlaceholderCpuHours);
  return [{
    title: `${day.title}: what a lower p95 costs — the controller at other settings, cheapest first (seconds; × = ÷ the fixed pool)`,
    columns: ['setting', 'p50', 'p90', 'p95', 'cold starts', 'idle placeholder CPU-h', '×', 'node CPU-h', '×'],
    rows: points.map(({ setting, stats: p }) => [
      setting, p.p50StartS, p.p90StartS, p.p95StartS, p.coldStarts, p.idlePlaceholderCpuHours, x(p.idlePlaceholderCpuHours / fixed.idlePlaceholderCpuHours),
      p.nodeCpuHours, x(p.nodeCpuHours / fixed.nodeCpuHours),
    ]),
  }];
}

function setupTables(): Table[] {
  return [
    {
      title: 'Traces (one simulated Monday each, UTC; runs Poisson within each hour; a run has 1, 2 or 3 jobs arriving within 5 s (50/30/20 %); a matrix\'s jobs arrive within 10 s)',
      columns: ['trace', 'shape', 'runs per hour, 00→23 UTC', 'seed'],
      rows: TRACE_SPECS.map((s) => [s.title, s.summary, s.shape.runsPerHour.join(' '), s.seed]),
    },
    {
      title: 'Policies',
      columns: ['policy', 'configuration'],
      rows: POLICIES.map((p: Policy) => [p.title, p.config]),
    },
  ];
}

function notes(o: WarmPoolOutcome): string[] {
  const out = [
    `Cluster: the simulated cluster (\`sim/k8s\`) on a virtual clock, one runner class \`${CLASS}\` (4 vCPU, 16 GiB; runs-on \`runs-fleet=<run>/runner=${CLASS}\`), ` +
      `its NodePool from \`nodePoolsFromConfig\` (instance types holding 1, 2 or ${MAX_RUNNERS_PER_NODE} runners, 192 vCPU limit, WhenEmpty consolidation after ${CONSOLIDATE_AFTER_MS / 1000} s). ` +
      `Timings: Karpenter batch window 1 s idle / 10 s max, node launch → Ready ${TIMINGS.provisioningMs! / 1000} s; image pulls on a node that lacks the image ` +
      `${Object.entries(IMAGE_PULL_MS).map(([img, ms]) => `\`${img}\` ${ms / 1000} s`).join(', ')}, \`pause\` 1 s (in parallel, once per node); container start ${TIMINGS.containerStartMs} ms; ` +
      `dockerd ready (the dind sidecar's startup probe) ${TIMINGS.readinessMs! / 1000} s before the runner container starts. A runner runs for its job's duration; job durations are log-normal, median 5 min (matrix jobs 10 min), 1–45 min.`,
    'Runners are created as the orchestrator creates them: `parseRunsOn` → `resolveRunner` → `buildRunnerObjects`, Secret and Job POSTed over HTTP with client-node at the webhook\'s instant, then the Job adopts the Secret. ' +
      'The orchestrator\'s own webhook → Job path (a few ms, see the benchmark above) is not added. ' +
      `The controller is the real \`WarmPoolController\`, one pass every ${CONTROLLER_INTERVAL_MS / 1000} s of virtual time; the fixed pool is one Deployment from \`buildPlaceholderDeployment\` with 2 replicas; time stands still while a pass or a Job creation is in flight, so every run is repeatable.`,
    'Start time = webhook (Job created) → the runner container running, from the sim\'s state changes at the virtual instant they happen. Warm hit = the runner\'s node existed when its pod was created (a placeholder\'s place, or a free slot on a node that was up); "took a placeholder" = it preempted one. ' +
      'Idle placeholder CPU-h = ∫ ready placeholders × their CPU request dt over the day (00:00–24:00), measured the same way for every policy. Node CPU-h = runner-class node capacity × time from Node Ready to removal (what the nodes cost, launches excluded). ' +
      'Each trace starts 1 h before 00:00 with an empty cluster (the fixed pool comes up then) and runs until every runner of the day started. Percentiles are nearest-rank.',
  ];
  return [...out, ...findings(o)];
}

/** What the numbers say, computed from them (so a rerun cannot leave a stale claim behind). */
function findings(o: WarmPoolOutcome): string[] {
  const day = o.traces.find((t) => t.trace === TARGET_TRACE);
  if (!day) return [];
  const [fixed, ctl, unc] = [find(day, 'fixed'), find(day, 'controller'), find(day, 'controller-uncapped')];
  const night = DAY_PERIODS[0]!.name;
  const cold = (p: PolicyStats) => p.coldStarts;
  const coldShare = (p: PolicyStats) => 1 - p.warmHitRate;
  const [dm, pace] = [DEFAULT_DEMAND_OPTIONS, DEFAULT_BUDGET_PACING];
  const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`;
  // A p95 at or above one node launch is a runner that waited for a whole launch of its own.
  const bothCold = fixed.p95StartS >= LAUNCH_S && ctl.p95StartS >= LAUNCH_S;
  const out = [
    `Working day: a cold start that waits for a node launched for it takes ~1 min (batch window + ${LAUNCH_S} s launch + image pulls); one that lands on a node already ` +
      `launching (for a placeholder, or for an earlier runner) is shorter. So p95 is a full cold start whenever more than 5 % of jobs wait for a launch of their own. ` +
      `The fixed pool had ${cold(fixed)} cold starts (${pct(coldShare(fixed))}), the controller ${cold(ctl)} (${pct(coldShare(ctl))}), ` +
      `${bothCold ? 'and both p95s are a full cold start' : 'and the p95s are'} (${fixed.p95StartS} s vs ${ctl.p95StartS} s). The controller ${o.target.met ? 'met' : 'did **not** meet'} the bar (${GOAL})` +
      (bothCold && o.target.met ? ', but only among cold starts: fewer of its jobs are cold, so its 95th percentile falls a little lower among the cold-start times.' : '.'),
    `Where the controller's idle spend went on the working day: ${DAY_PERIODS.map((p) => `${ctl.byPeriod[p.name]!.idleCpuHours} CPU-h ${p.name}`).join(', ')} ` +
      `(fixed pool: ${DAY_PERIODS.map((p) => `${fixed.byPeriod[p.name]!.idleCpuHours}`).join(', ')}). ${capStory(ctl)} ` +
      `A burst size counts for hours only while bursts recur (${dm.recurrences} within ${minutes(dm.recurrenceWindowMs)}, keeping the size they all reach); ` +
      `a lone one — the nightly cron matrix, a push at night — for ${minutes(dm.burstMemoryMs)} (plus the scale-down delay). At night (1 run an hour) that holds almost nothing ` +
      `warm: cold starts ${night}: controller ${ctl.byPeriod[night]!.cold}, fixed pool ${fixed.byPeriod[night]!.cold}, whose 2 placeholders wait there all night. ` +
      `The idle budget refills at the cap ÷ 24 every hour and saves up to ${pace.saveHours} h of refill, a placeholder is added above the floor only if it can be paid for ${pace.spendHours} h ` +
      `and is kept while the savings last: a busy morning cannot leave the evening with nothing, but outside the floor's hours the pool holds about what the refill sustains ` +
      `(${(CONTROLLER_POOL.idleCpuHoursPerDayCap! / 24 / CLASS_CPU).toFixed(2)} placeholders; cold starts 18–24: controller ${ctl.byPeriod['18–24']!.cold}, fixed pool ${fixed.byPeriod['18–24']!.cold}).`,
    `Without the idle cap the same controller reaches p95 ${unc.p95StartS} s (${x(day.ratios.uncappedP95)} the fixed pool's) with ${pct(unc.warmHitRate)} warm hits, ` +
      `for ${unc.idlePlaceholderCpuHours} idle placeholder CPU-h (${x(day.ratios.uncappedIdleCpuHours)}) and ${unc.nodeCpuHours} node CPU-h (fixed pool ${fixed.nodeCpuHours}, no pool ${find(day, 'no-pool').nodeCpuHours})` +
      (unc.p95StartS >= LAUNCH_S
        ? `: even with no cap its p95 is a full cold start (${unc.coldStarts} cold starts; ${DAY_PERIODS.map((p) => `${unc.byPeriod[p.name]!.cold} ${p.name}`).join(', ')}).`
        : `: at ${x(day.ratios.uncappedIdleCpuHours)} the fixed pool's idle spend the p95 is below a node launch (${unc.coldStarts} cold starts; ${DAY_PERIODS.map((p) => `${unc.byPeriod[p.name]!.cold} ${p.name}`).join(', ')}).`),
    `The controller's idle cap is ${CONTROLLER_POOL.idleCpuHoursPerDayCap} CPU-h a day above its floor: the fixed pool's 192 CPU-h (2 × 4 vCPU × 24 h) minus the 80 its working-hours floor holds, ` +
      'so it can never hold more idle placeholder capacity in a day than the fixed pool. Earlier runs used 96, half the fixed pool\'s day, a margin with no reason behind it that left the controller less to spend than the pool it is compared with.',
    'Warm hits are not all placeholders: Karpenter packs bursts onto nodes of up to 4 runners, and a node stays up while any runner on it runs (and 2 min after), so with no pool at all most daytime jobs find a free slot. ' +
      `Placeholders pre-pull the runner and dind images (\`runner.prePullImages\`, init containers that run \`true\`), so a runner that takes a placeholder's place on a node made for it starts in ~${warmStartS(false)} s, ` +
      `as on a node that ran a runner before, instead of ~${warmStartS(true)} s behind the pulls.`,
    ...curveFindings(o),
    'To judge a controller change on more days than the benchmark\'s one: `npx tsx bench/warm-pool/across-seeds.ts working-day 1,2,3 fixed,controller` ' +
      '(a JSON argument overrides the controller\'s pool, e.g. `\'{"min":2,"idleCpuHoursPerDayCap":100}\'`); to list the jobs that started cold, with their run\'s size and start time: ' +
      '`npx tsx bench/warm-pool/cold-starts.ts working-day fixed,controller`.',
    `Wall time per simulated day: ${wallRange(o)} (2 shared cores; the controller's runs are the slow ones: a pass every 15 s is ~5,900 passes a day over HTTP).`,
  ];
  return out;
}

/**
 * The price of the bar from the cost curve: the cheapest setting measured whose p95 is not a
 * cold start (below one node launch), and what every setting the fixed pool's spend affords got.
 */
function curveFindings(o: WarmPoolOutcome): string[] {
  const day = o.traces.find((t) => t.trace === TARGET_TRACE);
  if (!day || !o.curve.length) return [];
  const fixed = find(day, 'fixed');
  const all = [{ setting: 'the benchmarked controller', stats: find(day, 'controller') }, ...o.curve];
  const affordable = all.filter((p) => p.stats.idlePlaceholderCpuHours <= fixed.idlePlaceholderCpuHours);
  const fast = all.filter((p) => p.stats.p95StartS < LAUNCH_S).sort((a, b) => a.stats.idlePlaceholderCpuHours - b.stats.idlePlaceholderCpuHours);
  const best = affordable.length ? Math.min(...affordable.map((p) => p.stats.p95StartS)) : undefined;
  const cheapest = fast[0];
  return [
    `Cost curve (working day, ${all.length} controller settings incl. the benchmarked one): ` +
      (affordable.length
        ? `${affordable.length} of them ${affordable.length === 1 ? 'stays' : 'stay'} within the fixed pool's ${fixed.idlePlaceholderCpuHours} idle CPU-h, and the best p95 among those is ${best} s — a full cold start (a node launch alone is ${LAUNCH_S} s). `
        : `none stays within the fixed pool's ${fixed.idlePlaceholderCpuHours} idle CPU-h. `) +
      (cheapest
        ? `The cheapest whose p95 is below a node launch is "${cheapest.setting}": p95 ${cheapest.stats.p95StartS} s with ${cheapest.stats.coldStarts} cold starts, for ` +
          `${cheapest.stats.idlePlaceholderCpuHours} idle placeholder CPU-h (${x(cheapest.stats.idlePlaceholderCpuHours / fixed.idlePlaceholderCpuHours)} the fixed pool's) and ` +
          `${cheapest.stats.nodeCpuHours} node CPU-h (${x(cheapest.stats.nodeCpuHours / fixed.nodeCpuHours)}). `
        : 'No setting measured brings the p95 below a node launch. ') +
      `What it takes: ${matrixStory(day)}; keeping all but about 5 % of the day's jobs from waiting for a launch of their own means most of every burst warm — ` +
      'more placeholders than the fixed pool\'s 2 through the working hours — and, at the same time, a pool that stays warm at night.',
  ];
}

/** How many daytime matrix bursts the trace has and what share of its jobs they are. */
function matrixStory(day: TraceOutcome): string {
  const { bursts, jobs, size } = day.matrix;
  return `${bursts} bursts of ${size[0]}–${size[1]} jobs at random times hold ${pct(jobs / day.jobs)} of the day's jobs`;
}

/** Runner start on a warm node: image pulls (fresh node) + dind start and startup probe + runner container start, in seconds. */
function warmStartS(fresh: boolean): number {
  const pull = fresh ? Math.max(...Object.values(IMAGE_PULL_MS)) : 0;
  return Math.round((pull + 2 * TIMINGS.containerStartMs! + TIMINGS.readinessMs!) / 1000);
}

function wallRange(o: WarmPoolOutcome): string {
  const walls = o.traces.flatMap((t) => t.policies.map((p) => p.wallMs / 1000));
  return `${Math.min(...walls).toFixed(1)}–${Math.max(...walls).toFixed(1)} s`;
}

/** When the idle cap started to bind and for how long, from the controller's own decisions. */
function capStory(p: PolicyStats): string {
  const log = p.controller;
  if (!log) return '';
  const hours = (m: number | undefined) => ((m ?? 0) / 60).toFixed(1);
  const reasons = Object.entries(log.reasonMinutes).sort((a, b) => b[1] - a[1]).map(([r, m]) => `${r} ${hours(m)} h`).join(', ');
  const first = log.firstCostCapAt === undefined ? 'never held it back' : `first held it back at ${hhmm(log.firstCostCapAt)} UTC and decided the count for ${hours(log.reasonMinutes.cost_cap)} h of the day`;
  return `The idle cap ${first}; the reasons behind its decisions over the day: ${reasons}.`;
}

const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);

/** The report as markdown (for running this file alone). */
export function markdown(o: WarmPoolOutcome): string {
  return [...setupTables(), ...tables(o)].flatMap(markdownTable).join('\n') + '\n' + notes(o).map((n) => `- ${n}`).join('\n') + '\n';
}

function headline(o: WarmPoolOutcome): string {
  const day = o.traces.find((t) => t.trace === TARGET_TRACE)!;
  const [fixed, ctl] = [find(day, 'fixed'), find(day, 'controller')];
  return `Working day: the controller's p95 start is ${ctl.p95StartS} s vs the fixed pool's ${fixed.p95StartS} s (${x(day.ratios.p95)}), ` +
    `p50 ${ctl.p50StartS} s vs ${fixed.p50StartS} s, for ${ctl.idlePlaceholderCpuHours} vs ${fixed.idlePlaceholderCpuHours} idle placeholder CPU-h (${x(day.ratios.idleCpuHours)}); ` +
    `warm hits ${pct(ctl.warmHitRate)} vs ${pct(fixed.warmHitRate)}.`;
}

const bench: Bench = {
  name: 'warm-pool',
  title: 'Warm-pool policies on replayed arrival traces',
  description:
    'Synthetic days of workflow-job arrivals (a working day with matrix bursts and a quiet night, a flat follow-the-sun day, a small team) replayed through ' +
    'the simulated cluster on a virtual clock, once per warm-pool policy: no pool, the seeds\' fixed pool of 2 placeholders, and the warm-pool controller ' +
    '(plus the controller without its idle cap, for comparison). Reported per policy: webhook → runner running p50/p90/p95, cold starts, warm-hit rate, idle placeholder ' +
    'CPU-hours and the nodes used; controller ÷ fixed pool; and, on the working day, a cost curve: the controller at other settings, to show what a lower p95 costs. ' +
    'Traces, policies and timings are listed below.',
  async run(ctx): Promise<BenchResult> {
    const o = await runWarmPool(ctx);
    return { headline: headline(o), target: o.target, tables: [...setupTables(), ...tables(o)], notes: notes(o), data: o };
  },
};

export default bench;

// `npx tsx bench/warm-pool.bench.ts [--quick]`: the report on stdout, progress on stderr
// (`npx tsx bench/run.ts --only warm-pool` stores it and regenerates docs/benchmarks.md).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = Date.now();
  const progress = (m: string) => process.stderr.write(`[warm-pool ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${m}\n`);
  runWarmPool({ progress, quick: process.argv.includes('--quick'), signal: new AbortController().signal }).then(
    (o) => process.stdout.write(`${headline(o)}\n\n${markdown(o)}`),
    (err) => {
      process.stderr.write(`warm-pool bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
