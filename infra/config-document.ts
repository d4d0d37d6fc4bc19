import { createHash } from 'node:crypto';
import type { ConfigDocumentInput, LabelAlias, Pool, RunnerClass, RunnerSettings } from '../runtime/config/document.ts';
import { buildClassPodTemplate } from '../runtime/k8s/pod-template.ts';
import { stableStringify } from './stable-json.ts';

export const CONFIG_DOCUMENT_KEY = 'config.json';

export interface RenderedDocument {
  document: ConfigDocumentInput;
  /** Sorted-key JSON: the ConfigMap's `config.json`. */
  json: string;
  sha256: string;
}

/**
 * The config document the runtime reads (runtime/config/document.ts), from stack config:
 * runner settings, pools and aliases as configured, and each class with the pod template
 * the runtime will use for its runners, rendered by the runtime's own builder.
 */
export interface DocumentSource {
  runner: RunnerSettings;
  classes: readonly RunnerClass[];
  pools: readonly Pool[];
  aliases: readonly LabelAlias[];
}

export function renderConfigDocument(cfg: DocumentSource): RenderedDocument {
  const document: ConfigDocumentInput = {
    runner: cfg.runner,
    classes: cfg.classes.map((cls) => ({ ...cls, podTemplate: buildClassPodTemplate(cls, cfg.runner) as Record<string, unknown> })),
    pools: [...cfg.pools],
    aliases: [...cfg.aliases],
  };
  const json = `${stableStringify(document)}\n`;
  return { document, json, sha256: createHash('sha256').update(json).digest('hex') };
}
