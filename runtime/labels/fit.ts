import { instanceTypes } from '../capacity/catalog.ts';
import { classInstanceTypes } from '../capacity/runner-size.ts';
import type { RunnerClass } from '../config/document.ts';
import type { LabelErrorReason } from './errors.ts';
import type { RunnerRequest } from './types.ts';

export interface Misfit {
  reason: LabelErrorReason;
  /** What the request asks and what the class has. */
  detail: string;
}

/** The first reason `cls` cannot serve `request`, or undefined when it fits. */
export function misfit(request: RunnerRequest, cls: RunnerClass): Misfit | undefined {
  if (request.arch && request.arch !== cls.arch)
    return { reason: 'arch_mismatch', detail: `arch=${request.arch} but class ${cls.name} is ${cls.arch}` };
  if (request.cpu && request.cpu.min > cls.cpu)
    return { reason: 'impossible_size', detail: `at least ${request.cpu.min} vCPU asked but class ${cls.name} has ${cls.cpu}` };
  if (request.ramGiB && request.ramGiB.min > cls.memoryGiB)
    return { reason: 'impossible_size', detail: `at least ${request.ramGiB.min} GiB of memory asked but class ${cls.name} has ${cls.memoryGiB}` };
  if (request.diskGiB !== undefined && request.diskGiB > cls.diskGiB)
    return { reason: 'oversize_disk', detail: `disk=${request.diskGiB} GiB asked but class ${cls.name} has ${cls.diskGiB}` };
  const outside = request.families?.filter((f) => !cls.instanceFamilies.includes(f));
  if (outside?.length)
    return { reason: 'family_not_in_class', detail: `family ${outside.join('+')} is not among class ${cls.name}'s families (${cls.instanceFamilies.join(', ')})` };
  const sized = sizedFamilies(request, cls);
  if (sized) return sized;
  if (!request.spot && !cls.capacityTypes.includes('on-demand'))
    return { reason: 'on_demand_unavailable', detail: `spot=false asked but class ${cls.name} runs on ${cls.capacityTypes.join(', ')} capacity only` };
  return undefined;
}

/**
 * The class's NodePool admits only instances of its size (runtime/capacity/runner-size.ts),
 * so a family without that size could never get a node: the pod would wait until it timed out.
 * A class the catalog cannot size (a local config), or a family it does not list, is not judged.
 */
function sizedFamilies(request: RunnerRequest, cls: RunnerClass): Misfit | undefined {
  if (!request.families && request.gen === undefined) return undefined;
  const types = classInstanceTypes(cls);
  if (!types.length || request.families?.some((f) => !knownFamily(f))) return undefined;
  const ok = types.filter((t) => (!request.families || request.families.includes(t.family)) && (request.gen === undefined || t.generation === request.gen));
  if (ok.length) return undefined;
  const asked = [request.families ? `family ${request.families.join('+')}` : '', request.gen !== undefined ? `gen=${request.gen}` : ''].filter(Boolean).join(' and ');
  return {
    reason: 'family_not_in_class',
    detail: `${asked} has no instance of class ${cls.name}'s size (${cls.cpu * cls.runnersPerNode} vCPU / ${cls.memoryGiB * cls.runnersPerNode} GiB; its nodes are ${types.map((t) => t.name).join(', ')})`,
  };
}

const knownFamily = (f: string) => instanceTypes().some((t) => t.family === f);

/** Smallest first: by cpu, then memory, then disk, then name (a stable, config-order-free order). */
export function compareClasses(a: RunnerClass, b: RunnerClass): number {
  return a.cpu - b.cpu || a.memoryGiB - b.memoryGiB || a.diskGiB - b.diskGiB || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/**
 * The smallest class that fits. Every fitting class has cpu ≥ the requested minimum, so
 * the smallest one is also within the requested maximum whenever any class is; when
 * none is, the pod is still sized to the maximum inside a larger class.
 */
export function smallestFit(request: RunnerRequest, classes: readonly RunnerClass[]): RunnerClass | undefined {
  return [...classes].sort(compareClasses).find((c) => !misfit(request, c));
}

/** What a request asks, for "no class matches" messages. */
export function describeRequest(request: RunnerRequest): string {
  const asks: string[] = [];
  if (request.arch) asks.push(`arch ${request.arch}`);
  if (request.cpu) asks.push(`${request.cpu.min}+ vCPU`);
  if (request.ramGiB) asks.push(`${request.ramGiB.min}+ GiB memory`);
  if (request.diskGiB !== undefined) asks.push(`${request.diskGiB}+ GiB disk`);
  if (request.families) asks.push(`families ${request.families.join('+')}`);
  if (!request.spot) asks.push('on-demand capacity');
  return asks.length ? asks.join(', ') : 'nothing in particular';
}
