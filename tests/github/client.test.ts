import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MockAgent } from 'undici';
import { GitHubTransientError, RunnerNameConflictError } from '../../runtime/github/errors.ts';
import { PermanentError, RetryableError } from '../../runtime/util/errors.ts';
import { ROUTES, startGitHubDouble, type GitHubDouble } from '../../sim/github/double.ts';
import { decodeJitConfig } from '../../sim/github/jit-config.ts';
import { signWebhookBody } from '../../sim/github/webhook-payload.ts';
import { eventually } from '../support/eventually.ts';
import { Harness, JumpingClock } from './support.ts';

describe('github/client against the GitHub double', () => {
  let double: GitHubDouble;
  let h: Harness;
  let clock: JumpingClock;

  beforeEach(async () => {
    clock = new JumpingClock();
    double = await startGitHubDouble({
      clock,
      installations: [
        { id: 41, account: 'acme', accountType: 'Organization' },
        { id: 42, account: 'octo', accountType: 'User', repositories: ['app'] },
      ],
    });
    h = new Harness();
  });
  afterEach(async () => {
    await h.close();
    await double.stop();
  });

  describe('generateJitConfig', () => {
    it('registers an org-scoped runner and returns its JIT config', async () => {
      const client = await h.client(double, { clock });
      const jit = await client.generateJitConfig({
        scope: 'org', owner: 'acme', installationId: 41, name: 'rf-123-1-abcde', runnerGroupId: 1, labels: ['self-hosted', 'runs-fleet=1/cpu=2'],
      });
      assert.equal(jit.runnerName, 'rf-123-1-abcde');
      const runner = double.findRunner('rf-123-1-abcde');
      assert.ok(runner, 'the double registered the runner');
      assert.equal(runner.id, jit.runnerId);
      assert.deepEqual(runner.scope, { kind: 'org', org: 'acme' });
      assert.deepEqual(runner.labels, ['self-hosted', 'runs-fleet=1/cpu=2']);
      assert.equal(decodeJitConfig(jit.encodedJitConfig).runnerName, 'rf-123-1-abcde');
      assert.equal(double.calls(ROUTES.orgJitConfig), 1);
    });

    it('waits for beforeSend after its reservation; a rejection stops the call unsent and is thrown', async () => {
      const client = await h.client(double, { clock });
      const request = { scope: 'org' as const, owner: 'acme', installationId: 41, runnerGroupId: 1, labels: ['self-hosted'] };
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      const sent = client.generateJitConfig({ ...request, name: 'rf-gated-1' }, { beforeSend: gate });
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(double.calls(ROUTES.orgJitConfig), 0, 'held until the gate opens');
      open();
      assert.equal((await sent).runnerName, 'rf-gated-1');
      const stop = new Error('job finished');
      await assert.rejects(client.generateJitConfig({ ...request, name: 'rf-gated-2' }, { beforeSend: Promise.reject(stop) }), (e) => e === stop);
      assert.equal(double.calls(ROUTES.orgJitConfig), 1, 'the refused call was never sent');
      assert.equal(double.findRunner('rf-gated-2'), undefined);
    });

    it('registers a repo-scoped runner, looking up (and caching) the installation', async () => {
      const client = await h.client(double, { clock });
      for (const name of ['r-1', 'r-2']) {
        await client.generateJitConfig({ scope: 'repo', owner: 'octo', repo: 'app', name, runnerGroupId: 1, labels: ['self-hosted'] });
      }
      assert.deepEqual(double.findRunner('r-2')?.scope, { kind: 'repo', owner: 'octo', repo: 'app' });
      assert.equal(double.calls(ROUTES.repoInstallation), 1, 'installation id cached after the first lookup');
      assert.equal(double.calls(ROUTES.repoJitConfig), 2);
    });

    it('throws RunnerNameConflictError on a 409 (name taken), so the caller picks a new suffix', async () => {
      const client = await h.client(double, { clock });
      const req = { scope: 'org' as const, owner: 'acme', installationId: 41, name: 'dup', runnerGroupId: 1, labels: ['x'] };
      await client.generateJitConfig(req);
      await assert.rejects(client.generateJitConfig(req), (err: unknown) => err instanceof RunnerNameConflictError && err.runnerName === 'dup');
    });

    it('maps an unknown org and an unknown runner group to PermanentError github_not_found', async () => {
      const client = await h.client(double, { clock });
      await assert.rejects(
        client.generateJitConfig({ scope: 'org', owner: 'nobody', installationId: 41, name: 'n', runnerGroupId: 1, labels: ['x'] }),
        (err: unknown) => err instanceof PermanentError && err.reason === 'github_not_found',
      );
      await assert.rejects(
        client.generateJitConfig({ scope: 'org', owner: 'acme', installationId: 41, name: 'n', runnerGroupId: 7, labels: ['x'] }),
        (err: unknown) => err instanceof PermanentError && err.reason === 'github_not_found',
      );
      await assert.rejects(client.getInstallationId('nobody'), (err: unknown) => err instanceof PermanentError && err.reason === 'github_not_found');
    });

    it('rejects an invalid request (0 or 101 labels) before spending rate-limit budget', async () => {
      const client = await h.client(double, { clock });
      for (const labels of [[], Array.from({ length: 101 }, (_, i) => `l${i}`)]) {
        await assert.rejects(
          client.generateJitConfig({ scope: 'org', owner: 'acme', installationId: 41, name: 'n', runnerGroupId: 1, labels }),
          (err: unknown) => err instanceof PermanentError && err.reason === 'github_validation',
        );
      }
      assert.equal(double.calls(ROUTES.orgJitConfig), 0);
    });
  });

  describe('GitHub Enterprise Server base URL', () => {
    it('keeps the /api/v3 path prefix on every call', async () => {
      const ghes = await startGitHubDouble({ clock, pathPrefix: '/api/v3' });
      try {
        assert.match(ghes.url, /\/api\/v3$/);
        const client = await h.client(ghes, { clock });
        const jit = await client.generateJitConfig({ scope: 'org', owner: 'acme', name: 'ghes-1', runnerGroupId: 1, labels: ['x'] });
        assert.equal(jit.runnerName, 'ghes-1');
        assert.equal(ghes.calls(ROUTES.orgInstallation), 1);
        assert.equal(ghes.calls(ROUTES.createAccessToken), 1);

        const withoutPrefix = await h.client(ghes, { clock, apiUrl: ghes.url.replace('/api/v3', ''), retry: { attempts: 1 } });
        await assert.rejects(withoutPrefix.getInstallationId('acme'), (err: unknown) => err instanceof PermanentError && err.reason === 'github_not_found');
      } finally {
        await ghes.stop();
      }
    });
  });

  describe('dispatcher injection', () => {
    it('sends through an injected undici dispatcher (here a MockAgent for an https GHES host)', async () => {
      const mock = new MockAgent();
      mock.disableNetConnect();
      let seenAuth = '';
      mock
        .get('https://ghes.example.com')
        .intercept({ path: '/api/v3/orgs/acme/installation', method: 'GET' })
        .reply((opts) => {
          seenAuth = String((opts.headers as Record<string, string>).authorization);
          return { statusCode: 200, data: { id: 77 }, responseOptions: { headers: { 'content-type': 'application/json' } } };
        });
      const client = await h.client(double, { clock, apiUrl: 'https://ghes.example.com/api/v3', dispatcher: mock });
      assert.equal(await client.getInstallationId('acme'), 77);
      assert.match(seenAuth, /^Bearer eyJ/);
      mock.assertNoPendingInterceptors();
      await mock.close();
    });
  });

  describe('transient failures', () => {
    it('retries 500 and 502 and then succeeds', async () => {
      const client = await h.client(double, { clock });
      double.inject(ROUTES.orgJitConfig, { kind: 'status', status: 500 });
      double.inject(ROUTES.orgJitConfig, { kind: 'status', status: 502 });
      const jit = await client.generateJitConfig({ scope: 'org', owner: 'acme', installationId: 41, name: 'after-5xx', runnerGroupId: 1, labels: ['x'] });
      assert.equal(jit.runnerName, 'after-5xx');
      assert.equal(double.calls(ROUTES.orgJitConfig), 3);
      assert.equal(await h.metricValue('runs_fleet_github_retries_total', { operation: 'generate_jitconfig_org' }), 2);
    });

    it('a 503 with retry-after waits at least that long before the retry', async () => {
      const client = await h.client(double, { clock });
      double.inject(ROUTES.orgRunners, { kind: 'status', status: 503, retryAfterS: 20 });
      const before = clock.now();
      await client.listRunners({ scope: 'org', owner: 'acme', installationId: 41 });
      assert.ok(clock.now() - before >= 20_000, `waited ${clock.now() - before} ms`);
      assert.equal(double.calls(ROUTES.orgRunners), 2);
    });

    it('gives up after the configured attempts with a RetryableError', async () => {
      const client = await h.client(double, { clock, retry: { attempts: 3, baseMs: 10, maxMs: 10 } });
      double.inject(ROUTES.job, { kind: 'status', status: 503 }, 5);
      const job = double.queueJob({ owner: 'acme', repo: 'web', labels: ['x'] });
      await assert.rejects(
        client.getJob({ owner: 'acme', repo: 'web', jobId: job.id, installationId: 41 }),
        (err: unknown) => err instanceof GitHubTransientError && err.reason === 'github_server_error' && err instanceof RetryableError,
      );
      assert.equal(double.calls(ROUTES.job), 3);
      assert.equal(await h.metricValue('runs_fleet_github_errors_total', { operation: 'get_job', reason: 'github_server_error' }), 1);
    });

    it('retries a dropped connection', async () => {
      const client = await h.client(double, { clock });
      double.inject(ROUTES.orgRunners, { kind: 'reset' });
      assert.deepEqual(await client.listRunners({ scope: 'org', owner: 'acme', installationId: 41 }), []);
      assert.equal(double.calls(ROUTES.orgRunners), 2);
    });

    it('ends a hung request at the per-call deadline (timeout → retry → RetryableError)', async () => {
      const client = await h.client(double, { clock, timeoutMs: 150, retry: { attempts: 2, baseMs: 1, maxMs: 1 } });
      double.inject(ROUTES.orgRunners, { kind: 'hang' }, 2);
      await assert.rejects(
        client.listRunners({ scope: 'org', owner: 'acme', installationId: 41 }),
        (err: unknown) => err instanceof GitHubTransientError && err.reason === 'github_timeout',
      );
      assert.equal(double.calls(ROUTES.orgRunners), 2);
    });

    it("stops at once when the caller's signal aborts, without retrying", async () => {
      const client = await h.client(double, { clock, timeoutMs: 10_000 });
      double.inject(ROUTES.orgRunners, { kind: 'hang' });
      const controller = new AbortController();
      const pending = client.listRunners({ scope: 'org', owner: 'acme', installationId: 41 }, { signal: controller.signal });
      pending.catch(() => {});
      // Abort once the request hangs at the double (a fixed delay raced the request under load).
      await eventually(() => double.calls(ROUTES.orgRunners), (n) => n === 1);
      controller.abort(new Error('shutting down'));
      await assert.rejects(pending, /shutting down/);
      assert.equal(double.calls(ROUTES.orgRunners), 1);
    });
  });

  describe('jobs', () => {
    it('getJob returns the job; rerunJob queues a new attempt', async () => {
      const client = await h.client(double, { clock });
      const job = double.queueJob({ owner: 'acme', repo: 'web', labels: ['self-hosted', 'runs-fleet'] });
      double.markJobInProgress(job.id, 'rf-x');
      let seen = await client.getJob({ owner: 'acme', repo: 'web', jobId: job.id });
      assert.equal(seen.status, 'in_progress');
      assert.equal(seen.runnerName, 'rf-x');
      assert.deepEqual(seen.labels, ['self-hosted', 'runs-fleet']);

      await assert.rejects(
        client.rerunJob({ owner: 'acme', repo: 'web', jobId: job.id }),
        (err: unknown) => err instanceof PermanentError && err.reason === 'github_forbidden',
        'a running job cannot be re-run',
      );
      double.markJobCompleted(job.id, 'failure');
      seen = await client.getJob({ owner: 'acme', repo: 'web', jobId: job.id });
      assert.equal(seen.conclusion, 'failure');
      await client.rerunJob({ owner: 'acme', repo: 'web', jobId: job.id });
      const queued = await client.listQueuedJobs('acme', 'web');
      assert.equal(queued.length, 1);
      assert.equal(queued[0]!.runId, job.runId);
      assert.equal(queued[0]!.runAttempt, 2);
      assert.notEqual(queued[0]!.id, job.id);
    });

    it('listQueuedJobs finds queued jobs in queued and in-progress runs, not running or finished ones', async () => {
      const client = await h.client(double, { clock });
      const a = double.queueJob({ owner: 'acme', repo: 'web', labels: ['x'] });
      const b1 = double.queueJob({ owner: 'acme', repo: 'web', labels: ['x'] });
      const b2 = double.queueJob({ owner: 'acme', repo: 'web', labels: ['x'], runId: b1.runId });
      const c = double.queueJob({ owner: 'acme', repo: 'web', labels: ['x'] });
      double.queueJob({ owner: 'acme', repo: 'other', labels: ['x'] });
      double.markJobInProgress(b1.id, 'r1');
      double.markJobInProgress(c.id, 'r2');
      double.markJobCompleted(c.id);
      const ids = (await client.listQueuedJobs('acme', 'web')).map((j) => j.id).sort();
      assert.deepEqual(ids, [a.id, b2.id].sort());
    });

    it('getJob of an unknown job is github_not_found', async () => {
      const client = await h.client(double, { clock });
      await assert.rejects(
        client.getJob({ owner: 'acme', repo: 'web', jobId: 999 }),
        (err: unknown) => err instanceof PermanentError && err.reason === 'github_not_found',
      );
    });
  });

  describe('runners', () => {
    it('lists every page and deletes idempotently; a busy runner is not deleted', async () => {
      const client = await h.client(double, { clock });
      for (let i = 0; i < 130; i++) {
        await client.generateJitConfig({ scope: 'org', owner: 'acme', installationId: 41, name: `pg-${i}`, runnerGroupId: 1, labels: ['x'] });
      }
      const runners = await client.listRunners({ scope: 'org', owner: 'acme' });
      assert.equal(runners.length, 130);
      assert.equal(double.calls(ROUTES.orgRunners), 2, 'two pages of 100');
      assert.equal(runners[0]!.labels[0], 'x');

      const first = runners[0]!;
      assert.equal(await client.deleteRunner({ scope: 'org', owner: 'acme', runnerId: first.id }), true);
      assert.equal(await client.deleteRunner({ scope: 'org', owner: 'acme', runnerId: first.id }), false, 'already gone');

      double.setRunnerState(runners[1]!.name, { busy: true, status: 'online' });
      await assert.rejects(
        client.deleteRunner({ scope: 'org', owner: 'acme', runnerId: runners[1]!.id }),
        (err: unknown) => err instanceof PermanentError && err.reason === 'github_runner_busy',
      );
    });
  });

  describe('webhook deliveries', () => {
    let receiver: Server;
    let received: Array<{ guid: string; signatureOk: boolean; event: string }>;
    const secret = 'redelivery-secret';

    beforeEach(async () => {
      received = [];
      receiver = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          received.push({
            guid: String(req.headers['x-github-delivery']),
            event: String(req.headers['x-github-event']),
            signatureOk: req.headers['x-hub-signature-256'] === signWebhookBody(secret, body),
          });
          res.writeHead(202).end();
        });
      });
      await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    });
    afterEach(async () => {
      receiver.closeAllConnections();
      await new Promise((r) => receiver.close(r));
    });

    it('lists deliveries since a time across cursor pages, and redelivers a failed one', async () => {
      const client = await h.client(double, { clock });
      for (let i = 0; i < 150; i++) double.recordDelivery({ event: 'workflow_job', action: 'queued', statusCode: 202 });
      clock.advance(60_000);
      const since = clock.now();
      const failed = double.recordDelivery({
        event: 'workflow_job',
        action: 'queued',
        statusCode: 503,
        request: { headers: { 'content-type': 'application/json', 'x-github-event': 'workflow_job' }, body: '{"action":"queued"}' },
      });
      assert.equal((await client.listHookDeliveries(0)).length, 151, 'all pages followed');
      assert.equal(double.calls(ROUTES.hookDeliveries), 2);

      const recent = await client.listHookDeliveries(since);
      assert.deepEqual(recent.map((d) => d.id), [failed.id]);
      assert.equal(recent[0]!.statusCode, 503);
      assert.equal(recent[0]!.guid, failed.guid);

      double.setWebhook(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhook`, secret);
      await client.redeliver(failed.id);
      await double.deliveriesSettled();
      assert.deepEqual(received, [{ guid: failed.guid, event: 'workflow_job', signatureOk: true }]);
      const redelivered = double.listDeliveries().at(-1)!;
      assert.equal(redelivered.redelivery, true);
      assert.equal(redelivered.guid, failed.guid);
      assert.equal(redelivered.statusCode, 202);

      await assert.rejects(client.redeliver(1), (err: unknown) => err instanceof PermanentError && err.reason === 'github_not_found');
    });
  });
});
