import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { buildSignedWorkflowJobWebhook, signWebhookBody, webhookHeaders, type WorkflowJobFields } from '../../sim/github/webhook-payload.ts';
import { verifySignature } from '../../runtime/ingress/verify-signature.ts';
import { connectValkey, valkeyReady } from '../../runtime/queue/connection.ts';
import { freePort } from '../../sim/valkey.ts';
import { post, PREVIOUS_SECRET, SECRET, startTestIngress } from '../support/ingress.ts';

let nextJob = 50_000;
const job = (overrides: Partial<WorkflowJobFields> = {}): WorkflowJobFields => ({
  id: nextJob++, runId: 7_000_001, runAttempt: 1, owner: 'octo-org', repo: 'app', installationId: 4242,
  labels: ['self-hosted', 'runs-fleet=7000001/runner=4cpu-linux-arm64/pool=default'], ...overrides,
});

describe('webhook ingress (HTTP + real Valkey)', () => {
  let ingress: Awaited<ReturnType<typeof startTestIngress>>;
  beforeEach(async () => (ingress = await startTestIngress()));
  afterEach(async () => ingress.stop());

  const hook = (j = job(), secret = SECRET, action: 'queued' | 'in_progress' = 'queued') =>
    buildSignedWorkflowJobWebhook({ action, job: j, secret });
  const stored = async () => (await ingress.queue.depth()).length;

  it('stores a signed queued job with its parsed request, repo and installation', async () => {
    const w = hook();
    const r = await post(`${ingress.url}/webhook`, w.body, w.headers);
    assert.equal(r.status, 202);
    assert.equal(r.json.status, 'enqueued');
    const [entry] = await ingress.queue.read(1, 50);
    const p = w.payload as any;
    assert.equal(entry!.job.jobId, p.workflow_job.id);
    assert.equal(entry!.job.installationId, 4242);
    assert.equal(entry!.job.repository, 'octo-org/app');
    assert.equal(entry!.job.org, 'octo-org');
    assert.equal(entry!.job.deliveryId, w.deliveryId);
    assert.deepEqual((entry!.job.request as any).runner, '4cpu-linux-arm64');
    assert.deepEqual((entry!.job.request as any).pool, 'default');
    assert.ok(entry!.job.receivedAt <= entry!.job.enqueuedAt);
  });

  it('accepts the previous secret during a rotation', async () => {
    const w = hook(job(), PREVIOUS_SECRET);
    assert.equal((await post(`${ingress.url}/webhook`, w.body, w.headers)).status, 202);
    assert.equal(await stored(), 1);
  });

  it('the same delivery sent 20 times at once is stored once', async () => {
    const w = hook();
    const results = await Promise.all(Array.from({ length: 20 }, () => post(`${ingress.url}/webhook`, w.body, w.headers)));
    assert.ok(results.every((r) => r.status === 202));
    assert.equal(results.filter((r) => r.json.status === 'enqueued').length, 1);
    assert.equal(await stored(), 1);
  });

  it('the same job through two hooks (different delivery ids) is stored once', async () => {
    const j = job();
    await post(`${ingress.url}/webhook`, hook(j).body, hook(j).headers);
    const second = hook(j);
    const r = await post(`${ingress.url}/webhook`, second.body, second.headers);
    assert.equal(r.json.status, 'duplicate');
    assert.equal(await stored(), 1);
  });

  describe('bad input gets its status and stores nothing', () => {
    const cases: [string, () => { body: string | Buffer; headers: Record<string, string> }, number][] = [
      ['a wrong signature', () => hook(job(), 'not-the-secret'), 401],
      ['a signature over a different body', () => {
        const w = hook();
        return { body: w.body.replace('"queued"', '"queued" '), headers: w.headers };
      }, 401],
      ['a malformed signature header', () => {
        const w = hook();
        return { body: w.body, headers: { ...w.headers, 'x-hub-signature-256': 'sha256=zz' } };
      }, 401],
      ['one byte of the signed body changed (same length)', () => {
        const w = hook();
        const bytes = Buffer.from(w.body, 'utf8');
        const at = bytes.indexOf('"queued"') + 1;
        bytes[at] = bytes[at]! ^ 0x01; // "queued" -> "pueued": one bit of one byte
        return { body: bytes, headers: w.headers };
      }, 401],
      ['a sha1-only signature header (X-Hub-Signature without -256)', () => {
        const w = hook();
        const { 'x-hub-signature-256': _, ...headers } = w.headers;
        assert.match(headers['x-hub-signature']!, /^sha1=/);
        return { body: w.body, headers };
      }, 401],
      ['a sha1 value in the sha256 header', () => {
        const w = hook();
        return { body: w.body, headers: { ...w.headers, 'x-hub-signature-256': w.headers['x-hub-signature']! } };
      }, 401],
      ['correctly signed bytes that are not valid UTF-8 (decoding would change what is HMACed)', () => {
        const w = hook();
        const bytes = Buffer.concat([Buffer.from(w.body.slice(0, -1), 'utf8'), Buffer.from([0x20, 0xff, 0x7d])]);
        return { body: bytes, headers: webhookHeaders({ event: 'workflow_job', deliveryId: 'utf8', body: bytes, secret: SECRET }) };
      }, 401],
      ['no signature header', () => {
        const w = hook();
        const { 'x-hub-signature-256': _, 'x-hub-signature': _sha1, ...headers } = w.headers;
        return { body: w.body, headers };
      }, 400],
      ['no event header', () => {
        const w = hook();
        const { 'x-github-event': _, ...headers } = w.headers;
        return { body: w.body, headers };
      }, 400],
      ['no delivery header', () => {
        const w = hook();
        const { 'x-github-delivery': _, ...headers } = w.headers;
        return { body: w.body, headers };
      }, 400],
      ['a form-encoded body', () => {
        const w = hook();
        return { body: `payload=${encodeURIComponent(w.body)}`, headers: { ...w.headers, 'content-type': 'application/x-www-form-urlencoded' } };
      }, 415],
      ['a body over 1 MiB', () => {
        const body = JSON.stringify({ pad: 'x'.repeat(1024 * 1024) });
        return { body, headers: webhookHeaders({ event: 'workflow_job', deliveryId: 'big', body, secret: SECRET }) };
      }, 413],
      ['signed bytes that are not JSON', () => {
        const body = '{"action": "queued", ';
        return { body, headers: webhookHeaders({ event: 'workflow_job', deliveryId: 'nj', body, secret: SECRET }) };
      }, 400],
      ['signed JSON that is not a workflow_job payload', () => {
        const body = JSON.stringify({ action: 'queued', workflow_job: { id: 'x' } });
        return { body, headers: webhookHeaders({ event: 'workflow_job', deliveryId: 'np', body, secret: SECRET }) };
      }, 400],
    ];
    for (const [name, make, status] of cases) {
      it(`${name} → ${status}`, async () => {
        const { body, headers } = make();
        const r = await post(`${ingress.url}/webhook`, body, headers);
        assert.equal(r.status, status, JSON.stringify(r.json));
        assert.ok(typeof r.json.error === 'string');
        assert.equal(await stored(), 0);
      });
    }
  });

  it('a chunked body over 1 MiB with no content-length is cut off with 413', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < 20; i++) c.enqueue(chunk);
        c.close();
      },
    });
    const w = hook();
    const res = await fetch(`${ingress.url}/webhook`, { method: 'POST', body: stream, headers: w.headers, duplex: 'half' } as RequestInit);
    assert.equal(res.status, 413);
    assert.equal(await stored(), 0);
  });

  it('other events are acknowledged (202) and ignored', async () => {
    const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
    const r = await post(`${ingress.url}/webhook`, body, webhookHeaders({ event: 'ping', deliveryId: 'p1', body, secret: SECRET }));
    assert.equal(r.status, 202);
    assert.equal(r.json.status, 'ignored');
    assert.equal(await stored(), 0);
  });

  it('real GitHub payloads of jobs without a runs-fleet label are ignored', async () => {
    const index = createRequire(import.meta.url)('@octokit/webhooks-examples/api.github.com/index.json') as { name: string; examples: object[] }[];
    const examples = index.find((e) => e.name === 'workflow_job')!.examples;
    assert.equal(examples.length, 8);
    for (const [i, example] of examples.entries()) {
      const body = JSON.stringify(example);
      const r = await post(`${ingress.url}/webhook`, body, webhookHeaders({ event: 'workflow_job', deliveryId: `ex${i}`, body, secret: SECRET }));
      assert.equal(r.status, 202, `example ${i}: ${JSON.stringify(r.json)}`);
    }
    assert.equal(await stored(), 0);
  });

  it('a bad runs-fleet label is answered 202 with its reason, counted, and not stored', async () => {
    const w = hook(job({ labels: ['runs-fleet=1/cpu=abc'] }));
    const r = await post(`${ingress.url}/webhook`, w.body, w.headers);
    assert.equal(r.status, 202);
    assert.equal(r.json.status, 'rejected');
    assert.equal(r.json.reason, 'invalid_cpu');
    assert.equal(await stored(), 0);
    assert.match(await ingress.registry.metrics(), /runs_fleet_jobs_rejected_total\{reason="invalid_cpu"\} 1/);
  });

  it('a job delivered through a non-App hook (no installation) is refused with 400', async () => {
    const w = hook(job({ installationId: null }));
    assert.equal((await post(`${ingress.url}/webhook`, w.body, w.headers)).status, 400);
    assert.equal(await stored(), 0);
  });

  it('answers 503, never 2xx, when Valkey cannot store the job', async () => {
    await ingress.stop();
    ingress = await startTestIngress({ enqueue: async () => { throw new Error('Connection is closed.'); } });
    const w = hook();
    const r = await post(`${ingress.url}/webhook`, w.body, w.headers);
    assert.equal(r.status, 503);
  });

  it('serves health and readiness, and counts deliveries in its metrics (served on the private port only)', async () => {
    assert.equal((await fetch(`${ingress.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${ingress.url}/readyz`)).status, 200);
    const w = hook();
    await post(`${ingress.url}/webhook`, w.body, w.headers);
    assert.equal((await fetch(`${ingress.url}/metrics`)).status, 404);
    const text = await ingress.registry.metrics();
    assert.match(text, /runs_fleet_jobs_enqueued_total 1/);
    assert.match(text, /runs_fleet_webhook_requests_total\{status="202",outcome="enqueued"\} 1/);
    assert.equal((await fetch(`${ingress.url}/webhook`)).status, 405);
    assert.equal((await fetch(`${ingress.url}/nope`)).status, 404);
  });

  it('is not ready while Valkey is unreachable', async () => {
    await ingress.stop();
    const port = await freePort();
    const client = connectValkey(`redis://127.0.0.1:${port}`, 'command');
    client.on('error', () => {});
    try {
      ingress = await startTestIngress({ ready: () => valkeyReady(client) });
      assert.equal((await fetch(`${ingress.url}/readyz`)).status, 503);
      assert.equal((await fetch(`${ingress.url}/healthz`)).status, 200, 'alive even when not ready');
    } finally {
      client.disconnect();
    }
  });
});

describe('verifySignature (several Apps, one secret each)', () => {
  const secrets = ['app-one-secret', 'app-two-secret', 'app-two-previous', 'app-three-secret'];
  const body = Buffer.from(JSON.stringify({ action: 'queued', note: 'naïve ✓' }), 'utf8');

  it('names the secret that signed the bytes, whichever App it belongs to', async () => {
    for (const [i, s] of secrets.entries()) assert.deepEqual(await verifySignature(body, signWebhookBody(s, body), secrets), { secret: i, body: body.toString('utf8') });
  });

  it('refuses another App\'s secret, one flipped byte, upper-case hex, and an empty secret list', async () => {
    assert.equal(await verifySignature(body, signWebhookBody('not-configured', body), secrets), undefined);
    const flipped = Buffer.from(body);
    flipped[3] = flipped[3]! ^ 0x01;
    assert.equal(await verifySignature(flipped, signWebhookBody(secrets[0]!, body), secrets), undefined);
    const upper = `sha256=${signWebhookBody(secrets[0]!, body).slice(7).toUpperCase()}`;
    assert.equal(await verifySignature(body, upper, secrets), undefined);
    assert.equal(await verifySignature(body, signWebhookBody(secrets[0]!, body), []), undefined);
  });
});
