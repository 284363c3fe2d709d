// The map's legend (图例) and the worker symbol it explains. Case dots are filled circles coloured by
// status, larger for higher priority, red-ringed when overdue; a worker is a rounded square with a
// person on it (purple on duty, grey off duty), so the two never look alike. The worker icon is drawn
// here once on a canvas and added to the map as an image (no sprite sheet, nothing fetched).

import { STATUS_COLORS } from './layers.js';

/** A worker's fill by duty. */
export const WORKER_COLORS = { on_duty: '#5a4fcf', off_duty: '#9ca3af' };
/** The icon's size in CSS pixels; drawn at twice that for sharp edges. */
const ICON_PX = 20;
const PRIORITY_PX = { urgent: 18, high: 15, normal: 12, low: 10 };

/** Draws the worker symbol of `color` filling a `size`×`size` canvas context. */
function drawWorker(ctx, size, color) {
  const r = size * 0.22;
  const inset = size * 0.06;
  const w = size - 2 * inset;
  ctx.clearRect(0, 0, size, size);
  ctx.beginPath();
  ctx.roundRect(inset, inset, w, w, r);
  ctx.fillStyle = color;
  ctx.fill();
  ctx.lineWidth = size * 0.08;
  ctx.strokeStyle = '#ffffff';
  ctx.stroke();
  // A person: a head and shoulders, in white.
  ctx.fillStyle = '#ffffff';
  ctx.beginPath();
  ctx.arc(size / 2, size * 0.38, size * 0.13, 0, 2 * Math.PI);
  ctx.fill();
  ctx.beginPath();
  ctx.ellipse(size / 2, size * 0.74, size * 0.24, size * 0.16, 0, Math.PI, 2 * Math.PI);
  ctx.fill();
}

/** The worker icon as image data for `map.addImage` (`pixelRatio: 2`). */
export function workerImage(color) {
  const size = ICON_PX * 2;
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext('2d');
  drawWorker(ctx, size, color);
  return ctx.getImageData(0, 0, size, size);
}

/** Adds the worker icons (`worker-on_duty`, `worker-off_duty`) to the map's images. */
export function addWorkerImages(map) {
  for (const [duty, color] of Object.entries(WORKER_COLORS)) {
    if (!map.hasImage(`worker-${duty}`)) map.addImage(`worker-${duty}`, workerImage(color), { pixelRatio: 2 });
  }
}

/** Fills `#legend` with both kinds of dot, in the page's language. */
export function renderLegend(t, root = document.getElementById('legend-body')) {
  if (!root) return;
  const row = (kind, swatch, label) => {
    const li = document.createElement('li');
    li.dataset.legend = kind;
    const text = document.createElement('span');
    text.textContent = label;
    li.append(swatch, text);
    return li;
  };
  const dot = (color, px, ring = false) => {
    const span = document.createElement('span');
    span.className = `legend-dot${ring ? ' ring' : ''}`;
    Object.assign(span.style, { background: color, width: `${px}px`, height: `${px}px` });
    return span;
  };
  const cases = document.createElement('ul');
  cases.className = 'legend-list';
  cases.dataset.kind = 'cases';
  for (const [status, color] of Object.entries(STATUS_COLORS)) cases.append(row(`status-${status}`, dot(color, 12), t(`status.${status}`)));
  for (const [priority, px] of Object.entries(PRIORITY_PX)) cases.append(row(`priority-${priority}`, dot('#6b7280', px), t(`priority.${priority}`)));
  cases.append(row('overdue', dot('#6b7280', 12, true), t('overdue')));
  const workers = document.createElement('ul');
  workers.className = 'legend-list';
  workers.dataset.kind = 'workers';
  for (const [duty, color] of Object.entries(WORKER_COLORS)) {
    const canvas = document.createElement('canvas');
    canvas.className = 'legend-worker';
    canvas.width = ICON_PX * 2;
    canvas.height = ICON_PX * 2;
    canvas.dataset.duty = duty;
    drawWorker(canvas.getContext('2d'), ICON_PX * 2, color);
    workers.append(row(`worker-${duty}`, canvas, t(`legend.worker.${duty}`)));
  }
  const heading = (key) => {
    const h = document.createElement('h3');
    h.textContent = t(key);
    return h;
  };
  root.replaceChildren(heading('legend.cases'), cases, heading('legend.workers'), workers);
}
