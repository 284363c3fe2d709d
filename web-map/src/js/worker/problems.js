// The sheet's message area: refused actions and other problems and area alerts, each shown until the
// worker dismisses it. A problem is said in the page's language from its `code` (common/problems.js),
// never with the server's English detail on the Chinese page. A network failure is not shown here —
// the live indicator and the outbox banner already say there is no signal.

import { problemText } from '../common/problems.js';

/**
 * @param {HTMLElement} container  where the messages go
 * @param {Function} t             the translator
 */
export function messages(container, t) {
  function show(text, kind = 'problem') {
    const line = document.createElement('div');
    line.className = kind === 'alert' ? 'problem alert' : 'problem';
    const body = document.createElement('span');
    body.textContent = text;
    const dismiss = document.createElement('button');
    dismiss.type = 'button';
    dismiss.textContent = t('problem.dismiss');
    dismiss.onclick = () => line.remove();
    line.append(body, dismiss);
    container.append(line);
  }

  /** Shows a `Problem` (or any error, or a websocket `error` message); `text` overrides the wording. */
  function report(problem, text) {
    if (problem?.offline) return;
    if (problem?.status === 401) {
      show(t('error.token'));
      return;
    }
    show(text || problemText(problem, t.lang));
  }

  return { show, report };
}
