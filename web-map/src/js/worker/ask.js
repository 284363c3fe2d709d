// In-page questions instead of the browser's `prompt()` and `confirm()`: a send-back reason (which
// the server requires, so an empty one is not accepted) and a yes/no before going off duty. One
// `<dialog id="ask">` serves both; each question resolves to the answer, or null when cancelled.

/**
 * Asks in the page. `reason: true` shows the text box and resolves to its trimmed text (never empty);
 * otherwise resolves to true. Cancel, Escape or a tap outside resolve to null.
 * @param {Function} t  the translator
 * @param {{title: string, ok: string, reason?: boolean, kind?: string}} question
 */
export function ask(t, { title, ok, reason = false, kind = 'confirm' }) {
  const dialog = document.getElementById('ask');
  const form = document.getElementById('ask-form');
  const text = form.elements.reason;
  const problem = document.getElementById('ask-problem');
  form.reset();
  dialog.dataset.kind = kind;
  document.getElementById('ask-title').textContent = title;
  document.getElementById('ask-ok').textContent = ok;
  document.getElementById('ask-reason-label').hidden = !reason;
  problem.hidden = true;
  return new Promise((resolve) => {
    let answer = null;
    form.onsubmit = (event) => {
      event.preventDefault();
      if (reason && !text.value.trim()) {
        problem.textContent = t('ask.reason_required');
        problem.hidden = false;
        text.focus();
        return;
      }
      answer = reason ? text.value.trim() : true;
      dialog.close();
    };
    document.getElementById('ask-cancel').onclick = () => dialog.close();
    dialog.onclose = () => resolve(answer);
    dialog.showModal();
    if (reason) text.focus();
  });
}
