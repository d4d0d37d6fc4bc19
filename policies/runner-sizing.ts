import type { ResourceValidationPolicy, StackValidationPolicy } from '@pulumi/policy';
import { effectiveRequest, type PodSpecLike } from '../runtime/capacity/pod-request.ts';
import { bytes, cpuMilli } from '../runtime/capacity/quantity.ts';
import { INSTANCE_LABEL } from '../runtime/capacity/catalog.ts';
import { nodeSize, runnerAllotment, sizingProblems, type Share } from '../runtime/capacity/runner-size.ts';
import type { RunnerClass } from '../runtime/config/document.ts';
import { describe, onType } from './lib/define.ts';
import { documentClasses, documentJson, isConfigDocumentMap } from './lib/config-document.ts';
import { asArray, isObject, TYPE, type Json } from './lib/types.ts';

/**
 * A class names the instance size its runners run on. If its runner pod does not fit that
 * instance's allocatable after the DaemonSets, Karpenter launches the next size up (twice
 * the price, half the runners the limits assume) or, with the NodePool pinned to the size,
 * nothing at all. These rules check the classes and their rendered pod templates against
 * the one sizing computation (runtime/capacity/runner-size.ts).
 */

const MiB = 2 ** 20;
const fmt = (s: Share) => `${s.cpuMilli}m CPU / ${s.memoryMiB} MiB`;

/** The kubelet's effective request (pod-level requests, when set, replace the containers' count). */
function podTemplateRequest(spec: Json): Share {
  const r = effectiveRequest(spec as PodSpecLike);
  return { cpuMilli: r.cpuMilli, memoryMiB: Math.ceil(r.memoryBytes / MiB) };
}

/** What runner and dind may use together: the pod-level limit, else the sum of the containers' limits (unset: unbounded). */
function podTemplateLimit(spec: Json): Share {
  const pod = isObject(spec.resources?.limits) ? spec.resources.limits : {};
  const containers = [...asArray(spec.containers), ...asArray(spec.initContainers).filter((c) => c?.restartPolicy === 'Always')];
  const sum = (key: 'cpu' | 'memory', parse: (q: unknown) => number) =>
    containers.reduce((acc, c) => (c?.resources?.limits?.[key] === undefined ? Infinity : acc + parse(c.resources.limits[key])), 0);
  return {
    cpuMilli: pod.cpu !== undefined ? cpuMilli(pod.cpu) : sum('cpu', cpuMilli),
    memoryMiB: pod.memory !== undefined ? bytes(pod.memory) / MiB : sum('memory', bytes) / MiB,
  };
}

function templateProblems(cls: RunnerClass, at: string): string[] {
  const spec = (cls.podTemplate as Json | undefined)?.spec;
  if (!isObject(spec)) return [];
  const budget = runnerAllotment(cls).pod;
  const fix = `let the program render ${at}.podTemplate again (pulumi up; buildClassPodTemplate in runtime/k8s/pod-template.ts sizes it)`;
  const problems: string[] = [];
  const req = podTemplateRequest(spec);
  if (req.cpuMilli > budget.cpuMilli || req.memoryMiB > budget.memoryMiB)
    problems.push(`class "${cls.name}" (${at}): its runner pod template requests ${fmt(req)}, more than the ${fmt(budget)} an instance of its size has for it after the DaemonSets, so it will not schedule there. Fix: ${fix}`);
  const limit = podTemplateLimit(spec);
  if (limit.memoryMiB > budget.memoryMiB)
    problems.push(`class "${cls.name}" (${at}): its runner and Docker containers may together use ${Number.isFinite(limit.memoryMiB) ? `${limit.memoryMiB} MiB` : 'unbounded'} memory, more than the pod's ${budget.memoryMiB} MiB. Fix: ${fix}`);
  return problems;
}

export const runnerClassFitsInstance: ResourceValidationPolicy = {
  name: 'runner-class-fits-instance',
  description: 'Every runner class has an instance of its size in its families, and its runner pod (runner + Docker sidecar, as the kubelet counts it) fits that instance’s allocatable after the DaemonSets, with runner and Docker limited together to that budget.',
  enforcementLevel: 'mandatory',
  severity: 'high',
  validateResource: onType(TYPE.configMap, (props, args, report) => {
    if (!isConfigDocumentMap(props)) return args.notApplicable('not the runs-fleet config document');
    const read = documentJson(props);
    if (!read.ok) return; // runner-pods-* report an unreadable document.
    const label = describe('ConfigMap', props, args.name);
    for (const [i, cls] of documentClasses(read.raw).entries()) {
      if (typeof cls.cpu !== 'number' || typeof cls.memoryGiB !== 'number' || !Array.isArray(cls.instanceFamilies)) continue; // the program rejects these
      const at = `runs-fleet:classes[${i}]`;
      const problems = sizingProblems(cls, at);
      for (const p of problems.length ? problems : templateProblems(cls, at)) report(`${label}: ${p}.`);
    }
  }),
};

/** The values a NodePool requirement on `key` admits with operator In; undefined when there is no such requirement. */
function requirementValues(np: Json, key: string): string[] | undefined {
  const r = asArray(np.spec?.template?.spec?.requirements).find((x) => x?.key === key && x?.operator === 'In');
  return r ? asArray(r.values).map(String) : undefined;
}

export const nodePoolMatchesClassSize: StackValidationPolicy = {
  name: 'nodepool-matches-class-size',
  description: 'Each runner class’s NodePool admits only instances of the class’s size (instance-cpu and instance-memory), the size its runner pod is cut to fit.',
  enforcementLevel: 'mandatory',
  severity: 'medium',
  validateStack: (args, report) => {
    const doc = args.resources.find((r) => r.type === TYPE.configMap && isConfigDocumentMap(r.props));
    const read = doc ? documentJson(doc.props) : undefined;
    const nodePools = args.resources.filter((r) => r.type === TYPE.nodePool);
    if (!read?.ok || nodePools.length === 0) return args.notApplicable('no NodePools or no readable runs-fleet config document');
    const classes = new Map(documentClasses(read.raw).map((c, i) => [c.name, { cls: c, at: `runs-fleet:classes[${i}]` }]));
    for (const np of nodePools) {
      const found = classes.get(String(np.props.metadata?.name ?? ''));
      if (!found || typeof found.cls.cpu !== 'number' || typeof found.cls.memoryGiB !== 'number') continue;
      const { vcpu, memoryMiB } = nodeSize(found.cls);
      const cpu = requirementValues(np.props, INSTANCE_LABEL.cpu);
      const mem = requirementValues(np.props, INSTANCE_LABEL.memory);
      if (cpu?.length === 1 && cpu[0] === String(vcpu) && mem?.length === 1 && mem[0] === String(memoryMiB)) continue;
      report(`${describe('NodePool', np.props, np.name)} admits instance-cpu ${cpu ? `[${cpu.join(', ')}]` : 'of any size'} and instance-memory ${mem ? `[${mem.join(', ')}]` : 'of any size'}, ` +
        `but class "${found.cls.name}" (${found.at}) is cut to fit ${vcpu} vCPU / ${memoryMiB} MiB nodes: Karpenter could launch a larger, dearer type that the runners do not use. ` +
        `Fix: require ${INSTANCE_LABEL.cpu} In [${vcpu}] and ${INSTANCE_LABEL.memory} In [${memoryMiB}] (infra/karpenter-objects.ts nodePoolSpec uses runtime/capacity/class-requirements.ts).`, np.urn);
    }
  },
};

export const runnerSizingPolicies = [runnerClassFitsInstance, nodePoolMatchesClassSize];
