import type { Panel } from '../../infra/dashboard.ts';
import type { Series } from './evaluate.ts';

/**
 * Draws dashboard panels as one SVG, two panels per row like the Grafana layout
 * (infra/dashboard.ts gridPos). Plain SVG with no fonts to embed or scripts, so it shows
 * in GitHub's Markdown and converts with any rasteriser.
 */

const W = 560;
const H = 250;
const PAD = { left: 64, right: 16, top: 34, bottom: 70 };
const COLORS = ['#7eb26d', '#eab839', '#6ed0e0', '#ef843c', '#e24d42', '#1f78c1', '#ba43a9', '#705da0'];

export interface RenderedPanel {
  panel: Panel;
  series: Series[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function formatValue(v: number, unit: Panel['unit']): string {
  if (unit === 'percentunit') return `${Math.round(v * 100)}%`;
  const n = Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
  if (unit === 's') return `${n} s`;
  if (unit === 'reqps' || unit === 'ops') return `${n}/s`;
  return n;
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((c) => c >= v) ?? 10 * p;
}

function panelSvg(r: RenderedPanel, x0: number, y0: number, durationMs: number): string {
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const maxV = r.panel.unit === 'percentunit' ? 1 : niceMax(Math.max(0, ...r.series.flatMap((s) => s.points.map((p) => p.value))));
  const xs = (ms: number) => x0 + PAD.left + (ms / Math.max(durationMs, 1)) * plotW;
  const ys = (v: number) => y0 + PAD.top + plotH - (v / maxV) * plotH;
  const parts: string[] = [
    `<rect x="${x0 + 4}" y="${y0 + 4}" width="${W - 8}" height="${H - 8}" rx="4" fill="#181b1f" stroke="#2c3235"/>`,
    `<text x="${x0 + 14}" y="${y0 + 22}" fill="#d8d9da" font-size="13" font-weight="bold">${esc(r.panel.title)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (maxV * i) / 4;
    const y = ys(v);
    parts.push(`<line x1="${x0 + PAD.left}" x2="${x0 + W - PAD.right}" y1="${y}" y2="${y}" stroke="#2c3235"/>`);
    parts.push(`<text x="${x0 + PAD.left - 6}" y="${y + 4}" fill="#8e8e8e" font-size="10" text-anchor="end">${esc(formatValue(v, r.panel.unit))}</text>`);
  }
  const stepS = niceMax(durationMs / 1000 / 5);
  for (let t = 0; t * 1000 <= durationMs; t += stepS) {
    parts.push(`<text x="${xs(t * 1000)}" y="${y0 + PAD.top + plotH + 14}" fill="#8e8e8e" font-size="10" text-anchor="middle">${t} s</text>`);
  }
  if (r.series.length === 0)
    parts.push(`<text x="${x0 + W / 2}" y="${y0 + PAD.top + plotH / 2}" fill="#8e8e8e" font-size="12" text-anchor="middle">no data</text>`);
  r.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const d = s.points.map((p, j) => `${j ? 'L' : 'M'}${xs(p.atMs).toFixed(1)},${ys(Math.min(p.value, maxV)).toFixed(1)}`).join(' ');
    if (s.points.length > 1) parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6"/>`);
    else if (s.points.length === 1) parts.push(`<circle cx="${xs(s.points[0]!.atMs)}" cy="${ys(s.points[0]!.value)}" r="2.5" fill="${color}"/>`);
    const last = s.points.at(-1)?.value;
    const lx = x0 + PAD.left + (i % 3) * 165;
    const ly = y0 + H - PAD.bottom + 32 + Math.floor(i / 3) * 14;
    if (i < 6) {
      parts.push(`<rect x="${lx}" y="${ly - 8}" width="10" height="3" fill="${color}"/>`);
      parts.push(`<text x="${lx + 14}" y="${ly - 3}" fill="#c7d0d9" font-size="10">${esc(s.name || 'value')}${last === undefined ? '' : ` (${esc(formatValue(last, r.panel.unit))})`}</text>`);
    }
  });
  return parts.join('\n');
}

export function renderDashboardSvg(panels: readonly RenderedPanel[], o: { title: string; subtitle: string; durationMs: number }): string {
  const rows = Math.ceil(panels.length / 2);
  const width = 2 * W + 16;
  const height = 56 + rows * H;
  const body = panels.map((p, i) => panelSvg(p, 8 + (i % 2) * W, 48 + Math.floor(i / 2) * H, o.durationMs)).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">
<rect width="100%" height="100%" fill="#111217"/>
<text x="16" y="24" fill="#ffffff" font-size="16" font-weight="bold">${esc(o.title)}</text>
<text x="16" y="41" fill="#8e8e8e" font-size="11">${esc(o.subtitle)}</text>
${body}
</svg>
`;
}
