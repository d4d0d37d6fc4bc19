import type { Registry } from 'prom-client';
import { ROUTES, type DoubleAppOptions } from '../sim/github/double.ts';
import { DEFAULT_STACK_FILE } from '../sim/local.ts';
import { loadStackDocument } from '../sim/stack-document.ts';
import { RUNNER_NAMESPACE, startLocalStack } from '../sim/stack.ts';
import { startValkey } from '../sim/valkey.ts';
import { valkeyVersion } from './lib/machine.ts';
import { ratio } from './lib/stats.ts';
import type { Bench, BenchContext } from './lib/types.ts';

/**
 * GitHub's secondary limit, 900 points per minute, with the window scaled down 10× so a
 * burst takes seconds. Source: docs.github.com "Rate limits for the REST API", "About
 * secondary rate limits" (900 points per minute for REST endpoints) and "Calculating
 * points" (a POST costs 5). The double counts them per App installation (sim/github/rate-limits.ts).
 */
const POINTS = 900;
const WINDOW_MS = 6_000;
const POST_POINTS = 5;
const LIMIT_CALLS_PER_S = POINTS / POST_POINTS / (WINDOW_MS / 1000);
/** The bar: 3 Apps provision the burst at ≥ 2.7× the rate of 1 App, with no refusal. */
const BAR = 2.7;
/** Each App of the double: its own id, key and default installation covering every org. */
const APPS: DoubleAppOptions[] = [{ appId: 12345 }, { appId: 12346 }, { appId: 12347 }];

interface BurstResult {
  label: string;
  apps: number;
  jobs: number;
  provisioned: number;
  jitCalls: number;
  /** JIT configs each App's installation answered (by App id). */
  jitByApp: Record<string, number>;
  rateLimited: { primary: number; secondary: number };
  rateLimitResponsesSeen: number;
  spanS: number;
  callsPerS: number;
  ratioOfLimit: number;
  /** Most points the JIT endpoint accepted in any window, per App installation. */
  peakWindowPoints: number[];
  waitedS: number;
}

async function metricSum(registry: Registry, name: string): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (!m) return 0;
  return (await m.get()).values.reduce((a, v) => a + v.value, 0);
}

async function burst(ctx: BenchContext, jobs: number, apps: number): Promise<BurstResult> {
  const label = apps === 1 ? '1 App' : `${apps} Apps`;
  const doc = loadStackDocument(DEFAULT_STACK_FILE).doc;
  const valkey = await startValkey({ appendfsync: 'everysec' });
  const stack = await startLocalStack({
    doc, valkeyUrl: valkey.url,
    sim: { timings: { provisioningMs: 600_000 } },
    github: { apps: APPS.slice(0, apps), secondary: { points: POINTS, windowMs: WINDOW_MS } },
    orchestrator: { githubSecondaryLimit: { points: POINTS, windowMs: WINDOW_MS } },
  }).catch(async (err) => {
    await valkey.dispose();
    throw err;
  });
  try {
    const created: number[] = [];
    stack.sim.api.store.onEvent((e) => {
      if (e.type === 'ADDED' && e.resource.plural === 'jobs' && e.object.metadata.namespace === RUNNER_NAMESPACE) created.push(performance.now());
    });
    const before = stack.github.stats();
    ctx.progress(`${label}: GitHub queues ${jobs} jobs at once and delivers their webhooks`);
    for (let i = 0; i < jobs; i++) {
      stack.github.queueJob({ owner: 'octo-org', repo: `service-${i % 20}`, labels: [`runs-fleet=${9_000_000 + i}/runner=2cpu-linux-arm64`], name: `shard (${i + 1})` });
    }
    const deadline = Date.now() + 180_000;
    let lastReport = 0;
    while (created.length < jobs && Date.now() < deadline && !ctx.signal.aborted) {
      if (Date.now() - lastReport >= 3_000) {
        lastReport = Date.now();
        const st = stack.github.stats();
        ctx.progress(`${label}: ${created.length}/${jobs} runner Jobs, ${stack.github.calls(ROUTES.orgJitConfig)} JIT configs, ${st.rateLimited.secondary - before.rateLimited.secondary} refused`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await stack.github.deliveriesSettled();
    const after = stack.github.stats();
    const registry = stack.orchestrators[0]!.registry;
    const sorted = [...created].sort((a, b) => a - b);
    const spanS = sorted.length > 1 ? (sorted.at(-1)! - sorted[0]!) / 1000 : Number.NaN;
    const callsPerS = (sorted.length - 1) / spanS;
    const jitKeys = Object.keys(after.peakSecondaryPoints).filter((k) => k.endsWith(ROUTES.orgJitConfig));
    // Which App each JIT call came as, counted by the double (authenticated requests per App and route).
    const jitByApp = Object.fromEntries(
      Object.entries(after.byApp).map(([id, a]) => [id, (a.calls[ROUTES.orgJitConfig] ?? 0) - (before.byApp[id]?.calls[ROUTES.orgJitConfig] ?? 0)]),
    );
    return {
      label, apps, jobs, provisioned: created.length, jitCalls: stack.github.calls(ROUTES.orgJitConfig), jitByApp,
      rateLimited: { primary: after.rateLimited.primary - before.rateLimited.primary, secondary: after.rateLimited.secondary - before.rateLimited.secondary },
      rateLimitResponsesSeen: await metricSum(registry, 'runs_fleet_github_rate_limit_responses_total'),
      spanS, callsPerS, ratioOfLimit: callsPerS / (LIMIT_CALLS_PER_S * apps),
      peakWindowPoints: jitKeys.map((k) => after.peakSecondaryPoints[k]!),
      waitedS: await metricSum(registry, 'runs_fleet_github_rate_limit_wait_seconds_total'),
    };
  } finally {
    await stack.stop();
    await valkey.dispose();
  }
}

const bench: Bench = {
  name: 'jit-burst',
  title: 'JIT runner configs against GitHub\'s rate limit, with 1 and with 3 GitHub Apps',
  description:
    `A burst of 500 jobs queued at once on the GitHub double, which enforces GitHub's documented secondary limit for the JIT endpoint ` +
    `(900 points per window per endpoint and App installation, a POST costs 5) with the window scaled from 60 s to ${WINDOW_MS / 1000} s; ` +
    `the orchestrator's shared Valkey limiter (one budget per App) is given the same window. The burst runs twice in the same run: with 1 App, ` +
    `and with 3 Apps all installed on the job's org, whose calls the orchestrator spreads over the Apps. Every job must get its runner with ` +
    `no rate-limit refusal; the 3-App rate is compared with the 1-App rate (each App allows ${LIMIT_CALLS_PER_S} JIT configs per second here). ` +
    `The rate is measured over the span between the first and the last runner Job created.`,
  async run(ctx) {
    const jobs = ctx.quick ? 150 : 500;
    const one = await burst(ctx, jobs, 1);
    const three = await burst(ctx, jobs, 3);
    const runs = [one, three];
    const refusals = (r: BurstResult) => r.rateLimited.primary + r.rateLimited.secondary + r.rateLimitResponsesSeen;
    const speedup = three.callsPerS / one.callsPerS;
    const clean = runs.every((r) => r.provisioned === r.jobs && refusals(r) === 0);
    const met = clean && speedup >= BAR;
    return {
      headline:
        `3 Apps provisioned ${three.provisioned}/${three.jobs} jobs at ${three.callsPerS.toFixed(1)} JIT configs/s, ${ratio(speedup)} the 1-App rate ` +
        `(${one.callsPerS.toFixed(1)}/s, ${one.provisioned}/${one.jobs} jobs); rate-limit refusals: ${refusals(one)} with 1 App, ${refusals(three)} with 3.`,
      target: { goal: `3 Apps ≥ ${BAR}× the 1-App rate with 0 rate-limit refusals`, met },
      tables: [{
        columns: ['Apps', 'jobs', 'provisioned', 'refused (double, 403/429)', '403/429 seen (orchestrator)', 'span s', 'JIT configs/s', 'of the Apps\' limit', 'JIT configs per App', 'peak points in a window, per App', 'waiting, summed over calls, s'],
        rows: runs.map((r) => [
          r.label, r.jobs, r.provisioned, r.rateLimited.secondary + r.rateLimited.primary, r.rateLimitResponsesSeen, r.spanS.toFixed(1), r.callsPerS.toFixed(1),
          ratio(r.ratioOfLimit), Object.values(r.jitByApp).join(' / '), r.peakWindowPoints.map((p) => `${p}/${POINTS}`).join(', '), r.waitedS.toFixed(0),
        ]),
      }],
      notes: [
        ...(three.waitedS < 1
          ? [`The 3-App run hardly waited for the limiter (${three.waitedS.toFixed(1)} s summed over calls, against ${one.waitedS.toFixed(0)} s with 1 App): ` +
              'its rate was set by the rest of the pipeline (webhook, queue, Secret and Job on the simulated cluster) on this shared 2-core machine, ' +
              'not by GitHub\'s limit; a less loaded run gets closer to 3×.']
          : []),
        `3 Apps / 1 App = ${ratio(speedup)} (bar ${BAR}×). Each App's installation has its own 900 points per window at GitHub (the double), ` +
          'and the orchestrator keeps one Valkey token bucket per App and endpoint: a JIT call reserves, in one Lua step, on the App whose ' +
          'bucket lets it out soonest (`acquireAny` in `runtime/github/rate-limiter.ts`), so the burst is spread over the Apps and no App is ' +
          'asked for more than its share.',
        'The bucket aims at `headroom` (0.95) of the limit in *any* window and may hold a burst of 5% on top of the steady rate, so one App\'s ' +
          'steady rate is about 0.90 of its limit ("of the Apps\' limit" is the rate over the summed limits of the Apps used).',
        `Why the ratio can exceed 3×: with 3 Apps each App makes about ${Math.round(jobs / 3)} JIT calls, which fit in its first window ` +
          `(0.95 × ${POINTS} points = ${Math.floor((0.95 * POINTS) / POST_POINTS)} calls), so that run never reaches the bucket's steady 0.90; ` +
          'the 1-App run spans three windows and does. At steady state the budgets add up, 3 Apps = 3× one App, no more.',
        '"Peak points in a window" is the double\'s count of the most points the JIT endpoint accepted from one App installation in any sliding window.',
        'Each App looks up its installation on the org once (`GET /orgs/{org}/installation`, cached 10 min) and requests one installation token, ' +
          'cached; those endpoints are limited separately and are not part of the rate.',
      ],
      data: { limit: { points: POINTS, windowMs: WINDOW_MS, callsPerSPerApp: LIMIT_CALLS_PER_S }, bar: BAR, speedup, runs },
      versions: { valkey: valkeyVersion() },
    };
  },
};

export default bench;
