import type { AppsV1Api, V1Deployment } from '@kubernetes/client-node';
import { isAlreadyExists, isNotFound } from '../../k8s/client.ts';
import { LABEL, MANAGED_BY } from '../../k8s/labels.ts';
import { PermanentError } from '../../util/errors.ts';
import { patchFor, type JsonPatchOp, type PlaceholderAction } from './plan.ts';

export type ActionOutcome = 'created' | 'patched' | 'deleted' | 'unchanged' | 'gone';

/**
 * Performs one planned write. Idempotent: a create that finds the Deployment already
 * there (another leader, or a list that was stale) patches it instead; a delete of
 * something already gone is done; a patch of something deleted meanwhile waits for the
 * next pass, which will create it.
 */
export async function applyAction(apps: AppsV1Api, namespace: string, action: PlaceholderAction): Promise<ActionOutcome> {
  switch (action.kind) {
    case 'create':
      try {
        await apps.createNamespacedDeployment({ namespace, body: action.body });
        return 'created';
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
      return adopt(apps, namespace, action.body);
    case 'patch':
      return patch(apps, namespace, action.name, action.ops);
    case 'delete':
      try {
        await apps.deleteNamespacedDeployment({ name: action.name, namespace, propagationPolicy: 'Background' });
        return 'deleted';
      } catch (err) {
        if (isNotFound(err)) return 'gone';
        throw err;
      }
  }
}

async function adopt(apps: AppsV1Api, namespace: string, want: V1Deployment): Promise<ActionOutcome> {
  const name = want.metadata!.name!;
  let have: V1Deployment;
  try {
    have = await apps.readNamespacedDeployment({ name, namespace });
  } catch (err) {
    if (isNotFound(err)) return 'gone'; // deleted between our create and read: the next pass creates it
    throw err;
  }
  if (have.metadata?.labels?.[LABEL.managedBy] !== MANAGED_BY)
    throw new PermanentError(
      'name_taken',
      `Deployment ${namespace}/${name} exists but is not managed by runs-fleet; rename the pool or remove that Deployment`,
    );
  return patch(apps, namespace, name, patchFor(have, want).ops);
}

async function patch(apps: AppsV1Api, namespace: string, name: string, ops: JsonPatchOp[]): Promise<ActionOutcome> {
  if (!ops.length) return 'unchanged';
  try {
    // client-node sends a JSON patch (application/json-patch+json) by default.
    await apps.patchNamespacedDeployment({ name, namespace, body: ops });
    return 'patched';
  } catch (err) {
    if (isNotFound(err)) return 'gone';
    throw err;
  }
}
