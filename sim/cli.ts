
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseConfigDocument } from '../runtime/config/document.ts';
import { parseCommandLine } from '../runtime/util/cli.ts';
import { ConfigError } from '../runtime/util/errors.ts';
import { createLogger } from '../runtime/log.ts';
import { startSimCluster, type SimTimings } from './k8s/cluster.ts';
import { nodePoolsFromConfig, seedPriorityClasses } from './k8s/from-config.ts';
import { instanceTypesRequirement, type NodePool } from './k8s/model/nodepool.ts';

const USAGE = `Usage: npm run sim -- --kubeconfig FILE [--config FILE] [--port N] [--fast]

Starts the simulated Kubernetes cluster (runs-fleet's test and demo tool) on 127.0.0.1 and
serves until SIGINT or SIGTERM.

  --kubeconfig FILE  write a kubeconfig for the sim here (works with kubectl and client-node)
  --config FILE      a runs-fleet config document (JSON or YAML): one NodePool per runner
                     class, a system node, and the runner/placeholder PriorityClasses.
                     Without it: one untainted "default" pool (2-16 vCPU nodes, 64 vCPU limit).
  --port N           listen on this port (default: a free one)
  --fast             short delays (image pull 200 ms, node provisioning 3 s) for demos
  -h, --help         show this help

Exit codes: 0 stopped by SIGINT/SIGTERM, 1 runtime failure, 2 bad arguments or config document.
`;

const DEFAULT_POOLS: NodePool[] = [
  {
    name: 'default',
    requirements: [
      instanceTypesRequirement('m7i.large', 'm7i.xlarge', 'm7i.2xlarge', 'm7i.4xlarge'),
      { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['spot', 'on-demand'] },
    ],
    limitsCpu: 64,
    consolidateAfterMs: 30_000,
  },
  { name: 'system', requirements: [instanceTypesRequirement('m7i.2xlarge')], initialNodes: 1 },
];

async function main(): Promise<number> {
  const parsed = parseCommandLine(process.argv.slice(2), {
    kubeconfig: { type: 'string' }, config: { type: 'string' }, port: { type: 'string' }, fast: { type: 'boolean', default: false },
  }, USAGE);
  if ('exit' in parsed) return parsed.exit;
  const args = parsed.values;
  if (!args.kubeconfig) {
    process.stderr.write(`--kubeconfig FILE is required: where to write the sim's kubeconfig\n\n${USAGE}`);
    return 2;
  }
  const port = args.port === undefined ? 0 : Number(args.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--port must be a port number 0-65535, got "${args.port}"\n`);
    return 2;
  }
  const doc = args.config ? loadConfig(args.config) : undefined;
  const timings: Partial<SimTimings> = args.fast ? { imagePullMs: 200, containerStartMs: 100, readinessMs: 200, provisioningMs: 3_000, batchIdleMs: 500, batchMaxMs: 3_000 } : {};
  const sim = await startSimCluster({
    port,
    nodePools: doc ? nodePoolsFromConfig(doc) : DEFAULT_POOLS,
    timings,
    logger: createLogger({ name: 'runs-fleet-sim' }),
  });
  if (doc) seedPriorityClasses(sim.api, doc);
  const file = resolve(args.kubeconfig);
  writeFileSync(file, sim.kubeconfigYaml, { mode: 0o600 });
  process.stdout.write(`runs-fleet sim: Kubernetes API listening on ${sim.url}\nkubeconfig written to ${file}\n` +
    `NodePools: ${sim.nodePools.map((p) => p.name).join(', ')}. Stop with Ctrl-C.\n`);
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await sim.stop();
  process.stdout.write('runs-fleet sim: stopped\n');
  return 0;
}

function loadConfig(path: string) {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ConfigError([`--config ${path}: cannot read it as JSON or YAML: ${(e as Error).message}`]);
  }
  return parseConfigDocument(raw, `${path}: `);
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`runs-fleet sim: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(e instanceof ConfigError ? 2 : 1);
  },
);
