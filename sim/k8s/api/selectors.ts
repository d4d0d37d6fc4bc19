import { errors } from './errors.ts';
import type { ResourceType } from './resources.ts';
import type { KObject } from './types.ts';

export type Labels = Record<string, string> | undefined;
export type LabelMatcher = (labels: Labels) => boolean;

interface Requirement {
  key: string;
  op: 'in' | 'notin' | 'exists' | '!exists' | 'gt' | 'lt';
  values: string[];
}

const matchAll: LabelMatcher = () => true;

/** Parses a label selector string (`a=b,c!=d,e in (x,y),f notin (z),g,!h`) into a matcher. */
export function parseLabelSelector(selector: string | undefined | null): LabelMatcher {
  if (!selector || !selector.trim()) return matchAll;
  const reqs = splitTopLevel(selector).map(parseRequirement);
  return (labels) => reqs.every((r) => matches(r, labels));
}

/** A metav1.LabelSelector object (matchLabels + matchExpressions) as a matcher. */
export function labelSelectorMatcher(sel: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined): LabelMatcher {
  if (!sel) return () => false;
  const reqs: Requirement[] = [];
  for (const [key, value] of Object.entries(sel.matchLabels ?? {})) reqs.push({ key, op: 'in', values: [value] });
  for (const e of sel.matchExpressions ?? []) {
    const op = ({ In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!exists' } as const)[e.operator as 'In'];
    if (!op) throw errors.badRequest(`"${e.operator}" is not a valid label selector operator`);
    reqs.push({ key: e.key, op, values: e.values ?? [] });
  }
  if (reqs.length === 0) return matchAll;
  return (labels) => reqs.every((r) => matches(r, labels));
}

function matches(r: Requirement, labels: Labels): boolean {
  const has = labels !== undefined && Object.hasOwn(labels, r.key);
  const v = has ? labels![r.key]! : undefined;
  switch (r.op) {
    case 'in':
      return has && r.values.includes(v!);
    case 'notin':
      return !has || !r.values.includes(v!);
    case 'exists':
      return has;
    case '!exists':
      return !has;
    case 'gt':
      return has && Number(v) > Number(r.values[0]);
    case 'lt':
      return has && Number(v) < Number(r.values[0]);
  }
}

/** Splits on commas that are not inside parentheses. */
function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out.map((p) => p.trim()).filter((p) => p.length > 0);
}

function parseRequirement(part: string): Requirement {
  let m = /^([^\s!=<>]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
  if (m) return { key: m[1]!, op: m[2] as 'in' | 'notin', values: m[3]!.split(',').map((v) => v.trim()).filter(Boolean) };
  m = /^([^\s!=<>]+)\s*(==|=|!=|>|<)\s*([^\s]*)$/.exec(part);
  if (m) {
    const op = m[2]!;
    const values = [m[3]!];
    if (op === '!=') return { key: m[1]!, op: 'notin', values };
    if (op === '>') return { key: m[1]!, op: 'gt', values };
    if (op === '<') return { key: m[1]!, op: 'lt', values };
    return { key: m[1]!, op: 'in', values };
  }
  m = /^(!?)([^\s!=<>(),]+)$/.exec(part);
  if (m) return { key: m[2]!, op: m[1] ? '!exists' : 'exists', values: [] };
  throw errors.badRequest(`unable to parse requirement: found '${part}', expected: label selector syntax (key=value, key in (a,b), !key)`);
}

export type FieldMatcher = (obj: KObject) => boolean;

/** Parses a field selector (`metadata.name=x,status.phase!=Running`) for a resource; unknown fields are a 400 as on a real server. */
export function parseFieldSelector(selector: string | undefined | null, t: ResourceType): FieldMatcher {
  if (!selector || !selector.trim()) return () => true;
  const terms = selector.split(',').map((p) => p.trim()).filter(Boolean).map((p) => {
    const m = /^([^!=]+?)\s*(==|=|!=)\s*(.*)$/.exec(p);
    if (!m) throw errors.badRequest(`invalid selector: '${selector}'; can't understand '${p}'`);
    const field = m[1]!;
    if (field !== 'metadata.name' && field !== 'metadata.namespace' && !t.fields.includes(field))
      throw errors.badRequest(`field label not supported: ${field}`);
    return { path: field.split('.'), negate: m[2] === '!=', value: m[3]! };
  });
  return (obj) =>
    terms.every((term) => {
      const v = fieldValue(obj, term.path);
      return term.negate ? v !== term.value : v === term.value;
    });
}

function fieldValue(obj: KObject, path: string[]): string {
  let cur: unknown = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[p];
  }
  if (cur === undefined || cur === null) return '';
  return String(cur);
}
