import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Bench, BenchContext, BenchResult, Table } from './lib/types.ts';
import { markdownTable } from './lib/markdown.ts';
import { DEFAULT_SPOT_PRICE_RATIO } from '../runtime/capacity/price.ts';
import { REPO_ROOT } from '../sim/local.ts';
import { IMAGE_WARMING } from './warm-pool/policies.ts';
import { cheapFastBar, coldBar, frontierBar, P95_GOAL_S, type BarResult, type Point } from './warm-pool/frontier.ts';
import {
  CLASS, CONSOLIDATE_AFTER_MS, CONTROLLER_INTERVAL_MS, fixedPolicy, MAX_RUNNERS_PER_NODE, RUNNER_IMAGE_PULL_MS, sweepPolicies, TIMINGS, type Policy,
} from './warm-pool/policies.ts';
import type { PolicyStats } from './warm-pool/stats.ts';
import { runSweep, workerCount, type SweepResult } from './warm-pool/sweep.ts';
import { frontierSvg, type PlotPoint } from './warm-pool/svg.ts';
import { TRACE_SPECS } from './warm-pool/traces.ts';

/**
 * Warm pools on the cost–latency frontier (issue 14): every trace, seeds 1–3, replayed through
 * a fresh simulated cluster on a virtual clock under each anchor (fixed pools of N all day,
 * cron pools of N in weekday working hours) and the controller at several budget settings.
 * Per point: idle $/day (the placeholders' share of node cost), node $/day, p50/p95/p99 start,
 * cold starts, warm-hit rate; per trace a picture of p95 and cold starts against $/day.
 */

/** The traces the done-when bars are judged on (the small team is swept and shown, not judged). */
const JUDGED = ['working-day', 'follow-the-sun', 'fan-out'];
const SVG_DIR = join(REPO_ROOT, 'docs', 'benchmarks');
const svgPath = (trace: string) => `benchmarks/warm-pool-${trace}.svg`;

export interface TraceSweep {
  trace: string;
  title: string;
  /** Jobs per seed. */
  jobs: Record<number, number>;
  /** policy name → seed → stats. */
  points: Record<string, Record<number, PolicyStats>>;
}

export interface SeedBars {
  trace: string;
  seed: number;
  frontier: BarResult;
  cold: BarResult;
  cheapFast: BarResult;
}

export interface WarmPoolOutcome {
  seeds: number[];
  policies: Array<Pick<Policy, 'name' | 'kind' | 'title' | 'config'>>;
  traces: TraceSweep[];
  bars: SeedBars[];
  target: { goal: string; met: boolean };
  workers: number;
  wallMs: number;
}

const GOAL =
  `on ${JUDGED.join(', ')}, each seed run (issue 14 asks for seeds 1–3: WARM_POOL_SEEDS=1,2,3) (budget = node $/day): (1) the controller's p95 frontier at or below the best anchor's at every budget from its cheapest setting up; ` +
  '(2) at the fixed pool of 2\'s budget ≥ 25 % fewer cold starts than the best anchor of equal or higher cost, read as the best anchor costing between the controller setting and the fixed 2 (what a user could buy instead for that money; any anchor costing more would make fixed 16 the rival, unbeatable by construction); ' +
  `(3) reaching p95 ≤ ${P95_GOAL_S} s costs ≤ 0.7× the cheapest anchor that reaches it`;

function seedsFrom(env: NodeJS.ProcessEnv, quick: boolean): number[] {
  // One seed by default: seeds 1–3 triple a sweep that already takes ~8–10 min on 2 shared cores (seeds 1–3 took 23 min here).
  if (quick) return [1];
  const s = (env.WARM_POOL_SEEDS ?? '1').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
  return s.length ? s : [1, 2, 3];
}

export async function runWarmPool(ctx: Pick<BenchContext, 'progress' | 'quick' | 'signal'>, env: NodeJS.ProcessEnv = process.env): Promise<WarmPoolOutcome> {
  const started = Date.now();
  const seeds = seedsFrom(env, ctx.quick);
  const all = sweepPolicies(env);
  const policies = ctx.quick ? all.filter((p) => ['fixed-0', 'fixed-2', 'fixed-8', 'scheduled-4', 'controller-a'].includes(p.name)) : all;
  const specs = ctx.quick ? TRACE_SPECS.filter((s) => s.name === 'working-day') : TRACE_SPECS;
  const tasks = specs.flatMap((s) => seeds.flatMap((seed) => policies.map((p) => ({ trace: s.name, seed, policy: p.name }))));
  const workers = workerCount(env);
  ctx.progress(`${tasks.length} replays (${specs.length} traces × ${seeds.length} seeds × ${policies.length} policies) on ${workers} worker thread(s)`);
  const results = await runSweep(tasks, {
    workers,
    signal: ctx.signal,
    progress: (r, done, total) =>
      ctx.progress(`[${done}/${total}] ${r.trace} seed ${r.seed} ${r.policy}: p95 ${r.stats.p95StartS} s, ${r.stats.coldStarts} cold, idle $${r.stats.idleUsdPerDay}, node $${r.stats.nodeUsdPerDay} (${(r.stats.wallMs / 1000).toFixed(1)} s)`),
  });
  const traces = specs.map((s): TraceSweep => {
    const mine = results.filter((r) => r.trace === s.name);
    const points: TraceSweep['points'] = {};
    for (const r of mine) (points[r.policy] ??= {})[r.seed] = r.stats;
    return { trace: s.name, title: s.title, jobs: Object.fromEntries(mine.map((r) => [r.seed, r.jobs])), points };
  });
  const bars = traces.filter((t) => JUDGED.includes(t.trace)).flatMap((t) => seeds.map((seed) => seedBars(t, seed, policies)));
  const met = bars.length > 0 && bars.every((b) => b.frontier.met && b.cold.met && b.cheapFast.met);
  return {
    seeds, policies: policies.map(({ name, kind, title, config }) => ({ name, kind, title, config })), traces, bars,
    target: { goal: GOAL, met }, workers, wallMs: Date.now() - started,
  };
}

function pointsOf(t: TraceSweep, seed: number, policies: readonly Pick<Policy, 'name' | 'kind'>[]): Point[] {
  return policies.flatMap((p) => {
    const s = t.points[p.name]?.[seed];
    return s ? [{ policy: p.name, anchor: p.kind !== 'controller', usd: s.nodeUsdPerDay, p95: s.p95StartS, cold: s.coldStarts }] : [];
  });
}

function seedBars(t: TraceSweep, seed: number, policies: readonly Pick<Policy, 'name' | 'kind'>[]): SeedBars {
  const pts = pointsOf(t, seed, policies);
  const fixed2 = pts.find((p) => p.policy === fixedPolicy(2).name);
  const none: BarResult = { met: false, detail: 'not measured' };
  return {
    trace: t.trace, seed,
    frontier: pts.some((p) => !p.anchor) ? frontierBar(pts) : none,
    cold: fixed2 ? coldBar(pts, fixed2) : { met: false, detail: 'fixed 2 not in the grid' },
    cheapFast: cheapFastBar(pts),
  };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const r1 = (v: number) => Math.round(v * 10) / 10;
const r2 = (v: number) => Math.round(v * 100) / 100;
const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
const usd = (v: number) => `$${v.toFixed(2)}`;

/** A policy's stats averaged over the seeds (percentiles: the mean of each seed's). */
function meanStats(t: TraceSweep, policy: string): Record<string, number> | undefined {
  const per = Object.values(t.points[policy] ?? {});
  if (!per.length) return undefined;
  const m = (f: (s: PolicyStats) => number) => mean(per.map(f));
  return {
    idleUsd: r2(m((s) => s.idleUsdPerDay)), nodeUsd: r2(m((s) => s.nodeUsdPerDay)), p50: r1(m((s) => s.p50StartS)), p95: r1(m((s) => s.p95StartS)), p99: r1(m((s) => s.p99StartS)),
    cold: r1(m((s) => s.coldStarts)), warm: m((s) => s.warmHitRate), idleCpuH: r1(m((s) => s.idlePlaceholderCpuHours)), nodeCpuH: r1(m((s) => s.nodeCpuHours)), spot: m((s) => s.spotShare),
    nodes: r1(m((s) => s.nodesLaunched)),
    slowWarm: r1(m((s) => s.slowWarmStarts ?? 0)),
    slowWarmPh: r1(m((s) => s.slowWarmViaPlaceholder ?? 0)),
  };
}

export function tables(o: WarmPoolOutcome): Table[] {
  const perTrace = o.traces.map((t): Table => ({
    title: `${t.title} (${Object.values(t.jobs).join(' / ')} jobs on seeds ${o.seeds.join(', ')}): each policy's mean over the seeds, cheapest first (start = webhook → runner running, seconds)`,
    columns: ['policy', 'idle $/day', 'node $/day', 'p50', 'p95', 'p99', 'cold starts', 'warm hits > 10 s (via a placeholder)', 'warm-hit rate', 'idle placeholder CPU-h', 'node CPU-h', 'nodes launched', 'spot node-h'],
    rows: o.policies
      .map((p) => ({ p, s: meanStats(t, p.name) }))
      .filter((x): x is { p: typeof x.p; s: Record<string, number> } => x.s !== undefined)
      .sort((a, b) => a.s.nodeUsd! - b.s.nodeUsd!)
      .map(({ p, s }) => [p.title, usd(s.idleUsd!), usd(s.nodeUsd!), s.p50!, s.p95!, s.p99!, s.cold!, `${s.slowWarm!} (${s.slowWarmPh!})`, pct(s.warm!), s.idleCpuH!, s.nodeCpuH!, s.nodes!, pct(s.spot!)]),
  }));
  const bars: Table = {
    title: 'The done-when bars per trace and seed (budget = node $/day of that seed)',
    columns: ['trace', 'seed', '(1) frontier at or below the anchors\'', '(2) ≥ 25 % fewer cold starts at the fixed 2\'s budget', `(3) p95 ≤ ${P95_GOAL_S} s at ≤ 0.7× the cheapest anchor`],
    rows: o.bars.map((b) => [b.trace, b.seed, mark(b.frontier), mark(b.cold), mark(b.cheapFast)]),
  };
  return [...perTrace, bars];
}

const mark = (b: BarResult) => `${b.met ? 'met' : '**not met**'}: ${b.detail}`;

function setupTables(o: WarmPoolOutcome): Table[] {
  return [
    {
      title: 'Traces (one simulated Monday each, UTC; runs Poisson within each hour; a run has 1, 2 or 3 jobs arriving within 5 s (50/30/20 %); a matrix\'s jobs arrive within 10 s)',
      columns: ['trace', 'shape', 'runs per hour, 00→23 UTC'],
      rows: TRACE_SPECS.map((s) => [s.title, s.summary, s.shape.runsPerHour.join(' ')]),
    },
    { title: 'Policies swept', columns: ['policy', 'configuration'], rows: o.policies.map((p) => [p.title, p.config]) },
  ];
}

function svgNotes(o: WarmPoolOutcome): string[] {
  return o.traces.map((t) => `${t.title}, mean of seeds ${o.seeds.join(', ')}: ![${t.title}: p95 start and cold starts vs node $/day](${svgPath(t.trace)})`);
}

/** Writes one SVG per trace into docs/benchmarks/ (the doc links them). */
export function writeSvgs(o: WarmPoolOutcome): string[] {
  mkdirSync(SVG_DIR, { recursive: true });
  return o.traces.map((t) => {
    const points: PlotPoint[] = o.policies.flatMap((p) => {
      const s = meanStats(t, p.name);
      if (!s) return [];
      const label = p.kind === 'controller' ? p.name.replace('controller-', 'C-') : `${p.kind === 'fixed' ? 'F' : 'S'}${p.name.split('-')[1]}`;
      return [{ policy: p.name, anchor: p.kind !== 'controller', kind: p.kind, label, usd: s.nodeUsd!, p95: s.p95!, cold: s.cold! }];
    });
    const file = join(REPO_ROOT, 'docs', svgPath(t.trace));
    writeFileSync(file, frontierSvg(t.title, points));
    return file;
  });
}

function notes(o: WarmPoolOutcome): string[] {
  // Measured start ends when the runner container runs: dind start + its probe + runner container start (the runner's own ~2 s to listen is after it).
  const warmS = (TIMINGS.containerStartMs! * 2 + TIMINGS.readinessMs!) / 1000;
  return [
    `Cluster: the simulated cluster (\`sim/k8s\`) on a virtual clock, one runner class \`${CLASS}\` (4 vCPU, 16 GiB), its NodePool from \`nodePoolsFromConfig\` ` +
      `(instance types holding 1, 2 or ${MAX_RUNNERS_PER_NODE} runners, packed against allocatable minus the EKS DaemonSets; WhenEmpty consolidation after ${CONSOLIDATE_AFTER_MS / 1000} s). ` +
      `Timings: the sim's one profile (\`sim/k8s/timing-profile.ts\`, sources named there): Karpenter batch window ${TIMINGS.batchIdleMs! / 1000} s idle / ${TIMINGS.batchMaxMs! / 1000} s max, ` +
      `launch → Ready ${TIMINGS.provisioningMs! / 1000} s, the runner image ${Math.round(RUNNER_IMAGE_PULL_MS / 1000)} s to pull on a node that lacks it, a warm start (node and images there) ≈ ${warmS} s to the runner container running.`,
    'Dollars: **node $/day** is the sim\'s own node cost (`sim/k8s/controllers/node-cost.ts`: from launch — EC2 bills from the instance\'s start — to deletion, per second, at the catalog\'s us-east-1 on-demand price, ' +
      `spot at ${DEFAULT_SPOT_PRICE_RATIO}× on-demand as \`runtime/capacity/price.ts\` documents), counted 00:00–24:00. **Idle $/day** is the placeholders' share of it: for each ready placeholder, its CPU request ÷ its node's allocatable CPU × that node's $/h, ` +
      'integrated over the day (CPU because a runner slot is sized by CPU; the DaemonSets\' part and unfilled room are not charged to the placeholders, so idle $ is a lower bound on what the pool costs). ' +
      'The frontier and the bars use node $/day: the bill, which also counts the room a placeholder keeps up beside it. Idle CPU-h and node CPU-h are as before (ready placeholders × request; node capacity Ready → removal).',
    'Anchors: fixed N (a placeholder Deployment of N all day; N = 0 is no pool) and scheduled N (the same Deployment scaled to N on weekdays 08:00–18:00 UTC and to 0 otherwise, by the bench at the boundaries). ' +
      `The controller is the real \`WarmPoolController\`, a pass every ${CONTROLLER_INTERVAL_MS / 1000} s of virtual time, at each budget setting listed. ` +
      `Replays run on ${o.workers} worker thread(s) (\`bench/warm-pool/sweep.ts\`), each in its own cluster on its own virtual clock, so the numbers do not depend on the parallelism. ` +
      'Bigger grid: `WARM_POOL_GRID=full` (fixed 0–16, scheduled 1–8,12,16 and more controller budgets), `WARM_POOL_FIXED=…`, `WARM_POOL_SCHEDULED=…`, `WARM_POOL_SEEDS=…`, `WARM_POOL_WORKERS=…`.',
    'Start time = webhook (Job created) → the runner container running. Cold start = the runner\'s node did not exist when its pod was created; warm hit = it did (a placeholder\'s place or a free slot). ' +
      'A warm hit on a node still pulling the runner image waits for the rest of that pull. Each trace starts 1 h before 00:00 with an empty cluster and runs until every runner of the day started; percentiles are nearest-rank, then averaged over seeds in the tables.',
    `Bars, as computed: (1) at each measured budget from the controller's cheapest setting up, the best p95 among the controller's settings costing at most that vs the best among the anchors'; ` +
      '(2) each controller setting costing c ≤ the fixed pool of 2\'s B vs the fewest cold starts among anchors costing c to B (fixed 2 always among them), the setting with the best ratio shown; ' +
      `(3) the cheapest controller setting with p95 ≤ ${P95_GOAL_S} s vs the cheapest anchor with it. Each is judged per seed of each judged trace; the target is met only if all are.`,
    'Why a bar can be out of reach on working day and follow the sun (reasoning, not a measurement): their matrix bursts come as a Poisson process with nothing before them that says one is coming, ' +
      'so a burst finds the pool at its time-average level and leaves E[max(0, b − W)] cold starts, convex in the warm level W. At a given spend, holding W flat over the hours bursts come is then the best an online policy can do, ' +
      'and that is what the anchors already do (follow the sun: flat all day, a fixed pool; working day: flat over working hours, a scheduled pool); a controller can tie them there, not beat them by 25 % or 0.7×. ' +
      'What moves the frontier is lead time — a job that precedes its matrix, which fan-out anticipation uses on the fan-out trace — or shorter cold starts (images already on the disk a node boots from, e.g. a Bottlerocket data-volume snapshot), which move every policy\'s curve, anchors\' too.',
    ...svgNotes(o),
    `Sweep: ${o.traces.reduce((n, t) => n + Object.values(t.points).reduce((m, s) => m + Object.keys(s).length, 0), 0)} replays in ${Math.round(o.wallMs / 1000)} s of wall time.`,
  ];
}

function headline(o: WarmPoolOutcome): string {
  const day = o.traces.find((t) => t.trace === 'working-day') ?? o.traces[0]!;
  const f2 = meanStats(day, 'fixed-2');
  const ca = meanStats(day, 'controller-a');
  const metCount = (k: 'frontier' | 'cold' | 'cheapFast') => `${o.bars.filter((b) => b[k].met).length}/${o.bars.length}`;
  const pair = f2 && ca ? `${day.title}: fixed 2 costs ${usd(f2.nodeUsd!)}/day of nodes (${usd(f2.idleUsd!)} idle) for p95 ${f2.p95} s and ${f2.cold} cold starts; controller A ${usd(ca.nodeUsd!)}/day (${usd(ca.idleUsd!)} idle), p95 ${ca.p95} s, ${ca.cold} cold. ` : '';
  return `${pair}Bars met on trace×seed: frontier ${metCount('frontier')}, cold starts ${metCount('cold')}, cheap p95 ≤ ${P95_GOAL_S} s ${metCount('cheapFast')}.`;
}

export function markdown(o: WarmPoolOutcome): string {
  return [...setupTables(o), ...tables(o)].flatMap(markdownTable).join('\n') + '\n' + notes(o).map((n) => `- ${n}`).join('\n') + '\n';
}

const bench: Bench = {
  name: 'warm-pool',
  title: 'Warm-pool policies on the cost–latency frontier',
  description:
    'Synthetic days of workflow-job arrivals (a working day with matrix bursts and a quiet night, a flat follow-the-sun day, a small team, and pipelines whose build fans out into a test matrix), ' +
    'one seed by default and seeds 1–3 with `WARM_POOL_SEEDS=1,2,3` (the issue\'s sweep; three times the ~8–10 min), replayed through the simulated cluster on a virtual clock under every anchor an operator can configure elsewhere — fixed pools of N placeholders all day ' +
    '(actions-runner-controller\'s minRunners) and cron pools of N in weekday working hours (the Terraform AWS runner module, RunsOn) — and under the warm-pool controller at several budget settings. ' +
    'Reported per point, in dollars beside CPU-hours: idle $/day (the placeholders\' share of node cost), node $/day (the sim\'s node cost), p50/p95/p99 start, cold starts, warm-hit rate; ' +
    'per trace a picture of p95 and cold starts against $/day with the anchors\' frontier beside the controller\'s; and issue 14\'s bars, computed. ' +
    'Why large fixed pools keep a high p95: every runner that takes a placeholder\'s place makes the Deployment replace it, often on a new node that then pulls the 1.6 GB runner image for ~88 s, ' +
    'and the next runners that land there (in the replacement placeholder\'s place or in a free slot) are warm hits that wait for that pull (column "warm hits > 10 s"): once cold starts and those together pass 5 % of jobs, p95 is a pull. ' +
    'The sim\'s preemption now breaks ties as kube-scheduler does (the node whose victims started latest), which favours exactly those new nodes. ' +
    'The image-warming startup taint answers that: runner nodes start tainted `runs-fleet.io/image-warming:NoSchedule`, which placeholders tolerate and runners do not, and the orchestrator\'s image-warming reconcile (every 5 s) removes it once a placeholder there is Ready (its pre-pull init containers ran the runner image) or, after 5 s, when no placeholder is there to warm it (a node launched for runners). ' +
    'So a runner takes a placeholder\'s place only on a node that has the image (preemption skips nodes it cannot land on), and Karpenter, which ignores startup taints when it decides what fits, launches nothing for a runner that fits on a warming node. ' +
    'With the image pre-pull DaemonSet (runtime/controllers/image-warming/build-prepull.ts, no requests) every runner node pulls the image as it comes up, so a node launched for runners also stays tainted until it has the image: runners arriving meanwhile preempt a placeholder where the image is instead of waiting in its free slots for that pull. ' +
    `It is on for every policy (the Pulumi program sets it whenever runner.prePullImages is on); \`WARM_POOL_IMAGE_WARMING=0\` replays without it${IMAGE_WARMING ? '' : ' (this run: off)'}. ` +
    'The controller also anticipates fan-out (`runtime/controllers/warm-pool/fan-out.ts`): runner pods carry their job\'s run, workflow and job name, from which it learns which jobs are followed by a wave in the same run minutes later (the fan-out trace\'s builds), and it warms that wave\'s slots one warm-up before the earliest such wave and gives them back once the wave is here. ' +
    'The traces name their jobs as GitHub would: a push runs `ci`\'s check, unit and lint, a matrix `test (n)`, a pipeline `build` and then its `test (n)`. W2 and W4 are settings with room for a whole wave (max 24). Traces, policies and timings are listed below.',
  async run(ctx): Promise<BenchResult> {
    const o = await runWarmPool(ctx);
    for (const f of writeSvgs(o)) ctx.progress(`wrote ${f}`);
    return { headline: headline(o), target: o.target, tables: [...setupTables(o), ...tables(o)], notes: notes(o), data: o };
  },
};

export default bench;

// `npx tsx bench/warm-pool.bench.ts [--quick]`: the report on stdout, progress on stderr, the SVGs written
// (`npm run bench -- --only warm-pool` stores it and regenerates docs/benchmarks.md).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = Date.now();
  const progress = (m: string) => process.stderr.write(`[warm-pool ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${m}\n`);
  runWarmPool({ progress, quick: process.argv.includes('--quick'), signal: new AbortController().signal }).then(
    (o) => {
      writeSvgs(o);
      process.stdout.write(`${headline(o)}\n\n${markdown(o)}`);
    },
    (err) => {
      process.stderr.write(`warm-pool bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

export type { SweepResult };
