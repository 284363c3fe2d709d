// The warning before unsaved painting is lost. Closing or reloading the tab asks through the browser's
// own `beforeunload` prompt (the only one a page may use there); switching the language or the
// community asks in the page, in the page's language, with "leave" and "stay" buttons: the painting
// lives only in this page's memory until it is saved as a plan.

import { el } from './dom.js';

export class UnsavedGuard {
  /**
   * @param {object} options
   * @param {() => boolean} options.unsaved  whether there is painting not saved
   * @param {function} options.t  the page's translator
   * @param {HTMLElement} options.after  the in-page question is shown just after this element
   */
  constructor({ unsaved, t, after }) {
    this.unsaved = unsaved;
    this.t = t;
    this.after = after;
    /** Set once the user chose to leave: the browser's prompt must not ask a second time. */
    this.leaving = false;
    this.dialog = null;
    window.addEventListener('beforeunload', (event) => {
      if (this.leaving || !this.unsaved()) return;
      event.preventDefault();
      // Older browsers show the prompt only when `returnValue` is set (its text is ignored).
      event.returnValue = '';
    });
  }

  /**
   * Runs `proceed` at once when nothing is unsaved; otherwise asks first and runs it on "leave", or
   * `stay` on "stay". `navigates`: `proceed` leaves the page (no second prompt from the browser).
   */
  confirm(proceed, { navigates = false, stay = () => {} } = {}) {
    this.close();
    if (!this.unsaved()) {
      proceed();
      return;
    }
    const leave = el('button', { type: 'button', id: 'unsaved-leave', class: 'primary' }, this.t('unsaved.leave'));
    const keep = el('button', { type: 'button', id: 'unsaved-stay' }, this.t('unsaved.stay'));
    this.dialog = el('div', { id: 'unsaved-confirm', class: 'planner-unsaved', role: 'alertdialog', 'aria-live': 'assertive' },
      el('p', {}, this.t('unsaved.confirm')), el('div', {}, leave, keep));
    leave.onclick = () => {
      this.close();
      if (navigates) this.leaving = true;
      proceed();
    };
    keep.onclick = () => {
      this.close();
      stay();
    };
    this.after.after(this.dialog);
    keep.focus();
  }

  close() {
    this.dialog?.remove();
    this.dialog = null;
  }
}
