import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { NODE_BUNDLE_OPTIONS } from '../infra/bundle.ts';
import type { RuntimeEnv } from '../runtime/config/env.ts';
import { ORCHESTRATOR_NODE_ENV, ORCHESTRATOR_NODE_FLAGS } from '../runtime/node-flags.ts';
import { DEFAULT_STACK_FILE } from '../sim/local.ts';
import { loadStackDocument } from '../sim/stack-document.ts';
import { RUNNER_NAMESPACE, SYSTEM_NAMESPACE, startLocalStack } from '../sim/stack.ts';
import { startValkey } from '../sim/valkey.ts';
import type { MemoryChildInput, MemoryChildReport } from './lib/memory-child.ts';
import { valkeyVersion } from './lib/machine.ts';
import { ratio } from './lib/stats.ts';
import type { Bench, BenchContext } from './lib/types.ts';

const CHILD_ENTRY = fileURLToPath(new URL('./lib/memory-child.ts', import.meta.url));
const MiB = 1024 * 1024;
/** Issue 16's bar for the orchestrator's peak RSS under a 300-job pickup. */
const GOAL_MIB = 150;
/** GitHub's secondary limit (900 points/min, a POST costs 5) with the window scaled 10× down, as in jit-burst: ~28 JIT calls/s. */
const SECONDARY = { points: 900, windowMs: 6_000 };

interface Variant {
  label: string;
  flags: readonly string[];
  env: Readonly<Record<string, string>>;
}

interface RunResult {
  label: string;
  flags: string;
  jobs: number;
  provisioned: number;
  /** Kernel's high-water mark of the child's resident set (VmHWM), MiB. */
  peakRssMiB: number;
  /** RSS at the end of the burst, MiB. */
  endRssMiB: number;
  spanS: number;
  jobsPerS: number;
  gcCount: number;
  gcMs: number;
  gcByKind: MemoryChildReport['gcByKind'];
}

/** Bundles the child entry like the Deployment's main.mjs (infra/bundle.ts), uncompressed, to a file. */
function bundleChild(dir: string): string {
  const result = buildSync({ entryPoints: [CHILD_ENTRY], ...NODE_BUNDLE_OPTIONS });
  const file = join(dir, 'memory-child.mjs');
  writeFileSync(file, result.outputFiles[0]!.contents);
  return file;
}

function procStatusKiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

function report(child: ChildProcess): Promise<MemoryChildReport> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as MemoryChildReport));
    child.send('report');
  });
}

async function run(ctx: BenchContext, bundle: string, variant: Variant, jobs: number): Promise<RunResult> {
  const doc = loadStackDocument(DEFAULT_STACK_FILE).doc;
  const valkey = await startValkey({ appendfsync: 'everysec' });
  const stack = await startLocalStack({
    doc, valkeyUrl: valkey.url, replicas: 0,
    sim: { timings: { provisioningMs: 600_000 } },
    github: { secondary: SECONDARY },
  }).catch(async (err) => {
    await valkey.dispose();
    throw err;
  });
  let child: ChildProcess | undefined;
  try {
    const env: RuntimeEnv = {
      port: 0, privatePort: 0, valkeyWaitReplicas: 0, valkeyWaitTimeoutMs: 1_000, webhookSecret: stack.webhookSecret, previousWebhookSecret: undefined,
      valkeyUrl: stack.valkeyUrl, githubAppId: String(stack.github.appId), githubPrivateKey: stack.github.privateKeyPem, githubApiUrl: stack.github.url,
      githubApps: [{ appId: String(stack.github.appId), privateKey: stack.github.privateKeyPem, webhookSecret: stack.webhookSecret, previousWebhookSecret: undefined, installations: [] }],
      runnerNamespace: RUNNER_NAMESPACE, systemNamespace: SYSTEM_NAMESPACE, configFile: stack.configFile, kubeconfig: undefined,
      identity: 'orchestrator-memory', logLevel: 'silent', concurrency: 16,
    };
    const input: MemoryChildInput = { env, kubeconfigYaml: stack.sim.kubeconfigYaml, queuePrefix: stack.queuePrefix, secondary: SECONDARY };
    const c = spawn(process.execPath, [...variant.flags, bundle, JSON.stringify(input)], {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'], env: { ...process.env, NODE_OPTIONS: '', ...variant.env },
    });
    child = c;
    const url = await new Promise<string>((resolve, reject) => {
      createInterface(c.stdout!).once('line', (line) => resolve(String((JSON.parse(line) as { url: string }).url)));
      c.once('exit', (code) => reject(new Error(`orchestrator child exited (${code}) before it served`)));
    });
    stack.github.setWebhook(`${url}/webhook`, stack.webhookSecret);

    const created: number[] = [];
    stack.sim.api.store.onEvent((e) => {
      if (e.type === 'ADDED' && e.resource.plural === 'jobs' && e.object.metadata.namespace === RUNNER_NAMESPACE) created.push(performance.now());
    });
    ctx.progress(`${variant.label}: ${jobs} jobs queued at once; the child picks them up`);
    for (let i = 0; i < jobs; i++) {
      stack.github.queueJob({ owner: 'octo-org', repo: `service-${i % 20}`, labels: [`runs-fleet=${7_000_000 + i}/runner=2cpu-linux-arm64`], name: `shard (${i + 1})` });
    }
    const deadline = Date.now() + 120_000;
    while (created.length < jobs && Date.now() < deadline && !ctx.signal.aborted) await new Promise((r) => setTimeout(r, 100));
    await stack.github.deliveriesSettled();
    const gc = await report(c);
    const peakRssMiB = procStatusKiB(c.pid!, 'VmHWM') / 1024;
    const endRssMiB = procStatusKiB(c.pid!, 'VmRSS') / 1024;
    const sorted = [...created].sort((a, b) => a - b);
    const spanS = sorted.length > 1 ? (sorted.at(-1)! - sorted[0]!) / 1000 : Number.NaN;
    return {
      label: variant.label, flags: [...variant.flags, ...Object.entries(variant.env).map(([k, v]) => `${k}=${v}`)].join(' ') || '(none)',
      jobs, provisioned: created.length, peakRssMiB, endRssMiB, spanS, jobsPerS: (sorted.length - 1) / spanS,
      gcCount: gc.gcCount, gcMs: gc.gcMs, gcByKind: gc.gcByKind,
    };
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child!.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await stack.stop();
    await valkey.dispose();
  }
}

const bench: Bench = {
  name: 'memory',
  title: 'Orchestrator memory under a 300-job pickup',
  description:
    'The orchestrator bundled as the Deployment ships it (esbuild, infra/bundle.ts) runs in its own process against the simulated cluster, ' +
    `the GitHub double (secondary limit window scaled from 60 s to ${SECONDARY.windowMs / 1000} s) and Valkey in the bench process, while ` +
    '300 jobs queued at once are picked up (webhook, JIT config, Secret and Job POSTs). Once with Node\'s defaults, once with the Deployment\'s ' +
    'Node flags (runtime/node-flags.ts). Peak RSS is the kernel\'s high-water mark (VmHWM); GC time is the sum of the pauses perf_hooks reports in the child.',
  async run(ctx) {
    const jobs = ctx.quick ? 100 : 300;
    const dir = mkdtempSync(join(tmpdir(), 'runs-fleet-memory-'));
    try {
      const bundle = bundleChild(dir);
      const variants: Variant[] = [
        { label: 'Node defaults', flags: [], env: {} },
        { label: 'Deployment flags', flags: ORCHESTRATOR_NODE_FLAGS, env: ORCHESTRATOR_NODE_ENV },
      ];
      const runs: RunResult[] = [];
      for (const v of variants) runs.push(await run(ctx, bundle, v, jobs));
      const [base, flagged] = runs as [RunResult, RunResult];
      const met = flagged.provisioned === jobs && flagged.peakRssMiB <= GOAL_MIB;
      return {
        headline:
          `With the Deployment's flags the orchestrator peaked at ${flagged.peakRssMiB.toFixed(0)} MiB RSS (${base.peakRssMiB.toFixed(0)} MiB with Node's defaults) ` +
          `under a ${jobs}-job pickup; GC ${flagged.gcMs.toFixed(0)} ms vs ${base.gcMs.toFixed(0)} ms, throughput ${ratio(flagged.jobsPerS / base.jobsPerS)} — ` +
          `target ≤ ${GOAL_MIB} MiB ${met ? 'met' : 'not met'}.`,
        target: { goal: `orchestrator peak RSS ≤ ${GOAL_MIB} MiB under a ${jobs}-job pickup, with the Deployment's Node flags`, met },
        tables: [{
          columns: ['Node settings', 'flags', 'jobs', 'provisioned', 'peak RSS MiB', 'RSS at end MiB', 'GC pauses', 'GC ms', 'scavenges (ms)', 'mark-compacts (ms)', 'Jobs/s', 'throughput vs defaults'],
          rows: runs.map((r) => [
            r.label, r.flags, r.jobs, r.provisioned, r.peakRssMiB.toFixed(1), r.endRssMiB.toFixed(1), r.gcCount, r.gcMs.toFixed(0),
            `${r.gcByKind.minor?.count ?? 0} (${(r.gcByKind.minor?.ms ?? 0).toFixed(0)})`, `${r.gcByKind.major?.count ?? 0} (${(r.gcByKind.major?.ms ?? 0).toFixed(0)})`,
            r.jobsPerS.toFixed(1), ratio(r.jobsPerS / base.jobsPerS),
          ]),
        }],
        notes: [
          'The pickup rate is capped by the scaled secondary limit (~28 JIT configs/s), so throughput mostly shows whether the GC cost of the flags slows the pipeline at all, not its ceiling.',
          'The child is started with an empty NODE_OPTIONS, so only the flags in the table apply. GC ms is the sum of pause durations (perf_hooks `gc` entries), not CPU time of concurrent marking threads.',
          'A smaller semi-space means more, shorter scavenges; MALLOC_ARENA_MAX=2 caps glibc malloc arenas (the image is Debian bookworm, glibc).',
        ],
        data: { goalMiB: GOAL_MIB, secondary: SECONDARY, runs },
        versions: { valkey: valkeyVersion() },
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
