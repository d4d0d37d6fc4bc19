import type { ResourceType } from '../api/resources.ts';
import type { Stored } from '../api/types.ts';
import { conditionTrue, findCondition } from '../model/pods.ts';
import { parseTime } from '../model/time.ts';

/** Whether the client (kubectl) asked for server-side printing. */
export function wantsTable(accept: string | undefined): boolean {
  return !!accept && /as=Table/.test(accept);
}

interface Column {
  name: string;
  type: 'string' | 'integer' | 'date';
  priority?: number;
  cell: (o: Stored, now: number) => string | number;
}

const name: Column = { name: 'Name', type: 'string', cell: (o) => o.metadata.name };
const age: Column = { name: 'Age', type: 'string', cell: (o, now) => ageOf(o.metadata.creationTimestamp, now) };

/** kubectl-style columns for the kinds people look at; Name and Age for the rest. */
const COLUMNS: Record<string, Column[]> = {
  pods: [
    name,
    { name: 'Ready', type: 'string', cell: (o) => `${(o.status?.containerStatuses ?? []).filter((c: any) => c.ready).length}/${o.spec?.containers?.length ?? 0}` },
    { name: 'Status', type: 'string', cell: podStatus },
    { name: 'Restarts', type: 'integer', cell: (o) => (o.status?.containerStatuses ?? []).reduce((s: number, c: any) => s + (c.restartCount ?? 0), 0) },
    age,
    { name: 'IP', type: 'string', priority: 1, cell: (o) => o.status?.podIP ?? '<none>' },
    { name: 'Node', type: 'string', priority: 1, cell: (o) => o.spec?.nodeName ?? '<none>' },
    { name: 'Nominated Node', type: 'string', priority: 1, cell: (o) => o.status?.nominatedNodeName ?? '<none>' },
  ],
  nodes: [
    name,
    { name: 'Status', type: 'string', cell: (o) => (conditionTrue(o, 'Ready') ? 'Ready' : 'NotReady') + (o.spec?.unschedulable ? ',SchedulingDisabled' : '') },
    { name: 'Pool', type: 'string', cell: (o) => o.metadata.labels?.['karpenter.sh/nodepool'] ?? '<none>' },
    { name: 'Instance Type', type: 'string', cell: (o) => o.metadata.labels?.['node.kubernetes.io/instance-type'] ?? '<none>' },
    { name: 'Capacity Type', type: 'string', cell: (o) => o.metadata.labels?.['karpenter.sh/capacity-type'] ?? '<none>' },
    age,
  ],
  jobs: [
    name,
    { name: 'Status', type: 'string', cell: jobStatus },
    { name: 'Completions', type: 'string', cell: (o) => `${o.status?.succeeded ?? 0}/${o.spec?.completions ?? 1}` },
    { name: 'Duration', type: 'string', cell: (o, now) => (o.status?.startTime ? ageOf(o.status.startTime, parseTime(o.status?.completionTime) ?? now) : '') },
    age,
  ],
  deployments: [
    name,
    { name: 'Ready', type: 'string', cell: (o) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}` },
    { name: 'Up-to-date', type: 'integer', cell: (o) => o.status?.updatedReplicas ?? 0 },
    { name: 'Available', type: 'integer', cell: (o) => o.status?.availableReplicas ?? 0 },
    age,
  ],
  daemonsets: [
    name,
    { name: 'Desired', type: 'integer', cell: (o) => o.status?.desiredNumberScheduled ?? 0 },
    { name: 'Current', type: 'integer', cell: (o) => o.status?.currentNumberScheduled ?? 0 },
    age,
  ],
  events: [
    { name: 'Last Seen', type: 'string', cell: (o, now) => ageOf(o.lastTimestamp ?? o.metadata.creationTimestamp, now) },
    { name: 'Type', type: 'string', cell: (o) => o.type ?? '' },
    { name: 'Reason', type: 'string', cell: (o) => o.reason ?? '' },
    { name: 'Object', type: 'string', cell: (o) => `${String(o.involvedObject?.kind ?? '').toLowerCase()}/${o.involvedObject?.name ?? ''}` },
    { name: 'Message', type: 'string', cell: (o) => o.message ?? '' },
  ],
  priorityclasses: [name, { name: 'Value', type: 'integer', cell: (o) => o.value }, { name: 'Preemption Policy', type: 'string', cell: (o) => o.preemptionPolicy ?? '' }, age],
};

/** A meta.k8s.io/v1 Table of objects, as `kubectl get` asks for. */
export function toTable(t: ResourceType, items: Stored[], now: number, resourceVersion?: string) {
  const cols = COLUMNS[t.plural] ?? [name, age];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: resourceVersion ? { resourceVersion } : {},
    columnDefinitions: cols.map((c) => ({ name: c.name, type: c.type, format: c === name ? 'name' : '', description: '', priority: c.priority ?? 0 })),
    rows: items.map((o) => ({
      cells: cols.map((c) => c.cell(o, now)),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}

function ageOf(ts: string | undefined, now: number): string {
  const from = parseTime(ts);
  if (from === undefined) return '<unknown>';
  const s = Math.max(0, Math.floor((now - from) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

function podStatus(o: Stored): string {
  if (o.metadata.deletionTimestamp) return 'Terminating';
  for (const c of o.status?.containerStatuses ?? []) {
    if (c.state?.waiting?.reason && c.state.waiting.reason !== 'ContainerCreating' && c.state.waiting.reason !== 'PodInitializing') return c.state.waiting.reason;
    if (c.state?.terminated?.reason && o.status?.phase !== 'Running') return c.state.terminated.reason;
  }
  const init = (o.status?.initContainerStatuses ?? []).filter((c: any) => !c.state?.running && !c.state?.terminated).length;
  if (o.status?.phase === 'Pending' && o.spec?.nodeName) return init ? `Init:0/${o.spec?.initContainers?.length ?? 0}` : 'ContainerCreating';
  return o.status?.phase ?? 'Unknown';
}

function jobStatus(o: Stored): string {
  if (conditionTrue(o, 'Complete')) return 'Complete';
  if (conditionTrue(o, 'Failed')) return 'Failed';
  if (findCondition(o, 'FailureTarget')?.status === 'True' || findCondition(o, 'SuccessCriteriaMet')?.status === 'True') return 'Terminating';
  if (conditionTrue(o, 'Suspended')) return 'Suspended';
  return 'Running';
}
