/**
 * The runs shown, as two inline SVG bar charts over interval start: rows per run and duration per run. Every run
 * is drawn, whatever its outcome, coloured by its state (with a legend in words, so colour is not the only cue).
 */
import { svg, h } from '../dom';
import { formatCount, formatDuration, formatInterval, runProgress, statusLabel } from '../format';
import type { Run } from '../queries';

const W = 640;
const H = 150;
const PAD = { top: 10, right: 12, bottom: 24, left: 64 };

/** A round axis maximum: 1, 2 or 5 times a power of ten. */
function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((x) => x >= v)!;
}

const rowsOf = (r: Run) => (r.status === 'COMPLETED' ? r.recordsCompleted : r.recordsRead);
const secondsOf = (r: Run, now: number) => r.durationSeconds ?? (r.status === 'RUNNING' ? runProgress(r, undefined, now).elapsed ?? 0 : 0);
export const outcomeClass = (status: string) => `status-${status.toLowerCase().replace(/_/g, '-')}`;

function barChart(runs: Run[], metric: 'rows' | 'seconds', value: (r: Run) => number, fmt: (v: number) => string, zone: string, title: string): SVGElement {
  const max = niceMax(Math.max(...runs.map(value)));
  const t0 = Date.parse(runs[0].intervalStart);
  const t1 = Date.parse(runs[runs.length - 1].intervalStart);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const span = Math.max(1, t1 - t0);
  const barW = Math.max(2, Math.min(24, (plotW / runs.length) * 0.7));
  const x = (t: number) => PAD.left + (runs.length === 1 ? plotW / 2 : ((t - t0) / span) * (plotW - barW) + barW / 2);
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const label = (iso: string) => formatInterval(iso, iso, zone).split(' – ')[0];
  return svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title, 'data-metric': metric },
    [0, max].map((v) => [
      svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: 'grid' }),
      svg('text', { x: PAD.left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, fmt(v)),
    ]),
    runs.map((r) => {
      const v = value(r);
      return svg('rect', {
        x: x(Date.parse(r.intervalStart)) - barW / 2, y: Math.min(y(v), PAD.top + plotH - 2), width: barW,
        // Failed and empty runs still get a sliver, so every run is visible.
        height: Math.max(2, PAD.top + plotH - y(v)), class: `bar ${outcomeClass(r.status)}`, 'data-run': r.id, 'data-status': r.status,
      }, svg('title', {}, `${formatInterval(r.intervalStart, r.intervalEnd, zone)}: ${statusLabel(r.status)}, ${fmt(v)}`));
    }),
    svg('text', { x: PAD.left, y: H - 6, class: 'axis' }, label(runs[0].intervalStart)),
    runs.length > 1 ? svg('text', { x: W - PAD.right, y: H - 6, 'text-anchor': 'end', class: 'axis' }, label(runs[runs.length - 1].intervalStart)) : null);
}

export function runsChart(all: Run[], zone: string, now = Date.now()): HTMLElement {
  const runs = [...all].sort((a, b) => a.intervalStart.localeCompare(b.intervalStart));
  if (!runs.length) return h('p', { class: 'muted chart-empty' }, 'The charts appear once there are runs.');
  const counts = new Map<string, number>();
  for (const r of runs) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  const totalRows = runs.reduce((s, r) => s + rowsOf(r), 0);
  const summary = [...counts].map(([s, n]) => `${n} ${statusLabel(s).toLowerCase()}`).join(', ');
  return h('figure', { class: 'chart' },
    h('div', { class: 'chart-pair' },
      h('div', null, h('h3', { class: 'chart-title' }, 'Rows'),
        barChart(runs, 'rows', rowsOf, formatCount, zone, `Rows per run: ${runs.length} runs (${summary}), ${formatCount(totalRows)} rows in all`)),
      h('div', null, h('h3', { class: 'chart-title' }, 'Duration'),
        barChart(runs, 'seconds', (r) => secondsOf(r, now), (v) => formatDuration(v), zone, `Duration per run: ${runs.length} runs (${summary})`))),
    h('figcaption', { class: 'muted' },
      h('ul', { class: 'legend', 'aria-label': 'Run states' }, [...counts].map(([s, n]) => h('li', null, h('span', { class: `swatch ${outcomeClass(s)}`, 'aria-hidden': 'true' }), `${statusLabel(s)} (${n})`))),
      `The runs listed below, by interval start. Completed runs show rows landed, others rows read.`));
}
