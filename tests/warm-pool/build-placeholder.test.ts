import assert from 'node:assert/strict';
import type { V1Container } from '@kubernetes/client-node';
import { parseConfigDocument } from '../../runtime/config/document.ts';
import {
  buildPlaceholderDeployment, placeholderName,
} from '../../runtime/controllers/warm-pool/build-placeholder.ts';
import { priorityClasses } from '../../infra/runner-guardrails.ts';
import { ANNOTATION, COMPONENT, IMAGE_WARMING_TAINT, LABEL, MANAGED_BY } from '../../runtime/k8s/labels.ts';
import { buildClassPodTemplate, classPlacement } from '../../runtime/k8s/pod-template.ts';

const doc = parseConfigDocument({
  classes: [
    { name: '4cpu-linux-arm64', arch: 'arm64', cpu: 4, memoryGiB: 16, diskGiB: 50, instanceFamilies: ['c7g'], nodePoolCpuLimit: 100 },
    { name: '3cpu-odd', arch: 'amd64', cpu: 3, memoryGiB: 5.5, diskGiB: 30, instanceFamilies: ['m7i'], nodePoolCpuLimit: 30 },
  ],
  pools: [
    { name: 'default', class: '4cpu-linux-arm64', min: 2, max: 8 },
    { name: 'odd', class: '3cpu-odd', min: 0, max: 2 },
  ],
});
const [c4, c3] = doc.classes as [typeof doc.classes[0], typeof doc.classes[0]];
const [pool, oddPool] = doc.pools as [typeof doc.pools[0], typeof doc.pools[0]];
const build = (replicas = 3, runner = doc.runner, p = pool, c = c4) => buildPlaceholderDeployment(runner, p, c, 'runners', replicas);

const milli = (q: string) => (q.endsWith('m') ? Number(q.slice(0, -1)) : Number(q) * 1000);
const mebi = (q: string) => (q.endsWith('Mi') ? Number(q.slice(0, -2)) : q.endsWith('Gi') ? Number(q.slice(0, -2)) * 1024 : NaN);

/** What the scheduler counts for a pod: regular containers plus native sidecars (restartPolicy Always init containers). */
function effectiveRequests(containers: V1Container[], sidecars: V1Container[] = []) {
  const all = [...containers, ...sidecars.filter((c) => c.restartPolicy === 'Always')];
  return {
    cpu: all.reduce((s, c) => s + milli(String(c.resources?.requests?.cpu)), 0),
    memory: all.reduce((s, c) => s + mebi(String(c.resources?.requests?.memory)), 0),
  };
}

describe('buildPlaceholderDeployment', () => {
  it('names, labels and selects the pool\'s placeholders', () => {
    const d = build();
    assert.equal(d.metadata?.name, 'placeholder-default');
    assert.equal(placeholderName('default'), 'placeholder-default');
    assert.equal(d.metadata?.namespace, 'runners');
    assert.equal(d.spec?.replicas, 3);
    const labels = d.spec!.template.metadata!.labels!;
    assert.equal(labels[LABEL.component], COMPONENT.placeholder);
    assert.equal(labels[LABEL.pool], 'default');
    assert.equal(labels[LABEL.class], '4cpu-linux-arm64');
    assert.equal(labels[LABEL.managedBy], MANAGED_BY);
    assert.deepEqual(d.metadata?.labels, labels);
    for (const [k, v] of Object.entries(d.spec!.selector.matchLabels!)) assert.equal(labels[k], v, `selector ${k} matches the template`);
    assert.equal(d.spec!.selector.matchLabels![LABEL.class], undefined, 'class stays out of the immutable selector');
  });

  it('requests exactly what a runner pod of the class requests, with limits equal to requests', () => {
    for (const [p, c] of [[pool, c4], [oddPool, c3]] as const) {
      const d = build(1, doc.runner, p, c);
      const runner = buildClassPodTemplate(c, doc.runner).spec!;
      const placeholder = d.spec!.template.spec!;
      assert.deepEqual(effectiveRequests(placeholder.containers), effectiveRequests(runner.containers, runner.initContainers));
      const res = placeholder.containers[0]!.resources!;
      assert.deepEqual(res.limits, res.requests);
    }
    // 4 vCPU / 16 GiB in c7g: the catalog has no such size, so the budget is Karpenter's estimate for that size
    // (4000m − 80m kube-reserved − 180m DaemonSets; see tests/capacity/runner-size.test.ts for the catalog cases).
    assert.equal(build().spec!.template.spec!.containers[0]!.resources!.requests!.cpu, '3740m');
  });

  it('runs pause on the class\'s tainted nodes at the placeholder priority, and dies at once', () => {
    const spec = build().spec!.template.spec!;
    const placement = classPlacement(c4);
    assert.deepEqual(spec.nodeSelector, placement.nodeSelector);
    const warming = { key: IMAGE_WARMING_TAINT.key, operator: 'Equal', value: IMAGE_WARMING_TAINT.value, effect: IMAGE_WARMING_TAINT.effect };
    assert.deepEqual(spec.tolerations, [...placement.tolerations, warming], 'the runner taint, and the image-warming one: placeholders are what warms a new node');
    const runnerTolerations = buildClassPodTemplate(c4, doc.runner).spec!.tolerations!;
    assert.ok(!runnerTolerations.some((t) => t.key === IMAGE_WARMING_TAINT.key), 'runners wait for the image');
    assert.equal(spec.priorityClassName, doc.runner.placeholderPriorityClassName);
    assert.equal(spec.terminationGracePeriodSeconds, 0);
    assert.equal(spec.containers.length, 1);
    assert.equal(spec.containers[0]!.image, doc.runner.pauseImage);
    const custom = build(1, { ...doc.runner, pauseImage: 'mirror.example/pause:3.10', placeholderPriorityClassName: 'warm' }).spec!.template.spec!;
    assert.equal(custom.containers[0]!.image, 'mirror.example/pause:3.10');
    assert.equal(custom.priorityClassName, 'warm');
  });

  it('holds no token, no secret, no privilege, and stays disruptable', () => {
    const d = build();
    const spec = d.spec!.template.spec!;
    assert.equal(spec.automountServiceAccountToken, false);
    assert.equal(spec.securityContext?.runAsNonRoot, true);
    for (const c of [...spec.containers, ...spec.initContainers!]) {
      const sc = c.securityContext!;
      assert.equal(sc.allowPrivilegeEscalation, false, c.name);
      assert.equal(sc.readOnlyRootFilesystem, true, c.name);
      assert.deepEqual(sc.capabilities?.drop, ['ALL'], c.name);
      assert.equal(sc.privileged, undefined, c.name);
      assert.equal(c.env, undefined, c.name);
      assert.equal(c.volumeMounts, undefined, c.name);
    }
    assert.equal(spec.volumes, undefined);
    const json = JSON.stringify(d);
    assert.ok(!/secret/i.test(json), 'nothing refers to a Secret');
    assert.ok(!json.includes(ANNOTATION.doNotDisrupt), 'karpenter may consolidate placeholder nodes');
  });

  it('pulls the runner and Docker images in init containers that only run `true`, without adding to its request', () => {
    const spec = build().spec!.template.spec!;
    const inits = spec.initContainers!;
    assert.deepEqual(inits.map((c) => [c.name, c.image, c.command]), [
      ['prepull-runner', doc.runner.image, ['true']],
      ['prepull-dind', doc.runner.dindImage, ['true']],
    ]);
    for (const c of inits) {
      assert.equal(c.restartPolicy, undefined, `${c.name} runs to completion: not a sidecar`);
      assert.deepEqual(c.resources!.limits, c.resources!.requests);
      // The scheduler counts max(any init container, Σ containers): the placeholder still asks for a runner's size.
      assert.ok(milli(String(c.resources!.requests!.cpu)) < milli(String(spec.containers[0]!.resources!.requests!.cpu)));
      assert.ok(mebi(String(c.resources!.requests!.memory)) < mebi(String(spec.containers[0]!.resources!.requests!.memory)));
    }
    const mirrored = build(1, { ...doc.runner, image: 'mirror.example/runner:2.328.0', dindImage: 'mirror.example/dind:28' }).spec!.template.spec!;
    assert.deepEqual(mirrored.initContainers!.map((c) => c.image), ['mirror.example/runner:2.328.0', 'mirror.example/dind:28']);
    const off = build(1, { ...doc.runner, prePullImages: false }).spec!.template.spec!;
    assert.equal(off.initContainers, undefined);
    assert.equal(off.containers.length, 1);
  });

  it('carries a template hash that ignores replicas and follows everything else', () => {
    const hash = (d: ReturnType<typeof build>) => d.metadata!.annotations![LABEL.templateHash];
    assert.match(hash(build())!, /^[0-9a-f]{16}$/);
    assert.equal(hash(build(3)), hash(build(7)));
    assert.notEqual(hash(build()), hash(build(3, { ...doc.runner, pauseImage: 'registry.k8s.io/pause:3.9' })));
    assert.notEqual(hash(build()), hash(build(3, { ...doc.runner, image: 'ghcr.io/actions/actions-runner:2.329.0' })), 'a new runner image is pre-pulled by new placeholders');
    assert.notEqual(hash(build()), hash(build(3, { ...doc.runner, prePullImages: false })));
    assert.notEqual(hash(build()), hash(build(3, doc.runner, pool, { ...c4, cpu: 8 })));
    assert.notEqual(hash(build()), hash(build(3, doc.runner, pool, { ...c4, name: 'other' })));
  });
});

describe('placeholder PriorityClass (deployed by the Pulumi program)', () => {
  it('is negative, never preempts, is not the default, ranks below runners, and is the one placeholders use', () => {
    const { placeholder, runner } = priorityClasses(doc.runner);
    assert.ok(placeholder.value < 0 && placeholder.value < runner.value);
    assert.equal(placeholder.preemptionPolicy, 'Never');
    assert.equal(placeholder.globalDefault, false);
    const spec = buildPlaceholderDeployment(doc.runner, doc.pools[0]!, doc.classes.find((c) => c.name === doc.pools[0]!.class)!, 'runners', 1).spec!.template.spec!;
    assert.equal(spec.priorityClassName, placeholder.metadata.name);
  });
});
