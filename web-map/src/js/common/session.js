// The signed-in session as every page meets it: a visitor with no session goes to the login page, and
// the page's `[data-sign-out]` button signs out (ends the session on the server, then shows login).

import { csrfToken, signOut, toLogin } from './api.js';

/** Sends a visitor with no session to the login page (false), else wires the sign-out button (true). */
export function requireSession(t) {
  if (!csrfToken()) {
    toLogin('signin');
    return false;
  }
  for (const button of document.querySelectorAll('[data-sign-out]')) {
    button.textContent = t('signout');
    button.addEventListener('click', () => signOut());
  }
  return true;
}
