import { cidrsOverlap } from '../../infra/cidr.ts';
import { asArray, isObject, type Json } from './types.ts';

/** NetworkPolicy reading: which pods a policy selects, what it restricts, and where egress may go. */

export function selectsAllPods(spec: Json): boolean {
  const sel = spec.podSelector;
  if (sel === undefined || sel === null) return true;
  return Object.keys(sel.matchLabels ?? {}).length === 0 && asArray(sel.matchExpressions).length === 0;
}

/** `policyTypes`, or what Kubernetes infers when it is absent. */
export function policyTypes(spec: Json): string[] {
  if (Array.isArray(spec.policyTypes)) return spec.policyTypes.map(String);
  return ['Ingress', ...(spec.egress !== undefined ? ['Egress'] : [])];
}

/** A policy that selects every pod and admits no ingress at all. */
export function isDefaultDenyIngress(spec: Json): boolean {
  return selectsAllPods(spec) && policyTypes(spec).includes('Ingress') && asArray(spec.ingress).length === 0;
}

/** A policy that selects every pod and restricts its egress. */
export function restrictsAllEgress(spec: Json): boolean {
  return selectsAllPods(spec) && policyTypes(spec).includes('Egress');
}

/**
 * How the policy's egress rules let pods reach `ip`, in words; undefined when none does.
 * Pod and namespace selectors only match pod addresses, never the link-local metadata
 * service, so only empty `to` lists and ipBlocks count. Ports are ignored: a rule that
 * admits the address on any port admits it on the metadata port too, conservatively.
 */
export function egressReaching(spec: Json, ip: string): string | undefined {
  if (!policyTypes(spec).includes('Egress')) return undefined;
  for (const [i, rule] of asArray(spec.egress).entries()) {
    const peers = asArray(rule?.to).filter(isObject);
    if (peers.length === 0) return `egress[${i}] has no "to", which admits every destination`;
    for (const peer of peers) {
      const block = peer.ipBlock;
      if (!isObject(block) || typeof block.cidr !== 'string') continue;
      const host = `${ip}/32`;
      if (cidrsOverlap(block.cidr, host) && !asArray(block.except).some((e) => typeof e === 'string' && cidrsOverlap(e, host)))
        return `egress[${i}] admits ipBlock ${block.cidr} without excepting ${ip}/32`;
    }
  }
  return undefined;
}
