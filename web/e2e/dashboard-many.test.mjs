// The dashboard with more projects than one API page holds (the list route answers at most 200
// at a time; issue 12): the project table pages through all of them, and "resume unfinished"
// counts, lists (in steps) and continues every retryable failure, not only the first 200.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { apiCall, checkA11y, launchBrowser, newPage, screenshot, shortArticle, startServer } from './harness.mjs';

const STEP_LIMIT_MS = 60_000;
// A failure limit for 205 short runs that fail at their first Gemini call; not a measurement.
const RUNS_LIMIT_MS = 10 * 60_000;
const MANY = 205;

let server;
let browser;
before(async () => {
  // Gemini answers 500 to every call: GEMINI_SERVER_ERROR, retryable, after its retries the
  // project is FAILED at once (YTMAKER_RETRY_DELAY_SCALE=0 in the harness).
  server = await startServer({ cloud: true, faults: [{ api: 'gemini', action: { kind: 'error', status: 500 } }] });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function countFailed() {
  return (await apiCall(server, 'GET', '/projects?status=FAILED&limit=1')).body.total;
}

async function errorEvents(id) {
  const events = (await apiCall(server, 'GET', `/projects/${id}/events`)).body.events;
  return events.filter((e) => e.kind === 'error').length;
}

async function waitUntil(what, check) {
  const deadline = Date.now() + RUNS_LIMIT_MS;
  for (;;) {
    if (await check()) return;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

test(`${MANY} retryable failures: the table pages to the last, resume-unfinished shows and continues all ${MANY}`, async () => {
  const key = await apiCall(server, 'PUT', '/keys/gemini', { value: 'ui-test-key-for-the-fake-cloud' });
  assert.equal(key.status, 200, JSON.stringify(key.body));
  const ids = [];
  for (let i = 0; i < MANY; i++) {
    const r = await apiCall(server, 'POST', '/projects', {
      name: `many ${String(i).padStart(3, '0')}`,
      content: shortArticle(),
      configuration: { providers: { script: 'gemini' } },
      start: true,
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    ids.push(r.body.id);
  }
  await waitUntil(`${MANY} FAILED projects`, async () => (await countFailed()) === MANY);
  const first = (await apiCall(server, 'GET', `/projects/${ids[0]}`)).body;
  assert.equal(first.error_info.error_code, 'GEMINI_SERVER_ERROR');
  assert.equal(first.error_info.is_retryable, true);

  const page = await newPage(browser, { lang: 'en' });
  page.setDefaultTimeout(STEP_LIMIT_MS);
  await page.goto(server.url + '/');
  await page.getByTestId('project-table').waitFor();
  assert.equal(await page.getByTestId('page-range').textContent(), `1–10 of ${MANY}`);

  const resume = page.getByTestId('resume-unfinished');
  await resume.waitFor();
  assert.equal(await resume.locator('h2').textContent(), `Unfinished projects (${MANY})`);
  assert.equal(await resume.getByTestId('resume-all').textContent(), `Resume all (${MANY})`);
  // Listed in steps, saying how many of how many are shown.
  assert.equal(await resume.getByTestId('resume-shown').textContent(), `Showing 50 of ${MANY}`);
  assert.equal(await resume.locator('[data-testid=resume-list] li').count(), 50);
  await screenshot(page, 'dashboard-many-resume');
  await checkA11y(page);
  for (let shown = 50; shown < MANY; shown += 50) await resume.getByTestId('resume-show-more').click();
  assert.equal(await resume.locator('[data-testid=resume-list] li').count(), MANY);
  assert.equal(await resume.getByTestId('resume-shown').count(), 0);
  // The oldest and the newest are both there.
  const listed = await resume.locator('[data-testid=resume-list] li a').allTextContents();
  assert.ok(listed.includes('many 000') && listed.includes(`many ${MANY - 1}`), 'the first and the last project are listed');

  // Resume all continues every one of them (they fail again: the fault is still there).
  await resume.getByTestId('resume-all').click();
  await page.getByTestId('resume-sent').waitFor({ timeout: RUNS_LIMIT_MS });
  assert.equal(await page.getByTestId('resume-sent').textContent(), `${MANY} projects sent on to continue.`);
  await waitUntil('every project retried and failed again', async () => {
    if ((await countFailed()) !== MANY) return false;
    const counts = await Promise.all([ids[0], ids[100], ids[200], ids[MANY - 1]].map(errorEvents));
    return counts.every((n) => n === 2);
  });
  const once = [];
  for (const id of ids) if ((await errorEvents(id)) !== 2) once.push(id);
  assert.deepEqual(once, [], 'projects the dashboard did not retry');

  // The table's last page holds the oldest projects past the 200th.
  await page.goto(`${server.url}/?page=20`);
  await page.waitForFunction(
    (want) => document.querySelector('[data-testid=page-range]')?.textContent === want,
    `201–${MANY} of ${MANY}`,
  );
  await screenshot(page, 'dashboard-many-last-page');
  await page.context().close();
});
