import { podLevelResourceCauses } from './pod-level-resources.ts';

/** The API server's defaults for a PodSpec (also applied to the templates inside Jobs and Deployments). */
export function defaultPodSpec(spec: any): void {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) defaultContainer(c);
}

function defaultContainer(c: any): void {
  const image = String(c.image ?? '');
  c.imagePullPolicy ??= image.endsWith(':latest') || !/:[^/]+$|@/.test(image) ? 'Always' : 'IfNotPresent';
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  c.resources ??= {};
  const limits = c.resources.limits as Record<string, unknown> | undefined;
  if (limits) {
    const requests = (c.resources.requests ??= {});
    for (const [k, v] of Object.entries(limits)) requests[k] ??= v;
  }
}

/** Field errors for a PodSpec, as `[field, message]` pairs under `path`. */
export function validatePodSpec(spec: any, path: string, allowedRestart?: string[]): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = [];
  if (!spec || typeof spec !== 'object') return [{ field: path, message: 'Required value' }];
  if (!Array.isArray(spec.containers) || spec.containers.length === 0) out.push({ field: `${path}.containers`, message: 'Required value' });
  const names = new Set<string>();
  for (const [i, c] of [...(spec.initContainers ?? []), ...(spec.containers ?? [])].entries()) {
    if (!c?.name) out.push({ field: `${path}.containers[${i}].name`, message: 'Required value' });
    else if (names.has(c.name)) out.push({ field: `${path}.containers[${i}].name`, message: `Duplicate value: "${c.name}"` });
    else names.add(c.name);
    if (!c?.image) out.push({ field: `${path}.containers[${i}].image`, message: 'Required value' });
  }
  out.push(...podLevelResourceCauses(spec, path));
  if (allowedRestart && spec.restartPolicy && !allowedRestart.includes(spec.restartPolicy))
    out.push({ field: `${path}.restartPolicy`, message: `Unsupported value: "${spec.restartPolicy}": supported values: ${allowedRestart.map((v) => `"${v}"`).join(', ')}` });
  return out;
}
