// The command centre's dashboard (报表): a page over the map for the area in view, with the counts by
// community and by worker (this month, `GET /api/reports/kpi?level=community|worker`), charts of the
// last two weeks (`GET /api/reports/series`: cases per day by category, closure and on-time rates), and
// the printable daily report (日报, `GET /api/reports/daily`) with its CSV export and the KPI's.
//
// It builds its own elements (a top-bar button and an overlay) and its stylesheet link, so the page's
// HTML needs nothing for it. The area is the map's view when the dashboard opens or is refreshed; every
// figure is the API's, over the caller's scope.

import { api } from '../common/api.js';
import { barChart, legend, rateChart } from './charts.js';
import { downloadCsv, localDate, renderDaily, table } from './report.js';

/** How many days the charts cover, today included. */
const CHART_DAYS = 14;

function node(tag, { text, attrs = {}, children = [] } = {}) {
  const el = document.createElement(tag);
  if (text != null) el.textContent = text;
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.append(...children);
  return el;
}

/** A share as a percentage, or a dash when nothing was due (the API's `null`). */
export function percent(rate) {
  return rate == null ? '—' : `${Math.round(rate * 100)}%`;
}

export class Dashboard {
  /**
   * @param {object} options
   * @param {import('maplibre-gl').Map} options.map
   * @param {(key: string, values?: object) => string} options.t
   * @param {(code: string) => string} options.categoryName
   * @param {number} options.tzOffsetMinutes the deployment calendar's offset (`/api/me`)
   * @param {(problem: Error) => void} options.onProblem
   */
  constructor({ map, t, categoryName, tzOffsetMinutes, onProblem }) {
    this.map = map;
    this.t = t;
    this.categoryName = categoryName;
    this.tz = tzOffsetMinutes ?? -new Date().getTimezoneOffset();
    this.onProblem = onProblem;
    this.bbox = null;
    if (!document.querySelector('link[href="/static/css/report.css"]')) {
      document.head.append(node('link', { attrs: { rel: 'stylesheet', href: '/static/css/report.css' } }));
    }
    this.button = node('button', { text: t('dash.open'), attrs: { type: 'button', id: 'dashboard-open', 'aria-controls': 'dashboard' } });
    this.button.addEventListener('click', () => this.open());
    const topbar = document.querySelector('.topbar');
    topbar.insertBefore(this.button, topbar.querySelector('[data-lang-switch]'));
    this.build();
  }

  build() {
    const t = this.t;
    this.date = node('input', { attrs: { type: 'date', id: 'dashboard-date' } });
    this.date.addEventListener('change', () => this.loadDaily());
    const button = (id, key, onClick) => {
      const b = node('button', { text: t(key), attrs: { type: 'button', id } });
      b.addEventListener('click', () => Promise.resolve(onClick()).catch(this.onProblem));
      return b;
    };
    this.area = node('p', { attrs: { class: 'dash-area' } });
    this.charts = node('div', { attrs: { id: 'dashboard-charts', class: 'dash-charts' } });
    this.communities = node('div', { attrs: { id: 'dashboard-communities' } });
    this.workers = node('div', { attrs: { id: 'dashboard-workers' } });
    this.daily = node('article', { attrs: { id: 'daily-report', class: 'daily-report' } });
    this.root = node('section', {
      attrs: { id: 'dashboard', class: 'panel dashboard', role: 'dialog', 'aria-label': t('dash.title') },
      children: [
        node('header', {
          attrs: { class: 'dash-bar' },
          children: [
            node('h2', { text: t('dash.title') }),
            node('label', { children: [node('span', { text: t('dash.date') }), this.date] }),
            button('dashboard-refresh', 'dash.refresh', () => this.load()),
            button('dashboard-print', 'dash.print', () => window.print()),
            button('dashboard-csv', 'dash.csv', () => this.dailyCsv()),
            button('dashboard-kpi-csv', 'dash.kpi_csv', () => this.kpiCsv()),
            button('dashboard-close', 'dash.close', () => this.close()),
          ],
        }),
        this.area,
        node('div', {
          attrs: { class: 'dash-screen' },
          children: [
            node('h3', { text: t('dash.charts') }), this.charts,
            node('h3', { text: t('dash.by_community') }), this.communities,
            node('h3', { text: t('dash.by_worker') }), this.workers,
          ],
        }),
        this.daily,
      ],
    });
    this.root.hidden = true;
    document.body.append(this.root);
  }

  /** The map's view as `minLon,minLat,maxLon,maxLat`, to 6 decimals (about 0.1 m). */
  viewBbox() {
    const b = this.map.getBounds();
    const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
    return [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90), clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90)]
      .map((v) => v.toFixed(6)).join(',');
  }

  today() {
    return localDate(new Date(), this.tz);
  }

  open() {
    this.root.hidden = false;
    this.button.setAttribute('aria-expanded', 'true');
    if (!this.date.value) this.date.value = this.today();
    this.date.max = this.today();
    this.load();
  }

  close() {
    this.root.hidden = true;
    this.button.setAttribute('aria-expanded', 'false');
  }

  /** Reads every part again for the map's current view. */
  async load() {
    this.bbox = this.viewBbox();
    // Said on the page, so a reader (or a test) can ask the API exactly what the dashboard asked.
    this.root.dataset.bbox = this.bbox;
    this.area.textContent = this.t('dash.area', { bbox: this.bbox });
    this.root.dataset.loading = '1';
    await Promise.all([this.loadDaily(), this.loadSeries(), this.loadTables()].map((p) => p.catch(this.onProblem)));
    delete this.root.dataset.loading;
  }

  dailyPath(extra = '') {
    return `/api/reports/daily?date=${encodeURIComponent(this.date.value || this.today())}&bbox=${this.bbox}${extra}`;
  }

  async loadDaily() {
    const path = this.dailyPath();
    const report = await api(path);
    this.daily.dataset.path = path;
    renderDaily(this.daily, report, { t: this.t, categoryName: this.categoryName });
    this.daily.dataset.date = report.date;
  }

  async loadSeries() {
    const t = this.t;
    const today = this.today();
    const day = (offset) => localDate(new Date(Date.parse(`${today}T00:00:00Z`) + offset * 86_400_000), 0);
    const path = `/api/reports/series?from=${day(1 - CHART_DAYS)}&to=${day(1)}&bbox=${this.bbox}`;
    const series = await api(path);
    this.charts.dataset.path = path;
    const categories = series.categories;
    const bars = barChart(series.days, categories, this.categoryName, t('dash.cases_per_day'));
    bars.id = 'chart-cases';
    const rates = [
      { key: 'closure_rate', label: t('kpi.closure_rate') },
      { key: 'on_time_rate', label: t('kpi.on_time_rate') },
    ];
    const lines = rateChart(series.days, rates, t('dash.rates'));
    lines.id = 'chart-rates';
    this.charts.replaceChildren(
      node('figure', { children: [bars, node('figcaption', { text: t('dash.cases_per_day') }),
        legend(categories.map((c) => ({ label: this.categoryName(c) })))] }),
      node('figure', { children: [lines, node('figcaption', { text: t('dash.rates') }), legend(rates)] }),
    );
  }

  /** This month so far, in the deployment's calendar: `[the 1st, now)`. */
  monthToDate() {
    return `from=${this.today().slice(0, 8)}01&to=${encodeURIComponent(new Date().toISOString())}`;
  }

  async loadTables() {
    const t = this.t;
    const period = this.monthToDate();
    const paths = [`/api/reports/kpi?level=community&${period}`, `/api/reports/kpi?level=worker&${period}`];
    const [communities, workers] = await Promise.all(paths.map((path) => api(path)));
    [this.communities.dataset.path, this.workers.dataset.path] = paths;
    const columns = (name) => [
      [t('dash.col.name'), name],
      [t('kpi.registered'), (r) => String(r.registered)],
      [t('dash.col.due'), (r) => String(r.due)],
      [t('kpi.closed'), (r) => String(r.closed)],
      [t('kpi.closure_rate'), (r) => percent(r.closure_rate)],
      [t('kpi.on_time_rate'), (r) => percent(r.on_time_rate)],
      [t('kpi.rework_rate'), (r) => percent(r.rework_rate)],
    ];
    const keyName = (r, none) => r.key?.name || r.key?.code || (r.key ? String(r.key.id) : none);
    const attrs = (r) => ({ 'data-key': r.key ? String(r.key.id) : 'none' });
    this.communities.replaceChildren(table(communities.rows, columns((r) => keyName(r, t('dash.no_community'))),
      { rowAttrs: attrs, empty: t('report.none') }));
    this.workers.replaceChildren(table(workers.rows, columns((r) => keyName(r, t('dash.no_worker'))),
      { rowAttrs: attrs, empty: t('report.none') }));
  }

  dailyCsv() {
    return downloadCsv(this.dailyPath('&format=csv'), `gridwatch-daily-${this.date.value || this.today()}.csv`);
  }

  kpiCsv() {
    return downloadCsv(`/api/reports/kpi?level=community&${this.monthToDate()}`, `gridwatch-kpi-${this.today().slice(0, 7)}.csv`);
  }
}
