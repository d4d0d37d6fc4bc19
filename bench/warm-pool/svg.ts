import { frontierSteps, type Point } from './frontier.ts';

/**
 * One trace's picture, hand-written SVG (no charting dependency): p95 start vs node $/day and
 * cold starts vs node $/day, each policy's mean over the seeds, with the anchors' frontier
 * (best value at each budget) beside the controller's.
 */

export interface PlotPoint extends Point {
  kind: 'fixed' | 'scheduled' | 'controller';
  label: string;
}

const W = 460;
const H = 340;
const M = { l: 56, r: 16, t: 34, b: 46 };
const COLORS = { fixed: '#1f77b4', scheduled: '#2ca02c', controller: '#d62728' } as const;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function ticks(max: number, n = 5): number[] {
  const raw = max / n;
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  return Array.from({ length: Math.floor(max / step) + 1 }, (_, i) => i * step);
}

function panel(points: readonly PlotPoint[], metric: 'p95' | 'cold', title: string, yLabel: string, dx: number, xMax: number, xMin: number): string {
  const yMax = Math.max(1, ...points.map((p) => p[metric])) * 1.08;
  const x = (v: number) => dx + M.l + ((v - xMin) / (xMax - xMin || 1)) * (W - M.l - M.r);
  const y = (v: number) => M.t + (1 - v / yMax) * (H - M.t - M.b);
  const out: string[] = [`<text x="${dx + W / 2}" y="18" text-anchor="middle" font-weight="bold">${esc(title)}</text>`];
  for (const t of ticks(yMax)) {
    out.push(`<line x1="${dx + M.l}" x2="${dx + W - M.r}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#eee"/>`);
    out.push(`<text x="${dx + M.l - 4}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${t}</text>`);
  }
  for (const t of ticks(xMax - xMin).map((v) => v + xMin)) {
    if (t > xMax) continue;
    out.push(`<text x="${x(t).toFixed(1)}" y="${H - M.b + 16}" text-anchor="middle">$${t.toFixed(0)}</text>`);
  }
  out.push(`<line x1="${dx + M.l}" x2="${dx + W - M.r}" y1="${H - M.b}" y2="${H - M.b}" stroke="#333"/>`, `<line x1="${dx + M.l}" x2="${dx + M.l}" y1="${M.t}" y2="${H - M.b}" stroke="#333"/>`);
  out.push(`<text x="${dx + W / 2}" y="${H - 8}" text-anchor="middle">node $/day</text>`);
  out.push(`<text transform="translate(${dx + 14},${H / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  const step = (ps: Point[], color: string, dash: string) => {
    if (!ps.length) return;
    let d = `M${x(ps[0]!.usd).toFixed(1)},${y(ps[0]![metric]).toFixed(1)}`;
    for (let i = 1; i < ps.length; i++) d += ` H${x(ps[i]!.usd).toFixed(1)} V${y(ps[i]![metric]).toFixed(1)}`;
    d += ` H${x(xMax).toFixed(1)}`;
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2" stroke-dasharray="${dash}" opacity="0.8"/>`);
  };
  step(frontierSteps(points.filter((p) => p.anchor), metric), '#555', '5,3');
  step(frontierSteps(points.filter((p) => !p.anchor), metric), COLORS.controller, '');
  for (const p of points) {
    const [cx, cy] = [x(p.usd), y(p[metric])];
    const c = COLORS[p.kind];
    if (p.kind === 'fixed') out.push(`<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="4" fill="${c}"/>`);
    else if (p.kind === 'scheduled') out.push(`<rect x="${(cx - 4).toFixed(1)}" y="${(cy - 4).toFixed(1)}" width="8" height="8" fill="${c}"/>`);
    else out.push(`<path d="M${cx.toFixed(1)},${(cy - 5).toFixed(1)} l5,9 h-10 z" fill="${c}"/>`);
    out.push(`<text x="${(cx + 6).toFixed(1)}" y="${(cy - 5).toFixed(1)}" font-size="10" fill="${c}">${esc(p.label)}</text>`);
  }
  return out.join('\n');
}

export function frontierSvg(title: string, points: readonly PlotPoint[]): string {
  const xs = points.map((p) => p.usd);
  const [xMin, xMax] = [Math.floor(Math.min(...xs) * 0.95), Math.ceil(Math.max(...xs) * 1.03)];
  const legendY = H + 14;
  const legend = [
    `<circle cx="70" cy="${legendY}" r="4" fill="${COLORS.fixed}"/><text x="80" y="${legendY + 4}">fixed N all day</text>`,
    `<rect x="196" y="${legendY - 4}" width="8" height="8" fill="${COLORS.scheduled}"/><text x="210" y="${legendY + 4}">scheduled N, weekdays 08–18 UTC</text>`,
    `<path d="M430,${legendY - 5} l5,9 h-10 z" fill="${COLORS.controller}"/><text x="442" y="${legendY + 4}">controller settings (red line: its frontier)</text>`,
    `<line x1="690" x2="720" y1="${legendY}" y2="${legendY}" stroke="#555" stroke-width="2" stroke-dasharray="5,3"/><text x="726" y="${legendY + 4}">anchors' frontier</text>`,
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H + 30}" viewBox="0 0 ${2 * W} ${H + 30}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<title>${esc(title)}</title>`,
    panel(points, 'p95', `${title}: p95 start vs $/day`, 'p95 start (s)', 0, xMax, xMin),
    panel(points, 'cold', `${title}: cold starts vs $/day`, 'cold starts (jobs)', W, xMax, xMin),
    ...legend,
    '</svg>',
    '',
  ].join('\n');
}
