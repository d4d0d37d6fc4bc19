import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { RuntimeEnv } from '../../../runtime/config/env.ts';
import type { LocalStack } from '../../../sim/stack.ts';
import { RUNNER_NAMESPACE, SYSTEM_NAMESPACE } from '../../../sim/stack.ts';
import type { ReplicaInput } from './replica-main.ts';
import { FAST_CONSUMER, FAST_LIFECYCLE } from './stack.ts';

const MAIN = fileURLToPath(new URL('./replica-main.ts', import.meta.url));

export interface ReplicaProcess {
  readonly identity: string;
  readonly child: ChildProcess;
  /** Its webhook ingress. */
  readonly url: string;
  /** SIGKILL: the process ends at once, mid-whatever, and never releases its Lease. */
  kill(): Promise<void>;
}

/** Starts an orchestrator replica of the stack in a child process and waits until it serves. */
export async function startReplicaProcess(s: LocalStack, identity: string, o: { githubApiUrl?: string } = {}): Promise<ReplicaProcess> {
  const env: RuntimeEnv = {
    port: 0, privatePort: 0, valkeyWaitReplicas: 0, valkeyWaitTimeoutMs: 1_000, webhookSecret: s.webhookSecret, previousWebhookSecret: undefined, valkeyUrl: s.valkeyUrl,
    githubAppId: String(s.github.appId), githubPrivateKey: s.github.privateKeyPem, githubApiUrl: o.githubApiUrl ?? s.github.url,
    githubApps: [{ appId: String(s.github.appId), privateKey: s.github.privateKeyPem, webhookSecret: s.webhookSecret, previousWebhookSecret: undefined, installations: [] }],
    runnerNamespace: RUNNER_NAMESPACE, systemNamespace: SYSTEM_NAMESPACE, configFile: s.configFile, kubeconfig: undefined,
    identity, logLevel: 'silent', concurrency: 4,
  };
  const input: ReplicaInput = { env, kubeconfigYaml: s.sim.kubeconfigYaml, queuePrefix: s.queuePrefix, lifecycle: FAST_LIFECYCLE, consumer: FAST_CONSUMER };
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, JSON.stringify(input)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface(child.stdout!);
    lines.once('line', (line) => resolve(String((JSON.parse(line) as { url: string }).url)));
    child.once('exit', (code) => reject(new Error(`replica ${identity} exited (${code}) before it was ready`)));
  });
  return {
    identity, child, url,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
