import * as pulumi from '@pulumi/pulumi';
import { parseStackConfig, STRING_KEYS, type StackConfig } from './config.ts';

/**
 * Reads every `runs-fleet:*` key of the current stack and validates it with
 * parseStackConfig. All keys are read (not only known ones) so a misspelt key is
 * reported instead of silently ignored. Secret leaves come back as plaintext here;
 * the program wraps them in pulumi.secret before they reach any resource.
 */
export function readStackConfig(): StackConfig {
  const project = pulumi.getProject();
  const cfg = new pulumi.Config(project);
  const raw: Record<string, unknown> = {};
  for (const fullKey of Object.keys(pulumi.runtime.allConfig())) {
    if (!fullKey.startsWith(`${project}:`)) continue;
    const key = fullKey.slice(project.length + 1);
    raw[key] = STRING_KEYS.has(key) ? cfg.get(key) : readStructured(cfg, key);
  }
  return parseStackConfig(raw, { stack: pulumi.getStack(), region: new pulumi.Config('aws').get('region') });
}

/** Structured values arrive as JSON; a scalar set without --path is a plain string. */
function readStructured(cfg: pulumi.Config, key: string): unknown {
  try {
    return cfg.getObject(key);
  } catch {
    return cfg.get(key);
  }
}
