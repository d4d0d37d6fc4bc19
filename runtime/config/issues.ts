import type { z } from 'zod';

/** `pools[1].max` from a zod issue path. */
export function formatPath(path: ReadonlyArray<PropertyKey>, prefix = ''): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return prefix + (out || '(root)');
}

/**
 * Every problem of a failed parse, one line each: the path (after `prefix`, which names the
 * file or the stack key's namespace), the value found, the rule and the fix, e.g.
 * `runs-fleet:pools[0].min must be a whole number ≥ 0, got -1: set 0 or more`. zod's own
 * wording (`Too small: expected number to be >=0`) is replaced; the schema's own messages
 * (`must be a DNS label …`) are kept and get the value. Pass the parsed `input` so the value
 * can be shown; values under secret-looking keys are never shown.
 */
export function formatIssues(error: z.ZodError, prefix = '', input?: unknown): string[] {
  return error.issues.map((issue) => formatIssue(issue, prefix, input));
}

type Issue = z.core.$ZodIssue;

const SECRET_PATH = /secret|privatekey|token|password|jit/i;
const MISSING = Symbol('missing');

function valueAt(input: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let node: unknown = input;
  for (const seg of path) {
    if (node === null || typeof node !== 'object' || !(seg in (node as object))) return MISSING;
    node = (node as Record<PropertyKey, unknown>)[seg];
  }
  return node;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`;
}

const EXPECTED: Record<string, [what: string, how: string]> = {
  number: ['a number', 'write it as a number such as 4'],
  int: ['a whole number', 'write a whole number such as 4'],
  string: ['text', 'write it as text (quote it in YAML if it looks like a number or true/false)'],
  boolean: ['true or false', 'write true or false, without quotes'],
  object: ['a mapping (key: value lines)', 'write its settings as key: value lines under it'],
  array: ['a list', 'write it as a list: one "- item" line per entry, or [a, b]'],
};

const NOUN: Record<string, string> = { object: 'a mapping', array: 'a list', int: 'a whole number', number: 'a number', string: 'text', boolean: 'true or false' };

function closest(input: unknown, options: readonly unknown[]): string | undefined {
  if (typeof input !== 'string') return undefined;
  const low = input.toLowerCase();
  return options.map(String).find((o) => o.toLowerCase() === low || o.toLowerCase().startsWith(low) || low.startsWith(o.toLowerCase()));
}

function bound(issue: { origin: string; inclusive?: boolean }, n: number | bigint, small: boolean): [rule: string, fix: string] {
  const unit = (k: string) => `${n} ${k}${Number(n) === 1 ? '' : 's'}`;
  if (issue.origin === 'array' || issue.origin === 'set')
    return small ? [`must list at least ${unit('item')}`, 'add entries'] : [`must list at most ${unit('item')}`, 'remove entries'];
  if (issue.origin === 'string')
    return small ? [`must be at least ${unit('character')} long`, 'write a longer value'] : [`must be at most ${unit('character')} long`, 'shorten it'];
  const op = small ? (issue.inclusive === false ? '>' : '≥') : issue.inclusive === false ? '<' : '≤';
  return [`must be ${op} ${n}`, `set a value ${small ? 'of at least' : 'of at most'} ${n}`];
}

/** zod's message replaced by the rule and the fix, for zod's own (capitalised) wording. */
function ruleAndFix(issue: Issue, value: unknown): [rule: string, fix: string | undefined] {
  switch (issue.code) {
    case 'invalid_type': {
      const [what, how] = EXPECTED[issue.expected] ?? [issue.expected, `write ${issue.expected}`];
      if (issue.expected === 'int' && typeof value === 'number') return [`must be a whole number`, `use ${Math.floor(value)} or ${Math.ceil(value)}`];
      if (issue.expected === 'number' && typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
        return [`must be a number, not text`, `write ${value.trim()} without quotes`];
      return [`must be ${what}`, how];
    }
    case 'too_small':
      return bound(issue, issue.minimum, true);
    case 'too_big':
      return bound(issue, issue.maximum, false);
    case 'invalid_value': {
      const guess = closest(value, issue.values);
      return [`must be one of ${issue.values.map(String).join(', ')}`, guess ? `did you mean ${guess}?` : 'use one of those'];
    }
    case 'unrecognized_keys':
      return [`has ${issue.keys.length === 1 ? 'an unknown key' : 'unknown keys'} ${issue.keys.map((k) => `"${k}"`).join(', ')}`, 'remove it or fix its spelling (docs/configuration.md lists every setting)'];
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options;
      if (options?.length) {
        const guess = closest(value, options);
        return [`must be one of ${options.map(String).join(', ')}`, guess ? `did you mean ${guess}?` : 'use one of those'];
      }
      const kinds = issue.errors.map((e) => e[0]).filter((e) => e?.code === 'invalid_type').map((e) => EXPECTED[(e as { expected: string }).expected]?.[0]);
      return [kinds.length === issue.errors.length ? `must be ${kinds.join(' or ')}` : 'matches none of the forms this setting allows', 'see docs/configuration.md for its forms'];
    }
    case 'invalid_format':
      return [`must be ${issue.format === 'url' ? 'a URL' : `in ${issue.format} format`}`, issue.format === 'url' ? 'write a full URL such as https://api.github.com' : 'fix its format'];
    default:
      return [issue.message.replace(/^Invalid input:?\s*/i, 'is invalid: '), undefined];
  }
}

/** Whether a schema message already shows the value: `(4 < 6)` or `class "nope"`. */
function mentions(message: string, value: unknown): boolean {
  if (typeof value === 'number' || typeof value === 'boolean') return new RegExp(`(^|[\\s(])${String(value).replace('.', '\\.')}([\\s),]|$)`).test(message);
  return typeof value === 'string' && message.includes(`"${value}"`);
}

function formatIssue(issue: Issue, prefix: string, input: unknown): string {
  const path = formatPath(issue.path, prefix);
  const value = input === undefined ? MISSING : valueAt(input, issue.path);
  const secret = SECRET_PATH.test(path);
  if (value === undefined || (value === MISSING && input !== undefined && issue.code === 'invalid_type'))
    return `${path} is missing: it is required${issue.code === 'invalid_type' ? ` (${NOUN[issue.expected] ?? issue.expected})` : ''}; add it`;
  const got = value === MISSING || issue.code === 'unrecognized_keys' ? '' : secret ? '; the value is a secret and is not shown' : `, got ${show(value)}`;
  // The schema's own messages start lowercase (`must be …`, `names unknown class …`): keep them.
  if (/^[a-z≥≤]/.test(issue.message)) {
    const shown = value !== MISSING && !secret && mentions(issue.message, value);
    return `${path} ${issue.message}${shown ? '' : got}`;
  }
  const [rule, fix] = ruleAndFix(issue, value);
  const typed = issue.code === 'invalid_type' && value !== MISSING && !secret ? ` (${kind(value)})` : '';
  return `${path} ${rule}${got}${typed}${fix ? `: ${fix}` : ''}`;
}
