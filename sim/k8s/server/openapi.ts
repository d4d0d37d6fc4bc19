import { groupVersions, RESOURCES } from '../api/resources.ts';

/**
 * A minimal OpenAPI v3 surface: no schemas, just each resource's PATCH operation tagged with
 * its group/version/kind and the fieldValidation parameter. kubectl reads it to learn that the
 * server validates fields itself, and then skips client-side validation (which would need the
 * full schemas and otherwise fails with "failed to download openapi").
 */
export function openApiV3Root() {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const { group, version } of groupVersions()) {
    const p = group ? `apis/${group}/${version}` : `api/${version}`;
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}` };
  }
  return { paths };
}

export function openApiV3GroupVersion(gvPath: string) {
  const paths: Record<string, unknown> = {};
  for (const t of RESOURCES) {
    const prefix = t.group ? `apis/${t.group}/${t.version}` : `api/${t.version}`;
    if (prefix !== gvPath) continue;
    const item = `/${prefix}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.plural}/{name}`;
    const gvk = { group: t.group, version: t.version, kind: t.kind };
    const params = ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map((name) => ({ name, in: 'query', schema: { type: 'string' } }));
    paths[item] = {
      patch: { 'x-kubernetes-action': 'patch', 'x-kubernetes-group-version-kind': gvk, parameters: params, responses: { '200': { description: 'OK' } } },
      put: { 'x-kubernetes-action': 'put', 'x-kubernetes-group-version-kind': gvk, parameters: params, responses: { '200': { description: 'OK' } } },
    };
  }
  if (Object.keys(paths).length === 0) return undefined;
  return { openapi: '3.0.0', info: { title: 'Kubernetes (runs-fleet sim)', version: 'v1.34.0' }, paths, components: { schemas: {} } };
}
