/**
 * The cost–latency frontier and issue 14's bars, computed from measured points. A point is
 * one policy on one trace and seed; its budget is node $/day (what the runner nodes cost that
 * day: the bill, which is what an operator trades for start time).
 */

export interface Point {
  policy: string;
  anchor: boolean;
  usd: number;
  p95: number;
  cold: number;
}

/** Best p95 (or cold starts) at a budget: the lowest among points costing at most `usd`; Infinity if none does. */
export function frontierAt(points: readonly Point[], usd: number, metric: 'p95' | 'cold' = 'p95'): number {
  let best = Number.POSITIVE_INFINITY;
  for (const p of points) if (p.usd <= usd + 1e-9 && p[metric] < best) best = p[metric];
  return best;
}

/** The frontier as steps (cost ascending, each a new best), for the picture. */
export function frontierSteps(points: readonly Point[], metric: 'p95' | 'cold'): Point[] {
  const out: Point[] = [];
  for (const p of [...points].sort((a, b) => a.usd - b.usd || a[metric] - b[metric])) if (!out.length || p[metric] < out[out.length - 1]![metric]) out.push(p);
  return out;
}

export interface BarResult {
  met: boolean;
  detail: string;
}

export const P95_GOAL_S = 10;

/**
 * Bar 1: at every budget measured (each point's cost, from the controller's cheapest setting up),
 * the controller's frontier p95 is at or below the anchors'.
 */
export function frontierBar(points: readonly Point[]): BarResult {
  const ctl = points.filter((p) => !p.anchor);
  const anchors = points.filter((p) => p.anchor);
  const from = Math.min(...ctl.map((p) => p.usd));
  const worse = points
    .filter((p) => p.usd >= from)
    .map((p) => ({ usd: p.usd, c: frontierAt(ctl, p.usd), a: frontierAt(anchors, p.usd) }))
    .filter((b) => b.c > b.a);
  if (!worse.length) return { met: true, detail: `at or below at every budget from $${from.toFixed(2)}` };
  const w = worse[0]!;
  return { met: false, detail: `above at ${worse.length} budget(s), e.g. $${w.usd.toFixed(2)}: p95 ${fmt(w.c)} vs ${fmt(w.a)} s` };
}

/**
 * Bar 2: at the fixed pool of 2's budget B, some controller setting costing c ≤ B has ≥ 25 % fewer
 * cold starts than the best anchor (fewest cold starts) costing between c and B — the anchors a
 * user could buy instead for that money, fixed 2 always among them. (Read literally, "best anchor
 * of equal or higher cost" is any anchor costing more, up to the fixed pool of 16 with 0 cold
 * starts, which no setting at B can beat by construction. An earlier reading took only the
 * cheapest anchor costing ≥ c, which a finer grid turned into a weak rival: scheduled 6 at $20.01
 * with 54 cold beside fixed 2 at $20.97 with 38.)
 */
export function coldBar(points: readonly Point[], fixed2: Point): BarResult {
  const budget = fixed2.usd + 1e-9;
  const judged = points
    .filter((p) => !p.anchor && p.usd <= budget)
    .map((ctl) => {
      const rival = points.filter((p) => p.anchor && p.usd >= ctl.usd - 1e-9 && p.usd <= budget).sort((a, b) => a.cold - b.cold || a.usd - b.usd)[0] ?? fixed2;
      return { ctl, rival, ratio: rival.cold > 0 ? ctl.cold / rival.cold : ctl.cold > 0 ? Infinity : 0 };
    })
    .sort((a, b) => a.ratio - b.ratio || a.ctl.usd - b.ctl.usd);
  if (!judged.length) return { met: false, detail: `no controller setting costs ≤ the fixed 2's $${fixed2.usd.toFixed(2)}` };
  const { ctl, rival, ratio } = judged[0]!;
  return {
    met: ratio <= 0.75,
    detail: `${ctl.policy} ${ctl.cold} cold ($${ctl.usd.toFixed(2)}) vs ${rival.policy} ${rival.cold} ($${rival.usd.toFixed(2)}), the best anchor costing $${ctl.usd.toFixed(2)}–$${fixed2.usd.toFixed(2)}`,
  };
}

/** Bar 3: the cheapest controller setting with p95 ≤ 10 s costs ≤ 0.7 × the cheapest anchor with p95 ≤ 10 s. */
export function cheapFastBar(points: readonly Point[]): BarResult {
  const cheapest = (ps: Point[]) => ps.filter((p) => p.p95 <= P95_GOAL_S).sort((a, b) => a.usd - b.usd)[0];
  const c = cheapest(points.filter((p) => !p.anchor));
  const a = cheapest(points.filter((p) => p.anchor));
  if (!c) return { met: false, detail: `no controller setting reaches p95 ≤ ${P95_GOAL_S} s${a ? `; ${a.policy} does at $${a.usd.toFixed(2)}` : '; nor does any anchor'}` };
  if (!a) return { met: true, detail: `${c.policy} reaches it at $${c.usd.toFixed(2)}; no anchor does` };
  return { met: c.usd <= 0.7 * a.usd, detail: `${c.policy} $${c.usd.toFixed(2)} vs ${a.policy} $${a.usd.toFixed(2)} (${(c.usd / a.usd).toFixed(2)}×)` };
}

const fmt = (v: number) => (Number.isFinite(v) ? String(v) : '—');
