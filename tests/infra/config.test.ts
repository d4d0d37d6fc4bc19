import assert from 'node:assert/strict';
import { parseStackConfig, type StackContext } from '../../infra/config.ts';
import { cidrsOverlap, parseCidr, subnetLayout } from '../../infra/cidr.ts';
import { ConfigError } from '../../runtime/util/errors.ts';

const PEM = '-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----\n';
const cls = (name: string, over: Record<string, unknown> = {}) => ({
  name, arch: 'arm64', cpu: 4, memoryGiB: 16, diskGiB: 50, instanceFamilies: ['c7g'], nodePoolCpuLimit: 64, ...over,
});
const minimal = (): Record<string, unknown> => ({
  classes: [cls('4cpu-linux-arm64')],
  github: { appId: 123456, privateKey: PEM, webhookSecret: 'a-webhook-secret-of-32-characters' },
  webhook: { hostname: 'runs-fleet.example.com', certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a' },
});
const ctx: StackContext = { stack: 'staging', region: 'us-east-1' };

function problemsOf(raw: Record<string, unknown>, context: StackContext = ctx): string[] {
  try {
    parseStackConfig(raw, context);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('expected the config to be rejected');
}

describe('infra stack config', () => {
  it('fills every default from a minimal config', () => {
    const cfg = parseStackConfig(minimal(), ctx);
    assert.equal(cfg.clusterName, 'runs-fleet-staging');
    assert.equal(cfg.region, 'us-east-1');
    assert.deepEqual(cfg.network, { mode: 'create', cidr: '10.0.0.0/16', availabilityZoneCount: 3, natGateways: 'single' });
    assert.equal(cfg.cluster.version, '1.34');
    assert.deepEqual(cfg.cluster.systemNodes.instanceTypes, ['m7g.large']);
    assert.equal(cfg.github.appId, '123456');
    assert.equal(cfg.github.apiUrl, 'https://api.github.com');
    assert.equal(cfg.orchestrator.replicas, 2);
    assert.equal(cfg.karpenter.chartVersion, '1.14.1');
    assert.equal(cfg.runner.priorityClassName, 'runs-fleet-runner');
    assert.deepEqual(cfg.classes[0]!.capacityTypes, ['spot', 'on-demand']);
    assert.deepEqual(cfg.namespaces, { system: 'runs-fleet-system', runners: 'runs-fleet-runners' });
  });

  it('picks x86 system nodes by default for amd64', () => {
    const raw = { ...minimal(), cluster: { systemNodes: { arch: 'amd64' } } };
    assert.deepEqual(parseStackConfig(raw, ctx).cluster.systemNodes.instanceTypes, ['m7i.large']);
  });

  it('lists every problem by config path', () => {
    const raw = {
      ...minimal(),
      clustername: 'typo',
      network: { mode: 'create', cidr: '10.0.0.0/8' },
      cluster: { serviceCidr: '10.0.0.0/16', systemNodes: { min: 3, desired: 2 } },
      classes: [cls('a'), cls('a'), cls('big', { cpu: 96, nodePoolCpuLimit: 64 })],
      pools: [
        { name: 'p', class: 'a', min: 1, max: 2 },
        { name: 'q', class: 'a', min: 6, max: 4 },
        { name: 'r', class: 'nope', min: 0, max: 1, mxa: 3 },
      ],
      orchestrator: { replicas: 1 },
      valkey: { image: 'valkey/valkey:latest' },
    };
    const text = problemsOf(raw).join('\n');
    for (const want of [
      'runs-fleet:clustername is not a known setting',
      'runs-fleet:network.cidr must have a prefix between /16 and /20',
      'runs-fleet:cluster.systemNodes.desired must be ≥ min (2 < 3)',
      'runs-fleet:classes[1].name duplicates class "a"',
      'runs-fleet:pools[1].max must be ≥ min (4 < 6)',
      'runs-fleet:pools[2].class names unknown class "nope"',
      'runs-fleet:pools[2] has an unknown key "mxa": remove it or fix its spelling',
      'runs-fleet:orchestrator.replicas must be at least 2',
      'runs-fleet:valkey.image must be pinned',
    ]) assert.ok(text.includes(want), `missing "${want}" in:\n${text}`);
  });

  it('checks rules that span settings once the fields are valid', () => {
    const raw = {
      ...minimal(),
      network: { mode: 'existing', vpcId: 'vpc-0123abcd', privateSubnetIds: ['subnet-0123abcd', 'subnet-0123abce'], vpcCidrs: ['172.20.0.0/16'] },
      classes: [cls('big', { cpu: 96, nodePoolCpuLimit: 64 })],
      cluster: { systemNodes: { arch: 'arm64', instanceTypes: ['m7i.large'] } },
    };
    const text = problemsOf(raw).join('\n');
    assert.match(text, /runs-fleet:classes\[0\]\.nodePoolCpuLimit must be ≥ the class's cpu \(64 < 96\)/);
    assert.match(text, /runs-fleet:cluster\.serviceCidr must not overlap the VPC \(172\.20\.0\.0\/16 overlaps 172\.20\.0\.0\/16\)/);
    assert.match(text, /runs-fleet:cluster\.systemNodes\.instanceTypes\[0\] \(m7i\.large\) does not match arch arm64/);
  });

  it('requires the region, the GitHub App and the webhook endpoint', () => {
    const text = problemsOf({ classes: [cls('a')] }, { stack: 'dev', region: undefined }).join('\n');
    assert.match(text, /aws:region is not set/);
    assert.match(text, /runs-fleet:github /);
    assert.match(text, /runs-fleet:webhook /);
  });

  it('names bad secrets without ever echoing them', () => {
    const raw = { ...minimal(), github: { appId: 'not-an-id', privateKey: 'hunter2-not-a-pem', webhookSecret: 'hunter3' } };
    const problems = problemsOf(raw);
    const text = problems.join('\n');
    assert.match(text, /runs-fleet:github\.privateKey must be the PEM private key/);
    assert.match(text, /runs-fleet:github\.webhookSecret must be at least 16 characters/);
    assert.match(text, /runs-fleet:github\.appId must be the numeric App ID/);
    assert.ok(!text.includes('hunter2') && !text.includes('hunter3'), `a secret leaked into:\n${text}`);
  });

  it('rejects a misspelt key inside a runner class instead of ignoring it', () => {
    const raw = { ...minimal(), classes: [cls('a', { nodePoolCPULimit: 10 })] };
    assert.ok(problemsOf(raw).some((p) => p.startsWith('runs-fleet:classes[0] has an unknown key "nodePoolCPULimit"')));
  });
});

describe('infra CIDR layout', () => {
  it('gives private /19s and public /22s in a /16', () => {
    assert.deepEqual(subnetLayout('10.40.0.0/16', 3), {
      private: ['10.40.0.0/19', '10.40.32.0/19', '10.40.64.0/19'],
      public: ['10.40.224.0/22', '10.40.228.0/22', '10.40.232.0/22'],
    });
  });

  it('never overlaps its own subnets, for every supported prefix and zone count', () => {
    for (const prefix of [16, 17, 18, 19, 20]) {
      for (const zones of [2, 3, 4]) {
        const all = Object.values(subnetLayout(`10.0.0.0/${prefix}`, zones)).flat();
        for (const a of all) for (const b of all) if (a !== b) assert.ok(!cidrsOverlap(a, b), `${a} overlaps ${b}`);
        for (const s of all) assert.ok(cidrsOverlap(s, `10.0.0.0/${prefix}`), `${s} outside the VPC`);
      }
    }
  });

  it('rejects malformed CIDRs and ones with host bits set', () => {
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '256.0.0.0/8', '10.0.0.1/16']) assert.equal(parseCidr(bad), undefined, bad);
  });
});
