import { matchAlias, type AliasMatch, type AliasRule } from './aliases.ts';
import { MAX_LABEL_LENGTH } from './bounds.ts';
import { LabelError } from './errors.ts';
import { findMarker } from './markers.ts';
import { parseSpec } from './spec.ts';
import type { RunnerRequest } from './types.ts';

/** GitHub's limit on the labels of a JIT runner. */
export const MAX_JIT_LABELS = 100;
/** Keeps a queue entry small whatever a workflow writes. */
const MAX_WARNINGS = 20;

/**
 * The runner a job asks for, from its `runs-on` labels. The first marker label wins
 * (`runs-fleet`, `runs-fleet/…`, `runs-fleet=<run-id>/…`); operator aliases are
 * consulted only when there is none. Returns null for a job that is not ours; throws
 * LabelError for a label that is ours but cannot be served. Pure.
 */
export function parseRunsOn(labels: readonly string[], aliases: readonly AliasRule[] = []): RunnerRequest | null {
  const marker = findMarker(labels);
  if (marker) {
    if (marker.label.length > MAX_LABEL_LENGTH)
      throw new LabelError('label_too_long', marker.label, `${marker.label.length} characters; a runs-fleet label has at most ${MAX_LABEL_LENGTH}`);
    const notes = new Warnings();
    const fields = parseSpec(marker.spec, { label: marker.label, warn: notes.warn });
    return compact({
      marker: marker.marker, label: marker.label, labels: jobLabels(labels, marker.label), runId: marker.runId,
      ...fields, warnings: notes.list(),
    });
  }
  const alias = findAlias(labels, aliases);
  if (!alias) return null;
  // Outside the try: too many labels is the job's problem, not the alias's.
  const own = jobLabels(labels, alias.label);
  try {
    const request = requestFromAlias(alias, own);
    return { ...request, warnings: request.warnings.map((w) => `alias aliases[${alias.index}]: ${w}`) };
  } catch (err) {
    if (!(err instanceof LabelError)) throw err;
    throw new LabelError(err.reason, alias.label, `alias aliases[${alias.index}] expands to "${alias.spec}", which is invalid: ${err.detail}`);
  }
}

/**
 * The request an alias stands for: its spec parsed as the part after a marker.
 * Unlike the original, an alias without `pool=` does not make the label a pool name:
 * pools are declared in the config document, and a workflow label such as
 * `linux-arm64-large` silently becoming pool demand couples two names that operators
 * choose independently. An alias that should use a pool says `pool=`.
 */
export function requestFromAlias(alias: AliasMatch, labels: readonly string[]): RunnerRequest {
  const notes = new Warnings();
  const fields = parseSpec(alias.spec, { label: alias.label, warn: notes.warn });
  return compact({
    marker: 'alias', label: alias.label, labels: jobLabels(labels, alias.label), alias: alias.label, ...fields, warnings: notes.list(),
  });
}

function findAlias(labels: readonly string[], aliases: readonly AliasRule[]): AliasMatch | undefined {
  // An empty label is never a job's real label, and `.*` would match it. An overlong one
  // is never an alias either: a regex alias would copy it into the spec it expands to.
  const candidates = labels.filter((l) => l !== '' && l.length <= MAX_LABEL_LENGTH);
  try {
    return matchAlias(candidates, aliases);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    throw new LabelError('invalid_alias', candidates[0] ?? '', `an alias in the config document has an invalid regex (${err.message}); fix it (validateAliases reports it at startup)`);
  }
}

/** The job's labels for the JIT runner: GitHub compares labels case-insensitively, so dedupe that way. */
function jobLabels(labels: readonly string[], label: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const l of labels) {
    const key = l.toLowerCase();
    if (l === '' || seen.has(key)) continue;
    seen.add(key);
    out.push(l);
  }
  if (out.length > MAX_JIT_LABELS)
    throw new LabelError('too_many_labels', label, `the job has ${out.length} distinct runs-on labels; a runner can carry at most ${MAX_JIT_LABELS}`);
  return out;
}

class Warnings {
  readonly #kept: string[] = [];
  #dropped = 0;
  readonly warn = (message: string): void => {
    if (this.#kept.length < MAX_WARNINGS) this.#kept.push(message);
    else this.#dropped++;
  };
  list(): string[] {
    return this.#dropped ? [...this.#kept, `${this.#dropped} more warnings not shown`] : [...this.#kept];
  }
}

/** Drops undefined keys so the request survives a JSON round trip unchanged. */
function compact(request: RunnerRequest): RunnerRequest {
  return Object.fromEntries(Object.entries(request).filter(([, v]) => v !== undefined)) as unknown as RunnerRequest;
}
