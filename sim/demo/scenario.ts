/**
 * The demo's burst: what a busy morning on a monorepo looks like, as a timeline. Pure and
 * deterministic: the same seed and time scale always give the same steps (times,
 * durations, labels, run ids), so two demo runs send the same webhooks in the same order.
 */

export interface DemoJob {
  /** Stable handle within the scenario, e.g. `api#1/test (3)`. */
  key: string;
  repo: string;
  runId: number;
  workflow: string;
  name: string;
  labels: string[];
  /** How long the job's steps take once a runner has it (scaled). */
  runMs: number;
}

export type DemoStep =
  | { atMs: number; kind: 'queue'; job: DemoJob; why: string }
  /** The workflow run is cancelled `afterQueuedMs` after this job was queued (a newer push supersedes it). */
  | { atMs: number; kind: 'cancel'; key: string; why: string }
  /** The node of the runner that has this job is spot-interrupted `afterTakenMs` after it took it. */
  | { atMs: number; kind: 'interrupt'; key: string; afterTakenMs: number; why: string };

export interface DemoScenario {
  seed: number;
  timeScale: number;
  steps: DemoStep[];
  jobs: DemoJob[];
}

/** A small seeded PRNG (mulberry32): deterministic, no dependency. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ScenarioOptions {
  seed?: number;
  /** Durations and gaps are real-world ones × this (the sim's delays use the same factor). Default 0.1. */
  timeScale?: number;
}

const RUN_ID_BASE = 7_100_000_000;

/**
 * Three pushes in two repositories:
 * - api, push 1: a 6-shard test matrix on the `default` pool's class, lint on the `small`
 *   pool, a container image build on amd64 spot capacity (its node is interrupted mid-build);
 * - web, push 1: an e2e matrix of 3 through the `linux-arm64-large` alias, a unit job, and a
 *   docs job whose run is cancelled by a newer push before any runner takes it;
 * - api, push 2 (a minute later in real time): a 4-shard test matrix that finds the first
 *   push's capacity still there (warm).
 */
export function buildDemoScenario(o: ScenarioOptions = {}): DemoScenario {
  const seed = o.seed ?? 1;
  const scale = o.timeScale ?? 0.1;
  const rand = prng(seed);
  const secs = (lo: number, hi: number) => Math.round((lo + rand() * (hi - lo)) * 1000 * scale);
  const steps: DemoStep[] = [];
  const jobs: DemoJob[] = [];
  let run = 0;
  const queue = (atMs: number, repo: string, runId: number, workflow: string, name: string, labels: string[], runMs: number, why: string) => {
    const job: DemoJob = { key: `${repo.split('/')[1]}#${runId - RUN_ID_BASE}/${name}`, repo, runId, workflow, name, labels, runMs };
    jobs.push(job);
    // Webhooks of one run arrive within milliseconds of each other, not at once.
    steps.push({ atMs: atMs + Math.round(rand() * 40), kind: 'queue', job, why });
    return job;
  };

  // api, push 1
  const api1 = RUN_ID_BASE + ++run;
  for (let shard = 1; shard <= 6; shard++)
    queue(0, 'octo-org/api', api1, 'CI', `test (${shard})`, [`runs-fleet=${api1}/runner=4cpu-linux-arm64/pool=default`], secs(60, 120), 'matrix fan-out');
  queue(0, 'octo-org/api', api1, 'CI', 'lint', [`runs-fleet=${api1}/runner=2cpu-linux-arm64/pool=small`], secs(20, 40), 'small class');
  const image = queue(0, 'octo-org/api', api1, 'CI', 'build-image', ['linux-amd64'], secs(150, 200), 'amd64 spot, via an alias');
  steps.push({ atMs: 0, kind: 'interrupt', key: image.key, afterTakenMs: secs(30, 40), why: 'spot interruption mid-build' });

  // web, push 1
  const web1 = RUN_ID_BASE + ++run;
  const t1 = Math.round(15_000 * scale);
  for (let i = 1; i <= 3; i++) queue(t1, 'octo-org/web', web1, 'E2E', `e2e (${i})`, ['linux-arm64-large'], secs(80, 140), 'matrix via an alias, 8 vCPU');
  queue(t1, 'octo-org/web', web1, 'E2E', 'unit', [`runs-fleet=${web1}/runner=2cpu-linux-arm64`], secs(30, 50), 'smallest class');
  const web2 = RUN_ID_BASE + ++run;
  const docs = queue(Math.round(25_000 * scale), 'octo-org/web', web2, 'Docs', 'docs', [`runs-fleet=${web2}/runner=2cpu-linux-arm64`], secs(30, 50), 'cancelled by a newer push');
  steps.push({ atMs: Math.round(25_000 * scale) + 300, kind: 'cancel', key: docs.key, why: 'concurrency: cancel-in-progress' });

  // api, push 2
  const api2 = RUN_ID_BASE + ++run;
  const t2 = Math.round(60_000 * scale);
  for (let shard = 1; shard <= 4; shard++)
    queue(t2, 'octo-org/api', api2, 'CI', `test (${shard})`, [`runs-fleet=${api2}/runner=4cpu-linux-arm64/pool=default`], secs(60, 120), 'second push: warm capacity');

  steps.sort((a, b) => a.atMs - b.atMs);
  return { seed, timeScale: scale, steps, jobs };
}
