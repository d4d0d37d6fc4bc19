import assert from 'node:assert/strict';
import type { ResourceUnderTest } from '../../policies/in-process.ts';
import { policies } from '../../policies/policies.ts';
import { evaluate, shippedPolicyConfig, SHIPPED_STACKS, stackResources } from './support.ts';

/**
 * The passing side of every policy: the shipped example stacks, evaluated by the real
 * program under mocks, satisfy every policy under their shipped policy config. Each
 * policy must also have actually applied (checked at least one resource, or the stack),
 * so a pass here cannot come from a policy that matched nothing.
 */
for (const stack of SHIPPED_STACKS) {
  describe(`policies on the shipped ${stack} stack (Pulumi.${stack}.yaml + policies/config.${stack}.json)`, function () {
    this.timeout(60_000);
    let resources: ResourceUnderTest[];
    let evaluation: Awaited<ReturnType<typeof evaluate>>;

    before(async () => {
      resources = await stackResources(stack);
      evaluation = await evaluate(resources, undefined, shippedPolicyConfig(stack));
    });

    for (const policy of policies) {
      it(`${policy.name} passes`, () => {
        assert.deepEqual(evaluation.violations.filter((v) => v.policy === policy.name), []);
        assert.ok((evaluation.checked.get(policy.name) ?? 0) > 0, `${policy.name} applied to nothing in the ${stack} stack`);
      });
    }

    it('also passes with the policy defaults (no config file)', async () => {
      const defaults = await evaluate(resources);
      assert.deepEqual(defaults.violations, []);
    });
  });
}
