import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { anchor, markdownTable, renderBenchmarksDoc } from '../../bench/lib/markdown.ts';
import { describeMachine } from '../../bench/lib/machine.ts';
import { percentile, summarise } from '../../bench/lib/stats.ts';
import type { StoredResult } from '../../bench/lib/types.ts';
import { REPO_ROOT } from '../../sim/local.ts';

const machine = describeMachine();
const result = (name: string, met?: boolean): StoredResult => ({
  name, title: `Bench ${name}`, description: 'what it measures', ranAt: '2026-11-23T01:00:00.000Z', durationMs: 12_000, quick: false, machine,
  result: {
    headline: `${name}: 2.00× the baseline`, ...(met !== undefined && { target: { goal: '≤ 1.5×', met } }),
    tables: [{ columns: ['path', 'p50'], rows: [['ours', '2.00'], ['baseline', '1.00']] }], notes: ['a note'],
  },
});

describe('benchmark report (docs/benchmarks.md)', () => {
  it('renders every stored result in the suite\'s order, with targets, tables, notes and the machine', () => {
    const doc = renderBenchmarksDoc([result('zeta'), result('jit-burst', false), result('ingress', true)], ['ingress', 'webhook-to-job', 'jit-burst']);
    const sections = [...doc.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    assert.deepEqual(sections, ['Summary', 'Machine and versions', 'Bench ingress', 'Bench jit-burst', 'Bench zeta', 'Adding a benchmark']);
    assert.match(doc, /\*\*Target\.\*\* ≤ 1\.5× — \*\*not met\*\*/);
    assert.match(doc, /\| \[Bench ingress\]\(#bench-ingress\) \| ingress: 2\.00× the baseline \| ≤ 1\.5× \| yes \|/);
    assert.ok(doc.includes(`| Node.js | ${machine.node} |`));
    assert.match(doc, /^- a note$/m);
  });

  it('right-aligns numeric columns only, and escapes pipes', () => {
    const [, head, align, row] = ['', ...markdownTable({ columns: ['name', 'n', 'ratio'], rows: [['a|b', 3, '1.50×']] })];
    assert.equal(head, '| name | n | ratio |');
    assert.equal(align, '|---|---:|---:|');
    assert.equal(row, '| a\\|b | 3 | 1.50× |');
    assert.equal(anchor('JIT runner configs against GitHub\'s rate limit'), 'jit-runner-configs-against-githubs-rate-limit');
  });

  it('stats: nearest-rank percentiles', () => {
    assert.ok(Number.isNaN(percentile([], 0.5)));
    assert.equal(percentile([5, 1, 4, 2, 3], 0.5), 3);
    assert.deepEqual(summarise([1, 2, 3, 4]), { n: 4, p50: 2, p90: 4, p99: 4, max: 4, mean: 2.5 });
  });

  it('the committed results are complete and the doc lists each of them', () => {
    const dir = join(REPO_ROOT, 'bench', 'results');
    const doc = readFileSync(join(REPO_ROOT, 'docs', 'benchmarks.md'), 'utf8');
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
      const r = JSON.parse(readFileSync(join(dir, f), 'utf8')) as StoredResult;
      assert.equal(`${r.name}.json`, f);
      assert.ok(r.machine.cpuModel && r.machine.node && r.result.headline, `${f} names its machine and result`);
      assert.ok(doc.includes(`## ${r.title}`), `docs/benchmarks.md has a section for ${r.name}`);
    }
  });
});
