/** The API resources the sim serves: what runs-fleet (and kubectl looking at it) uses. */
export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  /** Has a /status subresource: writes to the main resource keep the stored status, and the reverse. */
  status: boolean;
  /** Has a /scale subresource (autoscaling/v1 Scale). */
  scale?: boolean;
  /** metadata.generation counts changes to spec. */
  generation: boolean;
  /** Field selectors beyond metadata.name and metadata.namespace (dotted paths into the object). */
  fields: string[];
  /** What DELETE does to dependents when the client names no propagationPolicy. */
  defaultPropagation: 'Background' | 'Orphan';
}

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function r(def: Omit<ResourceType, 'status' | 'generation' | 'fields' | 'defaultPropagation'> & Partial<ResourceType>): ResourceType {
  return { status: false, generation: false, fields: [], defaultPropagation: 'Background', ...def };
}

export const RESOURCES: readonly ResourceType[] = [
  r({ group: '', version: 'v1', plural: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false, shortNames: ['ns'], status: true, fields: ['status.phase'] }),
  r({
    group: '', version: 'v1', plural: 'pods', singular: 'pod', kind: 'Pod', namespaced: true, shortNames: ['po'], status: true, generation: true,
    fields: ['spec.nodeName', 'status.phase', 'spec.schedulerName', 'spec.restartPolicy', 'spec.serviceAccountName', 'status.podIP', 'status.nominatedNodeName'],
  }),
  r({ group: '', version: 'v1', plural: 'secrets', singular: 'secret', kind: 'Secret', namespaced: true, fields: ['type'] }),
  r({ group: '', version: 'v1', plural: 'configmaps', singular: 'configmap', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'] }),
  r({
    group: '', version: 'v1', plural: 'events', singular: 'event', kind: 'Event', namespaced: true, shortNames: ['ev'],
    fields: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
  }),
  r({ group: '', version: 'v1', plural: 'nodes', singular: 'node', kind: 'Node', namespaced: false, shortNames: ['no'], status: true, fields: ['spec.unschedulable'] }),
  r({ group: '', version: 'v1', plural: 'podtemplates', singular: 'podtemplate', kind: 'PodTemplate', namespaced: true }),
  r({ group: 'batch', version: 'v1', plural: 'jobs', singular: 'job', kind: 'Job', namespaced: true, status: true, generation: true, fields: ['status.successful'], defaultPropagation: 'Orphan' }),
  r({ group: 'apps', version: 'v1', plural: 'daemonsets', singular: 'daemonset', kind: 'DaemonSet', namespaced: true, shortNames: ['ds'], status: true, generation: true }),
  r({ group: 'apps', version: 'v1', plural: 'deployments', singular: 'deployment', kind: 'Deployment', namespaced: true, shortNames: ['deploy'], status: true, scale: true, generation: true }),
  r({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases', singular: 'lease', kind: 'Lease', namespaced: true }),
  r({ group: 'scheduling.k8s.io', version: 'v1', plural: 'priorityclasses', singular: 'priorityclass', kind: 'PriorityClass', namespaced: false, shortNames: ['pc'] }),
];

const byPath = new Map<string, ResourceType>(RESOURCES.map((t) => [`${t.group}/${t.version}/${t.plural}`, t]));
const byPlural = new Map<string, ResourceType>(RESOURCES.map((t) => [t.plural, t]));
const byKind = new Map<string, ResourceType>(RESOURCES.map((t) => [t.kind, t]));

export function findResource(group: string, version: string, plural: string): ResourceType | undefined {
  return byPath.get(`${group}/${version}/${plural}`);
}

/** The resource with this plural name; the sim's plurals are unique across groups. */
export function resource(plural: string): ResourceType {
  const t = byPlural.get(plural);
  if (!t) throw new Error(`the sim serves no resource "${plural}" (known: ${[...byPlural.keys()].join(', ')})`);
  return t;
}

export function resourceForKind(kind: string): ResourceType | undefined {
  return byKind.get(kind);
}

export function apiVersionOf(t: ResourceType): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

/** `jobs.batch`, `pods`: how the API server names a resource in error messages. */
export function qualifiedName(t: ResourceType): string {
  return t.group ? `${t.plural}.${t.group}` : t.plural;
}

export function groupVersions(): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const t of RESOURCES) seen.set(`${t.group}/${t.version}`, { group: t.group, version: t.version });
  return [...seen.values()];
}

export { VERBS };
