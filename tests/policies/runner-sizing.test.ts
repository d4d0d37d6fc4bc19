import assert from 'node:assert/strict';
import { evaluate, stackResources } from './support.ts';

/**
 * runner-class-fits-instance on classes as an operator would write them: the stack config
 * is edited and the whole program runs, so the policy sees what `pulumi preview` would.
 */

type Cls = Record<string, unknown>;
const editClasses = (edit: (classes: Cls[]) => void) => (config: Record<string, unknown>) => {
  const copy = structuredClone(config);
  edit(copy['runs-fleet:classes'] as Cls[]);
  return copy;
};

async function sizingViolations(edit: (classes: Cls[]) => void): Promise<string[]> {
  const { violations } = await evaluate(await stackResources('dev', editClasses(edit)));
  return violations.filter((v) => v.policy === 'runner-class-fits-instance').map((v) => v.message);
}

describe('runner-class-fits-instance on edited dev stack classes', function () {
  this.timeout(60_000);

  it('rejects a class whose families have no instance of its size, naming the class and the fix', async () => {
    // 4 vCPU / 16 GiB in compute-optimised families only: c7g.xlarge and c8g.xlarge have 8 GiB.
    const messages = await sizingViolations((classes) => { classes[1]!.instanceFamilies = ['c7g', 'c8g']; });
    assert.equal(messages.length, 1, messages.join('\n'));
    assert.match(messages[0]!, /^ConfigMap "runs-fleet-system\/runs-fleet-config" \(platform-config\): class "4cpu-linux-arm64" \(runs-fleet:classes\[1\]\) needs a 4 vCPU \/ 16 GiB arm64 instance, but none of its families \(c7g, c8g\) has one/);
    assert.match(messages[0]!, /Fix: set runs-fleet:classes\[1\]\.memoryGiB to 8 \(c7g\.xlarge 8 GiB, c8g\.xlarge 8 GiB\); or add a family with a 4 vCPU \/ 16 GiB arm64 size to runs-fleet:classes\[1\]\.instanceFamilies \(m7g, m8g, m6g\)\.$/);
  });

  it('rejects runnersPerNode that asks for a node size the families lack', async () => {
    const messages = await sizingViolations((classes) => { classes[2]!.runnersPerNode = 2; });
    // 8 vCPU / 32 GiB × 2 = 16 vCPU / 64 GiB: m7g.4xlarge and m8g.4xlarge have it, so this one passes…
    assert.deepEqual(messages, []);
    // …but 3 per node would need 24 vCPU, a size the catalog has in no family.
    const three = await sizingViolations((classes) => { classes[2]!.runnersPerNode = 3; });
    assert.equal(three.length, 1, three.join('\n'));
    assert.match(three[0]!, /class "8cpu-linux-arm64" \(runs-fleet:classes\[2\]\) needs a 24 vCPU \/ 96 GiB arm64 instance \(3 runners of 8 vCPU \/ 32 GiB\).*Fix: pick a size the catalog has/);
  });

  it('accepts a class that fits, and a fitting class stays silent under every other policy', async () => {
    const { violations } = await evaluate(await stackResources('dev', editClasses((classes) => { classes[0]!.instanceFamilies = ['m7g']; })));
    assert.deepEqual(violations, []);
  });
});
