/**
 * The contract between `npm run bench` (bench/run.ts) and a benchmark: a file
 * `bench/<name>.bench.ts` whose default export is a Bench. The runner times it, writes
 * its result to `bench/results/<name>.json` and renders every result into
 * docs/benchmarks.md. Benchmarks use only 127.0.0.1 and finish within a few minutes on
 * a 2-core machine; speed goals are ratios measured side by side in one run.
 */
export interface Bench {
  /** File-name stem, e.g. `ingress`. */
  name: string;
  title: string;
  /** What is measured and against what, in markdown (one paragraph). */
  description: string;
  run(ctx: BenchContext): Promise<BenchResult>;
}

export interface BenchContext {
  /** A progress line (the runner prefixes the bench name and the elapsed time). */
  progress(message: string): void;
  /** `--quick`: a smaller sample, for trying the suite out (results are marked as such). */
  quick: boolean;
  signal: AbortSignal;
}

export interface Table {
  title?: string;
  columns: string[];
  rows: (string | number)[][];
}

export interface BenchResult {
  /** One sentence: the headline ratio and whether the target was met. */
  headline: string;
  target?: { goal: string; met: boolean };
  tables: Table[];
  /** Where the time goes, caveats, settings: markdown bullet items. */
  notes?: string[];
  /** Raw numbers, kept in the JSON for later comparison. */
  data?: unknown;
  /** Versions that matter for this bench beyond the machine's (e.g. valkey). */
  versions?: Record<string, string>;
}

/** What bench/results/<name>.json holds. */
export interface StoredResult {
  name: string;
  title: string;
  description: string;
  ranAt: string;
  durationMs: number;
  quick: boolean;
  machine: Machine;
  result: BenchResult;
  /** Markdown of a benchmark that is a plain script rather than a Bench module (its stdout). */
  markdown?: string;
}

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  valkey: string;
  packages: Record<string, string>;
  /** Load average (1 min) when the run started: these machines are shared. */
  loadAverage: number;
}
