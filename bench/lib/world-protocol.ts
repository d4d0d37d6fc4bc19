// What bench/lib/world-child.ts and its parent (split-stack.ts) say to each other, apart from
// the child's entry so that importing these does not start a world.
import type { ConfigDocument } from '../../runtime/config/document.ts';
import type { GitHubDoubleOptions } from '../../sim/github/double.ts';
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

export type WorldMessage = { type: 'added'; added: Added[] } | { type: 'pong'; id: number; at: number };

/** Epoch ms with performance.now()'s resolution: both processes read the same system clock at their origin. */
export const now = (): number => performance.timeOrigin + performance.now();
