// The world the orchestrator talks to — the simulated cluster and the GitHub double — in a
// process of its own (bench/lib/remote-world.ts starts it), so that the sim's scheduling passes,
// its garbage collection and the double's work do not stall the process whose latency a
// benchmark measures (issue 16, Deliver 3). Input: one JSON argument. Output: one JSON line
// when serving. Over IPC it reports, in batches, when the sim stored each Job and Secret, on a
// clock the parent can map onto its own (see `now`).
import { startGitHubDouble } from '../../sim/github/double.ts';
import { startSimCluster } from '../../sim/k8s/cluster.ts';
import { nodePoolsFromConfig, seedPriorityClasses } from '../../sim/k8s/from-config.ts';
import { now, type Added, type WorldChildInput, type WorldChildReady, type WorldMessage } from './world-protocol.ts';

/** Batches bound the IPC cost on the parent's event loop to one message per interval. */
const FLUSH_MS = 10;

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2] ?? '{}') as WorldChildInput;
  const sim = await startSimCluster({ nodePools: nodePoolsFromConfig(input.doc), namespaces: input.namespaces, timings: input.timings });
  seedPriorityClasses(sim.api, input.doc);
  const github = await startGitHubDouble({ webhookSecret: input.webhookSecret, ...input.github });

  let batch: Added[] = [];
  const flush = setInterval(() => {
    if (batch.length === 0) return;
    process.send?.({ type: 'added', added: batch } satisfies WorldMessage);
    batch = [];
  }, FLUSH_MS);
  sim.api.store.onEvent((e) => {
    if (e.type !== 'ADDED' || (e.resource.plural !== 'jobs' && e.resource.plural !== 'secrets')) return;
    batch.push({ plural: e.resource.plural, key: `${e.object.metadata.namespace}/${e.object.metadata.name}`, at: now() });
  });
  process.on('message', (m: { type?: string; id?: number }) => {
    if (m.type === 'ping') process.send?.({ type: 'pong', id: m.id!, at: now() } satisfies WorldMessage);
  });
  const stop = async () => {
    clearInterval(flush);
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
