import assert from 'node:assert/strict';
import { NODE } from '../../runtime/k8s/labels.ts';
import { LabelError, type LabelErrorReason } from '../../runtime/labels/errors.ts';
import { parseRunsOn } from '../../runtime/labels/parse.ts';
import { resolveRunner } from '../../runtime/labels/resolve.ts';
import type { ResolvedRunner } from '../../runtime/labels/types.ts';
import { sampleDoc } from './fixtures.ts';

const doc = sampleDoc();

function resolve(spec: string, labels: string[] = []): ResolvedRunner {
  return resolveRunner(parseRunsOn([...labels, `runs-fleet/${spec}`])!, doc);
}

type Want = Partial<Pick<ResolvedRunner, 'className' | 'pool' | 'cpu' | 'memoryGiB' | 'diskGiB' | 'capacityTypes'>>;

function picks(r: ResolvedRunner, want: Want): Want {
  return Object.fromEntries(Object.keys(want).map((k) => [k, r[k as keyof Want]]));
}

const rows: [spec: string, want: Want | LabelErrorReason][] = [
  // explicit class
  ['runner=4cpu-linux-arm64', { className: '4cpu-linux-arm64', cpu: 4, memoryGiB: 16, diskGiB: 50, capacityTypes: ['spot', 'on-demand'] }],
  ['runner=4cpu-linux-arm64/cpu=2+2', { cpu: 2, memoryGiB: 8 }],
  ['runner=4cpu-linux-arm64/cpu=1', { cpu: 2, memoryGiB: 8 }], // cpu=1 means 1..2: the pod takes the maximum the class allows
  ['runner=4cpu-linux-arm64/cpu=3', { cpu: 4, memoryGiB: 16 }],
  ['runner=4cpu-linux-arm64/cpu=1+1/ram=10.5', { cpu: 1, memoryGiB: 10.5 }],
  ['runner=4cpu-linux-arm64/cpu=2+2/ram=2+6', { cpu: 2, memoryGiB: 6 }],
  ['runner=4cpu-linux-arm64/ram=1+3', { cpu: 4, memoryGiB: 3 }],
  ['runner=4cpu-linux-arm64/disk=40', { diskGiB: 40 }],
  ['runner=4cpu-linux-arm64/spot=false', { capacityTypes: ['on-demand'] }],
  ['runner=8cpu-linux-amd64/cpu=3+3', { cpu: 3, memoryGiB: 12 }],
  ['runner=nope', 'unknown_class'],
  ['runner=4cpu-linux-arm64/cpu=8', 'impossible_size'],
  ['runner=4cpu-linux-arm64/ram=32', 'impossible_size'],
  ['runner=4cpu-linux-arm64/disk=51', 'oversize_disk'],
  ['runner=4cpu-linux-arm64/arch=amd64', 'arch_mismatch'],
  ['runner=4cpu-linux-arm64/family=c8g', 'family_not_in_class'],
  ['runner=4cpu-linux-arm64/family=c7g+c8g', 'family_not_in_class'],
  // The NodePool admits only the class's size (4 vCPU / 16 GiB): m7g.xlarge, not c7g.xlarge (8 GiB), no 8th generation.
  ['runner=4cpu-linux-arm64/family=m7g', { className: '4cpu-linux-arm64' }],
  ['runner=4cpu-linux-arm64/family=c7g', 'family_not_in_class'],
  ['runner=4cpu-linux-arm64/gen=8', 'family_not_in_class'],
  ['runner=16cpu-spot-arm64/spot=false', 'on_demand_unavailable'],
  // pools
  ['pool=default', { className: '4cpu-linux-arm64', pool: 'default', cpu: 4 }],
  ['pool=default/runner=4cpu-linux-arm64', { className: '4cpu-linux-arm64', pool: 'default' }],
  ['pool=spot16/cpu=2', { className: '16cpu-spot-arm64', pool: 'spot16', cpu: 4, memoryGiB: 16 }],
  ['pool=default/runner=8cpu-linux-amd64', 'pool_class_mismatch'],
  ['pool=default/runner=nope', 'unknown_class'],
  ['pool=default/cpu=8', 'impossible_size'],
  ['pool=spot16/spot=false', 'on_demand_unavailable'],
  ['pool=nope/runner=8cpu-linux-amd64', { className: '8cpu-linux-amd64', pool: undefined }],
  // the smallest class that fits
  ['', { className: '2cpu-linux-arm64', cpu: 2, memoryGiB: 4, diskGiB: 30 }],
  ['pool=nope', { className: '2cpu-linux-arm64', pool: undefined }],
  ['cpu=3', { className: '4cpu-linux-arm64', cpu: 4 }],
  ['cpu=2', { className: '2cpu-linux-arm64', cpu: 2 }],
  ['cpu=5+6', { className: '8cpu-linux-amd64', cpu: 6, memoryGiB: 24 }], // no class within 5..6: sized to 6 in the next one up
  ['cpu=9', { className: '16cpu-spot-arm64', cpu: 16 }],
  ['arch=amd64', { className: '8cpu-linux-amd64' }],
  ['arch=x86_64/cpu=2+2', { className: '8cpu-linux-amd64', cpu: 2, memoryGiB: 8 }],
  ['ram=5', { className: '4cpu-linux-arm64', memoryGiB: 16 }],
  ['ram=20', { className: '8cpu-linux-amd64', memoryGiB: 32 }],
  ['ram=20/arch=arm64', { className: '16cpu-spot-arm64', memoryGiB: 64 }],
  ['disk=40', { className: '4cpu-linux-arm64', diskGiB: 40 }], // ties on cpu and memory: the smaller disk first
  ['disk=100/arch=arm64', { className: 'big-disk-arm64', diskGiB: 100 }],
  ['family=c8g', { className: '16cpu-spot-arm64' }],
  ['family=t4g', { className: '2cpu-linux-arm64' }],
  ['spot=false/cpu=9', 'no_matching_class'],
  ['family=c8g/spot=false', 'no_matching_class'],
  ['ram=20/arch=arm64/spot=false', 'no_matching_class'],
  ['cpu=64', 'no_matching_class'],
  ['disk=16384', 'no_matching_class'],
  ['family=g5', 'no_matching_class'],
];

describe('runner resolution', () => {
  for (const [spec, want] of rows) {
    if (typeof want === 'string') {
      it(`refuses runs-fleet/${spec} (${want})`, () => {
        assert.throws(() => resolve(spec), (e: unknown) => {
          assert.ok(e instanceof LabelError, String(e));
          assert.equal(e.reason, want);
          assert.equal(e.label, `runs-fleet/${spec}`);
          return true;
        });
      });
    } else {
      it(`resolves runs-fleet/${spec || '(bare)'}`, () => assert.deepEqual(picks(resolve(spec), want), want));
    }
  }

  it('lists the known classes for an unknown class', () => {
    assert.throws(() => resolve('runner=4cpu'), /runner=4cpu names no runner class; known classes: 16cpu-spot-arm64, big-disk-arm64, 4cpu-linux-arm64, 8cpu-linux-amd64, 2cpu-linux-arm64/);
  });

  it('says what was asked and why each class falls short', () => {
    assert.throws(() => resolve('cpu=9/spot=false'), (e: unknown) => {
      assert.ok(e instanceof LabelError);
      assert.match(e.message, /no runner class has 9\+ vCPU, on-demand capacity \(/);
      assert.match(e.message, /at least 9 vCPU asked but class 8cpu-linux-amd64 has 8/);
      assert.match(e.message, /spot=false asked but class 16cpu-spot-arm64 runs on spot capacity only/);
      return true;
    });
    assert.throws(() => resolve('runner=4cpu-linux-arm64/disk=51'), /disk=51 GiB asked but class 4cpu-linux-arm64 has 50; ask for less/);
    assert.throws(() => resolve('runner=4cpu-linux-arm64/cpu=8'), /at least 8 vCPU asked but class 4cpu-linux-arm64 has 4/);
  });

  it('warns about an unknown pool and runs the job cold', () => {
    const r = resolve('pool=nope/cpu=2/x=1');
    assert.equal(r.pool, undefined);
    assert.equal(r.warnings.length, 2);
    assert.match(r.warnings[0]!, /unknown key "x"/);
    assert.match(r.warnings[1]!, /pool "nope" is not configured \(configured pools: default, spot16\); the job runs without a warm pool/);
  });

  it('turns family, generation and on-demand into Karpenter node requirements', () => {
    assert.deepEqual(resolve('runner=4cpu-linux-arm64/family=m7g+c7g/gen=7/spot=false').nodeRequirements, [
      { key: NODE.instanceFamily, operator: 'In', values: ['m7g', 'c7g'] },
      { key: NODE.instanceGeneration, operator: 'In', values: ['7'] },
      { key: NODE.capacityType, operator: 'In', values: ['on-demand'] },
    ]);
    assert.deepEqual(resolve('runner=4cpu-linux-arm64').nodeRequirements, []);
  });

  it('adds no capacity requirement when the class is already on-demand only', () => {
    const onDemand = sampleDoc();
    onDemand.classes.find((c) => c.name === '4cpu-linux-arm64')!.capacityTypes = ['on-demand'];
    const r = resolveRunner(parseRunsOn(['runs-fleet/runner=4cpu-linux-arm64/spot=false'])!, onDemand);
    assert.deepEqual([r.capacityTypes, r.nodeRequirements], [['on-demand'], []]);
  });

  it('registers the runner with the job\'s own labels', () => {
    const r = resolve('cpu=2', ['self-hosted', 'linux', 'SELF-HOSTED']);
    assert.deepEqual(r.jitLabels, ['self-hosted', 'linux', 'runs-fleet/cpu=2']);
  });

  it('resolves a request read back from the queue as JSON', () => {
    const request = parseRunsOn(['self-hosted', 'runs-fleet=1/runner=4cpu-linux-arm64/cpu=2+2/spot=false'])!;
    const again = resolveRunner(JSON.parse(JSON.stringify(request)), doc);
    assert.deepEqual(again, resolveRunner(request, doc));
  });

  it('does not depend on the order of classes in the config document', () => {
    const reversed = sampleDoc();
    reversed.classes.reverse();
    for (const spec of ['', 'disk=40', 'cpu=3', 'ram=20']) {
      assert.equal(resolveRunner(parseRunsOn([`runs-fleet/${spec}`])!, reversed).className, resolve(spec).className, spec);
    }
  });

  it('resolves alias requests like marker requests', () => {
    const aliased = sampleDoc([{ match: 'linux-arm64-large', spec: 'runner=4cpu-linux-arm64/spot=false' }]);
    const r = resolveRunner(parseRunsOn(['self-hosted', 'linux-arm64-large'], aliased.aliases)!, aliased);
    assert.deepEqual([r.className, r.pool, r.capacityTypes, r.jitLabels], ['4cpu-linux-arm64', undefined, ['on-demand'], ['self-hosted', 'linux-arm64-large']]);
  });
});
