// `npm run dashboard:render`: plays the demo (sim/demo.ts), samples the orchestrator's
// metrics registry every second while it runs, evaluates the Grafana dashboard's own
// queries (infra/dashboard.ts) over those samples and writes the picture to
// docs/images/dashboard-demo.svg. Exit codes: 0 written, 1 failure, 2 bad arguments.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DASHBOARD_PANELS } from '../infra/dashboard.ts';
import { parseCommandLine } from '../runtime/util/cli.ts';
import { runDemo } from './demo/run.ts';
import { evaluate, snapshot, type Snapshot } from './dashboard/evaluate.ts';
import { renderDashboardSvg } from './dashboard/svg.ts';
import { REPO_ROOT, reportFailure } from './local.ts';

const USAGE = `Usage: npm run dashboard:render [-- --seed N] [-- --out FILE]

Runs the demo (about 1-2 minutes) and draws the runs-fleet Grafana dashboard from the
metrics it produced into an SVG (default docs/images/dashboard-demo.svg).
`;
/** The demo runs at 0.1× real delays for 1-2 minutes: a 5-minute rate window would average it all away. */
const WINDOW_MS = 20_000;

async function main(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(argv, { seed: { type: 'string' }, out: { type: 'string' } }, USAGE);
  if ('exit' in parsed) return parsed.exit;
  const seed = parsed.values.seed === undefined ? 1 : Number(parsed.values.seed);
  const out = parsed.values.out ?? join(REPO_ROOT, 'docs/images/dashboard-demo.svg');
  const snaps: Snapshot[] = [];
  let timer: NodeJS.Timeout | undefined;
  const t0 = Date.now();
  const result = await runDemo({
    seed, out: (line) => process.stdout.write(`${line}\n`),
    onLocal: (local) => {
      const registry = local.stack.orchestrators[0]!.registry;
      const take = async () => snaps.push(await snapshot(registry, Date.now() - t0));
      void take();
      timer = setInterval(() => void take(), 1_000);
    },
  });
  clearInterval(timer);
  // Samples taken while local mode shuts down (the leader releases its Lease) are not the run.
  while (snaps.length && snaps.at(-1)!.atMs > result.endedAt - t0) snaps.pop();
  const durationMs = snaps.at(-1)?.atMs ?? 0;
  const panels = DASHBOARD_PANELS.map((panel) => ({ panel, series: panel.queries.flatMap((q) => evaluate(q, snaps, WINDOW_MS)) }));
  const svg = renderDashboardSvg(panels, {
    title: 'runs-fleet — rendered from a demo run',
    subtitle: `npm run demo (seed ${seed}, delays × ${result.scenario.timeScale}): ${result.attempts.length} runner attempts, ${snaps.length} one-second samples; ` +
      `rates over ${WINDOW_MS / 1000} s windows (the dashboard uses 5 m)`,
    durationMs,
  });
  writeFileSync(out, svg);
  process.stdout.write(`wrote ${out} (${panels.length} panels, ${panels.reduce((n, p) => n + p.series.length, 0)} series)\n`);
  return 0;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err) => process.exit(reportFailure(err, 'dashboard:render')));
