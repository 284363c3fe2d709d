// The daily report (日报) of the area in view, from `GET /api/reports/daily`: totals, the cases
// registered that day and the cases still overdue, laid out to print (css/report.css hides the rest of
// the page when printing); and the CSV downloads (the day's report, the KPI tables).
//
// Every figure and every row is the API's: the page counts nothing itself, so what is printed is what
// the CSV holds.

/** Formats an instant in the deployment's local time (`tzOffsetMinutes`), `YYYY-MM-DD HH:MM`. */
export function localTime(iso, tzOffsetMinutes) {
  if (!iso) return '';
  const shifted = new Date(Date.parse(iso) + tzOffsetMinutes * 60_000);
  return shifted.toISOString().slice(0, 16).replace('T', ' ');
}

/** The deployment's local date of `at`, `YYYY-MM-DD`. */
export function localDate(at, tzOffsetMinutes) {
  return new Date(at.getTime() + tzOffsetMinutes * 60_000).toISOString().slice(0, 10);
}

function cell(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  node.textContent = text ?? '';
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

/** A table with a header row and one row per item; `columns` are `[label, value(item)]`. */
export function table(items, columns, { rowAttrs = () => ({}), empty } = {}) {
  const t = document.createElement('table');
  const head = document.createElement('tr');
  for (const [label] of columns) head.append(cell('th', label));
  t.append(cell('thead', null));
  t.tHead.append(head);
  const body = document.createElement('tbody');
  for (const item of items) {
    const row = document.createElement('tr');
    for (const [k, v] of Object.entries(rowAttrs(item))) row.setAttribute(k, v);
    for (const [, value] of columns) row.append(cell('td', value(item)));
    body.append(row);
  }
  if (!items.length && empty) {
    const row = document.createElement('tr');
    row.append(cell('td', empty, { colspan: String(columns.length), class: 'empty' }));
    body.append(row);
  }
  t.append(body);
  return t;
}

/**
 * Renders a daily report into `root`.
 * @param {HTMLElement} root
 * @param {object} report the body of `GET /api/reports/daily`
 * @param {object} ctx `{t, categoryName}`
 */
export function renderDaily(root, report, { t, categoryName }) {
  const tz = report.tz_offset_minutes;
  const title = cell('h2', t('report.title', { date: report.date }));
  const asOf = cell('p', t('report.as_of', { time: localTime(report.as_of, tz) }), { class: 'report-meta' });
  const totals = document.createElement('dl');
  totals.className = 'report-totals';
  for (const key of ['registered', 'closed', 'open', 'overdue']) {
    const box = document.createElement('div');
    box.dataset.total = key;
    box.append(cell('dt', t(`report.total.${key}`)), cell('dd', String(report.totals[key])));
    totals.append(box);
  }
  const split = (key, entries, label) => cell('p', t('report.line', {
    label: t(key),
    items: entries.map(([code, n]) => `${label(code)} ${n}`).join(t('report.sep')) || t('report.none'),
  }), { 'data-split': key });
  const byCategory = split('report.by_category', Object.entries(report.totals.by_category), categoryName);
  const bySource = split('report.by_source', Object.entries(report.totals.by_source), (s) => t(`report.source.${s}`));
  const columns = [
    [t('report.col.id'), (l) => String(l.id)],
    [t('report.col.category'), (l) => categoryName(l.category)],
    [t('report.col.grid'), (l) => l.grid_name || l.grid_code || String(l.grid_id)],
    [t('report.col.community'), (l) => l.community_name || ''],
    [t('report.col.status'), (l) => t(`status.${l.status}`)],
    [t('report.col.created'), (l) => localTime(l.created_at, tz)],
    [t('report.col.deadline'), (l) => localTime(l.deadline, tz)],
    [t('report.col.closed'), (l) => localTime(l.closed_at, tz)],
  ];
  const list = (lines, name) => {
    const t2 = table(lines, columns, { rowAttrs: (l) => ({ 'data-case': String(l.id) }), empty: t('report.none') });
    t2.dataset.list = name;
    return t2;
  };
  root.replaceChildren(
    title, asOf, totals, byCategory, bySource,
    cell('h3', `${t('report.registered')} (${report.registered.length})`), list(report.registered, 'registered'),
    cell('h3', `${t('report.overdue')} (${report.overdue.length})`), list(report.overdue, 'overdue'),
  );
}

/**
 * Fetches `path` as CSV (the session cookie goes with it) and saves it as `filename`. A CSV without a
 * UTF-8 byte-order mark gets one, so Excel reads its Chinese names as UTF-8 and not as GBK.
 */
export async function downloadCsv(path, filename) {
  const response = await fetch(path, { headers: { Accept: 'text/csv' }, credentials: 'same-origin' });
  if (!response.ok) {
    let body = null;
    try {
      body = await response.json();
    } catch {
      // Not problem+json: the status says enough.
    }
    const { Problem } = await import('../common/api.js');
    throw new Problem(response.status, body);
  }
  let text = await response.text();
  if (!text.startsWith('\uFEFF')) text = `\uFEFF${text}`;
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
