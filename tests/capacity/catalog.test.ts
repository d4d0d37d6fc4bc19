import assert from 'node:assert/strict';
import { filterInstanceTypes, instanceType, instanceTypeLabels, instanceTypes } from '../../runtime/capacity/catalog.ts';
import { classRequirements, systemRequirements } from '../../runtime/capacity/class-requirements.ts';
import { DEFAULT_SPOT_PRICE_RATIO, costUsd, hourlyUsd } from '../../runtime/capacity/price.ts';

describe('capacity: instance catalog, requirements and prices', () => {
  it('holds the 75 types with the reference facts', () => {
    assert.equal(instanceTypes().length, 75);
    assert.deepEqual(instanceType('c7g.xlarge'), {
      name: 'c7g.xlarge', family: 'c7g', generation: 7, category: 'c', arch: 'arm64', vcpu: 4, memoryMiB: 8192, maxEnis: 4, ipv4PerEni: 15, maxPods: 58, onDemandUsdPerHour: 0.145,
    });
    assert.throws(() => instanceType('c7g.medium'), /unknown instance type "c7g\.medium".*instance-types\.json/);
  });

  it('labels a node as Karpenter does', () => {
    assert.deepEqual(instanceTypeLabels(instanceType('m7i.2xlarge')), {
      'karpenter.k8s.aws/instance-family': 'm7i', 'karpenter.k8s.aws/instance-cpu': '8', 'karpenter.k8s.aws/instance-memory': '32768',
      'karpenter.k8s.aws/instance-generation': '7', 'karpenter.k8s.aws/instance-category': 'm', 'karpenter.k8s.aws/instance-size': '2xlarge',
      'kubernetes.io/arch': 'amd64', 'kubernetes.io/os': 'linux', 'node.kubernetes.io/instance-type': 'm7i.2xlarge',
    });
  });

  it('filters by requirements with every operator', () => {
    const names = (r: Parameters<typeof filterInstanceTypes>[0]) => filterInstanceTypes(r).map((t) => t.name);
    assert.deepEqual(names([
      { key: 'karpenter.k8s.aws/instance-family', operator: 'In', values: ['c7g', 'm7i'] },
      { key: 'karpenter.k8s.aws/instance-cpu', operator: 'Gt', values: ['4'] },
      { key: 'karpenter.k8s.aws/instance-cpu', operator: 'Lt', values: ['32'] },
    ]), ['c7g.2xlarge', 'c7g.4xlarge', 'm7i.2xlarge', 'm7i.4xlarge']);
    assert.deepEqual(names([
      { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
      { key: 'karpenter.k8s.aws/instance-generation', operator: 'NotIn', values: ['7'] },
      { key: 'karpenter.k8s.aws/instance-category', operator: 'In', values: ['c'] },
      { key: 'node.kubernetes.io/instance-type', operator: 'Exists' },
      { key: 'karpenter.k8s.aws/instance-size', operator: 'In', values: ['large'] },
    ]), ['c6i.large']);
    assert.deepEqual(names([{ key: 'kubernetes.io/arch', operator: 'DoesNotExist' }]), []);
  });

  it('a class asks for an instance of its own size in its families only', () => {
    const cls = { arch: 'arm64' as const, cpu: 4, memoryGiB: 16, instanceFamilies: ['c7g', 'm7g', 'c8g', 'm8g'], capacityTypes: ['spot' as const, 'on-demand' as const] };
    const req = classRequirements(cls);
    assert.deepEqual(req.find((r) => r.key === 'karpenter.sh/capacity-type')?.values, ['spot', 'on-demand']);
    assert.deepEqual(filterInstanceTypes(req).map((t) => t.name), ['m7g.xlarge', 'm8g.xlarge']);
    assert.deepEqual(filterInstanceTypes(classRequirements(cls, { runnersPerNode: 2 })).map((t) => t.name), ['m7g.2xlarge', 'm8g.2xlarge']);
    assert.deepEqual(filterInstanceTypes(systemRequirements({ arch: 'amd64', instanceTypes: ['m7i.large', 'm6i.large'] })).map((t) => t.name), ['m7i.large', 'm6i.large']);
  });

  it('prices on-demand from the catalog and spot by the documented ratio', () => {
    assert.equal(hourlyUsd('c7g.xlarge', 'on-demand'), 0.145);
    assert.equal(hourlyUsd('c7g.xlarge', 'spot'), 0.145 * DEFAULT_SPOT_PRICE_RATIO);
    assert.equal(hourlyUsd(instanceType('c7g.xlarge'), 'spot', { spotPriceRatio: 0.3 }), 0.145 * 0.3);
    assert.ok(Math.abs(costUsd('m7g.xlarge', 'on-demand', 24 * 3600) - 24 * instanceType('m7g.xlarge').onDemandUsdPerHour) < 1e-12);
    assert.throws(() => hourlyUsd('c7g.xlarge', 'spot', { spotPriceRatio: 0 }), /spotPriceRatio must be in \(0, 1\]/);
  });
});
