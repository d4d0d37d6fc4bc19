import assert from 'node:assert/strict';
import { buildRunnerObjects, runnerObjectName } from '../../runtime/k8s/build-runner-job.ts';
import { ANNOTATION, JIT_ENV, LABEL, NODE, RUNNER_TAINT } from '../../runtime/k8s/labels.ts';
import { runnerAllotment } from '../../runtime/capacity/runner-size.ts';
import { podRequests } from '../../runtime/k8s/pod-template.ts';
import { parseRunsOn } from '../../runtime/labels/parse.ts';
import { resolveRunner } from '../../runtime/labels/resolve.ts';
import { sampleDocument } from '../support/config.ts';
import { queuedJob } from '../support/jobs.ts';

const JIT = 'ZXlKaGJHY2lPaUpJVXpJMU5pSXNJblI1Y0NJNklrcFhWQ0o5LnNlY3JldA==';

function build(label: string, overrides = {}) {
  const doc = sampleDocument();
  const job = queuedJob({ jobId: 123, runAttempt: 2, labels: [label], ...overrides });
  const runner = resolveRunner(parseRunsOn(job.labels)!, doc);
  return { doc, queued: job, runner, ...buildRunnerObjects({ job, runner, doc, namespace: 'runners', runnerName: 'rf-4cpu-123-2-abc', encodedJitConfig: JIT }) };
}

describe('runner Job and Secret builder', () => {
  it('names objects deterministically from job id, attempt and requeue count', () => {
    assert.equal(runnerObjectName({ jobId: 5, runAttempt: 1 }), 'runner-5-1');
    assert.equal(runnerObjectName({ jobId: 5, runAttempt: 1, requeue: { reason: 'spot', count: 1 } }), 'runner-5-1-r1');
  });

  it('builds the Job as the brief specifies', () => {
    const { job: j, runner } = build('runs-fleet=1/runner=4cpu-linux-arm64/pool=default');
    assert.equal(j.metadata!.name, 'runner-123-2');
    assert.equal(j.spec!.backoffLimit, 0);
    assert.equal(j.spec!.ttlSecondsAfterFinished, 300);
    assert.equal(j.spec!.activeDeadlineSeconds, runner.class.maxDurationMinutes * 60);
    const meta = j.spec!.template.metadata!;
    assert.equal(meta.annotations![ANNOTATION.doNotDisrupt], 'true');
    assert.equal(meta.labels![LABEL.jobId], '123');
    assert.equal(meta.labels![LABEL.pool], 'default');
    assert.equal(meta.labels![LABEL.class], '4cpu-linux-arm64');
    const spec = j.spec!.template.spec!;
    assert.equal(spec.restartPolicy, 'Never');
    assert.equal(spec.automountServiceAccountToken, false);
    assert.equal(spec.priorityClassName, 'runs-fleet-runner');
    assert.deepEqual(spec.nodeSelector, { [LABEL.class]: '4cpu-linux-arm64', [NODE.arch]: 'arm64', [NODE.os]: 'linux' });
    assert.deepEqual(spec.tolerations, [{ key: RUNNER_TAINT.key, operator: 'Equal', value: 'true', effect: 'NoSchedule' }]);
  });

  it('runs Docker as the only privileged container, a native sidecar, and the runner locked down', () => {
    const spec = build('runs-fleet=1/runner=4cpu-linux-arm64').job.spec!.template.spec!;
    const all = [...(spec.initContainers ?? []), ...spec.containers];
    assert.deepEqual(all.filter((c) => c.securityContext?.privileged).map((c) => c.name), ['dind']);
    assert.equal(spec.initContainers![0]!.restartPolicy, 'Always');
    const runner = spec.containers.find((c) => c.name === 'runner')!;
    assert.equal(runner.image, 'ghcr.io/actions/actions-runner:2.336.0');
    assert.deepEqual(runner.command, ['/home/runner/run.sh']);
    assert.equal(runner.securityContext!.runAsNonRoot, true);
    assert.equal(runner.securityContext!.allowPrivilegeEscalation, false);
    assert.deepEqual(runner.securityContext!.capabilities!.drop, ['ALL']);
    for (const c of all) {
      assert.ok(c.resources?.requests?.cpu && c.resources.limits?.cpu, `${c.name} has cpu requests and limits`);
      assert.ok(!c.image!.endsWith(':latest'));
    }
  });

  it('puts the JIT config only in the Secret, referenced through ACTIONS_RUNNER_INPUT_JITCONFIG', () => {
    const { job: j, secret, name } = build('runs-fleet=1/runner=4cpu-linux-arm64');
    assert.equal(secret.metadata!.name, name);
    assert.equal(secret.stringData!.jitToken, JIT);
    assert.equal(secret.immutable, true);
    const runner = j.spec!.template.spec!.containers.find((c) => c.name === 'runner')!;
    const env = runner.env!.find((e) => e.name === JIT_ENV)!;
    assert.deepEqual(env.valueFrom!.secretKeyRef, { name, key: 'jitToken' });
    assert.ok(!JSON.stringify(j).includes(JIT), 'the JIT config must not appear in the Job');
    assert.ok(!(runner.args ?? []).join(' ').includes('jitconfig'));
  });

  it('sizes the pod within the class and pins on-demand, families and generation when asked', () => {
    const { job: j, runner: resolved } = build('runs-fleet=1/runner=8cpu-linux-arm64/cpu=2+4/spot=false/family=m7g/gen=7');
    const spec = j.spec!.template.spec!;
    const runner = spec.containers.find((c) => c.name === 'runner')!;
    const dind = spec.initContainers![0]!;
    const milli = (q: string) => Number(q.replace('m', ''));
    // Half the class (4 of 8 vCPU) gets half its budget: two such runners share one m7g.2xlarge.
    const half = Math.floor(runnerAllotment(resolved.class).pod.cpuMilli / 2);
    assert.equal(milli(runner.resources!.requests!.cpu!) + milli(dind.resources!.requests!.cpu!), half);
    assert.equal(podRequests(resolved.class, { cpu: 4, memoryGiB: 16 }).cpu, `${half}m`);
    assert.deepEqual(spec.resources, { requests: podRequests(resolved.class, { cpu: 4, memoryGiB: 16 }), limits: podRequests(resolved.class, { cpu: 4, memoryGiB: 16 }) });
    assert.equal(spec.nodeSelector![NODE.capacityType], 'on-demand');
    const terms = spec.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms[0]!.matchExpressions!;
    assert.deepEqual(terms.find((t) => t.key === NODE.instanceFamily)?.values, ['m7g']);
    assert.deepEqual(terms.find((t) => t.key === NODE.instanceGeneration)?.values, ['7']);
  });

  it('marks a re-provisioned runner as an infrastructure retry', () => {
    const { job: j, name } = build('runs-fleet=1/runner=2cpu-linux-arm64', { requeue: { reason: 'spot_interruption', count: 1 } });
    assert.equal(name, 'runner-123-2-r1');
    assert.match(j.metadata!.annotations![ANNOTATION.infraRetry]!, /spot_interruption/);
  });
});
