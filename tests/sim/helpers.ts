import * as k8s from '@kubernetes/client-node';
import type { VirtualClock } from '../../sim/k8s/clock.ts';

/**
 * Polls `probe` until it returns something truthy. With a virtual clock each miss advances it
 * by `stepMs` (so sim-time waits cost no real time); otherwise it polls in real time.
 */
export async function until<T>(
  what: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  o: { clock?: VirtualClock; stepMs?: number; maxSimMs?: number; realTimeoutMs?: number } = {},
): Promise<T> {
  const started = Date.now();
  let simWaited = 0;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (o.clock) {
      const step = o.stepMs ?? 100;
      if (simWaited >= (o.maxSimMs ?? 600_000)) throw new Error(`timed out (sim ${simWaited} ms) waiting for ${what}`);
      await o.clock.advance(step);
      simWaited += step;
    } else {
      if (Date.now() - started > (o.realTimeoutMs ?? 5_000)) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

/** The Status object of an ApiException (its body is the raw JSON string in client-node 2.0.1). */
export function statusOf(e: unknown): { code?: number; reason?: string; message?: string } {
  if (!(e instanceof k8s.ApiException)) throw e;
  const body = typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
  return { code: e.code, reason: body?.reason, message: body?.message };
}

export async function expectStatus(p: Promise<unknown>, code: number, reason?: string): Promise<{ code?: number; reason?: string; message?: string }> {
  try {
    await p;
  } catch (e) {
    const s = statusOf(e);
    if (s.code !== code || (reason && s.reason !== reason)) throw new Error(`expected ${code} ${reason ?? ''}, got ${s.code} ${s.reason}: ${s.message}`);
    return s;
  }
  throw new Error(`expected HTTP ${code} ${reason ?? ''}, but the call succeeded`);
}

export const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
export const strategicPatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);
export const applyPatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply);

let n = 0;
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${++n}`;
}
