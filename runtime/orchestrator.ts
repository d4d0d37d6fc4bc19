import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { Dispatcher } from 'undici';
import type { RuntimeEnv } from './config/env.ts';
import { createConfigReloadMetrics, watchConfigDocument, type ConfigWatcher } from './config/watch-document.ts';
import { Consumer, type ConsumerOptions } from './controllers/provisioner/consumer.ts';
import { DEFAULT_LEASE_NAME, startLifecycle, type Lifecycle, type LifecycleOptions } from './controllers/lifecycle/start.ts';
import { handleJobEvent } from './controllers/provisioner/job-events.ts';
import { createProvisionerMetrics } from './controllers/provisioner/metrics.ts';
import { provision } from './controllers/provisioner/provision.ts';
import { startWarmPoolLoop } from './controllers/warm-pool/loop.ts';
import { ImageWarmingController } from './controllers/image-warming/controller.ts';
import { createImageWarmingMetrics } from './controllers/image-warming/metrics.ts';
import { createWarmPoolMetrics } from './controllers/warm-pool/metrics.ts';
import { WarmPoolController } from './controllers/warm-pool/reconcile.ts';
import { valkeyStateStore } from './controllers/warm-pool/state-store.ts';
import { GitHubClient } from './github/client.ts';
import { createGitHubMetrics } from './github/metrics.ts';
import { GitHubRateLimiter, type SecondaryLimitSettings } from './github/rate-limiter.ts';
import { createIngressMetrics } from './ingress/metrics.ts';
import { createIngressServer, listen } from './ingress/server.ts';
import { createPrivateServer, type PrivateServer } from './http/private-server.ts';
import { createKubeClients, loadKubeConfig, type KubeClients } from './k8s/client.ts';
import { parseRunsOn } from './labels/parse.ts';
import { resolveRunner } from './labels/resolve.ts';
import type { RunnerRequest } from './labels/types.ts';
import { createRejectionMetrics } from './controllers/rejections/metrics.ts';
import { createRejections } from './controllers/rejections/rejections.ts';
import { RunnerVersionController } from './controllers/runner-version/controller.ts';
import { createRunnerVersionMetrics } from './controllers/runner-version/metrics.ts';
import { validateAliases } from './labels/validate.ts';
import { ConfigError } from './util/errors.ts';
import { createLogger, type Logger } from './log.ts';
import { createRegistry } from './metrics/registry.ts';
import { connectValkey, valkeyReady, waitReady } from './queue/connection.ts';
import { JobQueue } from './queue/job-queue.ts';
import { JobRecords } from './queue/job-records.ts';
import { systemClock, type Clock } from './util/clock.ts';
import { QueueInspector } from './queue/inspect.ts';
import { collectStatus } from './status/collect.ts';
import { statusHandler } from './status/http.ts';

export interface OrchestratorOptions {
  clock?: Clock;
  log?: Logger;
  registry?: Registry;
  /** Valkey key prefix (one deployment per prefix); tests use unique ones. */
  queuePrefix?: string;
  /** Host to bind; all interfaces in the cluster, loopback locally. */
  host?: string;
  /** A kubeconfig object instead of KUBECONFIG / in-cluster (local mode, tests). */
  kubeConfig?: KubeConfig;
  /** GitHub transport override (tests). */
  githubDispatcher?: Dispatcher;
  /** Secondary-limit window override (benchmarks against a scaled-down double). */
  githubSecondaryLimit?: Partial<SecondaryLimitSettings>;
  /** Consumer timings (tests use short ones). */
  consumer?: Omit<ConsumerOptions, 'concurrency'>;
  /** How often the config document is re-read. */
  configPollMs?: number;
  /** Time between warm-pool passes (15 s). */
  warmPoolIntervalMs?: number;
  /** Deadline of one Kubernetes API call (15 s). */
  kubeRequestTimeoutMs?: number;
  /** Runner lifecycle: leader election, watcher resync, recovery and sweep timings (tests use short ones). */
  lifecycle?: LifecycleOptions;
  /** Runner release tracking: time between passes (15 min) and the most a switch waits for the pre-pull (30 min). */
  runnerVersion?: { intervalMs?: number; maxPrepullWaitMs?: number };
  /** Time between image-warming passes (5 s): how long a node whose placeholder is Ready may still turn runners away. */
  imageWarmingIntervalMs?: number;
}

export interface Orchestrator {
  readonly address: AddressInfo;
  readonly url: string;
  /** The private listener: /metrics, /healthz, /readyz and mounted routes (`privateServer.mount`). */
  readonly privateAddress: AddressInfo;
  readonly privateUrl: string;
  readonly privateServer: PrivateServer;
  readonly queue: JobQueue;
  readonly records: JobRecords;
  readonly registry: Registry;
  readonly config: ConfigWatcher;
  readonly kube: KubeClients;
  readonly github: GitHubClient;
  readonly lifecycle: Lifecycle;
  stop(): Promise<void>;
}

/**
 * Wires the orchestrator from a validated environment: the one place where parts are
 * constructed and connected. Everything it starts, stop() stops, in reverse order.
 */
export async function startOrchestrator(env: RuntimeEnv, options: OrchestratorOptions = {}): Promise<Orchestrator> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? createLogger({ level: env.logLevel, name: 'orchestrator' });
  const registry = options.registry ?? createRegistry({ defaultMetrics: true });
  const config = watchConfigDocument({
    path: env.configFile, clock, intervalMs: options.configPollMs ?? 10_000, log, metrics: createConfigReloadMetrics(registry),
  });

  // Alias specs are label grammar, checked here rather than in the document schema so
  // that the schema stays free of the label parser.
  const aliasProblems = validateAliases(config.current());
  if (aliasProblems.length) {
    await config.stop();
    throw new ConfigError(aliasProblems.map((p) => `${env.configFile}: ${p}`));
  }

  const command = connectValkey(env.valkeyUrl, 'command');
  const blocking = connectValkey(env.valkeyUrl, 'blocking');
  for (const c of [command, blocking]) c.on('error', (err: Error) => log.warn({ err: { message: err.message } }, 'valkey connection error'));
  await waitReady(command, 30_000);
  const prefix = options.queuePrefix ?? 'runs-fleet';
  const queue = new JobQueue(command, {
    prefix, consumer: env.identity, waitReplicas: env.valkeyWaitReplicas, waitTimeoutMs: env.valkeyWaitTimeoutMs,
  }, blocking);
  await queue.ensureGroup();
  const records = new JobRecords(command, prefix);

  const kube = await createKubeClients(options.kubeConfig ?? loadKubeConfig(env.kubeconfig), { registry, connections: env.concurrency * 2, requestTimeoutMs: options.kubeRequestTimeoutMs });
  const githubMetrics = createGitHubMetrics(registry);
  const limiter = new GitHubRateLimiter({
    valkey: command, keyPrefix: `${prefix}:github:`, clock, metrics: githubMetrics, logger: log, secondary: options.githubSecondaryLimit,
    // The JIT call's reservation is made while the previous one goes out: one Valkey round trip
    // fewer on the path of each job that follows another within a second (bound: GitHubRateLimiterOptions.aheadMs).
    aheadMs: 1_000,
  });
  // Every configured App: installation calls go through whichever App installed on the org has room in its limit.
  const github = new GitHubClient({
    apps: env.githubApps.map((a) => ({ appId: a.appId, privateKey: a.privateKey, installations: a.installations })),
    apiUrl: env.githubApiUrl, limiter, clock, logger: log,
    metrics: githubMetrics, dispatcher: options.githubDispatcher,
  });

  // Runner releases: every replica reads the shared decision, so all start runners with one version.
  const runnerVersion = new RunnerVersionController({
    github, apps: kube.apps, valkey: command, prefix, namespace: env.runnerNamespace, doc: () => config.current(), clock, log,
    metrics: createRunnerVersionMetrics(registry), maxPrepullWaitMs: options.runnerVersion?.maxPrepullWaitMs,
  });

  const provisionerMetrics = createProvisionerMetrics(registry);
  const provisionDeps = {
    kube, github, records, doc: () => config.current(), namespace: env.runnerNamespace, clock, log, metrics: provisionerMetrics,
    runnerImage: () => runnerVersion.runnerImage(),
  };
  const rejections = createRejections({
    records, valkey: command, prefix, github, doc: () => config.current(), clock, log, metrics: createRejectionMetrics(registry),
  });
  const handle = async (entry: Parameters<typeof provision>[0], signal: AbortSignal) => {
    try {
      return await provision(entry, { ...provisionDeps, signal });
    } catch (err) {
      rejections.onPermanent(entry.job, err);
      throw err;
    }
  };
  const consumer = new Consumer(
    { queue, handle, clock, log, metrics: provisionerMetrics },
    { concurrency: env.concurrency, ...options.consumer },
  );

  const lifecycle = await startLifecycle(
    {
      kube, github, queue, records, valkey: command, prefix, runnerNamespace: env.runnerNamespace, leaseNamespace: env.systemNamespace,
      identity: env.identity, doc: () => config.current(), clock, log, registry,
    },
    options.lifecycle,
  );

  // Warm pools: placeholder Deployments per pool, reconciled by the leader only; a config
  // change (pool resized with `pulumi up`) triggers a pass at once.
  const warmPool = new WarmPoolController({
    apps: kube.apps, core: kube.core, namespace: env.runnerNamespace, doc: () => runnerVersion.placeholderDocument(), clock, log,
    metrics: createWarmPoolMetrics(registry), store: valkeyStateStore(command, `${prefix}:warm-pool:state`),
  });
  const warmPoolLoop = startWarmPoolLoop(warmPool, { clock, log, isLeader: () => lifecycle.isLeader(), intervalMs: options.warmPoolIntervalMs });
  const unsubscribeWarmPool = config.subscribe(() => warmPoolLoop.wake());
  // A new release to pre-pull reaches the placeholders at once, not at the next warm-pool pass.
  const runnerVersionLoop = startWarmPoolLoop({
    forget: () => {},
    reconcile: async () => {
      const before = runnerVersion.placeholderDocument().runner.image;
      await runnerVersion.reconcile();
      if (runnerVersion.placeholderDocument().runner.image !== before) warmPoolLoop.wake();
    },
  }, { clock, log, isLeader: () => true, intervalMs: options.runnerVersion?.intervalMs ?? 15 * 60_000 });
  const unsubscribeRunnerVersion = config.subscribe(() => runnerVersionLoop.wake());
  // Runner nodes take runners once their placeholders pulled the runner image (the leader only: one writer of node taints).
  const imageWarming = new ImageWarmingController({ core: kube.core, namespace: env.runnerNamespace, clock, log, metrics: createImageWarmingMetrics(registry) });
  const imageWarmingLoop = startWarmPoolLoop(imageWarming, { clock, log, isLeader: () => lifecycle.isLeader(), intervalMs: options.imageWarmingIntervalMs ?? 5_000 });

  // Every App's secret (current, then the one being rotated out): a delivery from any
  // configured App is accepted, each checked against its own App's secret among the rest.
  const secrets = env.githubApps.flatMap((a) => [a.webhookSecret, ...(a.previousWebhookSecret ? [a.previousWebhookSecret] : [])]);
  const server = createIngressServer({
    secrets: () => secrets,
    // Resolved against the classes before the answer, so a job no class can serve is
    // `rejected` at once instead of queued and dead-lettered later.
    classify: (labels) => {
      const doc = config.current();
      const request = parseRunsOn(labels, doc.aliases);
      if (request) resolveRunner(request as RunnerRequest, doc);
      return request;
    },
    onRejected: (job, err) => rejections.onRejected(job, err),
    // This replica's consumer takes the job in the same Valkey step when it has a free slot.
    enqueue: (job) => queue.enqueue(job, consumer.reserveSlot()),
    onJobEvent: async (event) => {
      await handleJobEvent(event, { kube, github, records, namespace: env.runnerNamespace, clock, log });
      await lifecycle.noteJobEvent(event);
    },
    clock,
    log,
    metrics: createIngressMetrics(registry),
    ready: () => valkeyReady(command),
  });
  const privateServer = createPrivateServer({ registry, ready: () => valkeyReady(command), log });
  privateServer.mount('/status', statusHandler(() => collectStatus({
    inspector: new QueueInspector(command, prefix), apps: kube.apps, coordination: kube.coordination, runnerNamespace: env.runnerNamespace,
    lease: { namespace: env.systemNamespace, name: options.lifecycle?.leaseName ?? DEFAULT_LEASE_NAME }, registry, identity: env.identity,
    isLeader: () => lifecycle.isLeader(), doc: () => config.current(), clock,
  })));
  const address = await listen(server, env.port, options.host);
  const privateAddress = await listen(privateServer.server, env.privatePort, options.host);
  consumer.start();
  const doc = config.current();
  log.info({ port: address.port, privatePort: privateAddress.port, classes: doc.classes.length, pools: doc.pools.length, identity: env.identity }, 'orchestrator started');

  let stopping: Promise<void> | undefined;
  return {
    address, url: `http://${options.host ?? '127.0.0.1'}:${address.port}`,
    privateAddress, privateUrl: `http://${options.host ?? '127.0.0.1'}:${privateAddress.port}`, privateServer, queue, records, registry, config, kube, github, lifecycle,
    stop: () => (stopping ??= (async () => {
      await Promise.all([closeServer(server), closeServer(privateServer.server)]);
      // Stop reading (in-flight entries finish or go back to the group) while leader work stops and the Lease is released.
      unsubscribeWarmPool();
      unsubscribeRunnerVersion();
      await Promise.all([warmPoolLoop.stop(), runnerVersionLoop.stop(), imageWarmingLoop.stop()]);
      await Promise.all([consumer.stop(), lifecycle.stop()]);
      await rejections.settled();
      await config.stop();
      await github.close();
      await kube.close();
      for (const c of [command, blocking]) c.disconnect();
      log.info('orchestrator stopped');
    })()),
  };
}

async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), 5_000);
  await closed;
  clearTimeout(timer);
}

