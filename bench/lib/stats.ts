/** Nearest-rank percentile (q in 0..1) of a sample; NaN for an empty one. */
export function percentile(values: readonly number[], q: number): number {
  if (!values.length) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export interface Summary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarise(values: readonly number[]): Summary {
  const n = values.length;
  return {
    n,
    p50: percentile(values, 0.5),
    p90: percentile(values, 0.9),
    p99: percentile(values, 0.99),
    max: n ? Math.max(...values) : Number.NaN,
    mean: n ? values.reduce((a, b) => a + b, 0) / n : Number.NaN,
  };
}

export const median = (values: readonly number[]) => percentile(values, 0.5);

/** ms with a precision that suits its size: 0.412, 3.21, 48.2, 1520. */
export function ms(v: number): string {
  if (!Number.isFinite(v)) return '—';
  if (v < 1) return v.toFixed(3);
  if (v < 10) return v.toFixed(2);
  if (v < 100) return v.toFixed(1);
  return v.toFixed(0);
}

export const ratio = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '—');
