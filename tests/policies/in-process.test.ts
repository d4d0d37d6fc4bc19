import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { Policies, PolicyPackConfig, ResourceValidationPolicy, StackValidationPolicy } from '@pulumi/policy';
import { evaluatePolicies, resolvePackConfig, sortViolations, type ResourceUnderTest } from '../../policies/in-process.ts';
import { onType, settings } from '../../policies/lib/define.ts';
import { policies } from '../../policies/policies.ts';
import { shippedPolicyConfig, SHIPPED_STACKS } from './support.ts';

/** The in-process evaluator behaves like the analyzer server the CLI talks to. */

const NP = 'kubernetes:karpenter.sh/v1:NodePool';
const resources: ResourceUnderTest[] = [
  { type: NP, name: 'np-a', urn: 'urn:a', props: { spec: { limits: { cpu: '10' } } } },
  { type: NP, name: 'np-b', urn: 'urn:b', props: { spec: { limits: { cpu: '99' } } } },
  { type: 'kubernetes:core/v1:ConfigMap', name: 'cm', urn: 'urn:cm', props: {} },
];

const seen: Array<{ name: string; maxCpu: number }> = [];
const capped: ResourceValidationPolicy = {
  name: 'capped',
  description: 'limits.cpu within maxCpu',
  enforcementLevel: 'mandatory',
  configSchema: { properties: { maxCpu: { type: 'number', default: 50 } } },
  validateResource: onType(NP, (props, args, report) => {
    const { maxCpu } = settings<{ maxCpu: number }>(args, capped.configSchema);
    seen.push({ name: args.name, maxCpu });
    if (Number(props.spec.limits.cpu) > maxCpu) report(`${args.name} over ${maxCpu}`);
  }),
};
const counting: StackValidationPolicy = {
  name: 'counting',
  description: 'at most one NodePool',
  enforcementLevel: 'advisory',
  validateStack: (args, report) => {
    const pools = args.resources.filter((r) => r.type === NP);
    if (pools.length > 1) report(`${pools.length} NodePools`, pools[1]!.urn);
  },
};
const never: StackValidationPolicy = {
  name: 'never',
  description: 'applies to nothing',
  validateStack: (args) => args.notApplicable('nothing here'),
};
const TEST_POLICIES: Policies = [capped, counting, never];

describe('in-process policy evaluation', () => {
  beforeEach(() => {
    seen.length = 0;
  });

  it('runs resource policies per matching resource with schema defaults, and stack policies once', async () => {
    const ev = await evaluatePolicies(TEST_POLICIES, resources);
    assert.deepEqual(seen, [{ name: 'np-a', maxCpu: 50 }, { name: 'np-b', maxCpu: 50 }]);
    assert.deepEqual(ev.violations, [
      { policy: 'capped', level: 'mandatory', message: 'np-b over 50', urn: 'urn:b', resource: 'np-b' },
      { policy: 'counting', level: 'advisory', message: '2 NodePools', urn: 'urn:b', resource: 'np-b' },
    ]);
    assert.deepEqual([...ev.checked], [['capped', 2], ['counting', 1], ['never', 0]]);
  });

  it('takes levels and properties from the pack config: per policy over `all` over the policy’s own', async () => {
    const config: PolicyPackConfig = { all: 'advisory', capped: { enforcementLevel: 'mandatory', maxCpu: 5 } };
    const ev = await evaluatePolicies(TEST_POLICIES, resources, { config });
    assert.deepEqual(ev.violations.map((v) => [v.policy, v.level, v.message]), [
      ['capped', 'mandatory', 'np-a over 5'], ['capped', 'mandatory', 'np-b over 5'], ['counting', 'advisory', '2 NodePools'],
    ]);
    const all = await evaluatePolicies(TEST_POLICIES, resources, { config: { all: 'mandatory' } });
    assert.deepEqual(all.violations.map((v) => v.level), ['mandatory', 'mandatory']);
  });

  it('skips disabled policies and reports remediate as mandatory', async () => {
    const ev = await evaluatePolicies(TEST_POLICIES, resources, { config: { capped: 'disabled', counting: 'remediate' } });
    assert.deepEqual(seen, []);
    assert.deepEqual(ev.violations.map((v) => [v.policy, v.level]), [['counting', 'mandatory']]);
    assert.equal(ev.levels.get('capped'), 'disabled');
  });

  it('rejects invalid config: unknown policies and settings, wrong types, bad levels', () => {
    assert.throws(() => resolvePackConfig(TEST_POLICIES, { cappd: 'mandatory' }), /cappd: no such policy in the pack/);
    assert.throws(() => resolvePackConfig(TEST_POLICIES, { capped: { maxCPU: 5 } }), /capped\.maxCPU: not a setting of this policy \(settings: maxCpu\)/);
    assert.throws(() => resolvePackConfig(TEST_POLICIES, { capped: { maxCpu: 'five' } }), /capped\.maxCpu: must be number/);
    assert.throws(() => resolvePackConfig(TEST_POLICIES, { capped: 'strict' } as never), /enforcement level "strict" is not one of/);
    assert.throws(() => resolvePackConfig(TEST_POLICIES, { all: { maxCpu: 5 } }), /all: may only set an enforcement level/);
  });

  it('turns a read of an unknown preview value into an advisory "can’t run during preview"', async () => {
    // The sentinel the analyzer's deserializer puts where a preview value is unknown.
    const { unknownStringValue: unknown } = createRequire(import.meta.url)('@pulumi/policy/proxy') as { unknownStringValue: unknown };
    const ev = await evaluatePolicies([capped], [{ type: NP, name: 'np-u', urn: 'urn:u', props: { spec: { limits: { cpu: unknown } } } }]);
    assert.equal(ev.violations.length, 1);
    assert.equal(ev.violations[0]!.level, 'advisory');
    assert.match(ev.violations[0]!.message, /can't run policy 'capped' during preview: .*spec\.limits\.cpu/);
  });

  it('gives each policy its own copy of the props, so one policy cannot change what the next sees', async () => {
    const mutating: ResourceValidationPolicy = {
      name: 'mutating', description: 'writes',
      validateResource: onType(NP, (props) => { props.spec.limits.cpu = '1000'; }),
    };
    const ev = await evaluatePolicies([mutating, capped], resources);
    assert.deepEqual(ev.violations.map((v) => v.message), ['np-b over 50']);
    assert.equal(resources[0]!.props.spec.limits.cpu, '10');
  });

  it('reports a policy that throws as an error naming the policy', async () => {
    const broken: ResourceValidationPolicy = {
      name: 'broken', description: 'throws',
      validateResource: onType(NP, () => { throw new Error('boom'); }),
    };
    await assert.rejects(evaluatePolicies([broken], resources), /policy broken threw: boom/);
  });

  it('sorts mandatory violations first', () => {
    const sorted = sortViolations([
      { policy: 'b', level: 'advisory', message: '' }, { policy: 'z', level: 'mandatory', message: '' }, { policy: 'a', level: 'mandatory', message: '' },
    ]);
    assert.deepEqual(sorted.map((v) => v.policy), ['a', 'z', 'b']);
  });

  for (const stack of SHIPPED_STACKS) {
    it(`accepts the shipped policies/config.${stack}.json for the real pack`, () => {
      const resolved = resolvePackConfig(policies, shippedPolicyConfig(stack));
      assert.equal(resolved.size, policies.length);
    });
  }

  it('runs the dev stack’s orchestrator-high-availability as advisory (policies/config.dev.json), mandatory elsewhere', () => {
    assert.equal(resolvePackConfig(policies, shippedPolicyConfig('dev')).get('orchestrator-high-availability')!.level, 'advisory');
    assert.equal(resolvePackConfig(policies, shippedPolicyConfig('prod-existing-vpc')).get('orchestrator-high-availability')!.level, 'mandatory');
    assert.equal(resolvePackConfig(policies, {}).get('orchestrator-high-availability')!.level, 'mandatory');
  });
});
