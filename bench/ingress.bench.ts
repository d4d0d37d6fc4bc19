import { createServer, type Server } from 'node:http';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createIngressMetrics } from '../runtime/ingress/metrics.ts';
import { createIngressServer, listen } from '../runtime/ingress/server.ts';
import { parseRunsOn } from '../runtime/labels/parse.ts';
import { silentLogger } from '../runtime/log.ts';
import { createRegistry } from '../runtime/metrics/registry.ts';
import { connectValkey, valkeyReady, waitReady } from '../runtime/queue/connection.ts';
import { JobQueue } from '../runtime/queue/job-queue.ts';
import { systemClock } from '../runtime/util/clock.ts';
import { buildWorkflowJobPayload } from '../sim/github/webhook-payload.ts';
import { DEFAULT_STACK_FILE } from '../sim/local.ts';
import { loadStackDocument } from '../sim/stack-document.ts';
import { startValkey } from '../sim/valkey.ts';
import { runLoad, type LoadResult } from './lib/load.ts';
import { valkeyVersion } from './lib/machine.ts';
import { median, ms, ratio, summarise } from './lib/stats.ts';
import type { Bench } from './lib/types.ts';

const SECRET = 'bench-webhook-secret-0123456789';
const SENTINEL = '987654321987';
/** Issue 16: the ingress keeps at least this share of a bare server's throughput at 32 concurrent… */
const MIN_THROUGHPUT_RATIO = 0.6;
/** …with its p99 at most this multiple of the bare server's. */
const MAX_P99_RATIO = 2;

/** A real-shaped queued workflow_job payload whose job id (and URLs) carry SENTINEL. */
function template(): string {
  const payload = buildWorkflowJobPayload('queued', {
    id: Number(SENTINEL), runId: 7_000_000_001, runAttempt: 1, owner: 'octo-org', repo: 'app',
    labels: ['self-hosted', 'runs-fleet=7000000001/runner=4cpu-linux-arm64/pool=default'], installationId: 1, name: 'test', workflowName: 'CI',
  });
  return JSON.stringify(payload);
}

/** CPU a round cost per request, µs: this thread (the servers' event loop), this whole process (+ the client's worker thread and GC threads), Valkey. */
interface CpuPerRequest {
  mainUs: number;
  processUs: number;
  valkeyUs: number;
}

async function valkeyCpuUs(command: ReturnType<typeof connectValkey>): Promise<number> {
  const info = await command.info('cpu');
  const field = (k: string) => Number(new RegExp(`${k}:([0-9.]+)`).exec(info)?.[1] ?? 0);
  return (field('used_cpu_sys') + field('used_cpu_user')) * 1e6;
}

async function metered<T>(command: ReturnType<typeof connectValkey>, requests: number, run: () => Promise<T>): Promise<[T, CpuPerRequest]> {
  const loop = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const valkey = await valkeyCpuUs(command);
  const result = await run();
  const used = process.cpuUsage(cpu);
  const valkeyUs = (await valkeyCpuUs(command)) - valkey;
  return [result, { mainUs: (performance.eventLoopUtilization(loop).active * 1000) / requests, processUs: (used.user + used.system) / requests, valkeyUs: valkeyUs / requests }];
}

type Which = 'bare' | 'ingress' | 'ownWork';
const WHICH: readonly Which[] = ['bare', 'ingress', 'ownWork'];

async function close(server: Server): Promise<void> {
  const closed = new Promise<void>((r) => server.close(() => r()));
  server.closeAllConnections();
  await closed;
}

const bench: Bench = {
  name: 'ingress',
  title: 'Ingress vs a bare HTTP server',
  description:
    'Signed `workflow_job` `queued` deliveries (real payload shape, ~' +
    `${Math.round(template().length / 100) / 10} KB, a unique job id each) POSTed to the orchestrator's ingress — HMAC check, ` +
    'label parsing with the dev stack\'s aliases, the Lua dedupe + `XADD` + job record in a real Valkey — and, in the same run, to a ' +
    'bare `http.createServer` that reads the body and answers 202, and to the same ingress with a store that answers at once (its own work without the Valkey round trip). Same client (undici, keep-alive, in a worker thread), same ' +
    'concurrency, rounds alternating between the three servers; throughput is the median round, latencies are pooled over rounds.',
  async run(ctx) {
    const valkey = await startValkey({ appendfsync: 'everysec' });
    const command = connectValkey(valkey.url, 'command');
    command.on('error', () => {});
    const doc = loadStackDocument(DEFAULT_STACK_FILE).doc;
    let ingress: Server | undefined;
    let ownWork: Server | undefined;
    let bare: Server | undefined;
    try {
      await waitReady(command);
      const queue = new JobQueue(command, { prefix: 'bench-ingress', consumer: 'bench' });
      await queue.ensureGroup();
      const ingressWith = (enqueue: Parameters<typeof createIngressServer>[0]['enqueue']) => createIngressServer({
        secrets: () => [SECRET], classify: (labels) => parseRunsOn(labels, doc.aliases), enqueue,
        onJobEvent: async () => {}, clock: systemClock, log: silentLogger(), metrics: createIngressMetrics(createRegistry()),
        ready: () => valkeyReady(command),
      });
      ingress = ingressWith((job) => queue.enqueue(job));
      const ingressUrl = `http://127.0.0.1:${(await listen(ingress, 0, '127.0.0.1')).port}/webhook`;
      // The same ingress with a store that answers at once: its own work (verify, parse, labels) without the Valkey round trip.
      ownWork = ingressWith(async () => ({ status: 'enqueued', id: '0-1' }));
      const ownWorkUrl = `http://127.0.0.1:${(await listen(ownWork, 0, '127.0.0.1')).port}/webhook`;
      bare = createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          const body = '{"status":"queued"}';
          res.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
          res.end(body);
        });
      });
      bare.keepAliveTimeout = 65_000;
      const bareUrl = `http://127.0.0.1:${(await listen(bare, 0, '127.0.0.1')).port}/webhook`;

      const body = template();
      let idBase = 1_000_000;
      const load = (url: string, concurrency: number, count: number) => {
        const r = runLoad({ url, concurrency, count, template: body, sentinel: SENTINEL, idBase, secret: SECRET });
        idBase += count;
        return r;
      };
      const levels = ctx.quick ? [{ c: 1, n: 300 }, { c: 32, n: 800 }] : [{ c: 1, n: 1_500 }, { c: 32, n: 4_000 }];
      const rounds = 3;
      const rows: (string | number)[][] = [];
      const data: Record<string, unknown> = {};
      let sent = 0;
      let accepted = 0;
      for (const { c, n } of levels) {
        ctx.progress(`concurrency ${c}: warm-up`);
        await load(bareUrl, c, 300);
        await load(ownWorkUrl, c, 300);
        const w = await load(ingressUrl, c, 300);
        sent += 300;
        accepted += w.statuses['202'] ?? 0;
        const runs: Record<Which, LoadResult[]> = { bare: [], ingress: [], ownWork: [] };
        const cpu: Record<Which, CpuPerRequest[]> = { bare: [], ingress: [], ownWork: [] };
        const urls: Record<Which, string> = { bare: bareUrl, ingress: ingressUrl, ownWork: ownWorkUrl };
        for (let r = 0; r < rounds; r++) {
          for (const which of r % 2 === 0 ? WHICH : [...WHICH].reverse()) {
            ctx.progress(`concurrency ${c}: round ${r + 1}/${rounds}, ${which}, ${n} requests`);
            const [res, used] = await metered(command, n, () => load(urls[which], c, n));
            cpu[which].push(used);
            if (which === 'ingress') {
              sent += n;
              accepted += res.statuses['202'] ?? 0;
            }
            runs[which].push(res);
          }
        }
        const stat = (which: Which) => {
          const lat = summarise(runs[which].flatMap((x) => x.latencies));
          return { rps: median(runs[which].map((x) => x.rps)), ...lat, statuses: runs[which].map((x) => x.statuses), errors: runs[which].reduce((a, x) => a + x.errors, 0) };
        };
        const b = stat('bare');
        const i = stat('ingress');
        const o = stat('ownWork');
        const cpuOf = (which: Which): CpuPerRequest => ({
          mainUs: median(cpu[which].map((x) => x.mainUs)), processUs: median(cpu[which].map((x) => x.processUs)), valkeyUs: median(cpu[which].map((x) => x.valkeyUs)),
        });
        data[`c${c}`] = { bare: b, ingress: i, ownWork: o, requestsPerRound: n, rounds, cpu: { bare: cpuOf('bare'), ingress: cpuOf('ingress'), ownWork: cpuOf('ownWork') } };
        rows.push(
          [c, 'bare http.createServer', Math.round(b.rps), ms(b.p50), ms(b.p99), '', ''],
          [c, 'runs-fleet ingress (verify, parse, dedupe + XADD)', Math.round(i.rps), ms(i.p50), ms(i.p99), ratio(i.rps / b.rps), ratio(i.p50 / b.p50)],
          [c, 'the same ingress, its store answering at once (no Valkey)', Math.round(o.rps), ms(o.p50), ms(o.p99), ratio(o.rps / b.rps), ratio(o.p50 / b.p50)],
        );
      }
      const stored = (await queue.depth()).length;
      const c32 = data.c32 as Record<Which, { rps: number; p50: number; p99: number }> & { cpu: Record<Which, CpuPerRequest> };
      const us = (x: number) => Math.round(x);
      const label: Record<Which, string> = { bare: 'bare http.createServer', ingress: 'runs-fleet ingress', ownWork: 'runs-fleet ingress, no Valkey' };
      const cpuRows = WHICH.map((w) => {
        const x = c32.cpu[w];
        return [label[w], us(x.mainUs), us(x.processUs - x.mainUs), us(x.valkeyUs), us(x.processUs + x.valkeyUs)];
      });
      // Each request costs the client's share (the bare round's CPU beside its server's loop) plus what the server does.
      const cores = availableParallelism();
      const clientUs = c32.cpu.bare.processUs - c32.cpu.bare.mainUs;
      const totalUs = (w: Which) => c32.cpu[w].processUs + c32.cpu[w].valkeyUs;
      const addedUs = totalUs('ingress') - totalUs('bare');
      /** Share of the machine's cores a round kept busy: CPU per request × requests per second. */
      const busy = (w: Which) => (totalUs(w) * c32[w].rps) / 1e6 / cores;
      const pct = (x: number) => `${Math.round(x * 100)} %`;
      const c1 = data.c1 as { bare: { p50: number }; ingress: { p50: number } };
      // Issue 16's bar, at 32 concurrent deliveries.
      const met = c32.ingress.rps / c32.bare.rps >= MIN_THROUGHPUT_RATIO && c32.ingress.p99 / c32.bare.p99 <= MAX_P99_RATIO;
      return {
        target: {
          goal: `at 32 concurrent deliveries ≥ ${MIN_THROUGHPUT_RATIO}× the bare server's throughput and p99 ≤ ${MAX_P99_RATIO}× its p99 ` +
            `(measured ${ratio(c32.ingress.rps / c32.bare.rps)} and ${ratio(c32.ingress.p99 / c32.bare.p99)})`,
          met,
        },
        headline:
          `At 32 concurrent deliveries the ingress answered ${Math.round(c32.ingress.rps)} req/s, ${ratio(c32.ingress.rps / c32.bare.rps)} of the bare server's ` +
          `throughput; one at a time its p50 is ${ms(c1.ingress.p50)} ms vs ${ms(c1.bare.p50)} ms (${ratio(c1.ingress.p50 / c1.bare.p50)}).`,
        tables: [{
          title: 'Requests per second (median of rounds) and latency in ms (pooled)',
          columns: ['concurrency', 'server', 'req/s', 'p50 ms', 'p99 ms', 'req/s, ingress ÷ bare', 'p50, ingress ÷ bare'],
          rows,
        }, {
          title: 'CPU per request at 32 concurrent, µs (median of rounds): the servers\' event loop (its utilisation), the rest of this process (the client\'s worker thread, GC threads), Valkey',
          columns: ['server', 'event loop', 'rest of the process', 'Valkey', 'total'],
          rows: cpuRows,
        }],
        notes: [
          `${accepted} of ${sent} deliveries to the ingress were answered 202; the jobs stream holds ${stored} entries (each accepted delivery stored once).`,
          'The ingress does a Valkey round trip per delivery (one Lua script: SET NX dedupe, XADD, HSET record); Valkey runs with appendonly yes, appendfsync everysec, as the cluster\'s does.',
          'Client, both servers and Valkey share the machine; the client runs in a worker thread, the servers on the main event loop.',
          `Where the ratio comes from: at 32 concurrent neither server's event loop is saturated (see the CPU table). The bare server is bound by its client ` +
            `(${us(clientUs)} µs of CPU per request beside the server's ${us(c32.cpu.bare.mainUs)}), and its rounds keep the ${cores} cores ${pct(busy('bare'))} busy; ` +
            `the ingress adds ${us(addedUs)} µs per request of its own work and Valkey's (HMAC over the raw bytes, JSON parse, payload check, labels, the Lua step), ` +
            `so CPU alone would allow ${ratio(totalUs('bare') / totalUs('ingress'))} of the bare rate, and its rounds keep the cores ${pct(busy('ingress'))} busy: ` +
            'the rest is each delivery waiting for Valkey\'s answer, a wake-up of another process on this shared machine, with all 32 in flight waiting at once at times. ' +
            `${MIN_THROUGHPUT_RATIO}× would need the ingress and Valkey to add at most ${us(totalUs('bare') * (1 / MIN_THROUGHPUT_RATIO - 1))} µs of CPU per request here, and to keep the cores as busy as the bare rounds do.`,
          `How the gap splits: the same ingress with a store that answers at once (no Valkey, nothing stored) reaches ${ratio(c32.ownWork.rps / c32.bare.rps)} of the bare rate at 32 concurrent — ` +
            'what its own required work (reading the body, the HMAC over it, JSON parse, payload check, labels) leaves on this machine, where that work shares the cores with the load client — and the Valkey round trip that stores the job takes it to ' +
            `${ratio(c32.ingress.rps / c32.bare.rps)}. The bar asks the stored path for ${MIN_THROUGHPUT_RATIO}×, ` +
            (c32.ownWork.rps / c32.bare.rps < MIN_THROUGHPUT_RATIO ? 'more than the path that stores nothing reaches here.' : `which only the path that stores nothing reaches here: the round trip costs ${pct(1 - c32.ingress.rps / c32.ownWork.rps)} of its rate.`),
        ],
        data: { ...data, accepted, sent, stored },
        versions: { valkey: valkeyVersion() },
      };
    } finally {
      if (ingress) await close(ingress);
      if (ownWork) await close(ownWork);
      if (bare) await close(bare);
      command.disconnect();
      await valkey.dispose();
    }
  },
};

export default bench;
