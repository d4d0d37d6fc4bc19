// `npm start`: the orchestrator — the same code that runs in the cluster — on an embedded
// default: a private Valkey, the simulated cluster with the runner classes and warm pools of
// a Pulumi stack file, the GitHub API double, and a simulated actions runner in every runner
// pod. Exit codes: 0 stopped by a signal, 1 runtime failure, 2 bad arguments or config,
// 3 no valkey-server / redis-server on this machine.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseCommandLine, resolveStack, STACK_OPTIONS, STACK_USAGE, usageFailure, UsageError } from '../runtime/util/cli.ts';
import { pino } from 'pino';
import { createLogger, silentLogger, type Logger } from '../runtime/log.ts';
import type { OrchestratorOptions } from '../runtime/orchestrator.ts';
import { ConfigError } from '../runtime/util/errors.ts';
import type { Status } from '../runtime/status/collect.ts';
import { fetchStatus, localModeStateFile, type LocalModeState } from '../runtime/status/cli.ts';
import { prettyLogStream } from './pretty-log.ts';
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
/** The banner waits this long for the warm pools (about 15 s at the default time scale), then says they are still filling. */
const POOL_WAIT_MS = 60_000;

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
  /** The GitHub double's installation(s): webhooks must name one, or the job gets no runner. */
  readonly installations: string;
  /** Waits until every warm pool has its desired placeholders ready, or the deadline; returns the pools as /status shows them. */
  waitForWarmPools(timeoutMs: number): Promise<WarmPools>;
  /** What is running where and how to send it jobs (with the warm pools' state when given). */
  banner(pools?: WarmPools): string;
  stop(): Promise<void>;
}

export interface WarmPools {
  ready: boolean;
  waitedMs: number;
  pools: Array<{ name: string; desired: number | undefined; ready: number | undefined }>;
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
    const installations = o.github?.installations?.length
      ? o.github.installations.map((i) => `${i.id} on ${i.account} (${i.repositories?.join(', ') ?? 'all its repositories'})`).join('; ')
      : `${stack.github.defaultInstallationId} (every owner and repository)`;
    return {
      stack, agent: a, control: c, document, timeScale, kubeconfigFile, webhookSecretFile, installations,
      waitForWarmPools: (timeoutMs) => waitForWarmPools(stack.orchestrators[0]!.privateUrl, timeoutMs),
      banner: (pools) => banner(stack, document, c, timeScale, kubeconfigFile, webhookSecretFile, installations, pools),
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

/** Polls the orchestrator's /status until each pool's placeholders are all ready (leader elected, nodes up). */
async function waitForWarmPools(url: string, timeoutMs: number): Promise<WarmPools> {
  const started = Date.now();
  let pools: WarmPools['pools'] = [];
  for (;;) {
    const status: Status | undefined = await fetchStatus(url).catch(() => undefined);
    if (status?.pools.ok) pools = status.pools.value.map((p) => ({ name: p.name, desired: p.desired, ready: p.ready }));
    const ready = Boolean(status?.pools.ok) && pools.every((p) => p.desired !== undefined && (p.ready ?? 0) >= p.desired);
    const waitedMs = Date.now() - started;
    if (ready || waitedMs >= timeoutMs) return { ready, waitedMs, pools };
    await new Promise((r) => setTimeout(r, 250));
  }
}

function poolsLine(w: WarmPools | undefined): string[] {
  if (!w) return [];
  const each = w.pools.map((p) => `${p.name} ${p.ready ?? 0}/${p.desired ?? '?'}`).join(', ') || 'none configured';
  return [w.ready
    ? `  warm pools  ready after ${(w.waitedMs / 1000).toFixed(1)} s: ${each} (ready/desired placeholders)`
    : `  warm pools  still filling after ${(w.waitedMs / 1000).toFixed(0)} s: ${each}; \`npm run status\` shows when they are ready (jobs meanwhile start cold)`];
}

function banner(stack: LocalStack, d: StackDocument, control: ControlServer, scale: number, kubeconfig: string, secretFile: string, installations: string, pools?: WarmPools): string {
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
    `  installation ${installations}: a webhook you sign by hand must carry "installation": {"id": ${stack.github.defaultInstallationId}}`,
    `  webhook     POST ${o.url}/webhook   (GitHub App webhook secret in ${secretFile})`,
    ...poolsLine(pools),
    ``,
    `Send jobs: GitHub's side queues them and delivers the signed workflow_job webhooks:`,
    `  curl -s -XPOST ${control.url}/jobs -d '{"repo":"octo-org/app","labels":["runs-fleet=1/runner=${cls}"]}'`,
    `  curl -s -XPOST ${control.url}/jobs -d '{"labels":["runs-fleet=2/runner=${cls}"],"count":8}'    # a matrix of 8`,
    ...(alias ? [`  curl -s -XPOST ${control.url}/jobs -d '{"labels":["${alias}"]}'    # a label alias`] : []),
    `  curl -s -XPOST ${control.url}/jobs/<id>/cancel      # cancel one`,
    `  curl -s ${control.url}/jobs                          # GitHub's view of them`,
    `Look inside:  npm run status   (queue, in flight, dead letters, warm pools, GitHub budget, leader; or curl -s ${o.privateUrl}/status)`,
    `              KUBECONFIG=${kubeconfig} kubectl get nodes,pods -A      metrics: curl -s ${o.privateUrl}/metrics`,
    `A scripted burst with a summary: npm run demo.   Stop: Ctrl-C.`,
    ``,
  ].join('\n');
}

const USAGE = `Usage: npm start [-- options]

Runs the runs-fleet orchestrator on this machine against an embedded default: a private
Valkey (valkey-server or redis-server from PATH, on a free port, stopped on exit), a
simulated Kubernetes cluster with the runner classes and warm pools of Pulumi.dev.yaml,
and a GitHub API double. Waits for the warm pools, prints where the webhook listens and
how to send it jobs, then one line per job transition and log record until Ctrl-C.
\`npm run status\` shows the queue, warm pools, GitHub budget and leader meanwhile.

Options:
${STACK_USAGE}
  --time-scale X      simulated delays (image pulls, node launches, consolidation) × X, 0 < X ≤ 1 (default ${DEFAULT_TIME_SCALE})
  --job-seconds N     how long each job's steps run once a runner has it (default 10)
  --port N            webhook port (default: a free one)
  --control-port N    port of the endpoint that queues jobs on the GitHub side (default: a free one)
  --replicas N        orchestrator replicas sharing the queue (default 1)
  --valkey-url URL    use this Valkey instead of starting one
  --log-level LEVEL   orchestrator log level (default warn; info shows every step)
  --json              log records, job transitions and the ready record as JSON lines (the default when
                      stdout is not a terminal)
  --pretty            one human line per record and transition even when stdout is not a terminal
  --print-config      print the config document the stack file renders to (what pulumi up ships) and exit
  -h, --help          show this help

Exit codes: 0 stopped (Ctrl-C / SIGTERM), 1 runtime failure, 2 bad arguments or config,
3 valkey-server / redis-server not installed.
`;

export const EXIT = { ok: 0, failure: 1, usage: 2, prerequisite: 3 } as const;

interface Io { out: { write(s: string): unknown }; err: { write(s: string): unknown } }

/** The command; `io` takes what it prints before local mode starts (help, usage errors, --print-config). */
export async function main(argv: string[], io: Io = { out: process.stdout, err: process.stderr }): Promise<number> {
  const parsed = parseCommandLine(argv, {
    ...STACK_OPTIONS, 'time-scale': { type: 'string' }, 'job-seconds': { type: 'string' }, port: { type: 'string' },
    'control-port': { type: 'string' }, replicas: { type: 'string' }, 'valkey-url': { type: 'string' }, 'log-level': { type: 'string' },
    'print-config': { type: 'boolean', default: false }, json: { type: 'boolean', default: false }, pretty: { type: 'boolean', default: false },
  }, USAGE, io.out, io.err);
  if ('exit' in parsed) return parsed.exit;
  const args = parsed.values;
  let stackFile: string;
  try {
    stackFile = resolveStack(args).file;
  } catch (e) {
    if (e instanceof UsageError) return usageFailure([e.message], USAGE, io.err).exit;
    throw e;
  }
  if (args['print-config']) {
    const { doc } = loadStackDocument(stackFile);
    io.out.write(`${JSON.stringify(doc, null, 2)}\n`);
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
  if (args.json && args.pretty) problems.push('--json and --pretty: pass one of them, not both');
  if (problems.length) return usageFailure(problems, USAGE, io.err).exit;

  // One format on the terminal: log records and job transitions both pretty on a TTY, both JSON otherwise.
  const pretty = args.pretty || (!args.json && Boolean(process.stdout.isTTY));
  const destination = pretty ? prettyLogStream(process.stdout, Boolean(process.stdout.isTTY)) : pino.destination({ dest: 1, sync: false });
  const events = createLogger({ level: 'info', name: 'local', destination });
  const say = (text: string, fields: Record<string, unknown> = {}) => (pretty ? process.stdout.write(`${text}\n`) : events.info(fields, text));

  // Listeners from the start, and they stay: a signal before them (say, right after the ready line)
  // or a repeat (a terminal's Ctrl-C reaches us from the shell and again through npm and tsx) would
  // kill us before the orderly stop and leave the detached Valkey behind. Repeats change nothing.
  const signalled = new Promise<string>((done) => {
    process.on('SIGINT', () => done('SIGINT'));
    process.on('SIGTERM', () => done('SIGTERM'));
  });
  say('runs-fleet: starting Valkey, the simulated cluster, the GitHub double and the orchestrator…');
  const local = await startLocal({
    stackFile, timeScale, webhookPort: port, controlPort, replicas,
    valkeyUrl: args['valkey-url'], jobRunMs: () => jobSeconds * 1000,
    log: createLogger({ level, name: 'orchestrator', destination }),
  });
  const stateFile = localModeStateFile();
  const o = local.stack.orchestrators[0]!;
  mkdirSync(dirname(stateFile), { recursive: true });
  writeFileSync(stateFile, JSON.stringify({ pid: process.pid, url: o.privateUrl, valkeyUrl: local.stack.valkeyUrl, prefix: local.stack.queuePrefix } satisfies LocalModeState));
  say(`runs-fleet: waiting up to ${POOL_WAIT_MS / 1000} s for the warm pools (a leader is elected, then placeholder nodes launch)…`);
  const pools = await Promise.race([local.waitForWarmPools(POOL_WAIT_MS), signalled.then(() => undefined)]);
  if (pretty) process.stdout.write(`\n${local.banner(pools)}\n`);
  else events.info({
    webhookUrl: `${o.url}/webhook`, controlUrl: local.control.url, statusUrl: `${o.privateUrl}/status`, githubUrl: local.stack.github.url,
    installationId: local.stack.github.defaultInstallationId, installations: local.installations, webhookSecretFile: local.webhookSecretFile,
    kubeconfig: local.kubeconfigFile, warmPools: pools,
  }, 'runs-fleet local mode ready');
  const flow = new FlowTracker({
    valkeyUrl: local.stack.valkeyUrl, prefix: local.stack.queuePrefix,
    onChange: (job: TrackedJob) => say(formatTransition(job, local.stack.github.getJob(job.jobId)), { jobId: job.jobId, runAttempt: job.runAttempt, phase: job.phase }),
  });
  // A signal can come while the tracker still connects (Ctrl-C reaches the private valkey-server
  // too, as the whole process group gets it): stopping must not wait on, or fail with, that connection.
  await Promise.race([flow.start().catch(() => {}), signalled]);

  const signal = await signalled;
  say(`runs-fleet: ${signal}: stopping the orchestrator, the runners, the cluster and Valkey…`);
  await flow.stop();
  await local.stop();
  removeStateFile(stateFile);
  say('runs-fleet: stopped');
  // The JSON destination buffers (sync: false); the process exits right after main returns.
  try {
    (destination as { flushSync?: () => void }).flushSync?.();
  } catch {
    // not open yet: nothing buffered
  }
  return EXIT.ok;
}

/** Removes local mode's state file if it is still this process's (another local mode may have replaced it). */
function removeStateFile(file: string): void {
  try {
    if ((JSON.parse(readFileSync(file, 'utf8')) as { pid: number }).pid === process.pid) rmSync(file, { force: true });
  } catch {
    // gone already
  }
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
