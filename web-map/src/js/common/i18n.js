// The interface language: zh-CN or English. Chosen by `?lang=`, then an earlier choice, then the
// browser's language; every page has a switch. Each page keeps its own strings in one table per
// language and asks `t(key, values)`; a key missing from zh-CN falls back to English, and a key missing
// from both shows as itself (so a forgotten string is visible, not blank).

const LANG_KEY = 'gridwatch.lang';
export const LANGS = ['zh-CN', 'en'];

export function currentLang() {
  const fromUrl = new URL(window.location.href).searchParams.get('lang');
  if (LANGS.includes(fromUrl)) {
    localStorage.setItem(LANG_KEY, fromUrl);
    return fromUrl;
  }
  const kept = localStorage.getItem(LANG_KEY);
  if (LANGS.includes(kept)) return kept;
  return (navigator.language || '').toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

export function setLang(lang) {
  if (!LANGS.includes(lang)) return;
  localStorage.setItem(LANG_KEY, lang);
}

/** Strings shared by every page. */
const COMMON = {
  en: {
    'lang.switch': '中文',
    'status.registered': 'Registered', 'status.dispatched': 'Dispatched', 'status.accepted': 'Accepted',
    'status.in_progress': 'In progress', 'status.resolved': 'Resolved', 'status.closed': 'Closed',
    'status.deferred': 'Deferred', 'status.cancelled': 'Cancelled', 'status.merged': 'Merged',
    'priority.low': 'Low', 'priority.normal': 'Normal', 'priority.high': 'High', 'priority.urgent': 'Urgent',
    'live.connected': 'Live', 'live.connecting': 'Connecting…', 'live.offline': 'Offline',
    'error.token': 'Your session has ended: sign in again.',
    signout: 'Sign out',
  },
  'zh-CN': {
    'lang.switch': 'English',
    'status.registered': '已登记', 'status.dispatched': '已派遣', 'status.accepted': '已接收',
    'status.in_progress': '处置中', 'status.resolved': '待核查', 'status.closed': '已结案',
    'status.deferred': '已暂缓', 'status.cancelled': '已作废', 'status.merged': '已合并',
    'priority.low': '低', 'priority.normal': '一般', 'priority.high': '紧急', 'priority.urgent': '特急',
    'live.connected': '实时', 'live.connecting': '连接中…', 'live.offline': '离线',
    'error.token': '会话已结束，请重新登录。',
    signout: '退出登录',
  },
};

/** A translator for one page: `t('key', {n: 3})` replaces `{n}` in the string. */
export function translator(pageStrings, lang = currentLang()) {
  const table = { ...COMMON.en, ...pageStrings.en, ...COMMON[lang], ...pageStrings[lang] };
  const t = (key, values = {}) =>
    String(table[key] ?? key).replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? `{${name}}`));
  t.lang = lang;
  return t;
}

/** Sets `lang` on <html>, fills every `[data-i18n]` element's text, and wires a `[data-lang-switch]` button. */
export function applyStrings(t, root = document) {
  document.documentElement.lang = t.lang;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  const button = root.querySelector('[data-lang-switch]');
  if (button) {
    button.textContent = t('lang.switch');
    button.onclick = () => {
      setLang(t.lang === 'en' ? 'zh-CN' : 'en');
      const url = new URL(window.location.href);
      url.searchParams.delete('lang');
      window.location.replace(url.toString());
    };
  }
}
