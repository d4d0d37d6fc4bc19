// The local stack split in two processes for benchmarks that time the orchestrator: the
// simulated cluster and the GitHub double in a child (world-child.ts), the orchestrator and the
// bench's clients here. The sim and the double then pause on their own event loop, not ours.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ConfigDocument } from '../../runtime/config/document.ts';
import { loadEnv } from '../../runtime/config/env.ts';
import { silentLogger } from '../../runtime/log.ts';
import { startOrchestrator, type Orchestrator, type OrchestratorOptions } from '../../runtime/orchestrator.ts';
import { makeKubeConfig } from '../../sim/k8s/kubeconfig.ts';
import { localOrchestratorEnv, RUNNER_NAMESPACE, SYSTEM_NAMESPACE } from '../../sim/stack.ts';
import type { WorkflowJobFields } from '../../sim/github/webhook-payload.ts';
import { now, type Added, type Sent, type WorldChildInput, type WorldChildReady, type WorldMessage } from './world-protocol.ts';

const CHILD_ENTRY = fileURLToPath(new URL('./world-child.ts', import.meta.url));

export interface SplitStackOptions extends Pick<WorldChildInput, 'timings' | 'github'> {
  doc: ConfigDocument;
  valkeyUrl: string;
  /** Namespaces besides the runner and system ones. */
  namespaces?: string[];
  orchestrator?: OrchestratorOptions;
}

export interface SplitStack {
  readonly world: WorldChildReady;
  readonly orchestrator: Orchestrator;
  readonly webhookUrl: string;
  readonly webhookSecret: string;
  /** Called with each Job or Secret the sim stored, `at` already on this process's `now()`. */
  onAdded(listener: (a: Added) => void): void;
  /**
   * Has the child (standing in for GitHub) sign and send a `queued` webhook for `job` to the
   * orchestrator's ingress; resolves with when it was sent (on this process's `now()`) and the answer.
   */
  sendWebhook(job: WorkflowJobFields): Promise<Sent>;
  /** The child's clock minus ours, estimated from the fastest of several IPC round trips; its error is at most half that trip. */
  readonly clock: { offsetMs: number; roundTripMs: number };
  stop(): Promise<void>;
}

function waitReady(child: ChildProcess): Promise<WorldChildReady> {
  return new Promise((resolve, reject) => {
    createInterface(child.stdout!).once('line', (line) => resolve(JSON.parse(line) as WorldChildReady));
    child.once('exit', (code) => reject(new Error(`the sim/GitHub double process exited (${code}) before it was ready`)));
  });
}

/** NTP-style: the trip with the least round-trip time bounds the offset's error best. */
async function clockOffset(child: ChildProcess, trips = 30): Promise<{ offsetMs: number; roundTripMs: number }> {
  let best = { offsetMs: 0, roundTripMs: Number.POSITIVE_INFINITY };
  for (let id = 0; id < trips; id++) {
    const sent = now();
    const at = await new Promise<number>((resolve) => {
      const on = (m: WorldMessage) => {
        if (m.type !== 'pong' || m.id !== id) return;
        child.off('message', on);
        resolve(m.at);
      };
      child.on('message', on);
      child.send({ type: 'ping', id });
    });
    const back = now();
    if (back - sent < best.roundTripMs) best = { offsetMs: at - (sent + back) / 2, roundTripMs: back - sent };
  }
  return best;
}

export async function startSplitStack(options: SplitStackOptions): Promise<SplitStack> {
  const dir = mkdtempSync(join(tmpdir(), 'runs-fleet-split-'));
  const webhookSecret = randomUUID();
  const input: WorldChildInput = {
    doc: options.doc, namespaces: [RUNNER_NAMESPACE, SYSTEM_NAMESPACE, ...(options.namespaces ?? [])], webhookSecret,
    timings: options.timings, github: options.github,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD_ENTRY, JSON.stringify(input)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let orchestrator: Orchestrator | undefined;
  const stop = async () => {
    await orchestrator?.stop();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const world = await waitReady(child);
    const clock = await clockOffset(child);
    const listeners: ((a: Added) => void)[] = [];
    const awaitingAnswer = new Map<number, (s: Sent) => void>();
    child.on('message', (m: WorldMessage) => {
      if (m.type === 'added') for (const a of m.added) for (const l of listeners) l({ ...a, at: a.at - clock.offsetMs });
      if (m.type === 'sent') for (const s of m.sent) awaitingAnswer.get(s.id)?.({ ...s, sentAt: s.sentAt - clock.offsetMs });
    });
    // A world that dies answers every webhook still waiting, so the bench fails instead of hanging.
    child.once('exit', (code) => {
      for (const [id, answer] of [...awaitingAnswer]) answer({ id, sentAt: now(), answeredMs: 0, status: -1, error: `the world process exited (${code})` });
    });
    let nextWebhook = 0;
    const sendWebhook = (job: WorkflowJobFields) => new Promise<Sent>((resolve) => {
      const id = nextWebhook++;
      awaitingAnswer.set(id, (s) => {
        awaitingAnswer.delete(id);
        resolve(s);
      });
      child.send({ type: 'webhook', id, url: webhookUrl, job });
    });
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify(options.doc));
    const keyFile = join(dir, 'app.pem');
    writeFileSync(keyFile, world.privateKeyPem, { mode: 0o600 });
    const env = loadEnv(localOrchestratorEnv({
      webhookSecret, valkeyUrl: options.valkeyUrl, githubAppId: world.appId, keyFile, githubUrl: world.githubUrl, configFile, podName: 'orchestrator-0',
    }));
    orchestrator = await startOrchestrator(env, {
      kubeConfig: makeKubeConfig(world.kubeconfigYaml), queuePrefix: `split-${randomUUID().slice(0, 8)}`, host: '127.0.0.1', log: silentLogger(),
      ...options.orchestrator,
    });
    const o = orchestrator;
    const webhookUrl = `${o.url}/webhook`;
    return { world, orchestrator: o, webhookUrl, webhookSecret, clock, onAdded: (l) => void listeners.push(l), sendWebhook, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
