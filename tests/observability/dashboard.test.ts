import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { alertRules, RUNNER_VERSION_AGE_METRIC } from '../../infra/alert-rules.ts';
import { parseStackConfig } from '../../infra/config.ts';
import { DASHBOARD_PANELS, grafanaDashboard, type Query } from '../../infra/dashboard.ts';
import { evaluate, histogramQuantile, snapshot, type Snapshot } from '../../sim/dashboard/evaluate.ts';
import { renderDashboardSvg } from '../../sim/dashboard/svg.ts';
import { startLocalStack, type LocalStack } from '../../sim/stack.ts';
import { sampleDocument } from '../support/config.ts';
import { eventually } from '../support/eventually.ts';
import { testValkeyUrl, uniquePrefix } from '../support/valkey.ts';

const metricsOf = (q: Query) => (q.kind === 'share' ? [q.hits, q.misses] : [q.metric]);

describe('dashboard and alert rules', function () {
  this.timeout(30_000);
  let s: LocalStack;
  before(async () => {
    s = await startLocalStack({ doc: sampleDocument(), valkeyUrl: testValkeyUrl(), queuePrefix: uniquePrefix('dash') });
  });
  after(async () => s?.stop());

  it('uses only metrics the orchestrator exports on its private port (and the runner-version age gauge)', async () => {
    const text = await (await fetch(`${s.orchestrators[0]!.privateUrl}/metrics`)).text();
    const exported = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    for (const panel of DASHBOARD_PANELS) for (const q of panel.queries) for (const m of metricsOf(q)) assert.ok(exported.has(m), `${panel.title}: ${m} is not exported`);
    const rules = alertRules(parseStackConfig({
      classes: [{ name: 'c', arch: 'arm64', cpu: 2, memoryGiB: 8, diskGiB: 50, instanceFamilies: ['m7g'], nodePoolCpuLimit: 8 }],
      github: { appId: '1', privateKey: '-----BEGIN RSA PRIVATE KEY-----x', webhookSecret: 'x'.repeat(16) },
      webhook: { hostname: 'a.example.com', certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/0f1e' },
    }, { stack: 't', region: 'us-east-1' }).observability);
    for (const r of rules) {
      const names = [...r.expr.matchAll(/\b(runs_fleet_[a-z_]+?)(?:_bucket)?\b[{[)]/g)].map((m) => m[1]!);
      assert.ok(names.length > 0, r.alert);
      for (const n of names) assert.ok(exported.has(n) || n === RUNNER_VERSION_AGE_METRIC, `${r.alert}: ${n} is not exported`);
    }
    const json = grafanaDashboard() as { panels: { targets: { expr: string }[] }[] };
    assert.equal(json.panels.length, DASHBOARD_PANELS.length);
  });

  it('evaluates the panels over snapshots of a live run as Prometheus would', async () => {
    const o = s.orchestrators[0]!;
    const snaps: Snapshot[] = [];
    const t0 = Date.now();
    const take = async () => void snaps.push(await snapshot(o.registry, Date.now() - t0));
    await take();
    for (let i = 0; i < 4; i++) s.github.queueJob({ owner: 'octo-org', repo: 'app', labels: [`runs-fleet=${i}/runner=2cpu-linux-arm64`] });
    await s.github.deliveriesSettled();
    await eventually(() => o.registry.getSingleMetric('runs_fleet_jobs_enqueued_total')!.get(), (m) => (m as any).values[0]?.value === 4);
    await new Promise((r) => setTimeout(r, 50));
    await take();
    const seconds = (snaps[1]!.atMs - snaps[0]!.atMs) / 1000;
    const enqueued = evaluate({ kind: 'rate', metric: 'runs_fleet_jobs_enqueued_total', by: [], legend: 'enqueued' }, snaps, 1);
    assert.equal(enqueued.length, 1);
    assert.ok(Math.abs(enqueued[0]!.points[0]!.value - 4 / seconds) < 1e-9, 'rate = increase / window');
    const intake = evaluate({ kind: 'rate', metric: 'runs_fleet_webhook_requests_total', by: ['status'], legend: '{{status}}' }, snaps, 1);
    assert.deepEqual(intake.map((x) => x.name), ['202']);
    const svg = renderDashboardSvg(DASHBOARD_PANELS.map((panel) => ({ panel, series: panel.queries.flatMap((q) => evaluate(q, snaps, 1)) })), {
      title: 't', subtitle: 's', durationMs: snaps[1]!.atMs,
    });
    for (const p of DASHBOARD_PANELS) assert.ok(svg.includes(p.title.replace(/&/g, '&amp;')), p.title);
    assert.match(svg, /^<svg xmlns/);
  });

  it('histogram_quantile interpolates inside the bucket holding the rank', () => {
    // 10 observations: 4 ≤ 1 s, 8 ≤ 2 s, 10 ≤ 5 s. p50 = rank 5 → 1 + (2-1)·(5-4)/(8-4) = 1.25.
    const b = [{ le: 1, count: 4 }, { le: 2, count: 8 }, { le: 5, count: 10 }, { le: Infinity, count: 10 }];
    assert.equal(histogramQuantile(0.5, b), 1.25);
    assert.equal(histogramQuantile(0.95, b), 2 + 3 * (9.5 - 8) / 2);
    assert.equal(histogramQuantile(0.5, [{ le: Infinity, count: 0 }]), undefined);
  });

  it('gauges aggregate across label sets as the panel asks (max, sum)', async () => {
    const registry = new Registry();
    const { Gauge } = await import('prom-client');
    const g = new Gauge({ name: 'runs_fleet_queue_entries', help: 'h', labelNames: ['state'], registers: [registry] });
    g.set({ state: 'lag' }, 3);
    g.set({ state: 'pending' }, 7);
    const snaps = [{ atMs: 0, metrics: await registry.getMetricsAsJSON() }];
    const byState = evaluate({ kind: 'gauge', metric: 'runs_fleet_queue_entries', by: ['state'], agg: 'max', legend: '{{state}}' }, snaps, 1);
    assert.deepEqual(byState.map((x) => [x.name, x.points[0]!.value]), [['lag', 3], ['pending', 7]]);
    const total = evaluate({ kind: 'gauge', metric: 'runs_fleet_queue_entries', by: [], legend: 'all' }, snaps, 1);
    assert.equal(total[0]!.points[0]!.value, 10);
  });
});
