// The dashboard's project table (status filter, sort, pages) and its "resume unfinished"
// shortcut, against the real server.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { apiCall, checkA11y, launchBrowser, newPage, screenshot, shortArticle, startServer } from './harness.mjs';

const STEP_LIMIT_MS = 60_000;
const RUN_LIMIT_MS = 10 * 60_000;

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

async function waitForStatus(id, wanted) {
  const deadline = Date.now() + RUN_LIMIT_MS;
  for (;;) {
    const p = (await apiCall(server, 'GET', `/projects/${id}`)).body;
    if (wanted(p.status)) return p;
    assert.ok(Date.now() < deadline, `project ${id} stayed ${p.status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('filter, sort and pages list what the API has; resume-unfinished continues a paused project', async () => {
  // Eleven projects that are only created, named so the name order is known.
  for (let i = 0; i < 11; i++) {
    const r = await apiCall(server, 'POST', '/projects', { name: `p${String(i).padStart(2, '0')}`, content: shortArticle() });
    assert.equal(r.status, 201);
  }
  // One started and paused at once.
  const started = await apiCall(server, 'POST', '/projects', { name: 'paused one', content: shortArticle(), start: true });
  const pausedId = started.body.id;
  const pause = await apiCall(server, 'POST', `/projects/${pausedId}/pause`);
  assert.ok([200, 202].includes(pause.status), JSON.stringify(pause.body));
  await waitForStatus(pausedId, (s) => s === 'PAUSED');

  const page = await newPage(browser, { lang: 'en' });
  page.setDefaultTimeout(STEP_LIMIT_MS);
  await page.goto(server.url + '/');
  await page.getByTestId('project-table').waitFor();
  assert.equal(await page.getByTestId('page-range').textContent(), '1–10 of 12');

  await page.getByTestId('status-filter').selectOption('INITIALIZED');
  await page.waitForFunction(() => document.querySelector('[data-testid=page-range]')?.textContent === '1–10 of 11');
  await page.getByTestId('sort').selectOption('name');
  await page.getByTestId('order').selectOption('asc');
  await page.waitForFunction(() => document.querySelector('[data-testid=project-table] tbody tr td a')?.textContent === 'p00');
  const firstPage = await page.locator('[data-testid=project-table] tbody tr td:first-child').allTextContents();
  assert.deepEqual(firstPage, ['p00', 'p01', 'p02', 'p03', 'p04', 'p05', 'p06', 'p07', 'p08', 'p09']);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.waitForFunction(() => document.querySelector('[data-testid=page-range]')?.textContent === '11–11 of 11');
  assert.deepEqual(await page.locator('[data-testid=project-table] tbody tr td:first-child').allTextContents(), ['p10']);
  // The state is in the address, so a reload keeps it.
  await page.reload();
  await page.waitForFunction(() => document.querySelector('[data-testid=page-range]')?.textContent === '11–11 of 11');

  await page.goto(server.url + '/');
  const resume = page.getByTestId('resume-unfinished');
  await resume.waitFor();
  assert.match(await resume.textContent(), /paused one/);
  await screenshot(page, 'dashboard-projects');
  await checkA11y(page);
  await resume.getByTestId('resume-all').click();
  await page.getByTestId('resume-sent').waitFor();
  await waitForStatus(pausedId, (s) => s !== 'PAUSED');
  const cancelled = await apiCall(server, 'POST', `/projects/${pausedId}/cancel`);
  assert.ok([200, 202].includes(cancelled.status));
  await page.context().close();
});
