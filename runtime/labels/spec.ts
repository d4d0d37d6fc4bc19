import { KEY_PARSERS, type KeyContext, type SpecFields } from './keys.ts';

/**
 * Parses the `k=v/k=v` part of a label (after the marker, or an alias's spec) with the
 * original's rules: split on `/`, each segment on its first `=`; keys and values are
 * case-sensitive and untrimmed; unknown keys and segments without `=` are ignored with
 * a warning; a repeated key: the last one wins. Every occurrence is validated, so a bad
 * value is refused even when a later segment repeats the key (the original did the same).
 */
export function parseSpec(spec: string, ctx: KeyContext): SpecFields & { spot: boolean } {
  const fields: SpecFields & { spot: boolean } = { spot: true };
  const seen = new Set<string>();
  for (const segment of spec.split('/')) {
    // `runs-fleet=1/` or `a//b`: an empty segment says nothing; not worth a warning.
    if (segment === '') continue;
    const eq = segment.indexOf('=');
    if (eq < 0) {
      ctx.warn(`segment "${segment}" has no "=" and is ignored`);
      continue;
    }
    const key = segment.slice(0, eq);
    const parser = KEY_PARSERS.get(key);
    if (!parser) {
      ctx.warn(`unknown key "${key}" is ignored (known keys: ${[...KEY_PARSERS.keys()].join(', ')})`);
      continue;
    }
    if (seen.has(key)) ctx.warn(`key "${key}" is repeated; the last value wins`);
    seen.add(key);
    Object.assign(fields, parser(segment.slice(eq + 1), ctx));
  }
  return fields;
}
