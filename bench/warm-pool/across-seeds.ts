import { pathToFileURL } from 'node:url';
import { parseConfigDocument } from '../../runtime/config/document.ts';
import { CONTROLLER_POOL, POLICIES, policyByName, type Policy } from './policies.ts';
import { replayTrace } from './replay.ts';
import { policyStats } from './stats.ts';
import { DAY_PERIODS, generateTrace, TRACE_SPECS } from './traces.ts';

/**
 * The benchmark replays one seed of each trace; a change that wins on that one day may only
 * have won its dice. This replays the same shape with other seeds (a check, not part of the
 * report) so a controller change can be judged on several days before the benchmark's own.
 *
 *   npx tsx bench/warm-pool/across-seeds.ts TRACE SEEDS POLICIES [CONTROLLER_POOL_JSON]
 *   npx tsx bench/warm-pool/across-seeds.ts working-day 1,2,3 fixed-2,controller-a
 *   npx tsx bench/warm-pool/across-seeds.ts working-day 1 controller-a '{"idleCpuHoursPerDayCap":160}'
 *
 * The JSON overrides fields of the controller's pool (e.g. another cap), for a cost curve.
 */

const USAGE = 'usage: across-seeds.ts TRACE SEEDS(1,2,…) POLICIES(fixed-2,scheduled-4,controller-a,…) [CONTROLLER_POOL_JSON]';

async function main(argv: string[]): Promise<void> {
  const [traceName, seeds, names, override] = argv;
  const spec = TRACE_SPECS.find((s) => s.name === traceName);
  const policies = (names ?? '').split(',').map(policyOrUndefined);
  if (!spec || !seeds || policies.some((p) => !p)) throw new Error(`${USAGE}\ntraces: ${TRACE_SPECS.map((s) => s.name).join(', ')}; policies: fixed-N, scheduled-N (any N), ${POLICIES.filter((p) => p.controller).map((p) => p.name).join(', ')}`);
  const pool = override ? { ...CONTROLLER_POOL, ...(JSON.parse(override) as object) } : undefined;
  for (const seed of seeds.split(',').map(Number)) {
    const trace = generateTrace({ ...spec, seed });
    for (const base of policies as Policy[]) {
      const policy = pool && base.controller ? { ...base, doc: parseConfigDocument({ classes: base.doc.classes, pools: [pool] }, 'across-seeds') } : base;
      const s = policyStats(await replayTrace(trace, policy));
      const cold = s.jobs - Math.round(s.warmHitRate * s.jobs);
      const periods = DAY_PERIODS.map((p) => `${p.name} ${s.byPeriod[p.name]!.cold}/${s.byPeriod[p.name]!.idleCpuHours}`).join(', ');
      process.stdout.write(
        `${trace.name} seed ${seed} (${s.jobs} jobs) ${policy.name}: p95 ${s.p95StartS} s, cold ${cold} (${((cold / s.jobs) * 100).toFixed(1)} %), $${s.nodeUsdPerDay}/day ($${s.idleUsdPerDay} idle), ` +
          `idle ${s.idlePlaceholderCpuHours} CPU-h, node ${s.nodeCpuHours} CPU-h; cold/idle by period: ${periods}\n`,
      );
    }
  }
}

function policyOrUndefined(name: string): Policy | undefined {
  try {
    return policyByName(name);
  } catch {
    return undefined;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
