import { pathToFileURL } from 'node:url';
import { POLICIES } from './policies.ts';
import { replayTrace } from './replay.ts';
import { generateTrace, TRACE_SPECS } from './traces.ts';

/**
 * Which jobs of a trace started cold under each policy, with their run's size and their
 * start time: the list behind the benchmark's cold-start counts (a check, not part of the report).
 *
 *   npx tsx bench/warm-pool/cold-starts.ts working-day fixed-2,controller-a
 */

async function main([traceName = 'working-day', names = 'fixed-2,controller-a']: string[]): Promise<void> {
  const spec = TRACE_SPECS.find((s) => s.name === traceName);
  const policies = names.split(',').map((n) => POLICIES.find((p) => p.name === n));
  if (!spec || policies.some((p) => !p)) throw new Error(`usage: cold-starts.ts TRACE POLICIES\ntraces: ${TRACE_SPECS.map((s) => s.name).join(', ')}; policies: ${POLICIES.map((p) => p.name).join(', ')}`);
  const trace = generateTrace(spec);
  const runSize = new Map<number, number>();
  for (const j of trace.jobs) runSize.set(j.runId, (runSize.get(j.runId) ?? 0) + 1);
  for (const policy of policies) {
    const r = await replayTrace(trace, policy!);
    const cold = r.starts.filter((s) => !s.warm);
    process.stdout.write(`== ${policy!.name}: ${cold.length} cold of ${r.starts.length}\n`);
    for (const s of cold)
      process.stdout.write(`${clock(s.job.at)}  ${s.job.source.padEnd(9)} run ${s.job.runId} of ${runSize.get(s.job.runId)} jobs  started after ${s.startMs === undefined ? 'never' : `${(s.startMs / 1000).toFixed(1)} s`}\n`);
  }
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
