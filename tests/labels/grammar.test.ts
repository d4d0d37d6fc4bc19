import assert from 'node:assert/strict';
import { LabelError, type LabelErrorReason } from '../../runtime/labels/errors.ts';
import { parseRunsOn } from '../../runtime/labels/parse.ts';
import type { RunnerRequest } from '../../runtime/labels/types.ts';
import { PermanentError } from '../../runtime/util/errors.ts';

const SPEC_KEYS = ['marker', 'runId', 'runner', 'cpu', 'ramGiB', 'arch', 'families', 'gen', 'pool', 'spot', 'diskGiB'] as const;

/** The grammar-derived fields of a request, without label/labels/warnings. */
function fields(r: RunnerRequest): Partial<RunnerRequest> {
  return Object.fromEntries(SPEC_KEYS.filter((k) => k in r).map((k) => [k, r[k]]));
}

type Row = { label: string; want: Partial<RunnerRequest>; warnings?: RegExp[] } | { label: string; error: LabelErrorReason };

/** `runs-fleet/<spec>` with the given fields expected (spot defaults to true). */
const ok = (spec: string, want: Partial<RunnerRequest>, warnings: RegExp[] = []): Row => ({
  label: `runs-fleet/${spec}`, want: { marker: 'runs-fleet/', spot: true, ...want }, warnings,
});
const bad = (spec: string, error: LabelErrorReason): Row => ({ label: `runs-fleet/${spec}`, error });

function check(row: Row): void {
  if ('error' in row) {
    assert.throws(() => parseRunsOn([row.label]), (err: unknown) => {
      assert.ok(err instanceof LabelError, `expected LabelError, got ${String(err)}`);
      assert.equal(err.reason, row.error);
      assert.equal(err.label, row.label);
      assert.ok(err.message.includes(`"${row.label}"`), `message names the label: ${err.message}`);
      return true;
    });
    return;
  }
  const r = parseRunsOn(['self-hosted', row.label]);
  assert.ok(r, `${row.label} is a runs-fleet label`);
  assert.deepEqual(fields(r), row.want);
  assert.equal(r.label, row.label);
  assert.equal(r.warnings.length, row.warnings?.length ?? 0, `warnings: ${JSON.stringify(r.warnings)}`);
  row.warnings?.forEach((re, i) => assert.match(r.warnings[i]!, re));
  assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
}

function table(title: string, rows: Row[]): void {
  describe(title, () => {
    for (const row of rows) {
      const what = 'error' in row ? `refuses ${row.label} (${row.error})` : `parses ${row.label}`;
      it(what, () => check(row));
    }
  });
}

describe('runs-on grammar', () => {
  describe('markers', () => {
    it('ignores jobs without a runs-fleet label', () => {
      assert.equal(parseRunsOn([]), null);
      assert.equal(parseRunsOn(['self-hosted', 'linux', 'ubuntu-latest']), null);
    });

    for (const label of ['runs-fleet-foo', 'runs-fleetish', 'Runs-Fleet', 'RUNS-FLEET=1', ' runs-fleet', 'runs-fleet ', 'xruns-fleet=1', 'runs_fleet=1']) {
      it(`does not take ${JSON.stringify(label)} for a marker`, () => assert.equal(parseRunsOn([label]), null));
    }

    it('reads bare runs-fleet with every default', () => {
      const r = parseRunsOn(['runs-fleet'])!;
      assert.deepEqual(r, { marker: 'runs-fleet', label: 'runs-fleet', labels: ['runs-fleet'], spot: true, warnings: [] });
    });

    it('reads the seed example, keeping the run id', () => {
      const label = 'runs-fleet=16392287541/runner=4cpu-linux-arm64/pool=default';
      const r = parseRunsOn(['self-hosted', label])!;
      assert.deepEqual(fields(r), { marker: 'runs-fleet=', runId: '16392287541', runner: '4cpu-linux-arm64', pool: 'default', spot: true });
      assert.deepEqual(r.labels, ['self-hosted', label]);
    });

    it('accepts an empty run id (the payload run_id is authoritative)', () => {
      assert.deepEqual(fields(parseRunsOn(['runs-fleet='])!), { marker: 'runs-fleet=', spot: true });
      assert.deepEqual(fields(parseRunsOn(['runs-fleet=/cpu=2'])!), { marker: 'runs-fleet=', cpu: { min: 2, max: 4 }, spot: true });
    });

    it('records a run id that is only a run id, or not a number', () => {
      assert.deepEqual(fields(parseRunsOn(['runs-fleet=123'])!), { marker: 'runs-fleet=', runId: '123', spot: true });
      assert.equal(parseRunsOn(['runs-fleet=${{ github.run_id }}/cpu=2'])!.runId, '${{ github.run_id }}');
    });

    it('reads runs-fleet/ with and without keys', () => {
      assert.deepEqual(fields(parseRunsOn(['runs-fleet/'])!), { marker: 'runs-fleet/', spot: true });
      assert.deepEqual(fields(parseRunsOn(['runs-fleet/gen=7'])!), { marker: 'runs-fleet/', gen: 7, spot: true });
    });

    it('takes the first marker and ignores later ones', () => {
      const r = parseRunsOn(['linux', 'runs-fleet/cpu=2', 'runs-fleet=9/cpu=8', 'runs-fleet'])!;
      assert.equal(r.marker, 'runs-fleet/');
      assert.deepEqual(r.cpu, { min: 2, max: 4 });
      assert.equal(parseRunsOn(['runs-fleet', 'runs-fleet/cpu=abc'])!.marker, 'runs-fleet', 'a later bad marker is not read');
    });

    it('registers the job with its own labels, deduplicated as GitHub compares them', () => {
      const r = parseRunsOn(['self-hosted', 'Self-Hosted', 'runs-fleet', 'linux', 'self-hosted', ''])!;
      assert.deepEqual(r.labels, ['self-hosted', 'runs-fleet', 'linux']);
    });

    it('refuses more distinct labels than a runner can carry', () => {
      const many = Array.from({ length: 100 }, (_, i) => `l${i}`);
      assert.equal(parseRunsOn(['runs-fleet', ...many.slice(1)])!.labels.length, 100);
      assert.throws(() => parseRunsOn(['runs-fleet', ...many]), (e: unknown) => e instanceof LabelError && e.reason === 'too_many_labels');
    });
  });

  table('cpu', [
    ok('cpu=4', { cpu: { min: 4, max: 8 } }),
    ok('cpu=4+16', { cpu: { min: 4, max: 16 } }),
    ok('cpu=4+4', { cpu: { min: 4, max: 4 } }),
    ok('cpu=1', { cpu: { min: 1, max: 2 } }),
    ok('cpu=1024', { cpu: { min: 1024, max: 2048 } }),
    ok('cpu=04', { cpu: { min: 4, max: 8 } }),
    bad('cpu=abc', 'invalid_cpu'),
    bad('cpu=0', 'invalid_cpu'),
    bad('cpu=4+2', 'invalid_cpu'),
    bad('cpu=', 'invalid_cpu'),
    bad('cpu=-1', 'invalid_cpu'),
    bad('cpu=+4', 'invalid_cpu'),
    bad('cpu=4+', 'invalid_cpu'),
    bad('cpu=4+x', 'invalid_cpu'),
    bad('cpu=4+0', 'invalid_cpu'),
    bad('cpu=1+2+3', 'invalid_cpu'),
    bad('cpu=1.5', 'invalid_cpu'),
    bad('cpu= 4', 'invalid_cpu'),
    bad('cpu=1025', 'invalid_cpu'),
    bad('cpu=99999999999999999999999', 'invalid_cpu'),
  ]);

  table('ram', [
    ok('ram=8', { ramGiB: { min: 8 } }),
    ok('ram=7.5+16', { ramGiB: { min: 7.5, max: 16 } }),
    ok('ram=8+8', { ramGiB: { min: 8, max: 8 } }),
    ok('ram=.5', { ramGiB: { min: 0.5 } }),
    ok('ram=2.', { ramGiB: { min: 2 } }),
    bad('ram=-1', 'invalid_ram'),
    bad('ram=0', 'invalid_ram'),
    bad('ram=', 'invalid_ram'),
    bad('ram=abc', 'invalid_ram'),
    bad('ram=NaN', 'invalid_ram'),
    bad('ram=Infinity', 'invalid_ram'),
    bad('ram=1e3', 'invalid_ram'),
    bad('ram=16+8', 'invalid_ram'),
    bad('ram=8+', 'invalid_ram'),
    bad('ram=65537', 'invalid_ram'),
  ]);

  table('arch', [
    ok('arch=arm64', { arch: 'arm64' }),
    ok('arch=amd64', { arch: 'amd64' }),
    ok('arch=aarch64', { arch: 'arm64' }),
    ok('arch=x64', { arch: 'amd64' }),
    ok('arch=x86_64', { arch: 'amd64' }),
    ok('arch=ARM64', { arch: 'arm64' }),
    // The original ignored these; here a bad value is an error (see keys.ts).
    bad('arch=sparc', 'invalid_arch'),
    bad('arch=arm', 'invalid_arch'),
    bad('arch=', 'invalid_arch'),
  ]);

  table('family', [
    ok('family=c7g', { families: ['c7g'] }),
    ok('family=c7g+m7g', { families: ['c7g', 'm7g'] }),
    ok('family=C7G+m7g+c7g', { families: ['c7g', 'm7g'] }),
    ok('family=m7i-flex', { families: ['m7i-flex'] }),
    bad('family=', 'invalid_family'),
    bad('family=c7g+', 'invalid_family'),
    bad('family=7g', 'invalid_family'),
    bad('family=c7g.large', 'invalid_family'),
  ]);

  table('gen', [
    ok('gen=1', { gen: 1 }),
    ok('gen=10', { gen: 10 }),
    bad('gen=0', 'invalid_gen'),
    bad('gen=11', 'invalid_gen'),
    bad('gen=x', 'invalid_gen'),
    bad('gen=', 'invalid_gen'),
    bad('gen=7.0', 'invalid_gen'),
  ]);

  table('pool', [
    ok('pool=default', { pool: 'default' }),
    ok('pool=My_pool-2', { pool: 'My_pool-2' }),
    ok(`pool=${'p'.repeat(63)}`, { pool: 'p'.repeat(63) }),
    bad(`pool=${'p'.repeat(64)}`, 'invalid_pool'),
    bad('pool=', 'invalid_pool'),
    bad('pool=-x', 'invalid_pool'),
    bad('pool=a.b', 'invalid_pool'),
    bad('pool=a=b', 'invalid_pool'),
  ]);

  table('runner', [
    ok('runner=4cpu-linux-arm64', { runner: '4cpu-linux-arm64' }),
    ok('runner=a=b', { runner: 'a=b' }), // split on the first "=" only; resolution reports the unknown class
    bad('runner=', 'invalid_runner'),
  ]);

  table('spot', [
    ok('spot=false', { spot: false }),
    ok('spot=true', { spot: true }),
    ok('spot=FALSE', { spot: true }, [/only spot=false/]),
    ok('spot=no', { spot: true }, [/only spot=false/]),
    ok('spot=', { spot: true }, [/only spot=false/]),
  ]);

  table('disk', [
    ok('disk=1', { diskGiB: 1 }),
    ok('disk=16384', { diskGiB: 16384 }),
    bad('disk=0', 'invalid_disk'),
    bad('disk=16385', 'invalid_disk'),
    bad('disk=abc', 'invalid_disk'),
    bad('disk=1.5', 'invalid_disk'),
    bad('disk=', 'invalid_disk'),
  ]);

  table('segments', [
    ok('cpu=2/foo=bar', { cpu: { min: 2, max: 4 } }, [/unknown key "foo"/]),
    // Keys the original removed over time are unknown now, whatever their value.
    ok('backend=k8s/backend=nope/region=us-east-1/env=prod/public=true/private=true', {}, [
      /unknown key "backend"/, /unknown key "backend"/, /unknown key "region"/, /unknown key "env"/, /unknown key "public"/, /unknown key "private"/,
    ]),
    ok('bogus/cpu=2', { cpu: { min: 2, max: 4 } }, [/segment "bogus" has no "="/]),
    ok('/cpu=2//gen=3/', { cpu: { min: 2, max: 4 }, gen: 3 }),
    ok('CPU=4', {}, [/unknown key "CPU"/]),
    ok(' cpu=4', {}, [/unknown key " cpu"/]),
    ok('=4', {}, [/unknown key ""/]),
    ok('__proto__=x/constructor=y/toString=z', {}, [/unknown key "__proto__"/, /"constructor"/, /"toString"/]),
    ok('cpu=2/cpu=8', { cpu: { min: 8, max: 16 } }, [/key "cpu" is repeated/]),
    ok('spot=false/spot=true', { spot: true }, [/repeated/]),
    ok('cpu=2/ram=4/arch=arm64/family=c7g/gen=7/pool=default/spot=false/disk=100/runner=x', {
      cpu: { min: 2, max: 4 }, ramGiB: { min: 4 }, arch: 'arm64', families: ['c7g'], gen: 7, pool: 'default', spot: false, diskGiB: 100, runner: 'x',
    }),
    // Every occurrence is validated, as in the original: a later good value does not excuse a bad one.
    bad('cpu=abc/cpu=4', 'invalid_cpu'),
    bad('foo=1/disk=0/bar', 'invalid_disk'),
  ]);

  it('caps warnings so a queue entry stays small', () => {
    const r = parseRunsOn([`runs-fleet/${Array.from({ length: 50 }, (_, i) => `q${i}`).join('/')}`])!;
    assert.equal(r.warnings.length, 21);
    assert.match(r.warnings[20]!, /30 more warnings/);
  });

  it('refuses an overlong runs-fleet label and echoes only its start', () => {
    const label = `runs-fleet/runner=${'x'.repeat(1_000_000)}`;
    assert.throws(() => parseRunsOn(['self-hosted', label]), (e: unknown) =>
      e instanceof LabelError && e.reason === 'label_too_long' && e.message.length < 1_000 && /1000018 characters; a runs-fleet label has at most 256/.test(e.message));
    assert.equal(parseRunsOn([`runs-fleet/${'q/'.repeat(100)}`])?.marker, 'runs-fleet/', '256 characters or fewer are parsed');
  });

  it('never matches an overlong label against an alias (it would be copied into the spec)', () => {
    assert.equal(parseRunsOn(['y'.repeat(300)], [{ match: '^(y+)$', regex: true, spec: 'runner=$1' }]), null);
  });

  it('explains how to fix a bad value', () => {
    assert.throws(() => parseRunsOn(['runs-fleet=1/cpu=4+2']), /runs-on label "runs-fleet=1\/cpu=4\+2": cpu=4\+2: the maximum 2 is below the minimum 4; write cpu=2\+4/);
    assert.throws(() => parseRunsOn(['runs-fleet/disk=0']), /disk=0 is not a disk size; use a whole number of GiB from 1 to 16384/);
    assert.throws(() => parseRunsOn(['runs-fleet/arch=sparc']), /use arch=arm64 or arch=amd64/);
  });

  it('is a PermanentError so the consumer stops retrying', () => {
    assert.throws(() => parseRunsOn(['runs-fleet/gen=11']), (e: unknown) => e instanceof PermanentError && e.reason === 'invalid_gen' && e.name === 'LabelError');
  });
});
