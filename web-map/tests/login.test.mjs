// The login page (`/login.html`), in English and zh-CN: signing in and out, a first sign-in's password
// change, a locked account's message, and a session that times out sending the page back to login.
// The server runs with a 6-second idle timeout (so a session ends quickly) and a high per-address limit
// (so the account, not this machine's address, is what locks).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newPage, screenshot, serverAndBrowser, waitForMap } from './harness.mjs';

let server;
let browser;

serverAndBrowser((s, b) => {
  server = s;
  browser = b;
}, { args: ['--session-idle-s', '6', '--address-lockout-failures', '1000'] });

const TEXT = {
  en: { title: 'Sign in to gridwatch', signedOut: 'You have signed out.', ended: 'Your session has ended', locked: 'this account is locked until', signOut: 'Sign out', oneTime: 'This is a one-time password' },
  'zh-CN': { title: '登录 gridwatch', signedOut: '您已退出登录。', ended: '会话已结束', locked: '该账号已锁定至', signOut: '退出登录', oneTime: '这是一次性密码' },
};

async function fillAndSubmit(page, name, password) {
  await page.fill('input[name=name]', name);
  await page.fill('input[name=password]', password);
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/session')),
    page.click('#login-form button[type=submit]'),
  ]);
}

for (const lang of ['en', 'zh-CN']) {
  const text = TEXT[lang];

  test(`${lang}: a person signs in at the login page, reaches the map, and signs out`, async () => {
    const person = await server.person({ role: 'commander' });
    const page = await newPage(browser);
    await page.goto(`${server.url}/login.html?lang=${lang}`);
    assert.equal(await page.textContent('h1'), text.title);
    await fillAndSubmit(page, person.name, person.password);
    await page.waitForURL((url) => url.pathname === '/');
    await waitForMap(page);
    assert.ok(!page.requests.some((url) => /[?&]token=/.test(url)), 'no credential in any URL');
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'gw_session');
    assert.ok(session?.httpOnly, 'the session cookie is HttpOnly');
    assert.equal(session.sameSite, 'Strict');
    assert.equal(await page.textContent('[data-sign-out]'), text.signOut);
    await page.click('[data-sign-out]');
    await page.waitForURL((url) => url.pathname === '/login.html');
    assert.equal(await page.textContent('#login-message'), text.signedOut);
    await screenshot(page, `login-signed-out-${lang}`);
    // The ended session opens nothing: the page goes back to login.
    await page.goto(`${server.url}/?lang=${lang}`);
    await page.waitForURL((url) => url.pathname === '/login.html');
    assert.deepEqual(page.errors.filter((e) => !/401/.test(e)), []);
    await page.context().close();
  });

  test(`${lang}: a one-time password is changed at the first sign-in`, async () => {
    const made = await server.api('/api/users', { method: 'POST', body: { name: `first.${lang.toLowerCase()}`, role: 'planner' } });
    const page = await newPage(browser);
    await page.goto(`${server.url}/login.html?lang=${lang}`);
    await fillAndSubmit(page, made.user.name, made.one_time_password);
    await page.waitForSelector('#change-form:not([hidden])');
    assert.match(await page.textContent('#change-form'), new RegExp(text.oneTime));
    await page.fill('input[name=new]', 'Fresh-Start-2026');
    await page.fill('input[name=again]', 'Fresh-Start-2026');
    await page.click('#change-form button[type=submit]');
    await page.waitForURL((url) => url.pathname === '/planner');
    await page.context().close();
  });

  test(`${lang}: a locked account is told so, with until when`, async () => {
    const person = await server.person({ role: 'worker', scopes: ['grid:3'] });
    const page = await newPage(browser);
    await page.goto(`${server.url}/login.html?lang=${lang}`);
    for (let i = 0; i < 5; i += 1) {
      await fillAndSubmit(page, person.name, 'Wrong-Password-1');
    }
    // The right password now meets the lock.
    await fillAndSubmit(page, person.name, person.password);
    await page.waitForFunction((t) => document.getElementById('login-error').textContent.includes(t), text.locked, { timeout: 10_000 });
    await screenshot(page, `login-locked-${lang}`);
    const { status, body } = await server.call('/api/session', { method: 'POST', body: { name: person.name, password: person.password } });
    assert.equal(status, 423);
    assert.equal(body.type, '/problems/account-locked');
    await page.context().close();
  });

  test(`${lang}: a session left idle ends, and the open page goes back to login saying so`, async () => {
    const person = await server.person({ role: 'commander' });
    const page = await newPage(browser);
    await page.goto(`${server.url}/login.html?lang=${lang}`);
    await fillAndSubmit(page, person.name, person.password);
    await page.waitForURL((url) => url.pathname === '/');
    await page.waitForSelector('#live-status[data-status=connected]');
    // Six idle seconds: the server closes the websocket (1008) and the page leaves for login.
    await page.waitForURL((url) => url.pathname === '/login.html', { timeout: 30_000 });
    assert.equal(new URL(page.url()).searchParams.get('reason'), 'ended');
    assert.match(await page.textContent('#login-message'), new RegExp(text.ended));
    await screenshot(page, `login-timed-out-${lang}`);
    await page.context().close();
  });
}
