import type { CoreV1Api, V1Node } from '@kubernetes/client-node';
import { isNotFound } from '../../k8s/client.ts';
import { NODE } from '../../k8s/labels.ts';
import type { Clock } from '../../util/clock.ts';
import type { NodeFacts } from './classify.ts';

export interface NodeInfo extends NodeFacts {
  node?: V1Node;
}

/**
 * Runner nodes, read on demand (one GET when a runner is scheduled, not a cluster-wide
 * watch) and remembered: a spot node is usually gone by the time its pod is classified,
 * and its capacity type is what tells an interruption from other node loss.
 */
export class NodeFactsCache {
  private readonly cache = new Map<string, NodeInfo & { at: number }>();

  constructor(private readonly core: Pick<CoreV1Api, 'readNode'>, private readonly clock: Clock, private readonly ttlMs = 60_000, private readonly max = 2_000) {}

  async get(name: string): Promise<NodeInfo> {
    const hit = this.cache.get(name);
    if (hit && (hit.gone || this.clock.now() - hit.at < this.ttlMs)) return hit;
    let info: NodeInfo;
    try {
      const node = await this.core.readNode({ name });
      info = { node, capacityType: node.metadata?.labels?.[NODE.capacityType], gone: !!node.metadata?.deletionTimestamp };
    } catch (err) {
      if (!isNotFound(err)) return hit ?? {};
      info = { capacityType: hit?.capacityType, gone: true, node: hit?.node };
    }
    this.remember(name, info);
    return info;
  }

  private remember(name: string, info: NodeInfo): void {
    this.cache.delete(name);
    this.cache.set(name, { ...info, at: this.clock.now() });
    if (this.cache.size > this.max) this.cache.delete(this.cache.keys().next().value!);
  }
}
