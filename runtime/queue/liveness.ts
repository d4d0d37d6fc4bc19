/**
 * Consumer liveness: which replicas of the consumer group are alive, so that the entries of
 * one that died are taken over in seconds rather than after a long idle deadline — and the
 * entries of one that is alive (however slow its provisioning) are never taken at all.
 *
 * Every consumer writes a heartbeat (its name scored with Valkey's own clock, in ms) to one
 * sorted set every `beatEveryMs`; a consumer whose last beat is older than `staleMs` is gone.
 * Valkey's clock, not the replicas', so clock skew between pods cannot make a live one look dead.
 */

/** Defaults: a beat every 2 s, gone after 6 s without one (three missed beats). */
export const HEARTBEAT_EVERY_MS = 2_000;
export const HEARTBEAT_STALE_MS = 6_000;
/** How often a replica looks for consumers that are gone (cheap: one ZRANGE and one XINFO CONSUMERS). */
export const LIVENESS_CHECK_EVERY_MS = 1_000;

/** One consumer of the group as XINFO CONSUMERS reports it. */
export interface GroupConsumer {
  name: string;
  /** Entries pending on it. */
  pending: number;
}

export interface LivenessInput {
  /** The replica deciding (it never claims from itself this way; its own retries are separate). */
  self: string;
  /** Valkey's clock, ms. */
  now: number;
  consumers: GroupConsumer[];
  /** Last heartbeat per consumer (Valkey ms); 0 = stopped gracefully; absent = never beat. */
  heartbeats: ReadonlyMap<string, number>;
  staleMs: number;
}

export type LivenessDecision =
  /** Gone (beat older than staleMs, or stopped): take all its pending entries now. */
  | { consumer: string; action: 'claim'; pending: number }
  /** Gone and nothing pending: remove it from the group and the heartbeat set. */
  | { consumer: string; action: 'forget' }
  /**
   * Never beat (a replica of a release before heartbeats, or a consumer name that was
   * forgotten): only its entries idle past the long reclaim deadline are taken, as before.
   */
  | { consumer: string; action: 'legacy'; pending: number };

/** Pure: what to do about each other consumer. Alive consumers get no decision at all. */
export function decideLiveness(input: LivenessInput): LivenessDecision[] {
  const out: LivenessDecision[] = [];
  for (const c of input.consumers) {
    if (c.name === input.self) continue;
    const beat = input.heartbeats.get(c.name);
    if (beat === undefined) {
      if (c.pending > 0) out.push({ consumer: c.name, action: 'legacy', pending: c.pending });
      continue;
    }
    if (!isGone(beat, input.now, input.staleMs)) continue;
    out.push(c.pending > 0 ? { consumer: c.name, action: 'claim', pending: c.pending } : { consumer: c.name, action: 'forget' });
  }
  return out;
}

/** A beat exactly `staleMs` old still counts as alive: claims need strictly more silence. */
export function isGone(lastBeat: number, now: number, staleMs: number): boolean {
  return now - lastBeat > staleMs;
}

/** Lua: `now` = Valkey's clock in ms, the one clock every beat and every staleness check uses. */
const VALKEY_NOW_MS = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * KEYS: heartbeat set. ARGV: consumer. Scores the beat with Valkey's clock (TIME), so
 * every replica's beat is on one clock. Returns that time in ms.
 */
export const HEARTBEAT = `
${VALKEY_NOW_MS}
redis.call('ZADD', KEYS[1], now, ARGV[1])
return now`;

/**
 * KEYS: jobs stream, heartbeat set. ARGV: group, gone consumer, self, staleMs, count, minIdleMs,
 * mode ('gone' | 'legacy'). Moves up to `count` of the gone consumer's pending entries to self
 * — in one atomic step with the liveness check, so a consumer whose beat arrived after the
 * caller looked keeps its entries. 'gone' requires a stale beat; 'legacy' requires no beat at
 * all and takes only entries idle ≥ minIdleMs. Returns the XCLAIM reply (entries with fields).
 */
export const CLAIM_FROM_GONE = `
${VALKEY_NOW_MS}
local beat = redis.call('ZSCORE', KEYS[2], ARGV[2])
if ARGV[7] == 'gone' then
  if not beat or now - tonumber(beat) <= tonumber(ARGV[4]) then return {} end
else
  if beat then return {} end
end
local rows = redis.call('XPENDING', KEYS[1], ARGV[1], 'IDLE', ARGV[6], '-', '+', ARGV[5], ARGV[2])
if #rows == 0 then return {} end
local ids = {}
for i, row in ipairs(rows) do ids[i] = row[1] end
return redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], ARGV[6], unpack(ids))`;

/**
 * KEYS: jobs stream, heartbeat set. ARGV: group, consumer, staleMs. Removes a gone consumer with
 * nothing pending from the group and from the heartbeat set (so the set does not grow with every
 * pod ever started). Re-checked here: a beat that arrived since, or a pending entry, keeps it.
 */
export const FORGET_GONE = `
${VALKEY_NOW_MS}
local beat = redis.call('ZSCORE', KEYS[2], ARGV[2])
if not beat or now - tonumber(beat) <= tonumber(ARGV[3]) then return 0 end
local summary = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if #summary > 0 then return 0 end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[2])
return 1`;
