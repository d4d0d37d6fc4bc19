import type { CoreV1Api, V1Deployment, V1Node, V1Pod } from '@kubernetes/client-node';
import type { ConfigDocument } from '../../config/document.ts';
import { isNotFound } from '../../k8s/client.ts';
import type { PoolDecision } from './desired.ts';
import { forgetPool, type WarmPoolMetrics } from './metrics.ts';
import { isWarmHit, runnerPool, timeOf } from './observe.ts';

/**
 * Turns what a pass observed into the warm-pool metrics: desired and ready placeholders,
 * the CPU-seconds ready placeholders held since the last pass, and for each runner newly
 * on a node whether that node was already up (a warm hit) or came up for it (a miss).
 */
export class WarmPoolAccounting {
  private last: { at: number; held: Map<string, { cls: string; cpus: number }> } | undefined;
  /** Runner pod uids already counted as a hit or miss. */
  private classified = new Set<string>();

  /** Runners created before this (when this leader started) were counted by the previous one. */
  private readonly since: number;

  constructor(
    private readonly core: CoreV1Api,
    private readonly metrics: WarmPoolMetrics | undefined,
    since: number,
  ) {
    // creationTimestamp has whole seconds: compare on that grain, or a runner created in
    // the leader's first second would look older than the leader and never be counted.
    this.since = Math.floor(since / 1000) * 1000;
  }

  async record(doc: ConfigDocument, decisions: PoolDecision[], observed: ReadonlyMap<string, V1Deployment>, pods: V1Pod[], now: number): Promise<void> {
    const m = this.metrics;
    if (!m) return;
    const held = new Map<string, { cls: string; cpus: number }>();
    for (const d of decisions) {
      const ready = observed.get(d.pool)?.status?.readyReplicas ?? 0;
      const cpu = doc.classes.find((c) => c.name === d.class)?.cpu ?? 0;
      m.desired.set({ pool: d.pool, class: d.class }, d.desired);
      m.ready.set({ pool: d.pool, class: d.class }, ready);
      held.set(d.pool, { cls: d.class, cpus: ready * cpu });
    }
    if (this.last) {
      const seconds = Math.max(0, now - this.last.at) / 1000;
      for (const [pool, h] of this.last.held) if (h.cpus > 0) m.cpuSeconds.inc({ pool, class: h.cls }, h.cpus * seconds);
      for (const [pool, h] of this.last.held) if (!held.has(pool)) forgetPool(m, pool, h.cls);
    }
    this.last = { at: now, held };
    await this.countHits(doc, pods);
  }

  private async countHits(doc: ConfigDocument, pods: V1Pod[]): Promise<void> {
    const nodes = new Map<string, Promise<V1Node | 'gone' | 'unknown'>>();
    const listed = new Set<string>();
    for (const pod of pods) {
      const uid = pod.metadata?.uid;
      if (uid) listed.add(uid);
      const nodeName = pod.spec?.nodeName;
      if (!uid || !nodeName || this.classified.has(uid)) continue;
      const pool = doc.pools.find((p) => p.name === runnerPool(doc, pod));
      if (!pool || (timeOf(pod.metadata?.creationTimestamp) ?? 0) < this.since) {
        this.classified.add(uid);
        continue;
      }
      if (!nodes.has(nodeName)) nodes.set(nodeName, this.readNode(nodeName));
      const node = await nodes.get(nodeName)!;
      if (node === 'unknown') continue; // API trouble: try again next pass
      this.classified.add(uid);
      if (node === 'gone') continue; // the node left already: nothing to learn
      (isWarmHit(pod, node) ? this.metrics!.hits : this.metrics!.misses).inc({ pool: pool.name, class: pool.class });
    }
    for (const uid of this.classified) if (!listed.has(uid)) this.classified.delete(uid);
  }

  private async readNode(name: string): Promise<V1Node | 'gone' | 'unknown'> {
    try {
      return await this.core.readNode({ name });
    } catch (err) {
      return isNotFound(err) ? 'gone' : 'unknown';
    }
  }
}
