import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { RunnerClass } from '../../runtime/config/document.ts';
import { LABEL_ERROR_REASONS, LabelError } from '../../runtime/labels/errors.ts';
import { compareClasses } from '../../runtime/labels/fit.ts';
import { parseRunsOn } from '../../runtime/labels/parse.ts';
import { resolveRunner } from '../../runtime/labels/resolve.ts';
import type { RunnerRequest } from '../../runtime/labels/types.ts';
import { sampleDoc } from './fixtures.ts';

const doc = sampleDoc([
  { match: 'linux-arm64-large', spec: 'runner=4cpu-linux-arm64/spot=false' },
  { match: '^linux-(\\d+)cpu-(\\w+)$', regex: true, spec: 'cpu=${1}/arch=${2}' },
  { match: '(?<all>.+)-x$', regex: true, spec: 'pool=${all}/disk=${all}' },
]);
const REASONS: readonly string[] = LABEL_ERROR_REASONS;

// ---- generators: arbitrary text, and text built from the grammar's own alphabet ----
const KEYS = ['runner', 'cpu', 'ram', 'arch', 'family', 'gen', 'pool', 'spot', 'disk'];
const alphabet = fc.constantFrom(...'runs-fleet/=+.0123456789abcpuxARM_ $'.split(''));
const grammarText = (maxLength: number) => fc.string({ unit: alphabet, maxLength });
const key = fc.oneof(fc.constantFrom(...KEYS, 'foo', 'CPU', '__proto__', 'backend', ''), grammarText(6));
const num = fc.oneof(fc.nat({ max: 20 }), fc.nat({ max: 20_000 }), fc.integer({ min: -5, max: 5 }));
const value = fc.oneof(
  num.map(String),
  fc.tuple(num, num).map(([a, b]) => `${a}+${b}`),
  fc.double({ min: -1, max: 100, noNaN: false }).map(String),
  fc.constantFrom('arm64', 'amd64', 'aarch64', 'x64', 'x86_64', 'sparc', 'false', 'true', 'FALSE', 'c7g', 'c7g+m7g', 'c8g', 'g5',
    'default', 'spot16', 'nope', '4cpu-linux-arm64', '8cpu-linux-amd64', '16cpu-spot-arm64', '', '.5', 'NaN', '1e3'),
  grammarText(8),
);
const small = fc.integer({ min: 1, max: 20 });
/** Mostly-valid values, so that many generated requests get as far as resolution. */
const plausible = fc.oneof(
  fc.oneof(small.map(String), fc.tuple(small, small).map(([a, b]) => `${a}+${b}`)).map((v) => `cpu=${v}`),
  fc.oneof(fc.constantFrom('0.5', '4', '7.5', '16', '20', '64', '100'), fc.tuple(small, small).map(([a, b]) => `${a}+${a + b}`)).map((v) => `ram=${v}`),
  fc.constantFrom('arm64', 'amd64', 'aarch64', 'x86_64').map((v) => `arch=${v}`),
  fc.constantFrom('c7g', 'm7g', 'c7g+m7g', 'c8g', 't4g', 'c7i', 'g5').map((v) => `family=${v}`),
  fc.integer({ min: 1, max: 10 }).map((v) => `gen=${v}`),
  fc.constantFrom('default', 'spot16', 'nope').map((v) => `pool=${v}`),
  fc.constantFrom('false', 'true').map((v) => `spot=${v}`),
  fc.integer({ min: 1, max: 600 }).map((v) => `disk=${v}`),
  fc.constantFrom(...doc.classes.map((c) => c.name), 'nope').map((v) => `runner=${v}`),
);
const segment = fc.oneof(
  { weight: 6, arbitrary: plausible },
  { weight: 2, arbitrary: fc.tuple(key, value).map(([k, v]) => `${k}=${v}`) },
  { weight: 1, arbitrary: key },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);
const spec = fc.array(segment, { maxLength: 8 }).map((s) => s.join('/'));
const runId = fc.oneof(fc.nat().map(String), fc.constant(''), grammarText(5));
const markerLabel = fc.oneof(
  fc.constant('runs-fleet'),
  spec.map((s) => `runs-fleet/${s}`),
  fc.tuple(runId, spec).map(([id, s]) => `runs-fleet=${id}/${s}`),
  runId.map((id) => `runs-fleet=${id}`),
  fc.constantFrom('runs-fleet-foo', 'runs-fleetish', 'Runs-Fleet'),
);
const label = fc.oneof(
  { weight: 3, arbitrary: markerLabel },
  { weight: 2, arbitrary: grammarText(20) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom('self-hosted', 'linux', 'linux-arm64-large', 'linux-8cpu-arm64', 'linux-3cpu-sparc', 'default-x', 'big-x', '') },
  { weight: 1, arbitrary: fc.tuple(fc.nat({ max: 40 }), fc.constantFrom('arm64', 'amd64', 'x')).map(([n, a]) => `linux-${n}cpu-${a}`) },
);
const labels = fc.array(label, { maxLength: 6 });

/** Independent of markers.ts on purpose. */
const isMarker = (l: string) => l === 'runs-fleet' || /^runs-fleet[/=]/.test(l);

type Outcome = { ok: RunnerRequest | null } | { error: LabelError };

function attempt(fn: () => RunnerRequest | null): Outcome {
  try {
    return { ok: fn() };
  } catch (err) {
    if (!(err instanceof LabelError)) throw err; // anything else fails the property
    assert.ok(REASONS.includes(err.reason), err.reason);
    assert.ok(err.message.includes(`"${err.label}"`), 'the message names the label');
    return { error: err };
  }
}

function assertPlainRequest(input: string[], r: RunnerRequest): void {
  assert.deepEqual(JSON.parse(JSON.stringify(r)), r, 'JSON round trip');
  assert.ok(r.labels.length >= 1 && r.labels.length <= 100);
  assert.ok(r.labels.every((l) => input.includes(l) && l !== ''));
  assert.equal(new Set(r.labels.map((l) => l.toLowerCase())).size, r.labels.length);
  assert.ok(r.labels.some((l) => l.toLowerCase() === r.label.toLowerCase()), 'GitHub compares labels case-insensitively');
}

describe('runs-on properties', () => {
  it('parseRunsOn without aliases: ours exactly when a marker label is present; only LabelError; plain JSON', () => {
    fc.assert(
      fc.property(labels, (input) => {
        const out = attempt(() => parseRunsOn(input));
        const first = input.find(isMarker);
        if ('error' in out) return assert.equal(out.error.label, first);
        if (out.ok === null) return assert.equal(first, undefined);
        assert.equal(out.ok.label, first);
        assertPlainRequest(input, out.ok);
      }),
      { numRuns: 2000 },
    );
  });

  it('parseRunsOn with aliases: only LabelError; plain JSON; an alias only when no marker', () => {
    fc.assert(
      fc.property(labels, (input) => {
        const out = attempt(() => parseRunsOn(input, doc.aliases));
        if (!('ok' in out) || out.ok === null) return;
        assertPlainRequest(input, out.ok);
        assert.equal(out.ok.marker === 'alias', !input.some(isMarker));
      }),
      { numRuns: 2000 },
    );
  });

  it('resolveRunner: only LabelError; the pod fits the class and the request; the class is the smallest that fits', () => {
    fc.assert(
      fc.property(labels, (input) => {
        const out = attempt(() => parseRunsOn(input, doc.aliases));
        if (!('ok' in out) || out.ok === null) return;
        const request = out.ok;
        let resolved;
        try {
          resolved = resolveRunner(request, doc);
        } catch (err) {
          if (err instanceof LabelError && REASONS.includes(err.reason)) return;
          throw err;
        }
        const cls = doc.classes.find((c) => c.name === resolved.className);
        assert.ok(cls && resolved.class === cls);
        assert.ok(Number.isInteger(resolved.cpu) && resolved.cpu >= 1 && resolved.cpu <= cls.cpu);
        assert.ok(resolved.memoryGiB > 0 && resolved.memoryGiB <= cls.memoryGiB);
        assert.ok(resolved.diskGiB >= 1 && resolved.diskGiB <= cls.diskGiB);
        if (request.cpu) assert.ok(resolved.cpu >= request.cpu.min && resolved.cpu <= request.cpu.max, 'cpu within the asked range');
        if (request.ramGiB) assert.ok(resolved.memoryGiB >= request.ramGiB.min && resolved.memoryGiB <= (request.ramGiB.max ?? Infinity), 'memory within the asked range');
        if (request.diskGiB !== undefined) assert.equal(resolved.diskGiB, request.diskGiB);
        if (request.arch) assert.equal(cls.arch, request.arch);
        assert.ok((request.families ?? []).every((f) => cls.instanceFamilies.includes(f)));
        assert.ok(resolved.capacityTypes.length > 0 && resolved.capacityTypes.every((t) => cls.capacityTypes.includes(t)));
        if (!request.spot) assert.deepEqual(resolved.capacityTypes, ['on-demand']);
        assert.deepEqual(resolved.jitLabels, request.labels);
        if (request.runner) assert.equal(resolved.className, request.runner);
        const pool = doc.pools.find((p) => p.name === request.pool);
        if (pool) assert.deepEqual([resolved.pool, pool.class], [pool.name, resolved.className]);
        else assert.equal(resolved.pool, undefined);
        if (!request.runner && !pool) assertSmallest(request, cls);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads back every well-formed spec it is given', () => {
    const archForm = fc.constantFrom<[string, string]>(['arm64', 'arm64'], ['aarch64', 'arm64'], ['amd64', 'amd64'], ['x64', 'amd64'], ['x86_64', 'amd64']);
    const ram = fc.double({ min: 0.01, max: 1000, noNaN: true, noDefaultInfinity: true });
    const wellFormed = fc.record(
      {
        runner: fc.constantFrom('4cpu-linux-arm64', 'x'),
        cpu: fc.tuple(fc.integer({ min: 1, max: 1024 }), fc.option(fc.integer({ min: 0, max: 1024 }))),
        ram: fc.tuple(ram, fc.option(ram)),
        arch: archForm,
        families: fc.uniqueArray(fc.constantFrom('c7g', 'm7g', 'c8g', 'm7i-flex'), { minLength: 1 }),
        gen: fc.integer({ min: 1, max: 10 }),
        pool: fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9_-]{0,20}$/),
        spot: fc.boolean(),
        disk: fc.integer({ min: 1, max: 16384 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(wellFormed, fc.boolean(), (s, legacy) => {
        const segs: string[] = [];
        const want: Record<string, unknown> = { spot: true };
        if (s.runner !== undefined) (segs.push(`runner=${s.runner}`), (want.runner = s.runner));
        if (s.cpu !== undefined) {
          const [min, extra] = s.cpu;
          const max = extra === null ? 2 * min : min + extra;
          segs.push(extra === null ? `cpu=${min}` : `cpu=${min}+${max}`);
          if (max <= 1024 || extra === null) want.cpu = { min, max };
          else want.error = 'invalid_cpu';
        }
        if (s.ram !== undefined) {
          const [min, extra] = s.ram;
          const text = (n: number) => n.toFixed(3);
          const lo = Number(text(min));
          const hi = extra === null ? undefined : Number(text(lo + extra));
          segs.push(hi === undefined ? `ram=${text(lo)}` : `ram=${text(lo)}+${text(hi)}`);
          if (lo > 0) want.ramGiB = hi === undefined ? { min: lo } : { min: lo, max: hi };
          else want.error ??= 'invalid_ram';
        }
        if (s.arch !== undefined) (segs.push(`arch=${s.arch[0]}`), (want.arch = s.arch[1]));
        if (s.families !== undefined) (segs.push(`family=${s.families.join('+')}`), (want.families = s.families));
        if (s.gen !== undefined) (segs.push(`gen=${s.gen}`), (want.gen = s.gen));
        if (s.pool !== undefined) (segs.push(`pool=${s.pool}`), (want.pool = s.pool));
        if (s.spot !== undefined) (segs.push(`spot=${s.spot}`), (want.spot = s.spot));
        if (s.disk !== undefined) (segs.push(`disk=${s.disk}`), (want.diskGiB = s.disk));
        const label = legacy ? `runs-fleet=42/${segs.join('/')}` : `runs-fleet/${segs.join('/')}`;
        const out = attempt(() => parseRunsOn([label]));
        if (want.error) return assert.ok('error' in out && ['invalid_cpu', 'invalid_ram'].includes(out.error.reason));
        assert.ok('ok' in out && out.ok);
        const { marker, label: l, labels: ls, runId, warnings, ...got } = out.ok;
        assert.deepEqual(got, want);
        assert.deepEqual([marker, l, ls, runId, warnings], [legacy ? 'runs-fleet=' : 'runs-fleet/', label, [label], legacy ? '42' : undefined, []]);
      }),
      { numRuns: 400 },
    );
  });
});

/** No class that sorts before the chosen one could have served the request (checked by forcing it with runner=). */
function assertSmallest(request: RunnerRequest, chosen: RunnerClass): void {
  for (const smaller of doc.classes.filter((c) => compareClasses(c, chosen) < 0)) {
    assert.throws(() => resolveRunner({ ...request, runner: smaller.name }, doc), LabelError, `${smaller.name} would have fitted`);
  }
}
