import type { ConfigDocument } from '../config/document.ts';
import { compileAliasPattern } from './aliases.ts';
import { LabelError } from './errors.ts';
import { readMarker } from './markers.ts';
import { requestFromAlias } from './parse.ts';
import { resolveRunner } from './resolve.ts';

/**
 * Checks the config document's aliases at startup, so that a broken alias fails the
 * deploy instead of every job that uses it. Returns problems by path
 * (`aliases[2].spec: …`), empty when all is well. Literal specs (every spec without a
 * `$` reference) are parsed and resolved against the document's classes and pools;
 * for startup config, an ignored segment or an unknown pool is a problem too (it is
 * almost certainly a typo), not just a warning.
 */
export function validateAliases(doc: ConfigDocument): string[] {
  const problems: string[] = [];
  const exact = new Map<string, number>();
  doc.aliases.forEach((rule, i) => {
    const at = `aliases[${i}]`;
    if (rule.regex) {
      try {
        compileAliasPattern(rule.match);
      } catch (err) {
        const hint = rule.match.includes('(?P<') ? '; named groups are written (?<name>…) in JavaScript' : '';
        problems.push(`${at}.match: invalid regular expression: ${(err as Error).message}${hint}`);
      }
    } else {
      if (readMarker(rule.match))
        problems.push(`${at}.match: "${rule.match}" is a runs-fleet marker label, and aliases are consulted only when there is none; the rule would never apply`);
      const first = exact.get(rule.match);
      if (first !== undefined) problems.push(`${at}.match: "${rule.match}" is already matched by aliases[${first}]; this rule would never apply`);
      else exact.set(rule.match, i);
    }
    if (!rule.regex || !rule.spec.includes('$')) problems.push(...checkSpec(doc, i, rule.regex ? `alias-${i}` : rule.match, rule.spec));
  });
  return problems;
}

function checkSpec(doc: ConfigDocument, index: number, label: string, spec: string): string[] {
  const at = `aliases[${index}].spec`;
  try {
    const request = requestFromAlias({ index, label, spec }, [label]);
    const resolved = resolveRunner(request, doc);
    return resolved.warnings.map((w) => `${at}: ${w}`);
  } catch (err) {
    if (err instanceof LabelError) return [`${at}: ${err.detail}`];
    throw err;
  }
}
