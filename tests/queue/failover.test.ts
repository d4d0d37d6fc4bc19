import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Valkey } from 'iovalkey';
import { JobQueue, NotReplicatedError } from '../../runtime/queue/job-queue.ts';
import { startLocalStack, RUNNER_NAMESPACE, type LocalStack } from '../../sim/stack.ts';
import { freePort, startValkey, type ValkeyProcess } from '../../sim/valkey.ts';
import { sampleDocument } from '../support/config.ts';
import { eventually } from '../support/eventually.ts';
import { uniquePrefix } from '../support/valkey.ts';
import type { QueuedJob } from '../../runtime/queue/types.ts';

/**
 * ElastiCache for Valkey fails over by promoting a replica and pointing the primary
 * endpoint's DNS name at it. Modelled here with two real valkey-server processes and a
 * TCP forwarder standing in for the primary endpoint: kill the primary mid-burst,
 * promote the replica (REPLICAOF NO ONE), move the endpoint, bring the old node back as
 * a replica of the new primary (as ElastiCache replaces a failed node). Every delivery
 * answered 2xx must end up as exactly one runner Job; 503s are redelivered, as GitHub's
 * redelivery would.
 */

/** The primary endpoint: forwards to whichever node is primary; moving it drops every open connection. */
async function startEndpoint(targetPort: number) {
  let target = targetPort;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    open.add(client).add(upstream);
    const drop = () => { client.destroy(); upstream.destroy(); open.delete(client); open.delete(upstream); };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    port: (server.address() as AddressInfo).port,
    moveTo(port: number) {
      target = port;
      for (const s of open) s.destroy();
    },
    async stop() {
      for (const s of open) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Makes `replica` replicate from `primary` (a process, or a port such as a forwarder's) and waits for the link. */
async function replicate(replica: ValkeyProcess, primary: ValkeyProcess | number): Promise<void> {
  const c = new Valkey(replica.url, { lazyConnect: false });
  try {
    await c.call('REPLICAOF', '127.0.0.1', String(typeof primary === 'number' ? primary : primary.port));
    await eventually(async () => String(await c.info('replication')), (info) => /master_link_status:up/.test(info), 10_000);
  } finally {
    c.disconnect();
  }
}

async function promote(node: ValkeyProcess): Promise<void> {
  const c = new Valkey(node.url, { lazyConnect: false });
  try {
    await c.call('REPLICAOF', 'NO', 'ONE');
  } finally {
    c.disconnect();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Valkey failover (real primary and replica, primary killed mid-burst)', function () {
  this.timeout(90_000);
  let primary: ValkeyProcess;
  let replica: ValkeyProcess;
  let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
  let s: LocalStack | undefined;

  beforeEach(async () => {
    primary = await startValkey({ appendfsync: 'everysec' });
    replica = await startValkey({ appendfsync: 'everysec' });
    await replicate(replica, primary);
    endpoint = await startEndpoint(primary.port);
  });
  afterEach(async () => {
    await s?.stop();
    s = undefined;
    await endpoint.stop();
    await Promise.all([primary.dispose(), replica.dispose()]);
  });

  it('loses no accepted job and provisions each one exactly once', async () => {
    s = await startLocalStack({
      doc: sampleDocument(), valkeyUrl: endpoint.url, queuePrefix: uniquePrefix('failover'), replicas: 2,
      github: { autoDeliver: false },
      env: { RUNS_FLEET_VALKEY_WAIT_REPLICAS: '1', RUNS_FLEET_VALKEY_WAIT_TIMEOUT_MS: '1000' },
      sim: { timings: { provisioningMs: 100, imagePullMs: 5, containerStartMs: 5, readinessMs: 5, batchIdleMs: 20, batchMaxMs: 100 } },
      orchestrator: { consumer: { blockMs: 100, reclaimIdleMs: 1_000, reclaimEveryMs: 200 } },
    });
    const stack = s;
    const JOBS = 40;
    const jobs = Array.from({ length: JOBS }, (_, i) =>
      stack.github.queueJob({ owner: 'octo-org', repo: 'app', labels: [`runs-fleet=${900 + i}/runner=2cpu-linux-arm64`] }));
    const answers = { accepted: 0, refused: 0 };
    let killed = false;

    // Each delivery is retried until answered 2xx (GitHub redelivers failed deliveries).
    const deliver = async (jobId: number, i: number) => {
      await sleep(i * 40);
      for (let attempt = 0; attempt < 200; attempt++) {
        const hook = stack.github.buildWorkflowJobWebhook(jobId, 'queued');
        const url = stack.orchestrators[attempt % 2]!.url;
        const status = await fetch(`${url}/webhook`, { method: 'POST', headers: hook.headers, body: hook.body }).then((r) => r.status, () => 0);
        if (status === 202) return void answers.accepted++;
        answers.refused++;
        await sleep(100);
      }
      throw new Error(`job ${jobId} never accepted`);
    };
    const failover = async () => {
      // Mid-burst: a third of the deliveries are in.
      await eventually(async () => answers.accepted, (n) => n >= JOBS / 3, 20_000);
      await primary.kill();
      killed = true;
      await sleep(300);
      await promote(replica);
      endpoint.moveTo(replica.port);
      // ElastiCache replaces the failed node with a new replica of the new primary.
      await primary.restart();
      await replicate(primary, replica);
    };
    await Promise.all([...jobs.map((j, i) => deliver(j.id, i)), failover()]);
    assert.ok(killed);
    assert.equal(answers.accepted, JOBS);
    assert.ok(answers.refused > 0, 'some deliveries met the failover (otherwise the test proved nothing)');

    const created = await eventually(
      async () => stack.sim.store.list('jobs', { namespace: RUNNER_NAMESPACE }),
      (l) => l.length >= JOBS, 30_000,
    );
    await sleep(1_500); // a late duplicate would show up here
    const names = stack.sim.store.list('jobs', { namespace: RUNNER_NAMESPACE }).map((j) => j.metadata.name);
    assert.equal(names.length, JOBS, `one Job per accepted delivery (got ${names.length} for ${created.length})`);
    assert.deepEqual(new Set(names), new Set(jobs.map((j) => `runner-${j.id}-1`)));
  });

  it('WAIT is what keeps a 2xx: a job the cut-off replica never got is lost in a failover without it, refused with it', async () => {
    const job = (jobId: number) => ({
      jobId, runId: 1, runAttempt: 1, repository: 'o/r', owner: 'o', repo: 'r', installationId: 1, labels: [], request: {},
      deliveryId: `d${jobId}`, workflowName: 'w', jobName: 'j', receivedAt: 0, enqueuedAt: 0,
    }) as unknown as QueuedJob;
    // Replication through a link that can be cut: a partition between primary and replica.
    const link = await startEndpoint(primary.port);
    const client = new Valkey(endpoint.url, { lazyConnect: false });
    try {
      await replicate(replica, link.port);
      const prefix = uniquePrefix('wait');
      const withWait = new JobQueue(client, { prefix, consumer: 't', waitReplicas: 1, waitTimeoutMs: 200 });
      const withoutWait = new JobQueue(client, { prefix, consumer: 't' });
      await withWait.ensureGroup();
      assert.equal((await withWait.enqueue(job(1))).status, 'enqueued', 'a healthy replica confirms at once');

      link.moveTo(await freePort()); // cut: the replica gets nothing more
      assert.equal((await withoutWait.enqueue(job(2))).status, 'enqueued', 'without WAIT the primary alone says stored');
      await assert.rejects(withWait.enqueue(job(3)), (err: unknown) => err instanceof NotReplicatedError && err.acknowledged === 0);
      await assert.rejects(withWait.enqueue(job(3)), NotReplicatedError, 'a redelivery is not a 2xx either until a replica holds it');

      await primary.kill();
      await promote(replica);
      const promoted = new Valkey(replica.url, { lazyConnect: false });
      try {
        const ids = (await promoted.xrange(withWait.keys.jobs, '-', '+')).map(([, fields]) => JSON.parse(fields[1]!).jobId);
        assert.deepEqual(ids, [1], 'job 2 was answered as stored and is gone; job 3 was refused, so GitHub redelivers it');
      } finally {
        promoted.disconnect();
      }
    } finally {
      client.disconnect();
      await link.stop();
    }
  });
});
