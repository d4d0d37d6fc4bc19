import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GitHubDouble } from '../github/double.ts';
import type { SimCluster } from '../k8s/cluster.ts';

/**
 * GitHub's side of local mode, on 127.0.0.1, so a user can send jobs with curl without
 * knowing the webhook secret: queueing a job here makes the GitHub double queue it and
 * deliver the signed `workflow_job` webhook to the orchestrator, as GitHub would.
 *
 *   POST /jobs                 {"repo":"octo-org/app","labels":["runs-fleet=1/runner=2cpu-linux-arm64"],"count":1}
 *   POST /jobs/{id}/cancel     the run is cancelled (a `completed`/`cancelled` webhook)
 *   POST /nodes/{name}/interrupt   a spot interruption of that simulated node
 *   GET  /jobs                 GitHub's view of the jobs queued here
 */
export interface ControlServer {
  readonly url: string;
  stop(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

export async function startControlServer(o: { github: GitHubDouble; sim: SimCluster; port?: number; onQueued?: (jobIds: number[]) => void }): Promise<ControlServer> {
  const queued: number[] = [];
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { error: (err as Error).message }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const body = await readJson(req);
    if (body === undefined) return send(res, 400, { error: 'body must be JSON (at most 64 KiB)' });
    if (req.method === 'POST' && path === '/jobs') {
      const b = body as { repo?: unknown; labels?: unknown; count?: unknown; name?: unknown };
      const repo = typeof b.repo === 'string' ? b.repo : 'octo-org/app';
      const [owner, name] = repo.split('/');
      const labels = Array.isArray(b.labels) && b.labels.every((l) => typeof l === 'string') ? (b.labels as string[]) : undefined;
      const count = b.count === undefined ? 1 : Number(b.count);
      if (!owner || !name) return send(res, 422, { error: 'repo must be "owner/name", e.g. "octo-org/app"' });
      if (!labels?.length) return send(res, 422, { error: 'labels must be a non-empty list of runs-on labels, e.g. ["runs-fleet=1/runner=2cpu-linux-arm64"]' });
      if (!Number.isInteger(count) || count < 1 || count > 500) return send(res, 422, { error: 'count must be an integer 1..500' });
      const jobs = Array.from({ length: count }, (_, i) =>
        o.github.queueJob({ owner, repo: name, labels, name: typeof b.name === 'string' ? (count > 1 ? `${b.name} (${i + 1})` : b.name) : undefined }),
      );
      queued.push(...jobs.map((j) => j.id));
      o.onQueued?.(jobs.map((j) => j.id));
      return send(res, 201, { jobs: jobs.map((j) => ({ id: j.id, runId: j.runId, runAttempt: j.runAttempt, labels: j.labels })) });
    }
    const cancel = /^\/jobs\/(\d+)\/cancel$/.exec(path);
    if (req.method === 'POST' && cancel) {
      const job = o.github.getJob(Number(cancel[1]));
      if (!job) return send(res, 404, { error: `no job ${cancel[1]}` });
      if (job.status === 'completed') return send(res, 409, { error: `job ${job.id} already completed (${job.conclusion})` });
      o.github.markJobCompleted(job.id, 'cancelled');
      return send(res, 202, { id: job.id, status: 'cancelled' });
    }
    const interrupt = /^\/nodes\/([^/]+)\/interrupt$/.exec(path);
    if (req.method === 'POST' && interrupt) {
      try {
        o.sim.injectSpotInterruption(decodeURIComponent(interrupt[1]!));
      } catch (err) {
        return send(res, 404, { error: (err as Error).message });
      }
      return send(res, 202, { node: interrupt[1], status: 'interrupted' });
    }
    if (req.method === 'GET' && path === '/jobs') {
      return send(res, 200, {
        jobs: queued.map((id) => o.github.getJob(id)).filter(Boolean).map((j) => ({ id: j!.id, status: j!.status, conclusion: j!.conclusion, runner: j!.runnerName, labels: j!.labels })),
      });
    }
    return send(res, 404, { error: 'not found: POST /jobs, POST /jobs/{id}/cancel, POST /nodes/{name}/interrupt, GET /jobs' });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async stop() {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
    },
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
