import { CONFIG_DOCUMENT_KEY } from './config-document.ts';
import type { RecordedResource } from './mock-run.ts';
import { ConfigDocument } from '../runtime/config/document.ts';
import { INFRA, LABEL, MANAGED_BY } from '../runtime/k8s/labels.ts';

/**
 * What the offline plan says about each resource: the few settings worth reading in a
 * review (limits, replicas, images, sizes), never a secret value. Pure.
 */

type Props = Record<string, any>;
const list = (v: unknown) => (Array.isArray(v) ? v.map(String).join(',') : '');
const kv = (pairs: Array<[string, unknown]>) =>
  pairs.filter(([, v]) => v !== undefined && v !== '' && v !== null).map(([k, v]) => `${k}=${String(v)}`).join(' ');

const SUMMARIES: Record<string, (p: Props) => string> = {
  'kubernetes:karpenter.sh/v1:NodePool': (p) => kv([
    ['limits.cpu', p.spec?.limits?.cpu],
    ['warm-pool-max-cpu', p.metadata?.annotations?.[INFRA.warmPoolMaxCpu]],
    ['nodeClass', p.spec?.template?.spec?.nodeClassRef?.name],
    ...((p.spec?.template?.spec?.requirements ?? []) as Props[])
      .filter((r) => ['kubernetes.io/arch', 'karpenter.sh/capacity-type'].includes(r.key))
      .map((r): [string, unknown] => [String(r.key).split('/').pop()!, list(r.values)]),
    ['consolidation', p.spec?.disruption?.consolidationPolicy],
  ]),
  'kubernetes:karpenter.k8s.aws/v1:EC2NodeClass': (p) => {
    const root = (p.spec?.blockDeviceMappings ?? [])[0]?.ebs ?? {};
    const md = p.spec?.metadataOptions ?? {};
    return kv([['ami', list((p.spec?.amiSelectorTerms ?? []).map((t: Props) => t.alias))], ['disk', `${root.volumeSize} ${root.volumeType}`],
      ['encrypted', root.encrypted], ['imds', md.httpTokens], ['hops', md.httpPutResponseHopLimit]]);
  },
  'kubernetes:apps/v1:Deployment': (p) => workload(p),
  'kubernetes:apps/v1:DaemonSet': (p) => kv([['pulls', list(((p.spec?.template?.spec?.initContainers ?? []) as Props[]).map((c) => c.image))]]),
  'kubernetes:apps/v1:StatefulSet': (p) =>
    [workload(p), kv([['storage', (p.spec?.volumeClaimTemplates ?? [])[0]?.spec?.resources?.requests?.storage]])].filter(Boolean).join(' '),
  'kubernetes:core/v1:ConfigMap': (p) => {
    if (typeof p.data?.[CONFIG_DOCUMENT_KEY] === 'string') return kv([['config document sha256', p.metadata?.annotations?.[INFRA.configSha256]?.slice(0, 12)]]);
    const bundle = Object.entries(p.binaryData ?? {})[0];
    return bundle ? kv([['bundle', `${bundle[0]} ${Math.round((String(bundle[1]).length * 3) / 4 / 1024)} KiB`]]) : '';
  },
  'kubernetes:core/v1:Secret': (p) => kv([['keys', Object.keys({ ...(p.stringData ?? {}), ...(p.data ?? {}) }).join(',')]]),
  'kubernetes:core/v1:Namespace': (p) => kv([['pod-security', p.metadata?.labels?.['pod-security.kubernetes.io/enforce']]]),
  'kubernetes:networking.k8s.io/v1:NetworkPolicy': (p) => kv([['types', list(p.spec?.policyTypes)]]),
  'kubernetes:policy/v1:PodDisruptionBudget': (p) => kv([['minAvailable', p.spec?.minAvailable], ['maxUnavailable', p.spec?.maxUnavailable]]),
  'kubernetes:core/v1:ResourceQuota': (p) => kv(Object.entries(p.spec?.hard ?? {})),
  'kubernetes:core/v1:Service': (p) => kv([['type', p.spec?.type ?? 'ClusterIP'], ['ports', list((p.spec?.ports ?? []).map((x: Props) => x.port))]]),
  'kubernetes:helm.sh/v3:Release': (p) => kv([['chart', `${p.chart}@${p.version}`], ['namespace', p.namespace]]),
  'kubernetes:scheduling.k8s.io/v1:PriorityClass': (p) => kv([['value', p.value], ['preemption', p.preemptionPolicy]]),
  'eks:index:Cluster': (p) => kv([['name', p.name], ['version', p.version], ['logs', list(p.enabledClusterLogTypes)], ['publicEndpoint', p.endpointPublicAccess]]),
  'eks:index:ManagedNodeGroup': (p) => kv([['instanceTypes', list(p.instanceTypes)],
    ['nodes', `${p.scalingConfig?.minSize}/${p.scalingConfig?.desiredSize}/${p.scalingConfig?.maxSize}`]]),
  'aws:ec2/vpc:Vpc': (p) => kv([['cidr', p.cidrBlock]]),
  'aws:ec2/subnet:Subnet': (p) => kv([['cidr', p.cidrBlock], ['az', p.availabilityZone]]),
  'aws:eks/addon:Addon': (p) => kv([['addon', p.addonName]]),
  'aws:route53/record:Record': (p) => kv([['record', `${p.name} ${p.type}`]]),
};

function workload(p: Props): string {
  const containers = (p.spec?.template?.spec?.containers ?? []) as Props[];
  const limits = containers[0]?.resources?.limits ?? {};
  return kv([['replicas', p.spec?.replicas], ['image', containers.map((c) => c.image).join(',')],
    ['limits', [limits.cpu, limits.memory].filter(Boolean).join('/')]]);
}

export function keySettings(r: RecordedResource): string {
  const summary = SUMMARIES[r.type]?.(r.inputs) ?? '';
  return r.custom ? summary : `(component) ${summary}`.trimEnd();
}

export interface NodePoolRow {
  className: string;
  cpu: number;
  limitCpu: string;
  /** `default 2..10 (1 schedule)`. */
  pools: string[];
  /** Σ pool.max × class cpu. */
  placeholderCpuAtMax: number;
}

/** NodePools with the warm pools that fill them, from the config document the program ships. */
export function nodePoolRows(resources: readonly RecordedResource[]): NodePoolRow[] {
  const docMap = resources.find((r) => r.type === 'kubernetes:core/v1:ConfigMap' && r.inputs.metadata?.labels?.[LABEL.managedBy] === MANAGED_BY
    && typeof r.inputs.data?.[CONFIG_DOCUMENT_KEY] === 'string');
  const parsed = docMap ? ConfigDocument.safeParse(JSON.parse(docMap.inputs.data[CONFIG_DOCUMENT_KEY])) : undefined;
  const doc = parsed?.success ? parsed.data : undefined;
  return resources.filter((r) => r.type === 'kubernetes:karpenter.sh/v1:NodePool').map((np) => {
    const className = String(np.inputs.metadata?.name ?? np.name);
    const cls = doc?.classes.find((c) => c.name === className);
    const pools = doc?.pools.filter((p) => p.class === className) ?? [];
    return {
      className,
      cpu: cls?.cpu ?? 0,
      limitCpu: String(np.inputs.spec?.limits?.cpu ?? '-'),
      pools: pools.map((p) => `${p.name} ${p.min}..${p.max}${p.schedules.length ? ` (${p.schedules.length} schedule${p.schedules.length > 1 ? 's' : ''})` : ''}`),
      placeholderCpuAtMax: pools.reduce((sum, p) => sum + p.max * (cls?.cpu ?? 0), 0),
    };
  });
}
