import { CONFIG_DOCUMENT_KEY } from '../../infra/config-document.ts';
import { Pool, RunnerClass, RunnerSettings } from '../../runtime/config/document.ts';
import { buildPlaceholderDeployment } from '../../runtime/controllers/warm-pool/build-placeholder.ts';
import { LABEL, MANAGED_BY } from '../../runtime/k8s/labels.ts';
import { buildClassPodTemplate } from '../../runtime/k8s/pod-template.ts';
import { asArray, isObject, type Json } from './types.ts';

/**
 * The runs-fleet config document as the program ships it: JSON under `config.json` in a
 * ConfigMap labelled managed-by runs-fleet. Runner pods and warm-pool placeholders are
 * not Pulumi resources (the orchestrator creates them at run time from this document),
 * so the policies check what they will be built from: each class's rendered pod
 * template, and a placeholder built by the runtime's own builder for each pool.
 */

export function isConfigDocumentMap(props: Json): boolean {
  return props.metadata?.labels?.[LABEL.managedBy] === MANAGED_BY && typeof props.data?.[CONFIG_DOCUMENT_KEY] === 'string';
}

/** The document as JSON, or why it is not. */
export function documentJson(props: Json): { ok: true; raw: Json } | { ok: false; problem: string } {
  try {
    const raw: unknown = JSON.parse(String(props.data[CONFIG_DOCUMENT_KEY]));
    return isObject(raw) ? { ok: true, raw } : { ok: false, problem: `${CONFIG_DOCUMENT_KEY} is not a JSON object` };
  } catch (err) {
    return { ok: false, problem: `${CONFIG_DOCUMENT_KEY} is not JSON (${(err as Error).message})` };
  }
}

/** Pools and classes read leniently (no schema), so a broken pool is reported by its own rule. */
export interface RawPool {
  index: number;
  name: string;
  class: string;
  min: number | undefined;
  max: number | undefined;
  scheduleMins: Array<{ name: string; min: number }>;
}

export interface RawClass {
  index: number;
  name: string;
  cpu: number | undefined;
  /** What the pools' node arithmetic needs (runtime/capacity/runner-size.ts); 1 when unset. */
  runnersPerNode: number;
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export function rawPools(props: Json): { pools: RawPool[]; classes: RawClass[] } | undefined {
  const read = documentJson(props);
  if (!read.ok) return undefined;
  const { raw } = read;
  const pools = asArray(raw.pools).map((p, index): RawPool => ({
    index,
    name: String(p?.name ?? `#${index}`),
    class: String(p?.class ?? ''),
    min: num(p?.min),
    max: num(p?.max),
    scheduleMins: asArray(p?.schedules)
      .map((s, i) => ({ name: String(s?.name ?? `#${i}`), min: num(s?.min) }))
      .filter((s): s is { name: string; min: number } => s.min !== undefined),
  }));
  const classes = asArray(raw.classes).map((c, index): RawClass => ({
    index, name: String(c?.name ?? ''), cpu: num(c?.cpu), runnersPerNode: num(c?.runnersPerNode) ?? 1,
  }));
  return { pools, classes };
}

export interface PodSubject {
  /** `class "2cpu-linux-arm64" runner pod template`. */
  what: string;
  /** The stack config the pod is built from, for the fix. */
  source: string;
  spec: Json;
}

/**
 * Every pod the orchestrator would create from this document, as the runtime builds it.
 * Read leniently: each part that the runtime's schema accepts gets its defaults, a part
 * it rejects is used as written, so one invalid setting (which the program itself
 * refuses anyway) does not hide the pods: an unpinned pause image is reported on the
 * placeholders it would reach rather than as "the document does not parse".
 */
export function podSubjects(raw: Json): PodSubject[] {
  const runner = lenient(RunnerSettings, raw.runner ?? {}, RunnerSettings.parse({}));
  const classes = documentClasses(raw);
  const runnerPods = classes.map((cls, i): PodSubject => ({
    what: `class "${cls.name}" runner pod template`,
    source: `runs-fleet:classes[${i}] and runs-fleet:runner, rendered by buildClassPodTemplate (runtime/k8s/pod-template.ts)`,
    spec: ((cls.podTemplate ?? buildClassPodTemplate(cls, runner)) as Json).spec ?? {},
  }));
  const byName = new Map(classes.map((c) => [c.name, c]));
  const placeholders = asArray(raw.pools).flatMap((p, i): PodSubject[] => {
    const pool = lenient(Pool, p, { schedules: [], scaleDownDelaySeconds: 600 }) as Pool;
    const cls = byName.get(pool.class);
    if (!cls) return [];
    const deployment = buildPlaceholderDeployment(runner, pool, cls, 'runner-namespace', pool.max);
    return [{
      what: `pool "${pool.name}" placeholder pod`,
      source: `runs-fleet:pools[${i}] and runs-fleet:runner, built by buildPlaceholderDeployment (runtime/controllers/warm-pool/build-placeholder.ts)`,
      spec: (deployment.spec?.template.spec ?? {}) as Json,
    }];
  });
  return [...runnerPods, ...placeholders];
}

/** The document's classes, each with the schema's defaults when it accepts it, else as written over those defaults. */
export function documentClasses(raw: Json): RunnerClass[] {
  const defaults = { capacityTypes: ['spot', 'on-demand'], maxDurationMinutes: 360, pendingTimeoutSeconds: 600, runnersPerNode: 1 };
  return asArray(raw.classes).map((c) => lenient(RunnerClass, c, defaults) as RunnerClass);
}

/** The schema's reading of `value` when it accepts it, else `value` over `defaults`. */
function lenient<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } }, value: unknown, defaults: object): T {
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : ({ ...defaults, ...(isObject(value) ? value : {}) } as T);
}
