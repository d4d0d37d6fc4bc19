import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseStackConfig, PROJECT } from '../infra/config.ts';
import { renderConfigDocument } from '../infra/config-document.ts';
import { parseConfigDocument, type ConfigDocument } from '../runtime/config/document.ts';
import { ConfigError } from '../runtime/util/errors.ts';

/** What local mode takes from a Pulumi stack file. */
export interface StackDocument {
  /** The config document `pulumi up` would ship in the runs-fleet-config ConfigMap. */
  doc: ConfigDocument;
  stack: string;
  file: string;
  /** `runs-fleet:karpenter.consolidateAfter` in ms: how long an empty runner node stays. */
  consolidateAfterMs: number;
  namespaces: { system: string; runners: string };
  /** `runs-fleet:cluster.systemNodes`: the system node group the sim's system pool copies. */
  systemNodes: { arch: 'arm64' | 'amd64'; instanceTypes: string[]; count: number };
}

// Local mode uses the GitHub double's key and its own webhook secret; the stack's
// encrypted values are neither readable here nor needed, only valid in shape.
const PLACEHOLDER_PEM = '-----BEGIN RSA PRIVATE KEY-----\nlocal-mode-placeholder\n-----END RSA PRIVATE KEY-----\n';
const PLACEHOLDER_SECRET = 'local-mode-placeholder-secret';

/**
 * Reads `Pulumi.<stack>.yaml`, validates its `runs-fleet:*` keys with the program's own
 * parseStackConfig and renders the document with the program's renderConfigDocument, so
 * local mode runs exactly the document the stack would deploy. Errors name the file and
 * the config path to fix. `edit` changes the `runs-fleet:*` settings (keys without the prefix)
 * before they are validated.
 */
export function loadStackDocument(file: string, edit?: (raw: Record<string, unknown>) => Record<string, unknown>): StackDocument {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): pass a Pulumi stack file such as Pulumi.dev.yaml`]);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new ConfigError([`${file} is not valid YAML: ${(err as Error).message}`]);
  }
  const config = (parsed as { config?: Record<string, unknown> } | null)?.config;
  if (!config || typeof config !== 'object') throw new ConfigError([`${file} has no "config:" section: is it a Pulumi stack file?`]);

  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (key.startsWith(`${PROJECT}:`)) raw[key.slice(PROJECT.length + 1)] = withoutSecureLeaves(value, key.slice(PROJECT.length + 1));
  }
  // `npm run what-if --set`: a proposed change goes through the same validation as the file itself.
  const edited = edit ? edit(raw) : raw;
  const stack = /^Pulumi\.(.+)\.ya?ml$/.exec(basename(file))?.[1] ?? 'local';
  const region = typeof config['aws:region'] === 'string' ? (config['aws:region'] as string) : undefined;
  let cfg;
  try {
    cfg = parseStackConfig(edited, { stack, region });
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(err.problems.map((p) => `${file}: ${p}`));
    throw err;
  }
  const { document } = renderConfigDocument(cfg);
  return {
    doc: parseConfigDocument(document, `${file}: `),
    stack,
    file,
    consolidateAfterMs: durationMs(cfg.karpenter.consolidateAfter),
    namespaces: cfg.namespaces,
    systemNodes: { arch: cfg.cluster.systemNodes.arch, instanceTypes: [...cfg.cluster.systemNodes.instanceTypes], count: cfg.cluster.systemNodes.desired },
  };
}

function withoutSecureLeaves(value: unknown, path: string): unknown {
  if (Array.isArray(value)) return value.map((v, i) => withoutSecureLeaves(v, `${path}[${i}]`));
  if (!value || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  if (Object.keys(obj).length === 1 && typeof obj.secure === 'string') return path.endsWith('privateKey') ? PLACEHOLDER_PEM : PLACEHOLDER_SECRET;
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, withoutSecureLeaves(v, `${path}.${k}`)]));
}

/** `2m`, `30s`, `1h30m` → ms (the stack schema already checked the shape). */
export function durationMs(s: string): number {
  const unit: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const m of s.matchAll(/(\d+)([smh])/g)) total += Number(m[1]) * unit[m[2]!]!;
  return total;
}
