// A server started with an access token (YTMAKER_SERVER_TOKEN): the page loads without it and
// asks for it (a sign-in screen, not a page of errors), refuses a wrong one at the field with
// UNAUTHORIZED and its trace id, keeps the right one across reloads, signs in directly from the
// `/#access_token=…` link (and takes the token out of the address), follows a project's progress
// over the WebSocket with the token in its query, and the token never reaches the server log.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { apiCall, checkA11y, launchBrowser, newPage, screenshot, serverLogLines, shortArticle, startServer } from './harness.mjs';

const STEP_LIMIT_MS = 60_000;
// Characters that need encoding in a URL, so every place the token travels is exercised.
const TOKEN = 'e2e-t0ken/with+odd&chars=ok';
const WRONG = 'not-the-token-4711';

let server;
let browser;
before(async () => {
  server = await startServer({ token: TOKEN });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The page's HTML and the address hold no token (the password input's value is not HTML). */
async function assertNoTokenInPage(page) {
  const html = await page.content();
  assert.ok(!html.includes(TOKEN) && !html.includes(encodeURIComponent(TOKEN)), 'the token is in the page');
  assert.ok(!page.url().includes('access_token'), `the token is in the address: ${page.url()}`);
}

test('the sign-in screen refuses a wrong token at the field and keeps the right one', async () => {
  const page = await newPage(browser, { lang: 'en' });
  page.setDefaultTimeout(STEP_LIMIT_MS);
  await page.goto(`${server.url}/`);
  const signIn = page.getByTestId('sign-in');
  await signIn.waitFor();
  assert.match(await signIn.textContent(), /YTMAKER_SERVER_TOKEN/);
  // The page the user opened is replaced, not shown failing.
  assert.equal(await page.getByTestId('error-notice').count(), 0);
  assert.equal(await page.getByTestId('access-token-input').getAttribute('type'), 'password');
  await checkA11y(page);
  await screenshot(page, 'sign-in');

  // A wrong token: UNAUTHORIZED at the field, with a trace id; nothing kept.
  await page.getByTestId('access-token-input').fill(WRONG);
  await page.getByTestId('sign-in-submit').click();
  const refusal = page.getByTestId('sign-in-error').getByTestId('error-notice');
  await refusal.waitFor();
  assert.equal(await refusal.getByTestId('error-code').textContent(), 'UNAUTHORIZED');
  assert.match(await refusal.getByTestId('trace-id').textContent(), /^[0-9A-Za-z_-]{8,64}$/);
  assert.equal(await page.getByTestId('access-token-input').getAttribute('aria-invalid'), 'true');
  // Non-retryable: the error policy opens the dialog with the catalogue's solutions.
  const dialog = page.getByTestId('error-dialog');
  await dialog.waitFor();
  // The catalogue's guide is readable without the token, so the dialog explains the refusal.
  await dialog.getByTestId('error-solutions').waitFor();
  assert.match(await dialog.textContent(), /sign-in screen/);
  assert.doesNotMatch(await dialog.textContent(), /could not be loaded/);
  assert.ok(!(await dialog.textContent()).includes(WRONG), 'the wrong token is echoed');
  await screenshot(page, 'sign-in-wrong-token');
  await dialog.getByRole('button', { name: 'Close' }).click();
  assert.equal(await page.evaluate(() => window.localStorage.getItem('ytmaker.accessToken')), null);

  // The right token: the dashboard loads, and the token is kept for the next visit.
  await page.getByTestId('access-token-input').fill(TOKEN);
  await page.getByTestId('sign-in-submit').click();
  await page.getByTestId('stats').waitFor();
  assert.equal(await page.getByTestId('sign-in').count(), 0);
  assert.equal(await page.evaluate(() => window.localStorage.getItem('ytmaker.accessToken')), TOKEN);
  await assertNoTokenInPage(page);
  await page.reload();
  await page.getByTestId('stats').waitFor();
  assert.equal(await page.getByTestId('sign-in').count(), 0);

  // Settings → sign out forgets it, and the server's refusal brings the sign-in screen back.
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByTestId('sign-out').click();
  await page.getByTestId('sign-in').waitFor();
  assert.equal(await page.evaluate(() => window.localStorage.getItem('ytmaker.accessToken')), null);
  await page.context().close();
});

test('the sign-in link opened over the sign-in screen signs in and leaves no token in the address', async () => {
  const page = await newPage(browser, { lang: 'zh-TW' });
  page.setDefaultTimeout(STEP_LIMIT_MS);
  await page.goto(`${server.url}/`);
  await page.getByTestId('sign-in').waitFor();
  await screenshot(page, 'sign-in-zh-TW');
  await page.goto(`${server.url}/#access_token=${encodeURIComponent(TOKEN)}`);
  await page.getByTestId('stats').waitFor();
  assert.equal(await page.getByTestId('sign-in').count(), 0);
  assert.equal(new URL(page.url()).hash, '');
  assert.equal(await page.evaluate(() => window.localStorage.getItem('ytmaker.accessToken')), TOKEN);
  await assertNoTokenInPage(page);
  await page.context().close();
});

test('a project page follows its progress over the WebSocket with the token', async () => {
  const created = await apiCall(server, 'POST', '/projects', { name: 'token socket', content: shortArticle(), start: true });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.id;
  const page = await newPage(browser, { lang: 'en' });
  page.setDefaultTimeout(STEP_LIMIT_MS);
  const sockets = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  // A fresh tab opening the sign-in link (test 2 opens it in a tab already showing the UI).
  await page.goto(`${server.url}/#access_token=${encodeURIComponent(TOKEN)}`);
  await page.getByTestId('stats').waitFor();
  await assertNoTokenInPage(page);
  await page.goto(`${server.url}/projects/${id}`);
  // The state comes only from the socket's snapshot, the log lines from its events.
  const progress = page.getByTestId('progress');
  await progress.waitFor();
  await page.locator('[data-testid=log] li').first().waitFor();
  assert.ok(Number(await progress.getAttribute('data-seq')) > 0);
  assert.equal(await page.getByTestId('error-notice').count(), 0);
  assert.ok(sockets.length >= 1);
  const socketUrl = new URL(sockets[0]);
  assert.equal(socketUrl.searchParams.get('access_token'), TOKEN);
  assert.equal(socketUrl.searchParams.get('after_seq'), '0');
  const cancelled = await apiCall(server, 'POST', `/projects/${id}/cancel`);
  assert.ok(cancelled.status < 300, JSON.stringify(cancelled.body));
  await page.context().close();
});

test('the token never reaches the server log or its output', async () => {
  const lines = await serverLogLines(server.dataDir);
  assert.ok(lines.some((l) => l.includes('UNAUTHORIZED')), 'the refusals were logged');
  assert.ok(lines.some((l) => l.includes('/progress')), 'the socket request was logged');
  for (const secret of [TOKEN, encodeURIComponent(TOKEN), WRONG]) {
    const leaked = lines.filter((l) => l.includes(secret));
    assert.deepEqual(leaked, [], `${secret} in the server log`);
    assert.ok(!server.serverStdout().includes(secret), `${secret} on stdout`);
    assert.ok(!server.serverStderr().includes(secret), `${secret} on stderr`);
  }
  // Not a terminal: the server said where the UI is and where the token comes from.
  assert.match(server.serverStdout(), /sign in with the access token/);
});
