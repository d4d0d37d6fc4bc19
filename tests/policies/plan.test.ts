import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { applySet, main } from '../../infra/plan.ts';
import { root } from './support.ts';

/** The offline plan command (`npm run plan`), run in process through its main(). */

async function plan(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, (s) => { out += s; }, (s) => { err += s; });
  return { code, out, err };
}

describe('offline plan (infra/plan.ts)', function () {
  this.timeout(60_000);
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'runs-fleet-plan-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('prints the resources, NodePools with their limits and pools, the orchestrator and the verdicts for Pulumi.dev.yaml', async () => {
    const { code, out, err } = await plan('--stack', 'dev');
    assert.equal(err, '');
    assert.equal(code, 0);
    assert.match(out, /offline plan: stack "dev" from .*Pulumi\.dev\.yaml/);
    assert.match(out, /Resources `pulumi up` would create: \d+ \(\d+ resources, \d+ components\)/);
    assert.match(out, /kubernetes:karpenter\.sh\/v1:NodePool +karpenter-nodepool-4cpu-linux-arm64 +limits\.cpu=192 warm-pool-max-cpu=40 /);
    assert.match(out, /kubernetes:karpenter\.k8s\.aws\/v1:EC2NodeClass +karpenter-nodeclass-300gib +ami=al2023@latest disk=300Gi gp3 encrypted=true imds=required hops=1/);
    // class, cpu per runner, limits.cpu, placeholder CPU at max, pools
    assert.match(out, /\n +4cpu-linux-arm64 +4 +192 +40 +default 2\.\.10 \(1 schedule\)\n/);
    assert.match(out, /\n +2cpu-linux-arm64 +2 +64 +12 +small 1\.\.6\n/);
    assert.match(out, /\n +8cpu-linux-arm64 +8 +256 +0 +-\n/);
    assert.match(out, /Orchestrator: replicas=2 image=node:24\.11\.1-bookworm-slim/);
    assert.match(out, /Policy verdicts: pack "runs-fleet", 33 policies, config policies\/config\.dev\.json/);
    assert.match(out, /ok +orchestrator-high-availability +advisory +passed \(stack\)/);
    assert.match(out, /ok +nodepool-runner-taint +mandatory +passed \(5 resources\)/);
    assert.match(out, /No mandatory violations\.\n$/);
    // Secrets stay out, even fake ones: only Secret key names are shown.
    assert.doesNotMatch(out, /fake-secret|PRIVATE KEY|mockpassword/);
    assert.match(out, /kubernetes:core\/v1:Secret +valkey-auth +keys=auth\.conf,password/);
  });

  it('reports a mandatory violation when a pool’s max is raised above its NodePool budget in the stack file', async () => {
    const doc = parseDocument(readFileSync(root('Pulumi.dev.yaml'), 'utf8'));
    doc.setIn(['config', 'runs-fleet:pools', 0, 'max'], 49); // 49 × 4 CPU = 196 > limits.cpu 192
    const file = join(tmp, 'Pulumi.dev.yaml');
    writeFileSync(file, doc.toString());
    const { code, out } = await plan('--stack', 'dev', '--stack-file', file);
    assert.equal(code, 1);
    assert.match(out, /\n +4cpu-linux-arm64 +4 +192 +196 +default 2\.\.49/);
    assert.match(out, /x +warm-pool-cpu-within-nodepool +mandatory +1 violation/);
    assert.match(out, /\[mandatory\] warm-pool-cpu-within-nodepool \(karpenter-nodepool-4cpu-linux-arm64\)\n +NodePool "4cpu-linux-arm64" .*196 CPU .*Fix: lower runs-fleet:pools\[0\]\.max to ≤ 48/);
    assert.match(out, /mandatory violation\(s\): `pulumi preview --policy-pack policies` would fail for this stack\.\n$/);
  });

  it('takes what-if overrides with --set and the policy defaults with --no-policy-config', async () => {
    const { code, out } = await plan('--stack', 'dev', '--set', 'runs-fleet:pools[0].max=49', '--no-policy-config', '--json');
    assert.equal(code, 1);
    const json = JSON.parse(out);
    assert.equal(json.policyConfig, null);
    // The default per-pool cap (50) allows 49; only the NodePool budget is exceeded.
    assert.deepEqual(json.violations.map((v: any) => [v.policy, v.level, v.resource]), [
      ['warm-pool-cpu-within-nodepool', 'mandatory', 'karpenter-nodepool-4cpu-linux-arm64'],
    ]);
    assert.deepEqual(json.nodePools.find((n: any) => n.className === '4cpu-linux-arm64'), {
      className: '4cpu-linux-arm64', cpu: 4, limitCpu: '192', pools: ['default 2..49 (1 schedule)'], placeholderCpuAtMax: 196,
    });
    assert.ok(json.resources.some((r: any) => r.type === 'kubernetes:karpenter.sh/v1:NodePool' && r.settings.startsWith('limits.cpu=192')));
    assert.equal(json.policies.length, 33);
  });

  it('plans the prod-existing-vpc stack with its own policy config', async () => {
    const { code, out } = await plan('--stack', 'prod-existing-vpc');
    assert.equal(code, 0);
    assert.match(out, /config policies\/config\.prod-existing-vpc\.json/);
    assert.match(out, /ok +eks-control-plane-logging +mandatory +passed/);
  });

  it('exits 2 with every problem by path for an invalid stack config', async () => {
    const { code, err } = await plan('--stack', 'dev', '--set', 'runs-fleet:pools[1].min=9');
    assert.equal(code, 2);
    assert.match(err, /the stack config is invalid:\n.*runs-fleet:pools\[1\]\.max must be ≥ min \(6 < 9\)/s);
  });

  it('exits 2 with usage for bad arguments and a missing stack file', async () => {
    for (const argv of [['--stak', 'dev'], ['--stack'], ['--stack', '../x'], ['--set', 'pools.max=3'], ['--stack', 'nosuchstack']]) {
      const { code, err } = await plan(...argv);
      assert.equal(code, 2, argv.join(' '));
      assert.match(err, /Usage: npm run plan/);
    }
  });

  it('warns when the stack file still holds placeholder secrets, naming each and the command that sets it', async () => {
    const dev = await plan('--stack', 'dev');
    assert.match(dev.out, /WARNING: 2 secrets in .*Pulumi\.dev\.yaml are still placeholders, not Pulumi ciphertext/);
    assert.match(dev.out, /  runs-fleet:github\.privateKey:  pulumi config set --secret --path 'runs-fleet:github\.privateKey' < your-app\.private-key\.pem\n/);
    assert.match(dev.out, /  runs-fleet:github\.webhookSecret:  pulumi config set --secret --path 'runs-fleet:github\.webhookSecret' "\$\(openssl rand -hex 32\)"/);
    const prod = JSON.parse((await plan('--stack', 'prod-existing-vpc', '--json')).out) as { warnings: { path: string }[] };
    assert.deepEqual(prod.warnings.map((w) => w.path), ['runs-fleet:github.privateKey', 'runs-fleet:github.webhookSecret', 'runs-fleet:github.webhookSecretPrevious']);

    // Real ciphertext (what `pulumi config set --secret` writes) is not warned about.
    const doc = parseDocument(readFileSync(root('Pulumi.dev.yaml'), 'utf8'));
    doc.setIn(['config', 'runs-fleet:github', 'privateKey'], { secure: 'v1:3mJ3Vq1bJcXo0E0l:Zm9vYmFyYmF6cXV4cXV1eA==' });
    doc.setIn(['config', 'runs-fleet:github', 'webhookSecret'], { secure: 'v1:AAAAAAAAAAAAAAAA:c2VjcmV0c2VjcmV0c2VjcmV0' });
    const file = join(tmp, 'Pulumi.sealed.yaml');
    writeFileSync(file, doc.toString());
    const sealed = await plan('--stack-file', file);
    assert.equal(sealed.code, 0, sealed.err);
    assert.doesNotMatch(sealed.out, /WARNING/);
  });

  it('applies --set paths into nested config, creating what is missing', () => {
    const config = { 'runs-fleet:pools': [{ name: 'a', max: 1 }], 'aws:region': 'us-east-1' };
    assert.deepEqual(applySet(config, 'runs-fleet:pools[0].max=7')['runs-fleet:pools'], [{ name: 'a', max: 7 }]);
    assert.deepEqual(applySet(config, 'runs-fleet:orchestrator.replicas=3')['runs-fleet:orchestrator'], { replicas: 3 });
    assert.equal(applySet(config, 'aws:region=eu-west-1')['aws:region'], 'eu-west-1');
    assert.deepEqual(applySet(config, 'runs-fleet:cluster.logTypes=["api"]')['runs-fleet:cluster'], { logTypes: ['api'] });
    assert.deepEqual(config['runs-fleet:pools'], [{ name: 'a', max: 1 }], 'the input is not changed');
  });
});
