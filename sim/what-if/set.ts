import { PROJECT } from '../../infra/config.ts';
import { UsageError } from '../../runtime/util/cli.ts';

/**
 * `--set pools[0].min=4` (or `runs-fleet:pools[0].min=4`, as `pulumi config set --path` takes
 * it): one proposed change of the stack's `runs-fleet:*` settings. The value is JSON when it
 * parses as JSON (4, true, ["mon"], {"name":…}), else a string ("5m"). Only the path's shape
 * is checked here; whether the value is valid is left to the stack's own validation
 * (parseStackConfig), exactly as `pulumi up` would judge it.
 */
export interface ConfigSet {
  /** What the user typed, for error messages. */
  text: string;
  key: string;
  steps: Array<string | number>;
  value: unknown;
}

const ASSIGNMENT = /^(?:([a-z][a-z0-9-]*):)?([A-Za-z][A-Za-z0-9]*)((?:\.[A-Za-z][A-Za-z0-9]*|\[\d+\])*)=(.*)$/s;

export function parseSet(text: string): ConfigSet {
  const m = ASSIGNMENT.exec(text);
  if (!m) throw new UsageError(`--set ${text}: expected PATH=VALUE such as pools[0].min=4 or 'pools[0].schedules[0].min=6' (the path as \`pulumi config set --path\` takes it, "${PROJECT}:" optional)`);
  const [, namespace, key, path, raw] = m as unknown as [string, string | undefined, string, string, string];
  if (namespace !== undefined && namespace !== PROJECT)
    throw new UsageError(`--set ${text}: only ${PROJECT}:* settings shape the replay; "${namespace}:" is another namespace`);
  if (raw === '') throw new UsageError(`--set ${text}: no value after "="; e.g. --set ${namespace ? `${namespace}:` : ''}${key}${path}=4`);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = raw;
  }
  const steps = [...path.matchAll(/\.([^.[]+)|\[(\d+)\]/g)].map((s) => (s[2] !== undefined ? Number(s[2]) : s[1]!));
  return { text, key, steps, value };
}

/**
 * The settings with the change applied (a copy). A list index past the end is refused (one
 * past it appends a whole element), as is a step into something that is not a list or an
 * object, naming what is there — so a typo never silently creates a new pool.
 */
export function applySet(raw: Record<string, unknown>, set: ConfigSet): Record<string, unknown> {
  const out = structuredClone(raw);
  const where = (i: number) => `${PROJECT}:${set.key}${set.steps.slice(0, i).map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('')}`;
  if (!set.steps.length) {
    out[set.key] = set.value;
    return out;
  }
  let node: unknown = out;
  const path: Array<string | number> = [set.key, ...set.steps];
  for (let i = 0; i < path.length - 1; i++) {
    const step = path[i]!;
    const next = path[i + 1]!;
    const container = node as Record<string | number, unknown>;
    let child = container[step];
    if (child === undefined) {
      if (Array.isArray(container) && typeof step === 'number' && step > container.length - 1)
        throw new UsageError(`--set ${set.text}: ${where(i)} does not exist (${container.length} entr${container.length === 1 ? 'y' : 'ies'}, [0]..[${container.length - 1}]); to add one, set the whole entry: ${where(i)}={...}`);
      child = typeof next === 'number' ? [] : {};
      container[step] = child;
    }
    if (typeof next === 'number' && !Array.isArray(child))
      throw new UsageError(`--set ${set.text}: ${where(i)} is not a list, so [${next}] cannot index it`);
    if (typeof next === 'string' && (child === null || typeof child !== 'object' || Array.isArray(child)))
      throw new UsageError(`--set ${set.text}: ${where(i)} is ${Array.isArray(child) ? 'a list: index it, e.g. [0]' : `${JSON.stringify(child)}, not an object`}, so .${next} cannot be set`);
    node = child;
  }
  const last = path[path.length - 1]!;
  if (Array.isArray(node)) {
    if (typeof last !== 'number' || last > node.length)
      throw new UsageError(`--set ${set.text}: ${where(path.length - 2)} has ${node.length} entr${node.length === 1 ? 'y' : 'ies'} ([0]..[${node.length - 1}]); [${String(last)}] is past its end`);
  }
  (node as Record<string | number, unknown>)[last] = set.value;
  return out;
}

/** Every change, in order. */
export function applySets(raw: Record<string, unknown>, sets: readonly ConfigSet[]): Record<string, unknown> {
  return sets.reduce(applySet, raw);
}
