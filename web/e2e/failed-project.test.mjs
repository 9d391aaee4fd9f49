// A FAILED project always offers a way on (issue 12, defect 10): a failure that is not retryable
// but can be fixed — here the project's logo file removed from disk before the render — opens the
// dialog with the catalogue's explanation in the UI's language (the raw OS message folded under
// "details") and "Try again after fixing", which continues the project once the cause is fixed,
// as `ytmaker projects retry` does. Offline providers, the real server.

import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { apiCall, checkA11y, launchBrowser, newPage, screenshot, shortArticle, startServer } from './harness.mjs';

// Failure limits for waits on a real run (2 cores); not measurements.
const RUN_LIMIT_MS = 15 * 60_000;
const STEP_LIMIT_MS = 60_000;
const LOGO_FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'logo.png');

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function uploadLogo() {
  const r = await fetch(`${server.url}/api/v1/uploads/logo`, {
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body: await readFile(LOGO_FIXTURE),
  });
  const text = await r.text();
  assert.equal(r.status, 201, text);
  return JSON.parse(text).id;
}

async function catalogue(code, lang) {
  const r = await fetch(`${server.url}/api/v1/system/errors/${code}`, { headers: { 'accept-language': lang } });
  assert.equal(r.status, 200);
  return r.json();
}

test('a logo deleted before the render: zh-TW explanation, raw message under details, "try again after fixing" completes it', async () => {
  const logoId = await uploadLogo();
  const created = await apiCall(server, 'POST', '/projects', {
    name: '少了標誌',
    content: shortArticle(),
    configuration: { logo: { upload: logoId }, presenter: { enabled: false } },
    start: true,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.id;
  // Removed while the script and assets are made; the render stage reads it first.
  const logoFile = path.join(server.dataDir, 'uploads', 'logos', `${logoId}.png`);
  await rm(logoFile);

  const page = await newPage(browser, { lang: 'zh-TW', openResultWhenDone: false });
  page.setDefaultTimeout(STEP_LIMIT_MS);
  await page.goto(`${server.url}/projects/${id}`);
  const dialog = page.getByTestId('error-dialog');
  await dialog.waitFor({ timeout: RUN_LIMIT_MS });
  const failed = (await apiCall(server, 'GET', `/projects/${id}`)).body;
  assert.equal(failed.status, 'FAILED');
  assert.equal(failed.error_info.error_code, 'FILE_NOT_FOUND');
  assert.equal(failed.error_info.is_retryable, false);
  assert.equal(failed.error_info.stage, 'render');
  assert.equal(await dialog.getByTestId('error-code').textContent(), 'FILE_NOT_FOUND');

  // The reason is the catalogue's explanation in Traditional Chinese, not the OS message.
  const zh = await catalogue('FILE_NOT_FOUND', 'zh-TW');
  await dialog.getByTestId('error-solutions').waitFor();
  assert.equal(await dialog.getByTestId('error-reason').textContent(), zh.explanation);
  assert.deepEqual(await dialog.locator('[data-testid=error-solutions] li').allTextContents(), zh.solutions);
  // The raw message is kept, folded under "details" until asked for.
  const raw = dialog.getByTestId('error-raw');
  assert.equal(await raw.evaluate((el) => el.open), false);
  assert.equal(await dialog.getByTestId('error-message').isVisible(), false);
  assert.equal(await dialog.getByTestId('error-message').textContent(), failed.error_info.error_message);
  assert.equal(await dialog.getByTestId('trace-id').textContent(), failed.error_info.trace_id);

  // A way on, not only "cancel": not retryable, so "try again after fixing" (no plain Retry).
  assert.equal(await page.getByTestId('error-retry').count(), 0);
  const again = dialog.getByTestId('error-retry-after-fix');
  assert.equal(await again.textContent(), '修正後再試一次');
  await screenshot(page, 'failed-project-dialog-zh-TW');
  await checkA11y(page);
  await raw.locator('summary').click();
  assert.equal(await dialog.getByTestId('error-message').isVisible(), true);
  await screenshot(page, 'failed-project-dialog-details-zh-TW');

  // Fix the cause: the same logo uploaded again is stored under the same id.
  assert.equal(await uploadLogo(), logoId);
  await again.click();
  await dialog.waitFor({ state: 'hidden' });
  await page.waitForSelector('[data-testid=progress][data-status=COMPLETED]', { timeout: RUN_LIMIT_MS });
  assert.equal(await page.getByTestId('error-notice').count(), 0);
  // The note names the live status, not the FAILED the retry's answer still carried.
  assert.equal(await page.getByTestId('continued').textContent(), '已送出，專案繼續執行（已完成）。');
  const done = (await apiCall(server, 'GET', `/projects/${id}`)).body;
  assert.equal(done.status, 'COMPLETED');
  assert.equal(done.error_info, null);
  // It continued from the render: the script and the assets were made once.
  const events = (await apiCall(server, 'GET', `/projects/${id}/events`)).body.events;
  const started = events.filter((e) => e.kind === 'stage' && e.payload?.state === 'started').map((e) => e.payload.stage);
  assert.equal(started.filter((s) => s === 'script').length, 1, `stages started: ${started.join(', ')}`);
  assert.equal(started.filter((s) => s === 'render').length, 2, `stages started: ${started.join(', ')}`);
  await screenshot(page, 'failed-project-continued');
  await page.context().close();
});
