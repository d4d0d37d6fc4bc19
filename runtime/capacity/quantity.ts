const SUFFIX: Record<string, number> = {
  '': 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A Kubernetes quantity ("250m", "1.5", "512Mi", "1e3") as a number in base units; NaN when malformed. */
export function parseQuantity(q: unknown): number {
  if (typeof q === 'number') return q;
  if (typeof q !== 'string') return NaN;
  const m = /^([+-]?[0-9.]+)(?:[eE]([+-]?\d+))?([a-zA-Z]*)$/.exec(q.trim());
  if (!m) return NaN;
  const mult = SUFFIX[m[3]!];
  if (mult === undefined) return NaN;
  return Number(m[1]) * 10 ** Number(m[2] ?? 0) * mult;
}

/** CPU as integer millicores (what the scheduler compares). */
export function cpuMilli(q: unknown): number {
  const v = parseQuantity(q);
  return Number.isFinite(v) ? Math.ceil(Math.round(v * 1e6) / 1e3) : 0;
}

export function bytes(q: unknown): number {
  const v = parseQuantity(q);
  return Number.isFinite(v) ? Math.ceil(v) : 0;
}

export function formatCpu(milli: number): string {
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

export function formatMemory(b: number): string {
  if (b % 2 ** 30 === 0) return `${b / 2 ** 30}Gi`;
  if (b % 2 ** 20 === 0) return `${b / 2 ** 20}Mi`;
  if (b % 2 ** 10 === 0) return `${b / 2 ** 10}Ki`;
  return String(b);
}
