import type { V1Deployment } from '@kubernetes/client-node';
import type { ConfigDocument } from '../../config/document.ts';
import { LABEL } from '../../k8s/labels.ts';
import { buildPlaceholderDeployment, placeholderName } from './build-placeholder.ts';
import type { PoolDecision } from './desired.ts';

/**
 * Compares the placeholder Deployments that should exist with those that do, and
 * returns the writes that close the gap — nothing when they already match. Pure; the
 * executor in apply.ts performs them.
 */

export interface JsonPatchOp {
  op: 'add' | 'replace' | 'remove' | 'test';
  path: string;
  value?: unknown;
}

export type PlaceholderAction =
  | { kind: 'create'; pool: string; body: V1Deployment }
  | { kind: 'patch'; pool: string; name: string; ops: JsonPatchOp[]; changes: Array<'replicas' | 'template'> }
  /** A Deployment of a pool no longer in the document, or one whose (immutable) selector is not ours. */
  | { kind: 'delete'; pool: string; name: string; why: 'pool_removed' | 'selector_changed' };

export function planPlaceholders(
  doc: ConfigDocument,
  namespace: string,
  decisions: readonly PoolDecision[],
  observed: ReadonlyMap<string, V1Deployment>,
): PlaceholderAction[] {
  const actions: PlaceholderAction[] = [];
  for (const decision of decisions) {
    const pool = doc.pools.find((p) => p.name === decision.pool);
    const cls = doc.classes.find((c) => c.name === decision.class);
    if (!pool || !cls) continue;
    const want = buildPlaceholderDeployment(doc.runner, pool, cls, namespace, decision.desired);
    const have = observed.get(pool.name);
    if (!have) actions.push({ kind: 'create', pool: pool.name, body: want });
    else if (!sameSelector(have, want)) actions.push({ kind: 'delete', pool: pool.name, name: have.metadata!.name!, why: 'selector_changed' });
    else {
      const patch = patchFor(have, want);
      if (patch.ops.length) actions.push({ kind: 'patch', pool: pool.name, name: want.metadata!.name!, ...patch });
    }
  }
  const pools = new Set(doc.pools.map((p) => p.name));
  for (const [pool, have] of observed)
    if (!pools.has(pool)) actions.push({ kind: 'delete', pool, name: have.metadata?.name ?? placeholderName(pool), why: 'pool_removed' });
  return actions;
}

/**
 * The JSON patch that turns `have` into `want`: replicas alone when only the count
 * changed; the whole template when its hash differs (a replace, so fields we stopped
 * setting disappear too, which a merge patch would leave behind). Empty when equal.
 */
export function patchFor(have: V1Deployment, want: V1Deployment): { ops: JsonPatchOp[]; changes: Array<'replicas' | 'template'> } {
  const ops: JsonPatchOp[] = [];
  const changes: Array<'replicas' | 'template'> = [];
  const hashKey = LABEL.templateHash;
  if (have.metadata?.annotations?.[hashKey] !== want.metadata?.annotations?.[hashKey]) {
    changes.push('template');
    ops.push(
      { op: 'add', path: '/metadata/labels', value: { ...have.metadata?.labels, ...want.metadata?.labels } },
      { op: 'add', path: '/metadata/annotations', value: { ...have.metadata?.annotations, ...want.metadata?.annotations } },
      { op: 'add', path: '/spec/strategy', value: want.spec!.strategy },
      { op: 'add', path: '/spec/revisionHistoryLimit', value: want.spec!.revisionHistoryLimit },
      { op: 'replace', path: '/spec/template', value: want.spec!.template },
    );
  }
  if (have.spec?.replicas !== want.spec?.replicas) {
    changes.push('replicas');
    ops.push({ op: 'add', path: '/spec/replicas', value: want.spec!.replicas });
  }
  return { ops, changes };
}

function sameSelector(a: V1Deployment, b: V1Deployment): boolean {
  const x = a.spec?.selector?.matchLabels ?? {};
  const y = b.spec?.selector?.matchLabels ?? {};
  const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
  return !a.spec?.selector?.matchExpressions?.length && [...keys].every((k) => x[k] === y[k]);
}
