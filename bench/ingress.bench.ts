import { createServer, type Server } from 'node:http';
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
    'bare `http.createServer` that reads the body and answers 202. Same client (undici, keep-alive, in a worker thread), same ' +
    'concurrency, rounds alternating between the two servers; throughput is the median round, latencies are pooled over rounds.',
  async run(ctx) {
    const valkey = await startValkey({ appendfsync: 'everysec' });
    const command = connectValkey(valkey.url, 'command');
    command.on('error', () => {});
    const doc = loadStackDocument(DEFAULT_STACK_FILE).doc;
    const registry = createRegistry();
    let ingress: Server | undefined;
    let bare: Server | undefined;
    try {
      await waitReady(command);
      const queue = new JobQueue(command, { prefix: 'bench-ingress', consumer: 'bench' });
      await queue.ensureGroup();
      ingress = createIngressServer({
        secrets: () => [SECRET], classify: (labels) => parseRunsOn(labels, doc.aliases), enqueue: (job) => queue.enqueue(job),
        onJobEvent: async () => {}, clock: systemClock, log: silentLogger(), metrics: createIngressMetrics(registry),
        ready: () => valkeyReady(command),
      });
      const ingressUrl = `http://127.0.0.1:${(await listen(ingress, 0, '127.0.0.1')).port}/webhook`;
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
        const w = await load(ingressUrl, c, 300);
        sent += 300;
        accepted += w.statuses['202'] ?? 0;
        const runs: { bare: LoadResult[]; ingress: LoadResult[] } = { bare: [], ingress: [] };
        for (let r = 0; r < rounds; r++) {
          for (const which of r % 2 === 0 ? (['bare', 'ingress'] as const) : (['ingress', 'bare'] as const)) {
            ctx.progress(`concurrency ${c}: round ${r + 1}/${rounds}, ${which}, ${n} requests`);
            const res = await load(which === 'bare' ? bareUrl : ingressUrl, c, n);
            if (which === 'ingress') {
              sent += n;
              accepted += res.statuses['202'] ?? 0;
            }
            runs[which].push(res);
          }
        }
        const stat = (which: 'bare' | 'ingress') => {
          const lat = summarise(runs[which].flatMap((x) => x.latencies));
          return { rps: median(runs[which].map((x) => x.rps)), ...lat, statuses: runs[which].map((x) => x.statuses), errors: runs[which].reduce((a, x) => a + x.errors, 0) };
        };
        const b = stat('bare');
        const i = stat('ingress');
        data[`c${c}`] = { bare: b, ingress: i, requestsPerRound: n, rounds };
        rows.push(
          [c, 'bare http.createServer', Math.round(b.rps), ms(b.p50), ms(b.p99), '', ''],
          [c, 'runs-fleet ingress (verify, parse, dedupe + XADD)', Math.round(i.rps), ms(i.p50), ms(i.p99), ratio(i.rps / b.rps), ratio(i.p50 / b.p50)],
        );
      }
      const stored = (await queue.depth()).length;
      const c32 = data.c32 as { bare: { rps: number; p99: number }; ingress: { rps: number; p50: number; p99: number } };
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
        }],
        notes: [
          `${accepted} of ${sent} deliveries to the ingress were answered 202; the jobs stream holds ${stored} entries (each accepted delivery stored once).`,
          'The ingress does a Valkey round trip per delivery (one Lua script: SET NX dedupe, XADD, HSET record); Valkey runs with appendonly yes, appendfsync everysec, as the cluster\'s does.',
          'Client, both servers and Valkey share the machine; the client runs in a worker thread, the servers on the main event loop.',
        ],
        data: { ...data, accepted, sent, stored },
        versions: { valkey: valkeyVersion() },
      };
    } finally {
      if (ingress) await close(ingress);
      if (bare) await close(bare);
      command.disconnect();
      await valkey.dispose();
    }
  },
};

export default bench;
