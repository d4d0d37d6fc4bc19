import { CONFIG_DOCUMENT_KEY } from '../../infra/config-document.ts';
import { ConfigDocument, type Pool, type RunnerClass } from '../../runtime/config/document.ts';
import { formatIssues } from '../../runtime/config/issues.ts';
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

export type DocumentRead = { ok: true; doc: ConfigDocument } | { ok: false; problems: string[] };

/** The document parsed with the runtime's schema (defaults applied), or why it cannot be. */
export function readDocument(props: Json): DocumentRead {
  let raw: unknown;
  try {
    raw = JSON.parse(String(props.data[CONFIG_DOCUMENT_KEY]));
  } catch (err) {
    return { ok: false, problems: [`${CONFIG_DOCUMENT_KEY} is not JSON (${(err as Error).message})`] };
  }
  const parsed = ConfigDocument.safeParse(raw);
  return parsed.success ? { ok: true, doc: parsed.data } : { ok: false, problems: formatIssues(parsed.error) };
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
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export function rawPools(props: Json): { pools: RawPool[]; classes: RawClass[] } | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(String(props.data[CONFIG_DOCUMENT_KEY]));
  } catch {
    return undefined;
  }
  if (!isObject(raw)) return undefined;
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
  const classes = asArray(raw.classes).map((c, index): RawClass => ({ index, name: String(c?.name ?? ''), cpu: num(c?.cpu) }));
  return { pools, classes };
}

export interface PodSubject {
  /** `class "2cpu-linux-arm64" runner pod template`. */
  what: string;
  /** The stack config the pod is built from, for the fix. */
  source: string;
  spec: Json;
}

/** Every pod the orchestrator will create from this document, as the runtime builds it. */
export function podSubjects(doc: ConfigDocument): PodSubject[] {
  const runnerPods = doc.classes.map((cls, i): PodSubject => ({
    what: `class "${cls.name}" runner pod template`,
    source: `runs-fleet:classes[${i}] and runs-fleet:runner, rendered by buildClassPodTemplate (runtime/k8s/pod-template.ts)`,
    spec: (templateOf(cls, doc).spec ?? {}) as Json,
  }));
  const byName = new Map(doc.classes.map((c) => [c.name, c]));
  const placeholders = doc.pools.flatMap((pool: Pool, i): PodSubject[] => {
    const cls = byName.get(pool.class);
    if (!cls) return [];
    const deployment = buildPlaceholderDeployment(doc.runner, pool, cls, 'runner-namespace', pool.max);
    return [{
      what: `pool "${pool.name}" placeholder pod`,
      source: `runs-fleet:pools[${i}] and runs-fleet:runner, built by buildPlaceholderDeployment (runtime/controllers/warm-pool/build-placeholder.ts)`,
      spec: (deployment.spec?.template.spec ?? {}) as Json,
    }];
  });
  return [...runnerPods, ...placeholders];
}

/** The rendered template, or the one the runtime builds when the document has none. */
function templateOf(cls: RunnerClass, doc: ConfigDocument): Json {
  return (cls.podTemplate ?? buildClassPodTemplate(cls, doc.runner)) as Json;
}
