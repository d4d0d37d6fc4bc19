import assert from 'node:assert/strict';
import type { ResourceUnderTest } from '../../policies/in-process.ts';
import { policies } from '../../policies/policies.ts';
import { ELASTICACHE_TAG } from '../../policies/elasticache.ts';
import { IN_CLUSTER_TAG } from '../../policies/valkey.ts';
import { loadStackFile } from '../infra/harness.ts';
import { evaluate, root, shippedPolicyConfig, SHIPPED_STACKS, stackResources } from './support.ts';

/**
 * The passing side of every policy: the shipped example stacks, evaluated by the real
 * program under mocks, satisfy every policy under their shipped policy config. Each
 * policy must also have actually applied (checked at least one resource, or the stack),
 * so a pass here cannot come from a policy that matched nothing. Policies about one Valkey
 * mode (tagged valkey-in-cluster / valkey-elasticache) must apply exactly in the stacks
 * that use that mode, and to nothing in the others.
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

    const mode = (loadStackFile(root(`Pulumi.${stack}.yaml`)).config['runs-fleet:valkey'] as { mode?: string } | undefined)?.mode ?? 'inCluster';
    const otherModeTag = mode === 'elastiCache' ? IN_CLUSTER_TAG : ELASTICACHE_TAG;
    for (const policy of policies) {
      const otherMode = (policy.tags ?? []).includes(otherModeTag);
      it(`${policy.name} passes${otherMode ? ` (applies to nothing: Valkey is ${mode})` : ''}`, () => {
        assert.deepEqual(evaluation.violations.filter((v) => v.policy === policy.name), []);
        const checked = evaluation.checked.get(policy.name) ?? 0;
        if (otherMode) assert.equal(checked, 0, `${policy.name} is about the other Valkey mode but applied in the ${stack} stack`);
        else assert.ok(checked > 0, `${policy.name} applied to nothing in the ${stack} stack`);
      });
    }

    it('also passes with the policy defaults (no config file)', async () => {
      const defaults = await evaluate(resources);
      assert.deepEqual(defaults.violations, []);
    });
  });
}
