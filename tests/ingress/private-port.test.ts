import assert from 'node:assert/strict';
import { startLocalStack, type LocalStack } from '../../sim/stack.ts';
import { sampleDocument } from '../support/config.ts';
import { testValkeyUrl, uniquePrefix } from '../support/valkey.ts';

/**
 * The load balancer forwards the webhook port alone (infra/orchestrator.ts), so what the
 * webhook listener answers is what the internet can read. Metrics and status must live
 * only on the private port. Checked against the real wired orchestrator.
 */
describe('private port (metrics and status off the webhook listener)', function () {
  this.timeout(20_000);
  let s: LocalStack;
  before(async () => {
    s = await startLocalStack({ doc: sampleDocument(), valkeyUrl: testValkeyUrl(), queuePrefix: uniquePrefix('private') });
  });
  after(async () => s?.stop());
  const o = () => s.orchestrators[0]!;

  it('the webhook port answers 404 on /metrics and on the status view', async () => {
    assert.notEqual(o().address.port, o().privateAddress.port);
    for (const path of ['/metrics', '/metrics?x=1', '/status']) {
      const r = await fetch(`${o().url}${path}`);
      assert.equal(r.status, 404, path);
      assert.doesNotMatch(await r.text(), /runs_fleet_/);
    }
  });

  it('the private port serves Prometheus metrics, the probes, the status view and mounted routes', async () => {
    o().privateServer.mount('/extra', (_req, res) => void res.end('{"ok":true}'));
    assert.throws(() => o().privateServer.mount('/status', () => {}), /already mounted/);
    const metrics = await fetch(`${o().privateUrl}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /text\/plain/);
    assert.match(await metrics.text(), /^# HELP runs_fleet_webhook_requests_total/m);
    assert.equal((await fetch(`${o().privateUrl}/healthz`)).status, 200);
    assert.equal((await fetch(`${o().privateUrl}/readyz`)).status, 200);
    assert.deepEqual(await (await fetch(`${o().privateUrl}/extra`)).json(), { ok: true });
    const status = await (await fetch(`${o().privateUrl}/status`)).json() as { queue: unknown; pools: unknown };
    assert.ok(status.queue && status.pools, 'the status view (runtime/status) is mounted on the private port');
    assert.equal((await fetch(`${o().privateUrl}/nope`)).status, 404);
    assert.equal((await fetch(`${o().privateUrl}/metrics`, { method: 'POST' })).status, 405);
  });

  it('the webhook port still serves the webhook and the kubelet probes', async () => {
    assert.equal((await fetch(`${o().url}/healthz`)).status, 200);
    assert.equal((await fetch(`${o().url}/readyz`)).status, 200);
    assert.equal((await fetch(`${o().url}/webhook`)).status, 405);
  });

  it('refuses to mount a built-in or an already mounted path', () => {
    assert.throws(() => o().privateServer.mount('/metrics', () => {}), /already mounted/);
    assert.throws(() => o().privateServer.mount('/status', () => {}), /already mounted/);
    assert.throws(() => o().privateServer.mount('status', () => {}), /must start with/);
  });
});
