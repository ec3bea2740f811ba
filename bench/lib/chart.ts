/**
 * A horizontal bar chart of medians (with p10–p90 whiskers) as SVG, rendered
 * to PNG with resvg, for bench/RESULTS.md.
 */
import { writeFile } from 'node:fs/promises';
import { Resvg } from '@resvg/resvg-js';
import type { Stats } from './harness.js';

/** lxkit's cases in blue, what they are compared with in orange. */
const LXKIT = '#4c78a8';
const OTHERS = '#f58518';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function barChartSvg(title: string, stats: readonly Stats[], unit = 'ms'): string {
  const labelW = 300;
  const barW = 420;
  const rowH = 34;
  const top = 50;
  const width = labelW + barW + 110;
  const height = top + rowH * stats.length + 30;
  const max = Math.max(...stats.map((s) => s.p90)) * 1.05;
  const x = (v: number) => labelW + (v / max) * barW;
  const rows = stats.map((s, i) => {
    const y = top + i * rowH;
    return [
      `<text x="${labelW - 10}" y="${y + 19}" text-anchor="end" font-size="13">${esc(s.name)}</text>`,
      `<rect x="${labelW}" y="${y + 6}" width="${Math.max(1, x(s.median) - labelW)}" height="18" fill="${s.name.startsWith('lxkit') ? LXKIT : OTHERS}"/>`,
      `<line x1="${x(s.p10)}" x2="${x(s.p90)}" y1="${y + 15}" y2="${y + 15}" stroke="#333" stroke-width="1.5"/>`,
      `<text x="${x(s.p90) + 6}" y="${y + 19}" font-size="12">${s.median.toFixed(1)} ${unit}</text>`,
    ].join('');
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif">` +
    `<rect width="100%" height="100%" fill="white"/>` +
    `<text x="${width / 2}" y="28" text-anchor="middle" font-size="16" font-weight="bold">${esc(title)}</text>` +
    rows.join('') +
    `<text x="${labelW}" y="${height - 8}" font-size="11" fill="#555">bars: median (blue: lxkit; orange: for comparison); lines: p10–p90</text>` +
    `</svg>`
  );
}

export async function writeChart(path: string, title: string, stats: readonly Stats[], unit = 'ms'): Promise<void> {
  const png = new Resvg(barChartSvg(title, stats, unit), { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng();
  await writeFile(path, png);
}
