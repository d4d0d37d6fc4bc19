import { errors } from '../api/errors.ts';
import type { Admission } from '../api/registry.ts';
import { resource } from '../api/resources.ts';
import type { Stored } from '../api/types.ts';

/** Secrets: stringData is write-only convenience, merged into base64 data as the API server does. */
export const secretAdmission: Admission = {
  create: normaliseSecret,
  update: (next) => normaliseSecret(next),
};

function normaliseSecret(s: Stored): void {
  s.type ??= 'Opaque';
  if (s.stringData && typeof s.stringData === 'object') {
    s.data = { ...(s.data ?? {}) };
    for (const [k, v] of Object.entries(s.stringData as Record<string, string>)) s.data[k] = Buffer.from(String(v)).toString('base64');
  }
  delete s.stringData;
}

export const namespaceAdmission: Admission = {
  create(ns) {
    ns.metadata.labels = { ...(ns.metadata.labels ?? {}), 'kubernetes.io/metadata.name': ns.metadata.name };
    ns.spec = { finalizers: ['kubernetes'], ...(ns.spec ?? {}) };
    ns.status = { phase: 'Active' };
  },
};

const pcT = resource('priorityclasses');

export const priorityClassAdmission: Admission = {
  create(pc) {
    if (typeof pc.value !== 'number' || !Number.isInteger(pc.value))
      throw errors.invalid(pcT, pc.metadata.name, [{ field: 'value', message: 'Required value: an integer priority' }]);
    if (pc.value > 1_000_000_000 && !pc.metadata.name.startsWith('system-'))
      throw errors.forbidden(pcT, pc.metadata.name, 'maximum allowed value of a user defined priority is 1000000000');
    pc.preemptionPolicy ??= 'PreemptLowerPriority';
    pc.globalDefault ??= false;
  },
  update(next, old) {
    if (next.value !== old.value) throw errors.invalid(pcT, old.metadata.name, [{ field: 'value', message: 'Forbidden: may not be changed in an update.' }]);
    if (next.preemptionPolicy !== old.preemptionPolicy)
      throw errors.invalid(pcT, old.metadata.name, [{ field: 'preemptionPolicy', message: 'Invalid value: field is immutable' }]);
  },
};

/** Nodes posted by a client (tests, kubectl) without a status get a Ready one with modest capacity. */
export const nodeAdmission: Admission = {
  create(node) {
    const status = (node.status ??= {});
    status.capacity ??= { cpu: '4', memory: '16Gi', pods: '110' };
    status.allocatable ??= { ...status.capacity };
    status.conditions ??= [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastTransitionTime: node.metadata.creationTimestamp }];
    node.spec ??= {};
  },
};
