import type { KObject } from '../api/types.ts';

export function isTerminal(pod: KObject): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

export function isDeleting(obj: KObject): boolean {
  return !!obj.metadata.deletionTimestamp;
}

export function podPriority(pod: KObject): number {
  return typeof pod.spec?.priority === 'number' ? pod.spec.priority : 0;
}

export function podKey(pod: KObject): string {
  return `${pod.metadata.namespace}/${pod.metadata.name}`;
}

export function isDaemonPod(pod: KObject): boolean {
  return (pod.metadata.ownerReferences ?? []).some((r) => r.kind === 'DaemonSet');
}

export function controllerRef(obj: KObject) {
  return (obj.metadata.ownerReferences ?? []).find((r) => r.controller);
}

export function findCondition(obj: KObject, type: string): { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string } | undefined {
  return (obj.status?.conditions ?? []).find((c: { type: string }) => c.type === type);
}

export function conditionTrue(obj: KObject, type: string): boolean {
  return findCondition(obj, type)?.status === 'True';
}

/**
 * Sets a condition on a status being built (mutates `status`); keeps lastTransitionTime when the
 * status value did not change. Returns whether anything changed.
 */
export function setCondition(
  status: { conditions?: any[] },
  cond: { type: string; status: string; reason?: string; message?: string },
  time: string,
  extra: Record<string, unknown> = {},
): boolean {
  const list = (status.conditions ??= []);
  const i = list.findIndex((c) => c.type === cond.type);
  const prev = list[i];
  if (prev && prev.status === cond.status && prev.reason === cond.reason && prev.message === cond.message) return false;
  const next = {
    type: cond.type,
    status: cond.status,
    ...extra,
    lastTransitionTime: prev && prev.status === cond.status ? prev.lastTransitionTime : time,
    ...(cond.reason !== undefined ? { reason: cond.reason } : {}),
    ...(cond.message !== undefined ? { message: cond.message } : {}),
  };
  if (i >= 0) list[i] = next;
  else list.push(next);
  return true;
}
