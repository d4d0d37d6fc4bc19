import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigDocument } from '../runtime/config/document.ts';
import { loadEnv } from '../runtime/config/env.ts';
import { silentLogger, type Logger } from '../runtime/log.ts';
import { startOrchestrator, type Orchestrator, type OrchestratorOptions } from '../runtime/orchestrator.ts';
import { startGitHubDouble, type GitHubDouble, type GitHubDoubleOptions } from './github/double.ts';
import { startSimCluster, type SimCluster, type SimClusterOptions } from './k8s/cluster.ts';
import { nodePoolsFromConfig, seedPriorityClasses } from './k8s/from-config.ts';
import { startValkey, type ValkeyProcess } from './valkey.ts';

export const RUNNER_NAMESPACE = 'runs-fleet-runners';
export const SYSTEM_NAMESPACE = 'runs-fleet-system';

export interface LocalStackOptions {
  doc: ConfigDocument;
  /** An existing Valkey; a private valkey-server is started (and stopped) otherwise. */
  valkeyUrl?: string;
  /** Orchestrator replicas sharing the queue (each with its own identity); 0 to add them later. */
  replicas?: number;
  queuePrefix?: string;
  sim?: SimClusterOptions;
  github?: GitHubDoubleOptions;
  orchestrator?: OrchestratorOptions;
  /** Extra environment for the orchestrators (e.g. RUNS_FLEET_CONCURRENCY). */
  env?: Record<string, string>;
  log?: Logger;
}

export interface LocalStack {
  readonly sim: SimCluster;
  readonly github: GitHubDouble;
  readonly orchestrators: Orchestrator[];
  readonly webhookUrl: string;
  readonly webhookSecret: string;
  readonly configFile: string;
  readonly valkeyUrl: string;
  readonly queuePrefix: string;
  /** Starts one more replica against the same queue (options override the stack's); returns it. */
  addReplica(overrides?: OrchestratorOptions): Promise<Orchestrator>;
  stop(): Promise<void>;
}

/**
 * Where a local orchestrator finds its world: the environment variables main.ts would read in the cluster.
 * One App by its id and key file, or several from an apps file (the deployment's apps.json).
 */
export function localOrchestratorEnv(w: {
  webhookSecret: string; valkeyUrl: string; githubAppId: number; keyFile: string; githubUrl: string; configFile: string; podName: string; appsFile?: string;
}): Record<string, string> {
  const app: Record<string, string> = w.appsFile !== undefined
    ? { RUNS_FLEET_GITHUB_APPS_FILE: w.appsFile }
    : { RUNS_FLEET_WEBHOOK_SECRET: w.webhookSecret, RUNS_FLEET_GITHUB_APP_ID: String(w.githubAppId), RUNS_FLEET_GITHUB_PRIVATE_KEY_FILE: w.keyFile };
  return {
    RUNS_FLEET_PORT: '0', RUNS_FLEET_PRIVATE_PORT: '0', RUNS_FLEET_VALKEY_URL: w.valkeyUrl, ...app,
    RUNS_FLEET_GITHUB_API_URL: w.githubUrl, RUNS_FLEET_RUNNER_NAMESPACE: RUNNER_NAMESPACE,
    RUNS_FLEET_SYSTEM_NAMESPACE: SYSTEM_NAMESPACE, RUNS_FLEET_CONFIG_FILE: w.configFile, RUNS_FLEET_POD_NAME: w.podName,
  };
}

/**
 * The embedded default: a simulated cluster with the config's NodePools, the GitHub
 * double, Valkey, and the real orchestrator wired to them — the same code that runs in
 * the cluster. Used by `npm start`, the demo, end-to-end tests and benchmarks.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const dir = mkdtempSync(join(tmpdir(), 'runs-fleet-local-'));
  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(dir, { recursive: true, force: true })];
  const stopAll = async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  };
  try {
    let valkey: ValkeyProcess | undefined;
    if (!options.valkeyUrl) {
      mkdirSync(join(dir, 'valkey'));
      valkey = await startValkey({ dir: join(dir, 'valkey') });
      cleanups.push(() => valkey!.dispose());
    }
    const valkeyUrl = options.valkeyUrl ?? valkey!.url;
    const sim = await startSimCluster({
      nodePools: nodePoolsFromConfig(options.doc), namespaces: [RUNNER_NAMESPACE, SYSTEM_NAMESPACE], ...options.sim,
    });
    cleanups.push(() => sim.stop());
    seedPriorityClasses(sim.api, options.doc);

    const webhookSecret = randomUUID();
    const github = await startGitHubDouble({ webhookSecret, autoDeliver: true, ...options.github });
    cleanups.push(() => github.stop());

    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify(options.doc, null, 2));
    const keyFile = join(dir, 'app.pem');
    writeFileSync(keyFile, github.privateKeyPem, { mode: 0o600 });
    // A double playing several Apps: the orchestrator gets them all, as RUNS_FLEET_GITHUB_APPS_FILE (the
    // deployment's apps.json), each with its own key file; webhooks come signed with the one secret.
    let appsFile: string | undefined;
    if (github.apps.length > 1) {
      appsFile = join(dir, 'apps.json');
      const list = github.apps.map((a, i) => {
        const file = join(dir, `app-${i + 1}.pem`);
        writeFileSync(file, a.privateKeyPem, { mode: 0o600 });
        return { appId: String(a.appId), privateKeyFile: file, webhookSecret };
      });
      writeFileSync(appsFile, JSON.stringify(list, null, 2), { mode: 0o600 });
    }
    const queuePrefix = options.queuePrefix ?? `local-${randomUUID().slice(0, 8)}`;
    const orchestrators: Orchestrator[] = [];
    const addReplica = async (overrides: OrchestratorOptions = {}) => {
      const i = orchestrators.length;
      const env = loadEnv({
        ...localOrchestratorEnv({ webhookSecret, valkeyUrl, githubAppId: github.appId, keyFile, githubUrl: github.url, configFile, podName: `orchestrator-${i}`, appsFile }),
        ...options.env,
      });
      const o = await startOrchestrator(env, {
        kubeConfig: sim.makeKubeConfig(), queuePrefix, host: '127.0.0.1', log: options.log ?? silentLogger(), ...options.orchestrator, ...overrides,
      });
      orchestrators.push(o);
      cleanups.push(() => o.stop());
      // GitHub delivers to the first replica, as a load balancer would pick one.
      if (i === 0) github.setWebhook(`${o.url}/webhook`, webhookSecret);
      return o;
    };
    for (let i = 0; i < (options.replicas ?? 1); i++) await addReplica();
    return {
      sim, github, orchestrators, webhookSecret, configFile, valkeyUrl, queuePrefix,
      get webhookUrl() {
        return orchestrators[0] ? `${orchestrators[0].url}/webhook` : '';
      },
      addReplica,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
