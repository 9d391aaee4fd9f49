// The one error policy in the browser: a non-retryable fault opens the dialog with the code, the
// catalogue's solutions in the current language and the run's trace id; a retryable one offers
// Retry, which completes the project; every error shown reaches the server log; a server that
// cannot be reached is named as such.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  apiCall,
  checkA11y,
  clearFaults,
  launchBrowser,
  newPage,
  screenshot,
  serverLogLines,
  shortArticle,
  startServer,
} from './harness.mjs';

const RUN_LIMIT_MS = 15 * 60_000;
const STEP_LIMIT_MS = 60_000;

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

async function catalogue(server, code, lang) {
  const r = await fetch(`${server.url}/api/v1/system/errors/${code}`, { headers: { 'accept-language': lang } });
  assert.equal(r.status, 200);
  return r.json();
}

/** Waits until the server log holds a line from the UI (`source: ui`) with this trace id. */
async function waitForUiLogLine(server, traceId) {
  const deadline = Date.now() + STEP_LIMIT_MS;
  for (;;) {
    const lines = await serverLogLines(server.dataDir);
    const hit = lines.find((l) => l.includes(traceId) && l.includes('"source":"ui"'));
    if (hit) return JSON.parse(hit);
    if (Date.now() > deadline) {
      assert.fail(`no UI log line with trace id ${traceId}; UI lines: ${lines.filter((l) => l.includes('"source":"ui"')).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function createProject(server, configuration) {
  const r = await apiCall(server, 'POST', '/projects', {
    name: 'fault test',
    content: shortArticle(),
    configuration,
    start: true,
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.id;
}

describe('a non-retryable fault (a font that does not exist)', () => {
  let server;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });

  test('opens the dialog with FONT_NOT_FOUND, its solutions in the current language and the trace id', async () => {
    const id = await createProject(server, { subtitles: { font_family: 'No Such Font Family 4711' } });
    const page = await newPage(browser, { lang: 'zh-TW' });
    page.setDefaultTimeout(STEP_LIMIT_MS);
    await page.goto(`${server.url}/projects/${id}`);
    const dialog = page.getByTestId('error-dialog');
    await dialog.waitFor({ timeout: RUN_LIMIT_MS });
    assert.equal(await dialog.getByTestId('error-code').textContent(), 'FONT_NOT_FOUND');
    assert.equal(await page.getByTestId('error-retry').count(), 0, 'a non-retryable error offers no Retry');

    const project = (await apiCall(server, 'GET', `/projects/${id}`)).body;
    assert.equal(project.status, 'FAILED');
    assert.equal(project.error_info.error_code, 'FONT_NOT_FOUND');
    const traceId = project.error_info.trace_id;
    assert.equal(await dialog.getByTestId('trace-id').textContent(), traceId);

    const zh = await catalogue(server, 'FONT_NOT_FOUND', 'zh-TW');
    await dialog.getByTestId('error-solutions').waitFor();
    assert.deepEqual(await dialog.locator('[data-testid=error-solutions] li').allTextContents(), zh.solutions);
    assert.ok((await dialog.getByTestId('error-message').textContent()).includes('No Such Font Family 4711'));
    await screenshot(page, 'error-dialog-font-zh-TW');
    await checkA11y(page);

    // The same dialog in English once the language is switched.
    await dialog.getByRole('button', { name: '關閉' }).click();
    await page.getByTestId('lang-switch').selectOption('en');
    await page.getByRole('button', { name: 'Show the reason and solutions' }).click();
    const en = await catalogue(server, 'FONT_NOT_FOUND', 'en');
    await page.waitForFunction(
      (first) => document.querySelector('[data-testid=error-dialog] [data-testid=error-solutions] li')?.textContent === first,
      en.solutions[0],
    );
    assert.deepEqual(await page.locator('[data-testid=error-dialog] [data-testid=error-solutions] li').allTextContents(), en.solutions);
    await screenshot(page, 'error-dialog-font-en');

    // The error the UI showed is in the server's log under the run's trace id.
    const line = await waitForUiLogLine(server, traceId);
    assert.equal(line.error_code, 'FONT_NOT_FOUND');
    assert.equal(line.project_id, id);
    await page.context().close();
  });
});

describe('a retryable fault (Stability answering 500 beyond its retry budget)', () => {
  let server;
  before(async () => {
    server = await startServer({
      cloud: true,
      faults: [{ api: 'stability', action: { kind: 'error', status: 500 } }],
    });
  });
  after(async () => {
    await server?.stop();
  });

  test('shows Retry; after the fault clears, Retry completes the project', async () => {
    const key = await apiCall(server, 'PUT', '/keys/stability', { value: 'ui-test-key-for-the-fake-cloud' });
    assert.equal(key.status, 200, JSON.stringify(key.body));
    const id = await createProject(server, { providers: { images: 'stability' } });
    const page = await newPage(browser, { lang: 'en' });
    page.setDefaultTimeout(STEP_LIMIT_MS);
    await page.goto(`${server.url}/projects/${id}`);
    const retry = page.getByTestId('error-retry');
    await retry.waitFor({ timeout: RUN_LIMIT_MS });
    const notice = page.getByTestId('error-notice').filter({ has: retry });
    assert.equal(await notice.getByTestId('error-code').textContent(), 'STABILITY_SERVER_ERROR');
    assert.equal(await page.getByTestId('error-dialog').count(), 0, 'a retryable error opens no dialog by itself');
    const project = (await apiCall(server, 'GET', `/projects/${id}`)).body;
    assert.equal(project.error_info.error_code, 'STABILITY_SERVER_ERROR');
    assert.equal(await notice.getByTestId('trace-id').textContent(), project.error_info.trace_id);
    // The automatic retries were shown as they happened (replayed for a page opened later).
    assert.ok((await page.locator('[data-testid=retry-notices] li').count()) > 0);
    assert.ok((await page.locator('[data-testid=log] li[data-level=retry]').count()) > 0);
    await screenshot(page, 'error-retryable');
    await checkA11y(page);
    await waitForUiLogLine(server, project.error_info.trace_id);

    await clearFaults(server.cloudUrl);
    // "Open the result when the run completes" is on by default.
    assert.equal(await page.getByTestId('open-result-when-done').isChecked(), true);
    await retry.click();
    await page.getByTestId('continued').waitFor();
    // The run this page watched completes: the page goes to the result by itself.
    await page.waitForURL(new RegExp(`/projects/${id}/result$`), { timeout: RUN_LIMIT_MS });
    const done = (await apiCall(server, 'GET', `/projects/${id}`)).body;
    assert.equal(done.status, 'COMPLETED');
    await page.getByTestId('video').waitFor();
    assert.equal(await page.getByTestId('error-notice').count(), 0);
    // Opened again once COMPLETED, the progress page stays (its log is what the user came for).
    await page.goto(`${server.url}/projects/${id}`);
    await page.waitForSelector('[data-testid=progress][data-status=COMPLETED]');
    await page.getByTestId('result-link').waitFor();
    assert.match(page.url(), new RegExp(`/projects/${id}$`));
    await page.context().close();
  });
});

describe('a server that cannot be reached', () => {
  test('is named with what failed and what to try, never as an unknown error', async () => {
    const server = await startServer();
    const page = await newPage(browser, { lang: 'en' });
    page.setDefaultTimeout(STEP_LIMIT_MS);
    try {
      await page.goto(server.url + '/');
      await page.getByTestId('stats').waitFor();
    } finally {
      await server.stop();
    }
    await page.getByTestId('status-filter').selectOption('FAILED');
    const notice = page.getByTestId('error-notice').filter({ hasText: 'NETWORK_UNREACHABLE' });
    await notice.waitFor();
    assert.equal(await notice.getByTestId('error-code').textContent(), 'NETWORK_UNREACHABLE');
    const text = await notice.textContent();
    assert.match(text, /Could not reach the ytmaker server \(GET \/projects/);
    assert.doesNotMatch(text.toLowerCase(), /unknown error/);
    assert.ok((await notice.getByTestId('trace-id').textContent()).length >= 8);
    assert.equal(await notice.getByTestId('error-retry').count(), 1);
    await screenshot(page, 'error-network');
    await page.context().close();
  });
});
