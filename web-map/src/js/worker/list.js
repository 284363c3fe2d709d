// The case cards of the bottom sheet: one `<li data-case>` per case with its status, priority,
// deadline, distance, description, what is still queued for it, and the worker's action buttons.
// Built with DOM nodes and `textContent` only, so nothing from the API is ever parsed as HTML.

import { formatShort } from '../common/time.js';
import { WORKER_ACTIONS } from './cases.js';

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The phone's maps app at the case (`geo:` URI, RFC 5870 with the `q` label Android and iOS read):
 * nothing is fetched by the page, the app does the routing. */
export function navHref(c, label) {
  const at = `${Number(c.lat).toFixed(6)},${Number(c.lon).toFixed(6)}`;
  return `geo:${at}?q=${at}(${encodeURIComponent(label)})`;
}

function distanceText(t, metres) {
  if (metres === null || metres === undefined) return '';
  return metres < 1000 ? t('case.distance', { m: Math.round(metres) }) : t('case.distance_km', { km: (metres / 1000).toFixed(1) });
}

function deadlineText(t, c) {
  if (!c.deadline) return '';
  const at = new Date(c.deadline);
  if (at < new Date() && c.status !== 'resolved') return t('case.overdue');
  const when = formatShort(c.deadline, t.lang);
  return t('case.deadline', { at: when });
}

/**
 * One case card.
 * @param {object} c          the case as shown (status after queued actions, `pending`, `distance`)
 * @param {object} options
 * @param {Function} options.t                    the translator
 * @param {(code: string) => string} options.category  a category's name
 * @param {boolean} options.mine                  offer the worker's actions
 * @param {(item: object) => string} options.labelOf   what a queued item is, in words
 * @param {(c: object, action: string) => void} options.onAction
 * @param {(c: object) => void} options.onPick
 */
function card(c, { t, category, mine, labelOf, onAction, onPick }) {
  const item = el('li', `case${mine ? ' mine' : ''}`);
  item.dataset.case = String(c.id);
  item.dataset.status = c.status;
  item.dataset.pending = String(c.pending.length);

  const head = el('div', 'case-head');
  const title = el('button', 'case-title', t('case.title', { id: c.id, category: category(c.category) }));
  title.type = 'button';
  title.onclick = () => onPick(c);
  head.append(title, el('span', `status status-${c.status}`, t(`status.${c.status}`)));
  item.append(head);

  const facts = [t(`priority.${c.priority}`), deadlineText(t, c), distanceText(t, c.distance)].filter(Boolean);
  item.append(el('div', 'case-facts', facts.join(' · ')));
  if (c.description) item.append(el('p', 'case-description', c.description));
  if (c.pending.length > 0) {
    const actions = c.pending.map(labelOf).join(', ');
    item.append(el('div', 'case-pending', t('case.pending', { actions })));
  }
  if (mine && c.status === 'resolved') item.append(el('div', 'case-note', t('case.waiting_verify')));
  if (Number.isFinite(c.lat) && Number.isFinite(c.lon)) {
    const nav = el('a', 'case-nav', t('case.navigate'));
    nav.href = navHref(c, t('case.title', { id: c.id, category: category(c.category) }));
    nav.dataset.nav = String(c.id);
    item.append(nav);
  }
  if (mine) {
    const buttons = el('div', 'case-actions');
    for (const action of WORKER_ACTIONS[c.status] || []) {
      const button = el('button', action === 'send_back' ? '' : 'primary', t(`action.${action}`));
      button.type = 'button';
      button.dataset.action = action;
      button.onclick = () => onAction(c, action);
      buttons.append(button);
    }
    if (buttons.childElementCount > 0) item.append(buttons);
  }
  return item;
}

/** Fills `list` with the cards of `cases`, or the empty message. */
export function renderList(list, cases, options) {
  const cards = cases.map((c) => card(c, options));
  if (cards.length === 0) cards.push(el('li', 'empty', options.t(options.mine ? 'empty.mine' : 'empty.nearby')));
  list.replaceChildren(...cards);
}
