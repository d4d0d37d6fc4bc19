/** An operator alias: the config document's LabelAlias, with `regex` optional for callers' convenience. */
export interface AliasRule {
  match: string;
  regex?: boolean;
  spec: string;
}

export interface AliasMatch {
  /** Index of the rule in the config document's `aliases`. */
  index: number;
  /** The runs-on label that matched. */
  label: string;
  /** The rule's spec, with `${1}` / `${name}` expanded for regex rules. */
  spec: string;
}

const compiled = new Map<string, RegExp>();

/**
 * JavaScript RegExp for an alias pattern, compiled once. Unanchored, like the
 * original's RE2 partial match: anchor with ^…$ to match whole labels.
 * Throws SyntaxError for an invalid pattern (validateAliases reports it at startup).
 */
export function compileAliasPattern(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    re = new RegExp(pattern);
    compiled.set(pattern, re);
  }
  return re;
}

/** The first runs-on label that any rule matches, with the first rule that matches it. */
export function matchAlias(labels: readonly string[], rules: readonly AliasRule[]): AliasMatch | undefined {
  for (const label of labels) {
    for (const [index, rule] of rules.entries()) {
      if (!rule.regex) {
        if (label === rule.match) return { index, label, spec: rule.spec };
        continue;
      }
      const m = compileAliasPattern(rule.match).exec(label);
      if (m) return { index, label, spec: expandTemplate(rule.spec, m) };
    }
  }
  return undefined;
}

const NAME = /^[A-Za-z0-9_]+/;

/**
 * Go's Regexp.Expand, so that specs written for the original keep working: `$1`,
 * `${1}`, `$name`, `${name}`; `$$` is a literal `$`; a name is as long as possible
 * (`$1x` means `${1x}`); unknown or unmatched groups expand to ""; a malformed `$`
 * stays as it is.
 */
export function expandTemplate(template: string, m: RegExpExecArray): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf('$', i);
    if (dollar < 0) return out + template.slice(i);
    out += template.slice(i, dollar);
    const ref = readReference(template, dollar + 1);
    if (ref === undefined) {
      out += '$';
      i = dollar + 1;
    } else {
      out += ref.name === '$' ? '$' : group(m, ref.name);
      i = ref.end;
    }
  }
  return out;
}

function readReference(template: string, at: number): { name: string; end: number } | undefined {
  if (template[at] === '$') return { name: '$', end: at + 1 };
  if (template[at] === '{') {
    const name = NAME.exec(template.slice(at + 1))?.[0];
    if (!name || template[at + 1 + name.length] !== '}') return undefined;
    return { name, end: at + name.length + 2 };
  }
  const name = NAME.exec(template.slice(at))?.[0];
  return name ? { name, end: at + name.length } : undefined;
}

function group(m: RegExpExecArray, name: string): string {
  if (/^\d+$/.test(name)) return m[Number(name)] ?? '';
  const groups = m.groups;
  return groups && Object.hasOwn(groups, name) ? (groups[name] ?? '') : '';
}
