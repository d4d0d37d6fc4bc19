import type { Valkey } from 'iovalkey';
import { z } from 'zod';
import { DemandState, emptyDemand } from './demand.ts';
import type { PoolDecisionState } from './desired.ts';
import { FanOutState } from './fan-out.ts';

/**
 * Per-pool memory of the warm-pool controller: demand history, the last decision (for
 * the scale-down delay) and the idle-spend ledger (for the cost cap). Kept in Valkey so a
 * new leader continues where the last one stopped instead of starting from zero demand.
 */

export interface StoredPoolState {
  demand: DemandState;
  decision?: PoolDecisionState;
  /** What the pool learned of pipelines that fan out, and the waves it expects. */
  fanOut?: FanOutState;
}

export interface WarmPoolStateStore {
  load(now: number): Promise<Map<string, StoredPoolState>>;
  /** Replaces the whole stored state (pools not in `states` are forgotten). */
  save(states: ReadonlyMap<string, StoredPoolState>): Promise<void>;
}

const DecisionState = z.object({
  desired: z.number().int().min(0),
  lastAboveAt: z.number(),
  at: z.number(),
  floor: z.number().int().min(0),
  ledger: z.array(z.tuple([z.number(), z.number()])).max(48),
  budget: z.object({ saved: z.number(), at: z.number() }).optional(),
  ahead: z.number().int().min(0).optional(),
});

const Stored = z.object({ demand: DemandState, decision: DecisionState.optional(), fanOut: FanOutState.optional() });

/** Parses one stored pool; an unreadable entry becomes empty history rather than failing the pass. */
export function parseStoredPool(text: string, now: number): StoredPoolState {
  try {
    const parsed = Stored.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
  } catch {
    // fall through
  }
  return { demand: emptyDemand(now) };
}

export function memoryStateStore(): WarmPoolStateStore {
  let saved = new Map<string, string>();
  return {
    load: async (now) => new Map([...saved].map(([pool, text]) => [pool, parseStoredPool(text, now)])),
    save: async (states) => {
      saved = new Map([...states].map(([pool, s]) => [pool, JSON.stringify(s)]));
    },
  };
}

/** One Valkey hash, a field per pool. */
export function valkeyStateStore(valkey: Valkey, key: string): WarmPoolStateStore {
  return {
    async load(now) {
      const fields = await valkey.hgetall(key);
      return new Map(Object.entries(fields).map(([pool, text]) => [pool, parseStoredPool(text, now)]));
    },
    async save(states) {
      const tx = valkey.multi().del(key);
      if (states.size) tx.hset(key, Object.fromEntries([...states].map(([pool, s]) => [pool, JSON.stringify(s)])));
      const results = await tx.exec();
      const failed = results?.find(([err]) => err);
      if (failed) throw failed[0];
    },
  };
}
