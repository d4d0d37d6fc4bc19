// `npm start`: the orchestrator — the same code that runs in the cluster — on an embedded
// default: a private Valkey, the simulated cluster with the runner classes and warm pools of
// a Pulumi stack file, the GitHub API double, and a simulated actions runner in every runner
// pod. Exit codes: 0 stopped by a signal, 1 runtime failure, 2 bad arguments or config,
// 3 no valkey-server / redis-server on this machine.
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseCommandLine } from '../runtime/util/cli.ts';
import { pino } from 'pino';
import { createLogger, silentLogger, type Logger } from '../runtime/log.ts';
import type { OrchestratorOptions } from '../runtime/orchestrator.ts';
import { ConfigError } from '../runtime/util/errors.ts';
import { startControlServer, type ControlServer } from './demo/control-server.ts';
import { FlowTracker, type TrackedJob } from './demo/flow.ts';
import { formatTransition } from './demo/format.ts';
import type { GitHubDoubleOptions, SimJob } from './github/double.ts';
import { DEFAULT_TIMINGS, simTimings, type SimTimings } from './k8s/cluster.ts';
import { EKS_TIMINGS, scaleTimings } from './k8s/timing-profile.ts';
import { nodePoolsFromConfig } from './k8s/from-config.ts';
import { startRunnerAgent, type RunnerAgent, type RunnerAgentOptions } from './runner-agent.ts';
import { loadStackDocument, type StackDocument } from './stack-document.ts';
import { RUNNER_NAMESPACE, startLocalStack, SYSTEM_NAMESPACE, type LocalStack } from './stack.ts';
import { startValkey, ValkeyNotInstalledError, type ValkeyProcess } from './valkey.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_STACK_FILE = join(REPO_ROOT, 'Pulumi.dev.yaml');
/** Sim delays are the real ones × this: a 40 s node launch takes 4 s. */
export const DEFAULT_TIME_SCALE = 0.1;
const STOP_DEADLINE_MS = 15_000;

export interface LocalOptions {
  /** A Pulumi stack file whose classes, pools and aliases local mode runs. Default Pulumi.dev.yaml. */
  stackFile?: string;
  /** Sim delays (image pull, node launch, Karpenter batching, consolidation) × this. Default 0.1. */
  timeScale?: number;
  /** An existing Valkey; otherwise a private valkey-server (or redis-server) on a free port, stopped on exit. */
  valkeyUrl?: string;
  /** Webhook port (default: a free one). */
  webhookPort?: number;
  /** Port of the control endpoint that plays GitHub's side (default: a free one). */
  controlPort?: number;
  replicas?: number;
  /** How long a job's steps take once a runner has it. Default 10 s. */
  jobRunMs?: (job: SimJob) => number;
  agent?: Partial<Omit<RunnerAgentOptions, 'sim' | 'github' | 'namespace'>>;
  orchestrator?: OrchestratorOptions;
  github?: GitHubDoubleOptions;
  /** Extra orchestrator environment (RUNS_FLEET_CONCURRENCY …). */
  env?: Record<string, string>;
  /** The orchestrator's logger (silent by default). */
  log?: Logger;
}

export interface LocalMode {
  readonly stack: LocalStack;
  readonly agent: RunnerAgent;
  readonly control: ControlServer;
  readonly document: StackDocument;
  readonly timeScale: number;
  readonly kubeconfigFile: string;
  /** The webhook secret, in a file only this user can read (never printed). */
  readonly webhookSecretFile: string;
  /** What is running where and how to send it jobs. */
  banner(): string;
  stop(): Promise<void>;
}

/** The EKS timing profile (sim/k8s/timing-profile.ts) at `scale` × real time. */
export function scaledTimings(scale: number): SimTimings {
  return simTimings(scaleTimings(EKS_TIMINGS, scale));
}

/** Starts local mode in this process; stop() stops everything it started, Valkey included. */
export async function startLocal(o: LocalOptions = {}): Promise<LocalMode> {
  const document = loadStackDocument(o.stackFile ?? DEFAULT_STACK_FILE);
  if (document.namespaces.runners !== RUNNER_NAMESPACE || document.namespaces.system !== SYSTEM_NAMESPACE)
    throw new ConfigError([`${document.file}: local mode uses the default namespaces (${SYSTEM_NAMESPACE}, ${RUNNER_NAMESPACE}); remove runs-fleet:namespaces or set those`]);
  const timeScale = o.timeScale ?? DEFAULT_TIME_SCALE;
  if (!(timeScale > 0 && timeScale <= 1)) throw new ConfigError([`time scale must be in (0, 1], got ${timeScale}`]);

  // Our own Valkey in its own process group: a terminal's Ctrl-C must not kill it before
  // the orchestrator has stopped (stop() stops it last). AOF as the cluster's Valkey runs it.
  const valkey: ValkeyProcess | undefined = o.valkeyUrl ? undefined : await startValkey({ detached: true, appendfsync: 'everysec' });
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      doc: document.doc,
      valkeyUrl: o.valkeyUrl ?? valkey!.url,
    replicas: o.replicas ?? 1,
    sim: {
      timings: scaledTimings(timeScale),
      nodePools: nodePoolsFromConfig(document.doc, { consolidateAfterMs: Math.round(document.consolidateAfterMs * timeScale), systemNode: document.systemNodes }),
    },
      github: o.github,
      orchestrator: o.orchestrator,
      env: { ...(o.webhookPort !== undefined && { RUNS_FLEET_PORT: String(o.webhookPort) }), ...o.env },
      log: o.log ?? silentLogger(),
    });
  } catch (err) {
    await valkey?.dispose();
    throw err;
  }
  const stopStack = async () => {
    // Bounded: a replica whose Valkey vanished can wait on it forever; the process ends anyway.
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), STOP_DEADLINE_MS).unref());
    if ((await Promise.race([stack.stop(), timer])) === 'timeout') process.stderr.write(`runs-fleet: the orchestrator did not stop within ${STOP_DEADLINE_MS / 1000} s; going on\n`);
    await valkey?.dispose();
  };
  let agent: RunnerAgent | undefined;
  let control: ControlServer | undefined;
  try {
    const dir = dirname(stack.configFile);
    const kubeconfigFile = join(dir, 'kubeconfig');
    writeFileSync(kubeconfigFile, stack.sim.kubeconfigYaml, { mode: 0o600 });
    const webhookSecretFile = join(dir, 'webhook-secret');
    writeFileSync(webhookSecretFile, stack.webhookSecret, { mode: 0o600 });
    agent = startRunnerAgent({
      sim: stack.sim, github: stack.github, namespace: RUNNER_NAMESPACE,
      runMs: o.jobRunMs ?? (() => 10_000), startupMs: scaleTimings(EKS_TIMINGS, timeScale).runnerStartMs, ...o.agent,
    });
    control = await startControlServer({ github: stack.github, sim: stack.sim, port: o.controlPort });
    const a = agent;
    const c = control;
    let stopping: Promise<void> | undefined;
    return {
      stack, agent: a, control: c, document, timeScale, kubeconfigFile, webhookSecretFile,
      banner: () => banner(stack, document, c, timeScale, kubeconfigFile, webhookSecretFile),
      stop: () => (stopping ??= (async () => {
        a.stop();
        await c.stop();
        await stopStack();
      })()),
    };
  } catch (err) {
    agent?.stop();
    await control?.stop();
    await stopStack();
    throw err;
  }
}

function banner(stack: LocalStack, d: StackDocument, control: ControlServer, scale: number, kubeconfig: string, secretFile: string): string {
  const doc = d.doc;
  const cls = doc.classes[1]?.name ?? doc.classes[0]!.name;
  const alias = doc.aliases.find((a) => !a.regex)?.match;
  const o = stack.orchestrators[0]!;
  return [
    `runs-fleet local mode: the orchestrator (runtime/orchestrator.ts) on an embedded default`,
    `  config      ${d.file} (stack ${d.stack}): ${doc.classes.length} runner classes (${doc.classes.map((c) => c.name).join(', ')}),`,
    `              ${doc.pools.length} warm pools (${doc.pools.map((p) => `${p.name}: ${p.class} ${p.min}-${p.max}`).join(', ') || 'none'}), ${doc.aliases.length} label aliases`,
    `  Valkey      ${stack.valkeyUrl}`,
    `  Kubernetes  simulated cluster at ${stack.sim.url}, ${stack.sim.nodePools.length} NodePools; delays × ${scale} (a node launch takes ${(DEFAULT_TIMINGS.provisioningMs * scale) / 1000} s)`,
    `  GitHub      API double at ${stack.github.url} (App ${stack.github.appId}); a simulated runner takes each job and runs it`,
    `  webhook     POST ${o.url}/webhook   (GitHub App webhook secret in ${secretFile})`,
    ``,
    `Send jobs: GitHub's side queues them and delivers the signed workflow_job webhooks:`,
    `  curl -s -XPOST ${control.url}/jobs -d '{"repo":"octo-org/app","labels":["runs-fleet=1/runner=${cls}"]}'`,
    `  curl -s -XPOST ${control.url}/jobs -d '{"labels":["runs-fleet=2/runner=${cls}"],"count":8}'    # a matrix of 8`,
    ...(alias ? [`  curl -s -XPOST ${control.url}/jobs -d '{"labels":["${alias}"]}'    # a label alias`] : []),
    `  curl -s -XPOST ${control.url}/jobs/<id>/cancel      # cancel one`,
    `  curl -s ${control.url}/jobs                          # GitHub's view of them`,
    `Look inside:  KUBECONFIG=${kubeconfig} kubectl get nodes,pods -A      metrics: curl -s ${o.privateUrl}/metrics`,
    `A scripted burst with a summary: npm run demo.   Stop: Ctrl-C.`,
    ``,
  ].join('\n');
}

const USAGE = `Usage: npm start [-- options]

Runs the runs-fleet orchestrator on this machine against an embedded default: a private
Valkey (valkey-server or redis-server from PATH, on a free port, stopped on exit), a
simulated Kubernetes cluster with the runner classes and warm pools of Pulumi.dev.yaml,
and a GitHub API double. Prints where the webhook listens and how to send it jobs, then
one line per job transition until Ctrl-C.

Options:
  --stack FILE        Pulumi stack file to take classes, pools and aliases from (default Pulumi.dev.yaml)
  --time-scale X      simulated delays (image pulls, node launches, consolidation) × X, 0 < X ≤ 1 (default ${DEFAULT_TIME_SCALE})
  --job-seconds N     how long each job's steps run once a runner has it (default 10)
  --port N            webhook port (default: a free one)
  --control-port N    port of the endpoint that queues jobs on the GitHub side (default: a free one)
  --replicas N        orchestrator replicas sharing the queue (default 1)
  --valkey-url URL    use this Valkey instead of starting one
  --log-level LEVEL   orchestrator log level, JSON on stderr (default warn; info shows every step)
  --print-config      print the config document the stack file renders to (what pulumi up ships) and exit
  -h, --help          show this help

Exit codes: 0 stopped (Ctrl-C / SIGTERM), 1 runtime failure, 2 bad arguments or config,
3 valkey-server / redis-server not installed.
`;

export const EXIT = { ok: 0, failure: 1, usage: 2, prerequisite: 3 } as const;

async function main(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(argv, {
    stack: { type: 'string' }, 'time-scale': { type: 'string' }, 'job-seconds': { type: 'string' }, port: { type: 'string' },
    'control-port': { type: 'string' }, replicas: { type: 'string' }, 'valkey-url': { type: 'string' }, 'log-level': { type: 'string' },
    'print-config': { type: 'boolean', default: false },
  }, USAGE);
  if ('exit' in parsed) return parsed.exit;
  const args = parsed.values;
  if (args['print-config']) {
    const { doc } = loadStackDocument(args.stack ? resolve(args.stack) : DEFAULT_STACK_FILE);
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return EXIT.ok;
  }
  const problems: string[] = [];
  const num = (name: string, raw: string | undefined, ok: (n: number) => boolean, what: string) => {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!ok(n)) problems.push(`--${name} ${raw}: must be ${what}`);
    return n;
  };
  const timeScale = num('time-scale', args['time-scale'], (n) => n > 0 && n <= 1, 'a number in (0, 1]');
  const jobSeconds = num('job-seconds', args['job-seconds'], (n) => n >= 0 && n <= 3600, 'seconds in 0..3600') ?? 10;
  const port = num('port', args.port, (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'a port 0..65535');
  const controlPort = num('control-port', args['control-port'], (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'a port 0..65535');
  const replicas = num('replicas', args.replicas, (n) => Number.isInteger(n) && n >= 1 && n <= 8, 'an integer 1..8');
  const level = args['log-level'] ?? 'warn';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level)) problems.push(`--log-level ${level}: use fatal, error, warn, info, debug, trace or silent`);
  if (problems.length) {
    process.stderr.write(`${problems.join('\n')}\n\n${USAGE}`);
    return EXIT.usage;
  }

  process.stdout.write('runs-fleet: starting Valkey, the simulated cluster, the GitHub double and the orchestrator…\n');
  const local = await startLocal({
    stackFile: args.stack ? resolve(args.stack) : undefined, timeScale, webhookPort: port, controlPort, replicas,
    valkeyUrl: args['valkey-url'], jobRunMs: () => jobSeconds * 1000,
    log: createLogger({ level, name: 'orchestrator', destination: pino.destination({ dest: 2, sync: false }) }),
  });
  process.stdout.write(`\n${local.banner()}\n`);
  const flow = new FlowTracker({
    valkeyUrl: local.stack.valkeyUrl, prefix: local.stack.queuePrefix,
    onChange: (job: TrackedJob) => process.stdout.write(`${formatTransition(job, local.stack.github.getJob(job.jobId))}\n`),
  });
  await flow.start();

  const signal = await new Promise<string>((done) => {
    process.once('SIGINT', () => done('SIGINT'));
    process.once('SIGTERM', () => done('SIGTERM'));
  });
  // tsx forwards the terminal's Ctrl-C to us a second time: ignore repeats, the stop is bounded.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {});
  process.stdout.write(`\nruns-fleet: ${signal}: stopping the orchestrator, the runners, the cluster and Valkey…\n`);
  await flow.stop();
  await local.stop();
  process.stdout.write('runs-fleet: stopped\n');
  return EXIT.ok;
}

/** Maps a start-up failure to a message and an exit code (shared with the demo). */
export function reportFailure(err: unknown, program: string): number {
  if (err instanceof ValkeyNotInstalledError) {
    process.stderr.write(`${program}: ${err.message}\n`);
    return EXIT.prerequisite;
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`${program}: ${err.message}\n`);
    return EXIT.usage;
  }
  process.stderr.write(`${program}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return EXIT.failure;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => process.exit(reportFailure(err, 'runs-fleet')),
  );
}
