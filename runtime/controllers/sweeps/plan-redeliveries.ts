import type { HookDelivery } from '../../github/client.ts';

export interface RedeliveryPolicy {
  /** Redeliveries asked for per delivery (guid); a delivery that fails every time stops costing API calls. */
  maxPerGuid: number;
  /** Events whose failed deliveries matter. */
  events: readonly string[];
}

export interface Redelivery {
  /** The id of the latest attempt: the one GitHub redelivers. */
  id: number;
  guid: string;
  event: string;
  action: string | null;
}

const ok = (d: HookDelivery) => d.statusCode >= 200 && d.statusCode < 300;

/**
 * Failed webhook deliveries to ask GitHub for again, oldest first. Pure. A delivery is one
 * guid with all its attempts (redeliveries keep the guid): failed only if no attempt got a
 * 2xx. Each guid is redelivered at most maxPerGuid times, across passes and leaders.
 */
export function planRedeliveries(
  deliveries: readonly HookDelivery[], redelivered: ReadonlyMap<string, number>, policy: RedeliveryPolicy,
): Redelivery[] {
  const byGuid = new Map<string, HookDelivery[]>();
  for (const d of deliveries) {
    if (!policy.events.includes(d.event)) continue;
    byGuid.set(d.guid, [...(byGuid.get(d.guid) ?? []), d]);
  }
  const out: (Redelivery & { first: number })[] = [];
  for (const [guid, attempts] of byGuid) {
    if (attempts.some(ok)) continue;
    if ((redelivered.get(guid) ?? 0) >= policy.maxPerGuid) continue;
    const latest = attempts.reduce((a, b) => (b.id > a.id ? b : a));
    const first = Math.min(...attempts.map((a) => Date.parse(a.deliveredAt)));
    out.push({ id: latest.id, guid, event: latest.event, action: latest.action, first });
  }
  return out.sort((a, b) => a.first - b.first).map(({ first: _first, ...r }) => r);
}
