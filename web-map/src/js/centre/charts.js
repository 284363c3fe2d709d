// Hand-made SVG charts for the dashboard: a stacked bar per day (cases registered, by category) and a
// line of rates per day (closure, on time). No library: two small charts do not justify a dependency,
// and SVG prints as sharply as text in the daily report.
//
// Each day is one `<g data-day="YYYY-MM-DD">` (its bar, or its points), so a reader — or a test — can
// find a day's marks; a rate that is `null` (nothing was due) draws no point, never a 0.

const NS = 'http://www.w3.org/2000/svg';
const WIDTH = 560;
const HEIGHT = 180;
const PAD = { top: 10, right: 10, bottom: 28, left: 34 };

/** A palette that stays distinct in print and for the common colour-vision deficiencies (Okabe–Ito). */
export const PALETTE = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#f0e442', '#000000'];

function el(name, attrs = {}, text) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text != null) node.textContent = text;
  return node;
}

function frame(label) {
  const svg = el('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-label': label, class: 'chart' });
  svg.append(el('title', {}, label));
  return svg;
}

/** The day labels under the x axis: every day when few, else about eight. */
function xLabels(svg, days, x, band) {
  const every = Math.max(1, Math.ceil(days.length / 8));
  days.forEach((day, i) => {
    if (i % every) return;
    svg.append(el('text', { x: x(i) + band / 2, y: HEIGHT - 10, 'text-anchor': 'middle', class: 'axis' }, day.date.slice(5)));
  });
}

/** Gridlines and labels for a y axis from 0 to `max`, `format`ted. */
function yAxis(svg, max, y, format) {
  for (const f of [0, 0.5, 1]) {
    const v = max * f;
    svg.append(el('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(v), y2: y(v), class: 'grid' }));
    svg.append(el('text', { x: PAD.left - 4, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, format(v)));
  }
}

/**
 * Cases registered per day, stacked by category.
 * @param {{date: string, by_category: Record<string, number>}[]} days
 * @param {string[]} categories the stacking order (and the colours)
 * @param {(code: string) => string} name a category's name in the page's language
 */
export function barChart(days, categories, name, label) {
  const svg = frame(label);
  const max = Math.max(1, ...days.map((d) => Object.values(d.by_category).reduce((a, b) => a + b, 0)));
  const band = (WIDTH - PAD.left - PAD.right) / Math.max(1, days.length);
  const x = (i) => PAD.left + i * band;
  const y = (v) => HEIGHT - PAD.bottom - (v / max) * (HEIGHT - PAD.top - PAD.bottom);
  yAxis(svg, max, y, (v) => (Number.isInteger(v) ? String(v) : ''));
  days.forEach((day, i) => {
    const g = el('g', { 'data-day': day.date, class: 'bar' });
    let base = 0;
    categories.forEach((code, c) => {
      const n = day.by_category[code] || 0;
      if (!n) return;
      const rect = el('rect', {
        x: x(i) + band * 0.15, width: band * 0.7, y: y(base + n), height: y(base) - y(base + n),
        fill: PALETTE[c % PALETTE.length], 'data-category': code,
      });
      rect.append(el('title', {}, `${day.date} ${name(code)}: ${n}`));
      g.append(rect);
      base += n;
    });
    g.append(el('title', {}, `${day.date}: ${base}`));
    g.setAttribute('data-total', String(base));
    svg.append(g);
  });
  xLabels(svg, days, x, band);
  return svg;
}

/**
 * Rates per day as lines with a point per day that has one (`null` leaves a gap).
 * @param {object[]} days
 * @param {{key: string, label: string}[]} lines which fields of a day to draw, fractions in [0, 1]
 */
export function rateChart(days, lines, label) {
  const svg = frame(label);
  const band = (WIDTH - PAD.left - PAD.right) / Math.max(1, days.length);
  const x = (i) => PAD.left + i * band + band / 2;
  const y = (v) => HEIGHT - PAD.bottom - v * (HEIGHT - PAD.top - PAD.bottom);
  yAxis(svg, 1, y, (v) => `${Math.round(v * 100)}%`);
  lines.forEach((line, l) => {
    const colour = PALETTE[l % PALETTE.length];
    // A path broken wherever a day has no rate.
    let d = '';
    let pen = false;
    days.forEach((day, i) => {
      const v = day[line.key];
      if (v == null) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    if (d) svg.append(el('path', { d, fill: 'none', stroke: colour, 'stroke-width': 2, 'data-line': line.key }));
  });
  days.forEach((day, i) => {
    const g = el('g', { 'data-day': day.date, class: 'points' });
    lines.forEach((line, l) => {
      const v = day[line.key];
      if (v == null) return;
      const dot = el('circle', { cx: x(i), cy: y(v), r: 3, fill: PALETTE[l % PALETTE.length], 'data-line': line.key });
      dot.append(el('title', {}, `${day.date} ${line.label}: ${Math.round(v * 100)}%`));
      g.append(dot);
    });
    svg.append(g);
  });
  xLabels(svg, days, (i) => PAD.left + i * band, band);
  return svg;
}

/** A legend: a swatch and a name per entry. */
export function legend(entries) {
  const ul = document.createElement('ul');
  ul.className = 'chart-legend';
  entries.forEach(({ label }, i) => {
    const li = document.createElement('li');
    const swatch = document.createElement('i');
    swatch.style.background = PALETTE[i % PALETTE.length];
    li.append(swatch, label);
    ul.append(li);
  });
  return ul;
}
