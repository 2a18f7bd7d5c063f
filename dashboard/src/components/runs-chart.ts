/** Rows exported per run over time, as an inline SVG bar chart (one bar per completed run, by interval start). */
import { h, svg } from '../dom';
import { formatCount } from '../format';
import type { Run } from '../queries';

const W = 640;
const H = 180;
const PAD = { top: 12, right: 12, bottom: 28, left: 56 };

/** A round axis maximum: 1, 2 or 5 times a power of ten. */
function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((x) => x >= v)!;
}

export function runsChart(runs: Run[]): HTMLElement {
  const done = runs.filter((r) => r.status === 'COMPLETED').sort((a, b) => a.intervalStart.localeCompare(b.intervalStart));
  if (!done.length) return h('p', { class: 'muted chart-empty' }, 'The chart of rows per run appears once runs complete.');
  const max = niceMax(Math.max(...done.map((r) => r.recordsCompleted)));
  const t0 = Date.parse(done[0].intervalStart);
  const t1 = Date.parse(done[done.length - 1].intervalStart);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const span = Math.max(1, t1 - t0);
  const barW = Math.max(2, Math.min(24, (plotW / done.length) * 0.7));
  const x = (t: number) => PAD.left + (done.length === 1 ? plotW / 2 : ((t - t0) / span) * (plotW - barW) + barW / 2);
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const total = done.reduce((s, r) => s + r.recordsCompleted, 0);
  const label = (iso: string) => iso.slice(5, 16).replace('T', ' ');

  return h('figure', { class: 'chart' },
    svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `Rows exported per run: ${done.length} completed runs, ${formatCount(total)} rows in all, at most ${formatCount(Math.max(...done.map((r) => r.recordsCompleted)))} in one run` },
      // Gridlines and y labels at 0, half and max.
      [0, max / 2, max].filter((v) => Number.isInteger(v)).map((v) => [
        svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: 'grid' }),
        svg('text', { x: PAD.left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, formatCount(v)),
      ]),
      done.map((r) => svg('rect', {
        x: x(Date.parse(r.intervalStart)) - barW / 2, y: y(r.recordsCompleted), width: barW,
        height: Math.max(r.recordsCompleted > 0 ? 1 : 0, PAD.top + plotH - y(r.recordsCompleted)), class: 'bar', 'data-run': r.id,
      }, svg('title', {}, `${label(r.intervalStart)} UTC: ${formatCount(r.recordsCompleted)} rows`))),
      done.length === 1
        ? svg('text', { x: x(t0), y: H - 8, 'text-anchor': 'middle', class: 'axis' }, label(done[0].intervalStart))
        : svg('text', { x: PAD.left, y: H - 8, class: 'axis' }, label(done[0].intervalStart)),
      done.length > 1 ? svg('text', { x: W - PAD.right, y: H - 8, 'text-anchor': 'end', class: 'axis' }, label(done[done.length - 1].intervalStart)) : null,
    ),
    h('figcaption', { class: 'muted' }, `Rows exported per completed run, by interval start (UTC). ${formatCount(total)} rows in ${done.length} runs.`));
}
