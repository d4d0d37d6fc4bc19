import { requirementAdmits, type Requirement } from '../../../runtime/capacity/catalog.ts';
import type { KObject } from '../api/types.ts';

interface Taint {
  key: string;
  value?: string;
  effect: string;
}

interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

/** Whether the toleration admits the taint (Kubernetes' ToleratesTaint). */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if ((t.operator ?? 'Equal') === 'Exists') return !t.key || t.key === taint.key;
  return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
}

/** The first NoSchedule/NoExecute taint the pod does not tolerate, if any. */
export function untoleratedTaint(pod: KObject, taints: Taint[] | undefined): Taint | undefined {
  const tolerations = (pod.spec?.tolerations ?? []) as Toleration[];
  return (taints ?? []).find((taint) => taint.effect !== 'PreferNoSchedule' && !tolerations.some((t) => tolerates(t, taint)));
}

/** The API's node-selector semantics, shared with the capacity catalog; an unknown operator admits nothing. */
export function requirementMatches(req: NodeSelectorRequirement, labels: Record<string, string>): boolean {
  return requirementAdmits(req as Requirement, labels) === true;
}

/** nodeSelector plus required node affinity (terms OR'd, expressions AND'd) against node labels. */
export function nodeLabelsMatch(pod: KObject, labels: Record<string, string>, nodeName?: string): boolean {
  for (const [k, v] of Object.entries((pod.spec?.nodeSelector ?? {}) as Record<string, string>)) if (labels[k] !== v) return false;
  const terms = requiredTerms(pod);
  if (terms.length === 0) return true;
  return terms.some(
    (term) =>
      (term.matchExpressions ?? []).every((r) => requirementMatches(r, labels)) &&
      (term.matchFields ?? []).every((r) => r.key !== 'metadata.name' || requirementMatches({ ...r, key: 'n' }, { n: nodeName ?? '' })),
  );
}

export function requiredTerms(pod: KObject): { matchExpressions?: NodeSelectorRequirement[]; matchFields?: NodeSelectorRequirement[] }[] {
  return pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
}
