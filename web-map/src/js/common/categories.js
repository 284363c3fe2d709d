// A category's name in the page's language: `/api/categories` gives each category `name` (English) and
// `name_zh` (Chinese, or null when the deployment gave none). A page shows one language at a time, so a
// zh-CN page shows `name_zh`, an English page `name`; with no Chinese name both show `name`, and a
// category the page has not loaded shows as its code.

/**
 * @param {{code?: string, name?: string, name_zh?: string|null}|null|undefined} category
 * @param {string} lang  'zh-CN' or 'en' (the translator's `t.lang`)
 * @returns {string}
 */
export function categoryName(category, lang) {
  if (!category) return '';
  if (lang === 'zh-CN' && category.name_zh) return category.name_zh;
  return category.name || category.name_zh || category.code || '';
}
