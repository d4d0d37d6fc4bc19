import { findClass, findPool, type CapacityType, type ConfigDocument, type RunnerClass } from '../config/document.ts';
import { NODE } from '../k8s/labels.ts';
import { LabelError } from './errors.ts';
import { compareClasses, describeRequest, misfit, smallestFit } from './fit.ts';
import { podSize } from './size.ts';
import type { NodeRequirement, ResolvedRunner, RunnerRequest } from './types.ts';

/**
 * Binds a parsed request to a runner class of the config document and sizes its pod.
 * `runner=` names the class; else a configured `pool=` does; else the smallest class
 * that fits. An explicit class must fit the request. Throws LabelError. Pure.
 */
export function resolveRunner(request: RunnerRequest, doc: ConfigDocument): ResolvedRunner {
  const warnings = [...request.warnings];
  const { cls, pool } = chooseClass(request, doc, warnings);
  const size = podSize(request, cls);
  const capacityTypes: CapacityType[] = request.spot ? [...cls.capacityTypes] : ['on-demand'];
  const resolved: ResolvedRunner = {
    className: cls.name,
    class: cls,
    ...size,
    capacityTypes,
    nodeRequirements: nodeRequirements(request, cls, capacityTypes),
    jitLabels: request.labels.length ? [...request.labels] : [request.label],
    warnings,
  };
  if (pool) resolved.pool = pool;
  return resolved;
}

function chooseClass(request: RunnerRequest, doc: ConfigDocument, warnings: string[]): { cls: RunnerClass; pool?: string } {
  let named = request.runner === undefined ? undefined : knownClass(request, doc, request.runner, `runner=${request.runner}`);
  let pool: string | undefined;
  if (request.pool !== undefined) {
    const found = findPool(doc, request.pool);
    if (!found) {
      // A pool only speeds a job up; a job naming a pool this cluster lacks still runs, cold.
      const known = doc.pools.map((p) => p.name).join(', ') || 'none';
      warnings.push(`pool "${request.pool}" is not configured (configured pools: ${known}); the job runs without a warm pool`);
    } else if (named && named.name !== found.class) {
      throw new LabelError('pool_class_mismatch', request.label,
        `runner=${named.name} but pool=${found.name} keeps class ${found.class} warm; drop one of them or make them agree`);
    } else {
      named ??= knownClass(request, doc, found.class, `pool=${found.name} (class ${found.class})`);
      pool = found.name;
    }
  }
  if (named) {
    const bad = misfit(request, named);
    if (bad) throw new LabelError(bad.reason, request.label, `${bad.detail}; ask for less or choose a class that has it`);
    return pool ? { cls: named, pool } : { cls: named };
  }
  const smallest = smallestFit(request, doc.classes);
  if (!smallest) throw new LabelError('no_matching_class', request.label, noMatch(request, doc));
  return { cls: smallest };
}

function knownClass(request: RunnerRequest, doc: ConfigDocument, name: string, via: string): RunnerClass {
  const cls = findClass(doc, name);
  if (cls) return cls;
  throw new LabelError('unknown_class', request.label,
    `${via} names no runner class; known classes: ${doc.classes.map((c) => c.name).join(', ')}`);
}

function noMatch(request: RunnerRequest, doc: ConfigDocument): string {
  const why = [...doc.classes].sort(compareClasses).map((c) => misfit(request, c)?.detail).filter((d) => d !== undefined);
  return `no runner class has ${describeRequest(request)} (${why.join('; ')}); ask for less or add a class to the config document`;
}

/** Karpenter requirements beyond the class's NodePool: only what the job narrows. */
function nodeRequirements(request: RunnerRequest, cls: RunnerClass, capacityTypes: CapacityType[]): NodeRequirement[] {
  const out: NodeRequirement[] = [];
  if (request.families) out.push({ key: NODE.instanceFamily, operator: 'In', values: [...request.families] });
  if (request.gen !== undefined) out.push({ key: NODE.instanceGeneration, operator: 'In', values: [String(request.gen)] });
  if (cls.capacityTypes.some((t) => !capacityTypes.includes(t))) out.push({ key: NODE.capacityType, operator: 'In', values: [...capacityTypes] });
  return out;
}
