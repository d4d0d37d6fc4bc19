import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ConfigError } from '../util/errors.ts';
import { parseConfigDocument, type ConfigDocument } from './document.ts';

/**
 * Reads and validates the config document at `path` (JSON or YAML). Throws
 * ConfigError naming the file and every problem by path, e.g.
 * `/etc/runs-fleet/config.yaml: pools[0].max must be ≥ min (4 < 6)`.
 */
export function loadConfigDocument(path: string): ConfigDocument {
  return parseConfigText(readConfigFile(path), path);
}

/** The file's text, or a ConfigError that names it and says what to fix. */
export function readConfigFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new ConfigError([`${path}: cannot read the config document (${code}); check RUNS_FLEET_CONFIG_FILE and the mounted ConfigMap`]);
  }
}

/** Parses document text; `.json` files and text starting with `{` are JSON, everything else YAML. */
export function parseConfigText(text: string, file: string): ConfigDocument {
  return parseConfigDocument(parseSyntax(text, file), `${file}: `);
}

function parseSyntax(text: string, file: string): unknown {
  if (text.trim() === '') throw new ConfigError([`${file}: is empty; expected a config document with at least "classes"`]);
  if (looksLikeJson(text, file)) {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new ConfigError([`${file}: invalid JSON: ${(err as Error).message}`]);
    }
  }
  try {
    // uniqueKeys: a duplicated key in a hand-edited ConfigMap is a mistake, not an override.
    return parseYaml(text, { uniqueKeys: true, prettyErrors: true });
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : '';
    throw new ConfigError([`${file}: invalid YAML${where}: ${firstLine((err as Error).message)}`]);
  }
}

function looksLikeJson(text: string, file: string): boolean {
  const ext = extname(file).toLowerCase();
  if (ext === '.json') return true;
  if (ext === '.yaml' || ext === '.yml') return false;
  return text.trimStart().startsWith('{');
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0] ?? message;
}
