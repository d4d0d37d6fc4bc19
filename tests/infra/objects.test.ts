import assert from 'node:assert/strict';
import { parseConfigDocument } from '../../runtime/config/document.ts';
import { controllerPolicy } from '../../infra/karpenter-policy.ts';
import { distinctDiskSizes, INTERRUPTION_RULES, interruptionEventPattern, nodePoolSpec, warmPoolMaxCpu } from '../../infra/karpenter-objects.ts';
import { maxRunners, runnerQuotas } from '../../infra/runner-guardrails.ts';
import { renderConfigDocument } from '../../infra/config-document.ts';
import { IMAGE_WARMING_TAINT, RUNNER_TAINT } from '../../runtime/k8s/labels.ts';

const doc = parseConfigDocument({
  classes: [
    { name: 'small', arch: 'arm64', cpu: 2, memoryGiB: 8, diskGiB: 50, instanceFamilies: ['m7g'], nodePoolCpuLimit: 65 },
    { name: 'big', arch: 'amd64', cpu: 8, memoryGiB: 32, diskGiB: 200, instanceFamilies: ['m7i'], nodePoolCpuLimit: 64, maxDurationMinutes: 60 },
  ],
  pools: [
    { name: 'a', class: 'small', min: 1, max: 4 },
    { name: 'b', class: 'small', min: 0, max: 2 },
    { name: 'c', class: 'big', min: 0, max: 3 },
  ],
});
const [small, big] = doc.classes as [typeof doc.classes[0], typeof doc.classes[0]];

describe('infra objects (pure)', () => {
  it('sums warm-pool CPU per class in the whole nodes its placeholders take', () => {
    assert.equal(warmPoolMaxCpu(small, doc.pools), (4 + 2) * 2);
    assert.equal(warmPoolMaxCpu(big, doc.pools), 3 * 8);
    // Two per node: 6 placeholders take 3 nodes of 4 vCPU; 5 would take 3 as well.
    assert.equal(warmPoolMaxCpu({ ...small, runnersPerNode: 2 }, doc.pools), 3 * 4);
    assert.equal(warmPoolMaxCpu({ ...small, runnersPerNode: 2 }, doc.pools.map((p) => (p.name === 'b' ? { ...p, max: 1 } : p))), 3 * 4);
  });

  it('starts nodes with the image-warming startup taint only when placeholders pre-pull the runner image', () => {
    const on = nodePoolSpec(small, { consolidateAfter: '1m', expireAfter: '720h', prePullImages: true }).template.spec;
    assert.deepEqual(on.startupTaints, [{ key: IMAGE_WARMING_TAINT.key, value: IMAGE_WARMING_TAINT.value, effect: 'NoSchedule' }]);
    assert.deepEqual(on.taints.map((t) => t.key), [RUNNER_TAINT.key], 'the runner taint stays a plain taint');
    const off = nodePoolSpec(small, { consolidateAfter: '1m', expireAfter: '720h', prePullImages: false }).template.spec;
    assert.equal('startupTaints' in off, false, 'a Ready placeholder would not prove the image is there');
  });

  it('pins each NodePool to instances of exactly its class\'s size', () => {
    const req = (c: typeof small) => new Map(nodePoolSpec(c, { consolidateAfter: '1m', expireAfter: '720h' }).template.spec.requirements.map((r) => [r.key, r.values]));
    assert.deepEqual(req(big).get('karpenter.k8s.aws/instance-cpu'), ['8']);
    assert.deepEqual(req(big).get('karpenter.k8s.aws/instance-memory'), ['32768']);
    assert.deepEqual(req(big).get('karpenter.k8s.aws/instance-family'), ['m7i']);
    assert.deepEqual(req({ ...small, runnersPerNode: 2 }).get('karpenter.k8s.aws/instance-cpu'), ['4']);
    assert.deepEqual(req({ ...small, runnersPerNode: 2 }).get('karpenter.k8s.aws/instance-memory'), ['16384']);
  });

  it('scopes quotas by priority class so placeholders never use the runners\' quota', () => {
    assert.equal(maxRunners(small), 32);
    const q = runnerQuotas(doc.runner, doc.classes, doc.pools);
    // A runner requests what its node has after reserves and DaemonSets: m7g.large 1930m / 6844 MiB − 180m / 104 MiB,
    // m7i.2xlarge 7910m / 29317 MiB − the same (allocatable.md's table, daemonsets.ts).
    const pod = { small: { cpu: 1750, mem: 6740 }, big: { cpu: 7730, mem: 29213 } };
    assert.deepEqual(q.runners.hard, {
      pods: String(32 + 8), 'requests.cpu': `${32 * pod.small.cpu + 8 * pod.big.cpu}m`, 'requests.memory': `${32 * pod.small.mem + 8 * pod.big.mem}Mi`,
    });
    assert.deepEqual(q.runners.scopeSelector.matchExpressions[0]!.values, [doc.runner.priorityClassName]);
    assert.deepEqual(q.placeholders.hard, {
      pods: '9', 'requests.cpu': `${6 * pod.small.cpu + 3 * pod.big.cpu}m`, 'requests.memory': `${6 * pod.small.mem + 3 * pod.big.mem}Mi`,
    });
    assert.deepEqual(q.placeholders.scopeSelector.matchExpressions[0]!.values, [doc.runner.placeholderPriorityClassName]);
    assert.equal(q.objects.hard['count/jobs.batch'], String(2 * 40 + 10));
  });

  it('lets an expired node wait for its runner to finish', () => {
    assert.equal(nodePoolSpec(big, { consolidateAfter: '1m', expireAfter: '720h' }).template.spec.terminationGracePeriod, '70m');
  });

  it('matches interruption events by the literal "detail-type" key', () => {
    for (const rule of INTERRUPTION_RULES) {
      const pattern = JSON.parse(interruptionEventPattern(rule));
      assert.deepEqual(pattern, { source: [rule.source], 'detail-type': [rule.detailType] });
    }
  });

  it('one node class per distinct disk size, smallest first', () => {
    assert.deepEqual(distinctDiskSizes([...doc.classes, small]), [50, 200]);
  });

  it('scopes every mutating controller permission to the cluster, queue or node role', () => {
    const policy = controllerPolicy({ partition: 'aws', region: 'eu-west-1', clusterName: 'c1', nodeRoleArn: 'arn:aws:iam::1:role/n', queueArn: 'arn:aws:sqs:eu-west-1:1:q' });
    const readOnly = /^(ec2:Describe|ssm:Get|pricing:Get|iam:(Get|List)|eks:Describe|sqs:(Get|Receive|Delete))/;
    for (const st of policy.Statement) {
      const actions = ([] as string[]).concat(st.Action);
      if (st.Resource === '*') assert.ok(actions.every((a) => readOnly.test(a)), `${st.Sid} grants ${actions} on *`);
      if (actions.some((a) => /Terminate|Delete|CreateTags|CreateLaunchTemplate/.test(a) && !a.startsWith('sqs:')))
        assert.ok(JSON.stringify(st.Condition ?? {}).includes('kubernetes.io/cluster/c1'), `${st.Sid} is not scoped to the cluster`);
    }
    assert.ok(!JSON.stringify(policy).includes('iam:CreateInstanceProfile'));
  });

  it('renders the same document bytes whatever the key order of the input', () => {
    const a = renderConfigDocument(doc);
    const shuffled = JSON.parse(JSON.stringify(doc), (_k, v) =>
      v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v);
    assert.equal(renderConfigDocument(shuffled).json, a.json);
    assert.deepEqual(parseConfigDocument(JSON.parse(a.json)), parseConfigDocument(a.document));
  });
});
