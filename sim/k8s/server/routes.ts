import { errors } from '../api/errors.ts';
import { findResource, resource, type ResourceType } from '../api/resources.ts';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, SERVER_VERSION } from './discovery.ts';
import { openApiV3GroupVersion, openApiV3Root } from './openapi.ts';

export type Route =
  | { kind: 'static'; body: unknown; contentType?: string }
  | { kind: 'resource'; t: ResourceType; ns?: string; name?: string; sub?: string };

/** Maps a request path onto discovery documents or a resource (collection, object, subresource). */
export function route(path: string, host: string): Route {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const [root] = parts;
  if (parts.length === 1 && root === 'version') return { kind: 'static', body: SERVER_VERSION };
  if (parts.length === 1 && (root === 'healthz' || root === 'livez' || root === 'readyz')) return { kind: 'static', body: 'ok', contentType: 'text/plain' };
  if (root === 'openapi' && parts[1] === 'v3') {
    if (parts.length === 2) return { kind: 'static', body: openApiV3Root() };
    const doc = openApiV3GroupVersion(parts.slice(2).join('/'));
    if (!doc) throw errors.pathNotFound(path);
    return { kind: 'static', body: doc };
  }
  if (root === 'api') {
    if (parts.length === 1) return { kind: 'static', body: apiVersions(host) };
    if (parts[1] !== 'v1') throw errors.pathNotFound(path);
    return resourceRoute('', 'v1', parts.slice(2), path);
  }
  if (root === 'apis') {
    if (parts.length === 1) return { kind: 'static', body: apiGroupList() };
    const group = parts[1]!;
    if (parts.length === 2) {
      const g = apiGroup(group);
      if (!g) throw errors.pathNotFound(path);
      return { kind: 'static', body: g };
    }
    return resourceRoute(group, parts[2]!, parts.slice(3), path);
  }
  throw errors.pathNotFound(path);
}

function resourceRoute(group: string, version: string, rest: string[], path: string): Route {
  if (rest.length === 0) {
    const list = apiResourceList(group, version);
    if (!list) throw errors.pathNotFound(path);
    return { kind: 'static', body: list };
  }
  const nsT = resource('namespaces');
  // namespaces/{ns}/{plural}[/{name}[/{sub}]] unless it is the namespace object itself (or its status).
  if (rest[0] === 'namespaces' && group === '' && rest.length >= 3 && rest[2] !== 'status' && rest[2] !== 'finalize') {
    const t = findResource(group, version, rest[2]!);
    if (!t || !t.namespaced || rest.length > 5) throw errors.pathNotFound(path);
    return { kind: 'resource', t, ns: rest[1], name: rest[3], sub: rest[4] };
  }
  if (rest[0] === 'namespaces' && group !== '' && rest.length >= 3) {
    const t = findResource(group, version, rest[2]!);
    if (!t || !t.namespaced || rest.length > 5) throw errors.pathNotFound(path);
    return { kind: 'resource', t, ns: rest[1], name: rest[3], sub: rest[4] };
  }
  const t = rest[0] === 'namespaces' && group === '' ? nsT : findResource(group, version, rest[0]!);
  if (!t || rest.length > 3) throw errors.pathNotFound(path);
  return { kind: 'resource', t, name: rest[1], sub: rest[2] };
}
