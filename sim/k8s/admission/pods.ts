import { jsonEqual } from '../api/equal.ts';
import { errors } from '../api/errors.ts';
import type { Admission, Registry } from '../api/registry.ts';
import { resource } from '../api/resources.ts';
import type { Stored } from '../api/types.ts';
import { defaultPodSpec, validatePodSpec } from './pod-spec.ts';

const podsT = resource('pods');

export const podAdmission: Admission = {
  create(pod, api) {
    const causes = validatePodSpec(pod.spec, 'spec');
    if (causes.length) throw errors.invalid(podsT, pod.metadata.name, causes);
    defaultPodSpec(pod.spec);
    resolvePriority(pod, api);
    pod.status = { phase: 'Pending', qosClass: qosClass(pod) };
  },
  update(next, old) {
    // Pod specs are immutable apart from a few fields (images, deadlines, added tolerations).
    const strip = (spec: any) => {
      const s = structuredClone(spec ?? {});
      for (const c of [...(s.containers ?? []), ...(s.initContainers ?? [])]) delete c.image;
      delete s.activeDeadlineSeconds;
      delete s.tolerations;
      delete s.schedulingGates;
      return s;
    };
    if (!jsonEqual(strip(next.spec), strip(old.spec)))
      throw errors.invalid(podsT, old.metadata.name, [
        { field: 'spec', message: 'Forbidden: pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations)' },
      ]);
  },
};

/** The Priority admission plugin: priorityClassName → spec.priority and spec.preemptionPolicy. */
function resolvePriority(pod: Stored, api: Registry): void {
  const spec = pod.spec;
  const pcT = resource('priorityclasses');
  let value = 0;
  let policy = 'PreemptLowerPriority';
  if (spec.priorityClassName) {
    const pc = api.find(pcT, '', spec.priorityClassName);
    if (!pc) throw errors.forbidden(podsT, pod.metadata.name, `no PriorityClass with name ${spec.priorityClassName} was found`);
    value = pc.value;
    policy = pc.preemptionPolicy ?? policy;
  } else {
    const def = [...api.store.iterate(pcT)].filter((pc) => pc.globalDefault).sort((a, b) => b.value - a.value)[0];
    if (def) {
      spec.priorityClassName = def.metadata.name;
      value = def.value;
      policy = def.preemptionPolicy ?? policy;
    }
  }
  if (spec.priority !== undefined && spec.priority !== value)
    throw errors.forbidden(podsT, pod.metadata.name, `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${value} from the given PriorityClass name`);
  if (spec.preemptionPolicy !== undefined && spec.preemptionPolicy !== policy)
    throw errors.forbidden(podsT, pod.metadata.name, `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name`);
  spec.priority = value;
  spec.preemptionPolicy = policy;
}

function qosClass(pod: Stored): string {
  // Pod-level resources, when set, decide the class (KEP-2837).
  const podLevel = pod.spec.resources;
  if (podLevel?.requests || podLevel?.limits) {
    const req = podLevel.requests ?? {};
    const lim = podLevel.limits ?? {};
    return ['cpu', 'memory'].every((k) => lim[k] !== undefined && String(req[k] ?? lim[k]) === String(lim[k])) ? 'Guaranteed' : 'Burstable';
  }
  const containers = [...(pod.spec.containers ?? []), ...(pod.spec.initContainers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
    for (const k of ['cpu', 'memory']) if (lim[k] === undefined || String(req[k] ?? lim[k]) !== String(lim[k])) guaranteed = false;
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
