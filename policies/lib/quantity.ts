const SCALE: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** CPU cores of a Kubernetes quantity (`64`, `"64"`, `"500m"`, `"1.5"`); undefined when it is not one. */
export function parseCpu(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^([0-9]+(?:\.[0-9]+)?)(n|u|m|k|M|G|T)?$/.exec(value.trim());
  if (!m) return undefined;
  return Number(m[1]) * (SCALE[m[2] ?? ''] ?? 1);
}

/** `192` or `0.5`, without float noise. */
export function formatCpu(cores: number): string {
  return String(Math.round(cores * 1000) / 1000);
}
