import assert from 'node:assert/strict';
import { expandTemplate, matchAlias, type AliasRule } from '../../runtime/labels/aliases.ts';
import { LabelError } from '../../runtime/labels/errors.ts';
import { parseRunsOn } from '../../runtime/labels/parse.ts';
import { validateAliases } from '../../runtime/labels/validate.ts';
import { sampleDoc } from './fixtures.ts';

const RULES: AliasRule[] = [
  { match: 'linux-arm64-large', spec: 'runner=4cpu-linux-arm64/spot=false' },
  { match: 'linux-arm64-warm', spec: 'pool=default' },
  { match: '^linux-(\\d+)cpu-(?<arch>arm64|amd64)$', regex: true, spec: 'cpu=${1}/arch=${arch}' },
  { match: 'gpu', regex: true, spec: 'family=g5' },
  { match: 'linux-bad', spec: 'cpu=abc' },
  { match: 'linux-typo', spec: 'cpu=2/cpuu=4' },
];

describe('label aliases', () => {
  it('maps an exact label to its spec without inventing a pool', () => {
    const r = parseRunsOn(['self-hosted', 'linux-arm64-large'], RULES)!;
    assert.deepEqual(r, {
      marker: 'alias', label: 'linux-arm64-large', labels: ['self-hosted', 'linux-arm64-large'], alias: 'linux-arm64-large',
      runner: '4cpu-linux-arm64', spot: false, warnings: [],
    });
    assert.equal(r.pool, undefined, 'unlike the original, the label does not become a pool name');
  });

  it('takes the pool from the spec', () => {
    assert.equal(parseRunsOn(['linux-arm64-warm'], RULES)!.pool, 'default');
  });

  it('expands numbered and named groups of a regex rule', () => {
    const r = parseRunsOn(['linux-8cpu-amd64'], RULES)!;
    assert.deepEqual([r.cpu, r.arch, r.alias], [{ min: 8, max: 16 }, 'amd64', 'linux-8cpu-amd64']);
  });

  it('matches a regex anywhere in the label (unanchored, like RE2 partial match)', () => {
    assert.deepEqual(parseRunsOn(['my-gpu-box'], RULES)!.families, ['g5']);
  });

  it('is consulted only when no marker label is present', () => {
    const r = parseRunsOn(['linux-arm64-large', 'runs-fleet/cpu=2'], RULES)!;
    assert.equal(r.marker, 'runs-fleet/');
    assert.equal(r.runner, undefined);
  });

  it('uses the first matching label, then the first matching rule', () => {
    assert.equal(parseRunsOn(['linux-arm64-warm', 'linux-arm64-large'], RULES)!.alias, 'linux-arm64-warm');
    const rules: AliasRule[] = [{ match: 'x', regex: true, spec: 'gen=1' }, { match: 'linux-x', spec: 'gen=2' }];
    assert.equal(parseRunsOn(['linux-x'], rules)!.gen, 1);
  });

  it('leaves labels no rule matches to someone else', () => {
    assert.equal(parseRunsOn(['ubuntu-latest', 'linux-arm64-larger', 'linux-8cpu-sparc'], RULES), null);
    assert.equal(parseRunsOn(['linux-arm64-large'], []), null);
  });

  it('never matches an empty label', () => {
    assert.equal(parseRunsOn(['', 'x'], [{ match: '^$', regex: true, spec: 'gen=1' }]), null);
  });

  it('refuses a spec with a bad value, naming the alias', () => {
    assert.throws(() => parseRunsOn(['linux-bad'], RULES), (e: unknown) => {
      assert.ok(e instanceof LabelError);
      assert.equal(e.reason, 'invalid_cpu');
      assert.equal(e.label, 'linux-bad');
      assert.match(e.message, /alias aliases\[4\] expands to "cpu=abc", which is invalid: cpu=abc is not a vCPU count/);
      return true;
    });
  });

  it('refuses what an expansion makes invalid', () => {
    assert.throws(() => parseRunsOn(['linux-0cpu-arm64'], RULES), (e: unknown) => e instanceof LabelError && e.reason === 'invalid_cpu');
  });

  it('reports ignored segments of a spec as warnings that name the alias', () => {
    assert.deepEqual(parseRunsOn(['linux-typo'], RULES)!.warnings, ['alias aliases[5]: unknown key "cpuu" is ignored (known keys: runner, cpu, ram, arch, family, gen, pool, spot, disk)']);
  });

  it('turns an invalid regex met at job time into a LabelError', () => {
    assert.throws(() => parseRunsOn(['x'], [{ match: '(', regex: true, spec: 'gen=1' }]), (e: unknown) => e instanceof LabelError && e.reason === 'invalid_alias');
  });

  describe('template expansion (Go Regexp.Expand)', () => {
    const m = /(?<size>\d+)-(\w+)(-(z))?/.exec('8-big')!;
    const cases: [string, string][] = [
      ['cpu=${1}', 'cpu=8'],
      ['cpu=$1', 'cpu=8'],
      ['cpu=${size}', 'cpu=8'],
      ['cpu=$size/x', 'cpu=8/x'],
      ['${2}+${1}', 'big+8'],
      ['$1x', ''], // the name is as long as possible: ${1x}, which does not exist
      ['${1}x', '8x'],
      ['$$1', '$1'],
      ['a$', 'a$'],
      ['${1', '${1'],
      ['$-', '$-'],
      ['${4}|${9}|${nope}', '||'], // unmatched, out of range, unknown: empty
      ['no refs', 'no refs'],
    ];
    for (const [template, want] of cases) it(`${template} → ${want}`, () => assert.equal(expandTemplate(template, m), want));

    it('matchAlias returns the expanded spec and the rule index', () => {
      assert.deepEqual(matchAlias(['linux-4cpu-arm64'], RULES), { index: 2, label: 'linux-4cpu-arm64', spec: 'cpu=4/arch=arm64' });
    });
  });

  describe('validateAliases', () => {
    it('accepts good aliases', () => {
      assert.deepEqual(validateAliases(sampleDoc(RULES.slice(0, 3))), []);
    });

    it('reports every problem by path', () => {
      const doc = sampleDoc([
        { match: 'a', spec: 'cpu=abc' },
        { match: 'b', spec: 'runner=nope' },
        { match: 'c', spec: 'pool=nope' },
        { match: 'd', spec: 'cpu=2/bogus' },
        { match: '(?P<n>x)', regex: true, spec: 'cpu=${n}' },
        { match: 'e', regex: true, spec: 'runner=4cpu-linux-arm64/arch=amd64' },
        { match: 'runs-fleet/x', spec: 'cpu=2' },
        { match: 'a', spec: 'cpu=2' },
        { match: 'f', regex: true, spec: 'cpu=${1}0000' }, // a reference: checked per job, not here
        { match: 'g', spec: 'runner=16cpu-spot-arm64/spot=false' },
        { match: 'gpu', regex: true, spec: 'family=g5' }, // a regex rule's literal spec is checked too
      ]);
      assert.deepEqual(validateAliases(doc), [
        'aliases[0].spec: cpu=abc is not a vCPU count; use cpu=N or cpu=MIN+MAX with whole vCPU counts from 1 to 1024, e.g. cpu=4 (meaning 4 to 8) or cpu=4+8',
        'aliases[1].spec: runner=nope names no runner class; known classes: 16cpu-spot-arm64, big-disk-arm64, 4cpu-linux-arm64, 8cpu-linux-amd64, 2cpu-linux-arm64',
        'aliases[2].spec: pool "nope" is not configured (configured pools: default, spot16); the job runs without a warm pool',
        'aliases[3].spec: segment "bogus" has no "=" and is ignored',
        'aliases[4].match: invalid regular expression: Invalid regular expression: /(?P<n>x)/: Invalid group; named groups are written (?<name>…) in JavaScript',
        'aliases[5].spec: arch=amd64 but class 4cpu-linux-arm64 is arm64; ask for less or choose a class that has it',
        'aliases[6].match: "runs-fleet/x" is a runs-fleet marker label, and aliases are consulted only when there is none; the rule would never apply',
        'aliases[7].match: "a" is already matched by aliases[0]; this rule would never apply',
        'aliases[9].spec: spot=false asked but class 16cpu-spot-arm64 runs on spot capacity only; ask for less or choose a class that has it',
        "aliases[10].spec: no runner class has families g5 (family g5 is not among class 2cpu-linux-arm64's families (c7g, m7g, t4g); " +
          "family g5 is not among class 4cpu-linux-arm64's families (c7g, m7g); family g5 is not among class big-disk-arm64's families (c7g); " +
          "family g5 is not among class 8cpu-linux-amd64's families (c7i, m7i); family g5 is not among class 16cpu-spot-arm64's families (c8g)); " +
          'ask for less or add a class to the config document',
      ]);
    });
  });
});
