import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseConfigDocument, type ConfigDocument } from './config/document.ts';
import type { RuntimeEnv } from './config/env.ts';
import { createIngressMetrics } from './ingress/metrics.ts';
import { createIngressServer, listen } from './ingress/server.ts';
import { createLogger, type Logger } from './log.ts';
import { createRegistry } from './metrics/registry.ts';
import { connectValkey, valkeyReady, waitReady, type Valkey } from './queue/connection.ts';
import { JobQueue } from './queue/job-queue.ts';
import { JobRecords } from './queue/job-records.ts';
import { systemClock, type Clock } from './util/clock.ts';

export interface OrchestratorOptions {
  clock?: Clock;
  log?: Logger;
  registry?: Registry;
  /** Valkey key prefix (one deployment per prefix); tests use unique ones. */
  queuePrefix?: string;
  /** Host to bind; all interfaces in the cluster, loopback locally. */
  host?: string;
}

export interface Orchestrator {
  readonly address: AddressInfo;
  readonly queue: JobQueue;
  readonly records: JobRecords;
  readonly registry: Registry;
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
  const doc = readDocument(env.configFile);

  const command = connectValkey(env.valkeyUrl, 'command');
  const blocking = connectValkey(env.valkeyUrl, 'blocking');
  for (const c of [command, blocking]) c.on('error', (err: Error) => log.warn({ err: { message: err.message } }, 'valkey connection error'));
  await waitReady(command, 30_000);
  const queue = new JobQueue(command, { prefix: options.queuePrefix, consumer: env.identity }, blocking);
  await queue.ensureGroup();
  const records = new JobRecords(command, options.queuePrefix);

  const secrets = [env.webhookSecret, ...(env.previousWebhookSecret ? [env.previousWebhookSecret] : [])];
  const server = createIngressServer({
    secrets: () => secrets,
    classify: () => {
      throw Object.assign(new Error('runner provisioning is not built yet'), { reason: 'not_built' });
    },
    enqueue: (job) => queue.enqueue(job),
    clock,
    log,
    metrics: createIngressMetrics(registry),
    registry,
    ready: () => valkeyReady(command),
  });
  const address = await listen(server, env.port, options.host);
  log.info({ port: address.port, classes: doc.classes.length, pools: doc.pools.length }, 'orchestrator listening');

  let stopping: Promise<void> | undefined;
  return {
    address, queue, records, registry,
    stop: () => (stopping ??= shutdown(server, [command, blocking], log)),
  };
}

function readDocument(path: string): ConfigDocument {
  const text = readFileSync(path, 'utf8');
  return parseConfigDocument(parseYaml(text), `${path}: `);
}

async function shutdown(server: Server, clients: Valkey[], log: Logger): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
  for (const c of clients) c.disconnect();
  log.info('orchestrator stopped');
}
