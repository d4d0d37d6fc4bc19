// The world the orchestrator talks to — the simulated cluster and the GitHub double — in a
// process of its own (bench/lib/remote-world.ts starts it), so that the sim's scheduling passes,
// its garbage collection and the double's work do not stall the process whose latency a
// benchmark measures (issue 16, Deliver 3). Input: one JSON argument. Output: one JSON line
// when serving. Over IPC it reports, in batches, when the sim stored each Job and Secret, on a
// clock the parent can map onto its own (see `now`).
import { Pool } from 'undici';
import { startGitHubDouble } from '../../sim/github/double.ts';
import { buildSignedWorkflowJobWebhook } from '../../sim/github/webhook-payload.ts';
import { startSimCluster } from '../../sim/k8s/cluster.ts';
import { nodePoolsFromConfig, seedPriorityClasses } from '../../sim/k8s/from-config.ts';
import { now, type Added, type SendWebhook, type Sent, type WorldChildInput, type WorldChildReady, type WorldMessage } from './world-protocol.ts';

/** Batches bound the IPC cost on the parent's event loop to one message per interval. */
const FLUSH_MS = 10;

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2] ?? '{}') as WorldChildInput;
  const sim = await startSimCluster({ nodePools: nodePoolsFromConfig(input.doc), namespaces: input.namespaces, timings: input.timings });
  seedPriorityClasses(sim.api, input.doc);
  const github = await startGitHubDouble({ webhookSecret: input.webhookSecret, ...input.github });

  let batch: Added[] = [];
  let sent: Sent[] = [];
  const flush = setInterval(() => {
    if (batch.length) process.send?.({ type: 'added', added: batch } satisfies WorldMessage);
    if (sent.length) process.send?.({ type: 'sent', sent } satisfies WorldMessage);
    batch = [];
    sent = [];
  }, FLUSH_MS);
  // Webhooks come from here, as from GitHub: the sender's work (signing, writing the request,
  // reading the answer) is not on the orchestrator's event loop, which a real one never shares.
  const pools = new Map<string, Pool>();
  const sendWebhook = async ({ id, url, job }: SendWebhook) => {
    const { origin, pathname } = new URL(url);
    let pool = pools.get(origin);
    if (!pool) pools.set(origin, (pool = new Pool(origin, { connections: 8, keepAliveTimeout: 60_000 })));
    const hook = buildSignedWorkflowJobWebhook({ action: 'queued', secret: input.webhookSecret, job });
    const sentAt = now();
    const res = await pool.request({ path: pathname, method: 'POST', headers: hook.headers, body: hook.body });
    const answeredMs = now() - sentAt;
    await res.body.dump();
    sent.push({ id, sentAt, answeredMs, status: res.statusCode });
  };
  sim.api.store.onEvent((e) => {
    if (e.type !== 'ADDED' || (e.resource.plural !== 'jobs' && e.resource.plural !== 'secrets')) return;
    batch.push({ plural: e.resource.plural, key: `${e.object.metadata.namespace}/${e.object.metadata.name}`, at: now() });
  });
  process.on('message', (m: { type?: string; id?: number }) => {
    if (m.type === 'ping') process.send?.({ type: 'pong', id: m.id!, at: now() } satisfies WorldMessage);
    if (m.type === 'webhook') void sendWebhook(m as SendWebhook).catch((err) => sent.push({ id: m.id!, sentAt: now(), answeredMs: 0, status: -1, error: String(err) }));
  });
  const stop = async () => {
    clearInterval(flush);
    await Promise.all([...pools.values()].map((p) => p.close()));
    await github.stop();
    await sim.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop().catch(() => process.exit(1)));
  // The parent going away (a crash of the bench) must not leave this process serving.
  process.on('disconnect', () => void stop().catch(() => process.exit(1)));
  const ready: WorldChildReady = {
    simUrl: sim.url, kubeconfigYaml: sim.kubeconfigYaml, githubUrl: github.url, appId: github.appId, privateKeyPem: github.privateKeyPem,
  };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
}

await main();
