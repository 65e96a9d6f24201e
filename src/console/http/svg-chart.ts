/**
 * Bar charts as inline SVG, rendered on the server (pure): no script, no
 * inline style (the CSP allows neither) — colours are presentation
 * attributes, the size follows the page through the viewBox. Each chart
 * has a title and a description for screen readers (role="img"), axis
 * labels, a legend, and a <title> per bar for a pointer's tooltip; the
 * numbers themselves are in the data table each chart comes with
 * (dataTable), which is what a screen reader reads.
 *
 * Every text from outside (category names, domains, series names) is
 * escaped and cut to one line.
 */
import { sanitizeLine } from '../../portal/notification.js';
import { e } from './layout.js';

/**
 * Okabe–Ito colours: told apart with the common colour-vision
 * deficiencies; each stays readable against white.
 */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'] as const;

export interface ChartSeries {
  readonly name: string;
  /** One value per category (missing: 0; negative or not finite: 0). */
  readonly values: readonly number[];
  /** Index into PALETTE (default: the series' position). */
  readonly colour?: number;
}

export interface BarChart {
  /** Unique in the page: the ids of the title and description. */
  readonly id: string;
  readonly title: string;
  /** What the chart shows in one sentence, for screen readers. */
  readonly description: string;
  /** The bars' labels: days on a vertical chart, names on a horizontal one. */
  readonly categories: readonly string[];
  /** Stacked in this order (the first at the axis). */
  readonly series: readonly ChartSeries[];
  /** The categories' axis label (e.g. "Day (UTC)") and the values' (e.g. "Recipients"). */
  readonly categoryAxis: string;
  readonly valueAxis: string;
  /** vertical: columns along the x axis (days); horizontal: bars, one row per name (domains). */
  readonly orientation?: 'vertical' | 'horizontal';
  /** A fixed top of the value axis (100 for shares in %); default: a round number above the largest stack. */
  readonly max?: number;
  /** After each value in tooltips and ticks, e.g. "%". */
  readonly unit?: string;
}

// narrow: on a phone the chart is drawn about 320 px wide, and its text should stay readable
const WIDTH = 460;
const FONT = 14;
/** Most category labels written along a vertical chart's axis (the others: every k-th). */
const MAX_LABELS = 8;
/** Characters of a label before it is cut with "…" (the table has it whole). */
const LABEL_CHARS = 17;

const num = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(1));
const clean = (v: number | undefined): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);
const label = (s: string, max = LABEL_CHARS): string => e(sanitizeLine(s, max));
/** SVG coordinates: at most one decimal. */
const c = (v: number): string => String(Math.round(v * 10) / 10);

/** Pure: a round axis top and tick step for values up to `max` (1, 2 or 5 × 10^k; whole numbers). */
export function niceScale(max: number): { top: number; step: number } {
  if (!(max > 0)) return { top: 4, step: 1 };
  const rough = max / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power);
  return { top: Math.ceil(max / step) * step, step };
}

/** Pure: the stack totals per category. */
export function stackTotals(chart: Pick<BarChart, 'categories' | 'series'>): number[] {
  return chart.categories.map((_, i) => chart.series.reduce((sum, s) => sum + clean(s.values[i]), 0));
}

function legend(series: readonly ChartSeries[], y: number): { svg: string; height: number } {
  const perRow = 2;
  const colW = (WIDTH - 16) / perRow;
  const items = series.map((s, i) => {
    const x = 8 + (i % perRow) * colW;
    const ly = y + Math.floor(i / perRow) * 22;
    return `<rect x="${c(x)}" y="${c(ly)}" width="12" height="12" fill="${PALETTE[(s.colour ?? i) % PALETTE.length]}" stroke="#333" stroke-width="0.5"/><text x="${c(x + 18)}" y="${c(ly + 11)}">${label(s.name, 26)}</text>`;
  });
  return { svg: `<g class="legend">${items.join('')}</g>`, height: Math.ceil(series.length / perRow) * 22 };
}

/**
 * Pure: the chart as an <svg> element. Empty data (no categories, or
 * every value 0) draws the axes and says "No data in this window".
 */
export function barChart(chart: BarChart): string {
  const horizontal = chart.orientation === 'horizontal';
  const totals = stackTotals(chart);
  const largest = Math.max(0, ...totals);
  const { top, step } = chart.max !== undefined && chart.max > 0 ? { top: chart.max, step: chart.max / 4 } : niceScale(largest);
  const unit = chart.unit ?? '';
  const n = chart.categories.length;
  const empty = n === 0 || largest === 0;

  // the plot area
  const left = horizontal ? 140 : 64;
  // room for half of the last tick label ("100%")
  const right = 24;
  // a horizontal chart's category axis label is a heading above its labels
  const topPad = horizontal ? 26 : 12;
  const plotW = WIDTH - left - right;
  const plotH = horizontal ? Math.max(1, n) * 28 : 220;
  const axisBelow = horizontal ? 50 : 62;
  const lg = legend(chart.series, topPad + plotH + axisBelow);
  const height = topPad + plotH + axisBelow + lg.height + 8;
  const scale = (v: number): number => (v / top) * (horizontal ? plotW : plotH);

  const parts: string[] = [];
  // value grid and ticks
  for (let t = 0; t <= top + 1e-9; t += step) {
    if (horizontal) {
      const x = left + scale(t);
      parts.push(`<line x1="${c(x)}" y1="${topPad}" x2="${c(x)}" y2="${c(topPad + plotH)}" stroke="#d0d0d0"/><text x="${c(x)}" y="${c(topPad + plotH + 18)}" text-anchor="middle">${e(num(t) + unit)}</text>`);
    } else {
      const y = topPad + plotH - scale(t);
      parts.push(`<line x1="${left}" y1="${c(y)}" x2="${c(left + plotW)}" y2="${c(y)}" stroke="#d0d0d0"/><text x="${left - 6}" y="${c(y + 4)}" text-anchor="end">${e(num(t) + unit)}</text>`);
    }
  }
  // bars
  const band = (horizontal ? plotH : plotW) / Math.max(1, n);
  // a window of one or a few days: columns of a sensible width, not one block
  const thick = Math.min(48, Math.max(1, band * (horizontal ? 0.7 : 0.8)));
  const every = horizontal ? 1 : Math.ceil(n / MAX_LABELS);
  chart.categories.forEach((cat, i) => {
    let at = 0;
    const offset = i * band + (band - thick) / 2;
    chart.series.forEach((s, si) => {
      const v = clean(s.values[i]);
      if (v === 0) return;
      const len = scale(v);
      const fill = PALETTE[(s.colour ?? si) % PALETTE.length];
      const tip = `<title>${label(cat, 64)}: ${label(s.name, 64)} ${e(num(v) + unit)}</title>`;
      parts.push(
        horizontal
          ? `<rect x="${c(left + scale(at))}" y="${c(topPad + offset)}" width="${c(len)}" height="${c(thick)}" fill="${fill}">${tip}</rect>`
          : `<rect x="${c(left + offset)}" y="${c(topPad + plotH - scale(at) - len)}" width="${c(thick)}" height="${c(len)}" fill="${fill}">${tip}</rect>`,
      );
      at += v;
    });
    if (i % every === 0) {
      parts.push(
        horizontal
          ? `<text x="${left - 6}" y="${c(topPad + i * band + band / 2 + 4)}" text-anchor="end">${label(cat)}</text>`
          : `<text x="${c(left + i * band + band / 2)}" y="${c(topPad + plotH + 18)}" text-anchor="middle">${label(cat, 10)}</text>`,
      );
    }
  });
  // axes and their labels
  parts.push(`<line x1="${left}" y1="${c(topPad + plotH)}" x2="${c(left + plotW)}" y2="${c(topPad + plotH)}" stroke="#333"/><line x1="${left}" y1="${topPad}" x2="${left}" y2="${c(topPad + plotH)}" stroke="#333"/>`);
  const valueLabel = horizontal
    ? `<text x="${c(left + plotW / 2)}" y="${c(topPad + plotH + 40)}" text-anchor="middle" font-weight="bold">${label(chart.valueAxis, 50)}</text>`
    : `<text transform="translate(16 ${c(topPad + plotH / 2)}) rotate(-90)" text-anchor="middle" font-weight="bold">${label(chart.valueAxis, 40)}</text>`;
  const categoryLabel = horizontal
    ? `<text x="${left - 6}" y="16" text-anchor="end" font-weight="bold">${label(chart.categoryAxis, 17)}</text>`
    : `<text x="${c(left + plotW / 2)}" y="${c(topPad + plotH + 44)}" text-anchor="middle" font-weight="bold">${label(chart.categoryAxis, 50)}</text>`;
  parts.push(valueLabel, categoryLabel);
  if (empty) parts.push(`<text x="${c(left + plotW / 2)}" y="${c(topPad + plotH / 2)}" text-anchor="middle">No data in this window</text>`);
  parts.push(lg.svg);

  const id = e(chart.id);
  return [
    `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${c(height)}" role="img" aria-labelledby="${id}-t ${id}-d" font-family="system-ui, sans-serif" font-size="${FONT}" fill="#1a1a1a">`,
    `<title id="${id}-t">${label(chart.title, 200)}</title>`,
    `<desc id="${id}-d">${label(chart.description, 500)}</desc>`,
    ...parts,
    '</svg>',
  ].join('');
}

export interface DataTable {
  readonly id: string;
  readonly caption: string;
  /** The first column's heading (e.g. "Day (UTC)"). */
  readonly rowHeader: string;
  readonly columns: readonly string[];
  readonly rows: readonly { readonly label: string; readonly cells: readonly (number | string)[] }[];
  /** A last row of sums of the numeric columns. */
  readonly totals?: boolean;
}

/** Pure: a data table (scrolls inside its box on a phone; keyboard-reachable, labelled by its caption). */
export function dataTable(t: DataTable): string {
  const id = e(t.id);
  const cell = (v: number | string): string => (typeof v === 'number' ? `<td class="num">${e(num(v))}</td>` : `<td>${label(v, 200)}</td>`);
  const body = t.rows.length
    ? t.rows.map((r) => `<tr><th scope="row">${label(r.label, 255)}</th>${r.cells.map(cell).join('')}</tr>`).join('')
    : `<tr><td colspan="${t.columns.length + 1}">No data in this window</td></tr>`;
  const sums = t.totals && t.rows.length ? `<tfoot><tr><th scope="row">Total</th>${t.columns.map((_, i) => cell(t.rows.reduce((a, r) => a + (typeof r.cells[i] === 'number' ? (r.cells[i] as number) : 0), 0))).join('')}</tr></tfoot>` : '';
  return [
    `<div class="table-box" role="region" tabindex="0" aria-labelledby="${id}-caption">`,
    '<table class="data">',
    `<caption id="${id}-caption">${label(t.caption, 200)}</caption>`,
    `<thead><tr><th scope="col">${label(t.rowHeader, 60)}</th>${t.columns.map((h) => `<th scope="col">${label(h, 60)}</th>`).join('')}</tr></thead>`,
    `<tbody>${body}</tbody>`,
    sums,
    '</table>',
    '</div>',
  ].join('');
}
