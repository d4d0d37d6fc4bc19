// What bench/lib/world-child.ts and its parent (split-stack.ts) say to each other, apart from
// the child's entry so that importing these does not start a world.
import type { ConfigDocument } from '../../runtime/config/document.ts';
import { stageNow } from '../../runtime/util/job-stages.ts';
import type { GitHubDoubleOptions } from '../../sim/github/double.ts';
import type { WorkflowJobFields } from '../../sim/github/webhook-payload.ts';
import type { SimTimings } from '../../sim/k8s/cluster.ts';

export interface WorldChildInput {
  doc: ConfigDocument;
  namespaces: string[];
  webhookSecret: string;
  timings?: Partial<SimTimings>;
  github?: Pick<GitHubDoubleOptions, 'primary' | 'secondary'>;
}

export interface WorldChildReady {
  simUrl: string;
  kubeconfigYaml: string;
  githubUrl: string;
  appId: number;
  privateKeyPem: string;
}

/** A Job or Secret stored by the sim: `namespace/name` and when (ms on the child's `now`). */
export interface Added {
  plural: 'jobs' | 'secrets';
  key: string;
  at: number;
}

/** A webhook the child sent as GitHub would (`sentAt` on the child's `now`), and how the ingress answered. */
export interface Sent {
  id: number;
  sentAt: number;
  /** Request written → response headers, ms. */
  answeredMs: number;
  /** -1 when the request failed, with `error`. */
  status: number;
  error?: string;
}

/** Asks the child to sign and send a `queued` webhook for `job` to `url` (the parent's ingress). */
export interface SendWebhook {
  type: 'webhook';
  id: number;
  url: string;
  job: WorkflowJobFields;
}

export type WorldMessage =
  | { type: 'added'; added: Added[] }
  | { type: 'sent'; sent: Sent[] }
  | { type: 'pong'; id: number; at: number };

/**
 * Epoch ms with performance.now()'s resolution: both processes read the same system clock at their origin.
 * The orchestrator's job stages are stamped with this very clock, so the benches compare them with no mapping.
 */
export const now = stageNow;
