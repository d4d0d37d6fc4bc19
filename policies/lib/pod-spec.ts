import { asArray, isObject, type Json } from './types.ts';

/**
 * Checks of one pod spec, each returning what is wrong in words (empty when fine).
 * Shared by the runner/placeholder policies and the orchestrator policies.
 */

export interface NamedContainer {
  /** `container "runner"`, `init container "dind"`. */
  label: string;
  name: string;
  c: Json;
}

export function containersOf(spec: Json): NamedContainer[] {
  const kinds: Array<[string, unknown]> = [
    ['init container', spec.initContainers],
    ['container', spec.containers],
    ['ephemeral container', spec.ephemeralContainers],
  ];
  return kinds.flatMap(([kind, list]) =>
    asArray(list).filter(isObject).map((c) => ({ label: `${kind} "${String(c.name)}"`, name: String(c.name), c })),
  );
}

export function hostAccessProblems(spec: Json): string[] {
  const problems: string[] = [];
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (spec[field] === true) problems.push(`${field} is true`);
  }
  for (const v of asArray(spec.volumes).filter(isObject)) {
    if (v.hostPath !== undefined) problems.push(`volume "${String(v.name)}" is a hostPath (${String(v.hostPath?.path ?? '?')})`);
  }
  return problems;
}

export function serviceAccountTokenProblems(spec: Json): string[] {
  return spec.automountServiceAccountToken === false ? [] : ['automountServiceAccountToken is not false (the pod would get an API token)'];
}

export function privilegedProblems(spec: Json, allowed: readonly string[]): string[] {
  return containersOf(spec)
    .filter(({ c, name }) => c.securityContext?.privileged === true && !allowed.includes(name))
    .map(({ label }) => `${label} is privileged`);
}

export interface ResourceRules {
  requests: boolean;
  cpuLimit: boolean;
}

export function resourceProblems(spec: Json, rules: ResourceRules): string[] {
  const problems: string[] = [];
  for (const { label, c } of containersOf(spec)) {
    const missing: string[] = [];
    if (rules.requests) {
      if (c.resources?.requests?.cpu === undefined) missing.push('requests.cpu');
      if (c.resources?.requests?.memory === undefined) missing.push('requests.memory');
    }
    if (rules.cpuLimit && c.resources?.limits?.cpu === undefined) missing.push('limits.cpu');
    if (c.resources?.limits?.memory === undefined) missing.push('limits.memory');
    if (missing.length) problems.push(`${label} has no ${missing.join(', ')}`);
  }
  return problems;
}

/** `:latest`, or no tag and no digest (which pulls `:latest`). */
export function unpinnedImage(image: unknown): boolean {
  if (typeof image !== 'string' || image === '') return true;
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return false;
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  return colon < 0 || lastSegment.slice(colon + 1) === 'latest';
}

export function imageProblems(spec: Json): string[] {
  return containersOf(spec)
    .filter(({ c }) => unpinnedImage(c.image))
    .map(({ label, c }) => `${label} uses image ${JSON.stringify(c.image ?? '')}, which is not pinned to a tag or digest other than :latest`);
}

export function readOnlyRootProblems(spec: Json): string[] {
  return containersOf(spec)
    .filter(({ c }) => c.securityContext?.readOnlyRootFilesystem !== true)
    .map(({ label }) => `${label} has no securityContext.readOnlyRootFilesystem: true`);
}
