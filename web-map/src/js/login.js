// The login page (`/login.html`): a name, a password and, for the roles that need one, a TOTP code.
// `POST /api/session` sets the session cookie; a person whose password must change (a one-time password
// from an administrator or the demo) chooses a new one here before going on. The page says why it was
// shown (`?reason=ended|signedout|signin|change`) and goes back to `?next=` (a path on this site) or to
// the view of the person's role. Every refusal has its own message: wrong credentials, a TOTP code
// needed, a locked account (until when), too many failures from this address, a disabled account.

import { api, Problem, rememberOwner } from './common/api.js';
import { applyStrings, translator } from './common/i18n.js';
import { STRINGS } from './login/strings.js';

const t = translator(STRINGS);
applyStrings(t);

const $ = (selector) => document.querySelector(selector);
const params = new URL(window.location.href).searchParams;
const loginForm = $('#login-form');
const changeForm = $('#change-form');
const errorBox = $('#login-error');
const messageBox = $('#login-message');

const reason = params.get('reason');
if (['ended', 'signedout', 'change'].includes(reason)) {
  messageBox.textContent = t(`reason.${reason}`);
  messageBox.hidden = false;
}

function showError(text) {
  errorBox.textContent = text;
  errorBox.hidden = !text;
}

/** A time the server sent, as the reader's clock shows it. */
function localTime(iso) {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? iso : at.toLocaleTimeString(t.lang, { hour: '2-digit', minute: '2-digit' });
}

/** What to say about a refused sign-in or password change. */
function refusal(err) {
  if (!(err instanceof Problem)) return String(err?.message || err);
  if (err.offline) return t('error.offline');
  const until = err.body?.locked_until ? localTime(err.body.locked_until) : '';
  switch (err.type) {
    case '/problems/invalid-credentials': return t('error.credentials');
    case '/problems/totp-required': return t('error.totp');
    case '/problems/totp-not-set-up': return t('error.totp_setup');
    case '/problems/account-locked': return t('error.locked', { until });
    case '/problems/too-many-failures': return t('error.address', { until });
    case '/problems/account-disabled': return t('error.disabled');
    case '/problems/weak-password': return `${t('error.weak')} (${err.detail})`;
    case '/problems/wrong-password': return t('error.credentials');
    default: return `${err.status} ${err.detail || err.title}`.trim();
  }
}

/** Where to go once signed in: `?next=` when it is a path on this site, else the role's view. */
function destination(role) {
  const next = params.get('next');
  if (next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login')) return next;
  const view = { worker: '/worker', planner: '/planner' }[role] || '/';
  return `${view}?lang=${encodeURIComponent(t.lang)}`;
}

let signedIn = null;
let currentPassword = '';

loginForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  showError('');
  const form = new FormData(loginForm);
  const body = { name: String(form.get('name')).trim(), password: String(form.get('password')) };
  const code = String(form.get('totp') || '').trim();
  if (code) body.totp = code;
  try {
    signedIn = await api('/api/session', { method: 'POST', body, noRedirect: true });
  } catch (err) {
    if (err instanceof Problem && err.type === '/problems/totp-required') {
      $('#totp-field').hidden = false;
      loginForm.elements.totp.focus();
    }
    showError(refusal(err));
    return;
  }
  rememberOwner(signedIn.user.name);
  if (signedIn.must_change_password) {
    currentPassword = body.password;
    loginForm.hidden = true;
    messageBox.hidden = true;
    changeForm.hidden = false;
    changeForm.elements.new.focus();
    return;
  }
  window.location.assign(destination(signedIn.user.role));
});

changeForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  showError('');
  const form = new FormData(changeForm);
  const fresh = String(form.get('new'));
  if (fresh !== String(form.get('again'))) {
    showError(t('error.mismatch'));
    return;
  }
  try {
    await api('/api/me/password', {
      method: 'PUT', body: { current_password: currentPassword, new_password: fresh }, noRedirect: true,
    });
  } catch (err) {
    showError(refusal(err));
    return;
  }
  window.location.assign(destination(signedIn.user.role));
});
