// The setup wizard and the settings page against the real server and the fake cloud: keys are
// stored and tested live, a refused key shows its catalogued code, solutions and trace id, a key
// never comes back into the page or the server's log, and the YouTube account links through the
// fake Google consent page and the server's own callback — two accounts, the default switched
// and chosen in the new-project wizard, then removed.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  apiCall,
  checkA11y,
  launchBrowser,
  newPage,
  screenshot,
  serverLogLines,
  shortArticle,
  startServer,
} from './harness.mjs';

const GOOD_KEY = 'gemini-e2e-key-5f2b9c71d04a8e36';
const BAD_KEY = 'invalid-stability-e2e-key-81c4aa90';

describe('setup wizard and settings', () => {
  let server;
  let browser;

  before(async () => {
    server = await startServer({ cloud: true, env: { YTMAKER_QUOTAS__YOUTUBE_UNITS_PER_DAY: '5000' } });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('setup: a valid key tests fine, a refused key shows its code, solutions and trace id', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}/setup`);
    await page.getByTestId('setup-step').waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-TW');
    await checkA11y(page);
    await screenshot(page, 'setup-language');

    // The language step switches the interface at once.
    await page.locator('input[name="setup-lang"][value="en"]').check();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    assert.equal(await page.getByTestId('setup-step').textContent(), 'Language');
    await page.getByTestId('setup-next').click();
    assert.equal(await page.getByTestId('setup-step').textContent(), 'API keys');

    // A key the provider accepts: stored (only its hint shown), then tested live.
    await page.getByTestId('key-input-gemini').fill(GOOD_KEY);
    await page.getByTestId('key-save-gemini').click();
    await page.getByTestId('key-saved-gemini').waitFor();
    assert.equal(await page.getByTestId('key-input-gemini').inputValue(), '', 'the input is cleared once stored');
    const hint = await page.getByTestId('key-state-gemini').textContent();
    assert.match(hint, new RegExp(`${GOOD_KEY.slice(-4)} \\(${GOOD_KEY.length} characters\\)`));
    await page.getByTestId('key-test-gemini').click();
    await page.getByTestId('key-test-ok-gemini').waitFor();

    // A key the provider refuses in its own format: the catalogued error, through the policy.
    await page.getByTestId('key-input-stability').fill(BAD_KEY);
    await page.getByTestId('key-save-stability').click();
    await page.getByTestId('key-saved-stability').waitFor();
    await page.getByTestId('key-test-stability').click();
    const dialog = page.getByTestId('error-dialog');
    await dialog.waitFor();
    assert.equal(await dialog.getByTestId('error-code').textContent(), 'STABILITY_INVALID_API_KEY');
    const solutions = await dialog.getByTestId('error-solutions').locator('li').allTextContents();
    assert.ok(solutions.length > 0, 'the catalogue lists what to do');
    assert.ok(solutions.every((s) => s.trim() !== ''));
    const traceId = (await dialog.getByTestId('trace-id').textContent()).trim();
    assert.match(traceId, /^[0-9A-Za-z_-]{8,64}$/);
    await screenshot(page, 'setup-keys-refused');
    await dialog.locator('.actions button').click();
    await dialog.waitFor({ state: 'hidden' });
    const notice = page.getByTestId('key-row-stability').getByTestId('error-notice');
    assert.equal(await notice.getByTestId('error-code').textContent(), 'STABILITY_INVALID_API_KEY');
    await checkA11y(page);

    // Neither key is anywhere in the page after saving.
    const html = await page.content();
    const text = await page.evaluate(() => document.body.innerText);
    for (const key of [GOOD_KEY, BAD_KEY]) {
      assert.ok(!html.includes(key), `the page source does not contain ${key}`);
      assert.ok(!text.includes(key), `the page text does not contain ${key}`);
    }

    // Skipping the YouTube step finishes the wizard, remembered as skipped.
    await page.getByTestId('setup-next').click();
    assert.equal(await page.getByTestId('setup-step').textContent(), 'YouTube account');
    await page.getByTestId('setup-skip').click();
    await page.getByTestId('setup-done').waitFor();
    assert.equal(await page.evaluate(() => window.localStorage.getItem('ytmaker.setup')), 'skipped');
    await screenshot(page, 'setup-done');

    // The server stored both keys, and says so only by hint.
    const keys = await apiCall(server, 'GET', '/keys');
    assert.equal(keys.status, 200);
    const byName = Object.fromEntries(keys.body.map((k) => [k.provider, k]));
    assert.equal(byName.gemini.stored, true);
    assert.equal(byName.stability.stored, true);
    assert.ok(!JSON.stringify(keys.body).includes(GOOD_KEY));

    // The server log holds the UI's report of the refused test, with the trace id shown, and
    // never either key.
    // The page posts its report in the background and the server writes its log through a
    // buffer, so the line is waited for (a bounded number of reads, not a timing assertion).
    const isReport = (l) => l.source === 'ui' && l.trace_id === traceId && l.error_code === 'STABILITY_INVALID_API_KEY';
    let lines = [];
    for (let attempt = 0; attempt < 40; attempt += 1) {
      lines = await serverLogLines(server.dataDir);
      if (lines.some((l) => isReport(JSON.parse(l)))) break;
      await page.waitForTimeout(250);
    }
    assert.ok(
      lines.some((l) => isReport(JSON.parse(l))),
      'the UI posted the error it showed to the client log with its trace id',
    );
    for (const key of [GOOD_KEY, BAD_KEY]) {
      assert.ok(!lines.some((l) => l.includes(key)), `no server log line contains ${key}`);
    }
    await page.context().close();
  });

  test('settings: keys masked and deleted, YouTube linked through the consent page and unlinked', async () => {
    const page = await newPage(browser, { lang: 'en' });
    await page.goto(`${server.url}/settings`);
    await page.getByTestId('key-state-gemini').waitFor();
    assert.match(await page.getByTestId('key-state-gemini').textContent(), /characters\)/);
    assert.ok(!(await page.content()).includes(GOOD_KEY));
    await page.getByTestId('youtube-unlinked').waitFor();
    await checkA11y(page);
    await screenshot(page, 'settings');

    // Replacing a key: the new one is stored, only its hint comes back.
    const replacement = 'invalid-but-replaced-key-7e1d';
    await page.getByTestId('key-input-did').fill(replacement);
    await page.getByTestId('key-save-did').click();
    await page.getByTestId('key-saved-did').waitFor();
    assert.ok(!(await page.content()).includes(replacement));

    // Deleting a key asks first, then the server forgets it.
    await page.getByTestId('key-delete-stability').click();
    await page.getByTestId('key-delete-confirm-stability').click();
    await page.getByTestId('key-state-stability').filter({ hasText: 'No key set' }).waitFor();
    const keys = await apiCall(server, 'GET', '/keys');
    assert.equal(keys.body.find((k) => k.provider === 'stability').stored, false);

    // An empty key is refused at the field before any request.
    await page.getByTestId('key-save-gemini').click();
    await page.getByTestId('key-row-gemini').getByTestId('field-error-value').waitFor();
    assert.equal(await page.getByTestId('key-input-gemini').getAttribute('aria-invalid'), 'true');

    // YouTube: the consent page opens in a new tab, Google's answer reaches the server's
    // callback, and this page notices the account is linked; the first one is the default.
    const firstChannel = 'UCytmakerFakeChannel0001';
    const secondChannel = 'UCytmakerFakeChannel0002';
    await page.getByTestId('youtube-client-id').fill('ytmaker-e2e.apps.googleusercontent.com');
    let popup = page.context().waitForEvent('page');
    await page.getByTestId('youtube-link').click();
    let consent = await popup;
    await consent.waitForLoadState();
    const first = page.getByTestId(`youtube-account-${firstChannel}`);
    await first.waitFor({ timeout: 30_000 });
    await first.getByTestId('youtube-default-badge').waitFor();
    assert.ok(consent.url().includes('/api/v1/youtube/callback'), `the consent page returned to the server: ${consent.url()}`);
    await consent.close();
    await page.getByTestId('youtube-test').click();
    await page.getByTestId('youtube-test-ok').waitFor();

    // Linking another account: on Google's chooser the person picks the other channel, which
    // the fake's consent page takes from Google's login_hint parameter.
    await page.context().route('**/o/oauth2/v2/auth?**', (route) =>
      route.continue({ url: `${route.request().url()}&login_hint=${secondChannel}` }),
    );
    await page.getByTestId('youtube-link-another').click();
    await page.getByTestId('youtube-client-id').fill('ytmaker-e2e.apps.googleusercontent.com');
    popup = page.context().waitForEvent('page');
    await page.getByTestId('youtube-link').click();
    consent = await popup;
    await consent.waitForLoadState();
    const second = page.getByTestId(`youtube-account-${secondChannel}`);
    await second.waitFor({ timeout: 30_000 });
    await consent.close();
    await page.context().unroute('**/o/oauth2/v2/auth?**');
    assert.equal(await second.getByTestId('youtube-default-badge').count(), 0);
    await checkA11y(page);
    await screenshot(page, 'settings-youtube-linked');

    // Switching the default moves the badge; the server agrees.
    await page.getByTestId(`youtube-make-default-${secondChannel}`).click();
    await second.getByTestId('youtube-default-badge').waitFor();
    assert.equal(await first.getByTestId('youtube-default-badge').count(), 0);
    const listed = await apiCall(server, 'GET', '/youtube/accounts');
    assert.deepEqual(
      listed.body.map((a) => [a.channel_id, a.is_default]),
      [[firstChannel, false], [secondChannel, true]],
    );
    assert.ok(!JSON.stringify(listed.body).includes('ya29.'), 'no token in the list');

    // The new-project wizard offers the accounts, the default preselected.
    await page.goto(`${server.url}/projects/new`);
    await page.getByTestId('article').fill(shortArticle());
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('wizard-step-visual').waitFor();
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('wizard-step-script').waitFor();
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('wizard-step-youtube').waitFor();
    const select = page.getByTestId('youtube-account-select');
    await select.waitFor();
    assert.equal(await select.inputValue(), secondChannel);
    assert.equal(await select.locator('option').count(), 2);
    await select.selectOption(firstChannel);
    await checkA11y(page);
    await screenshot(page, 'wizard-youtube-account');
    await page.goto(`${server.url}/settings`);
    await second.waitFor();

    // Removing asks first; removing the default hands it to the other account.
    await page.getByTestId(`youtube-remove-${secondChannel}`).click();
    await page.getByTestId(`youtube-remove-confirm-${secondChannel}`).click();
    await second.waitFor({ state: 'detached' });
    await first.getByTestId('youtube-default-badge').waitFor();
    await page.getByTestId(`youtube-remove-${firstChannel}`).click();
    await page.getByTestId(`youtube-remove-confirm-${firstChannel}`).click();
    await page.getByTestId('youtube-unlinked').waitFor();
    const after = await apiCall(server, 'GET', '/keys');
    assert.equal(after.body.find((k) => k.provider === 'youtube').stored, false);

    // The configured daily limits, read-only (they live in the settings file).
    const quotas = page.getByTestId('settings-quotas');
    await quotas.waitFor();
    // Names and units in the UI's language, never the server's identifiers.
    const youtubeRow = quotas.locator('tbody tr', { has: page.locator('th[data-quota=youtube]') });
    assert.match(await youtubeRow.textContent(), /^YouTube API\s*5000 quota units a day$/);
    const text = await quotas.textContent();
    assert.doesNotMatch(text, /youtube_uploads|stability/);
    // (D-ID's balance joins the server's list once its key is stored, after this page loaded.)
    const served = (await apiCall(server, 'GET', '/quotas')).body.quotas.map((q) => q.provider);
    const shown = await quotas.locator('tbody th').evaluateAll((ths) => ths.map((th) => th.dataset.quota));
    assert.ok(shown.length > 0 && shown.every((p) => served.includes(p)), `${shown} are quotas the server reports (${served})`);

    await page.context().close();
  });

  test('settings: the retention choice is saved by the server and survives a reload', async () => {
    const page = await newPage(browser, { lang: 'en' });
    await page.goto(`${server.url}/settings`);
    const retention = page.getByTestId('settings-retention');
    const choice = retention.getByTestId('retention-choice');
    await choice.waitFor();
    // The server's default: keep forever; the table says the intermediates are kept.
    assert.equal(await choice.locator('input[value="forever"]').isChecked(), true);
    assert.match(await retention.getByTestId('retention-intermediates').textContent(), /Until the project is deleted/);
    assert.match(await retention.textContent(), /<data>\/logs\//);
    assert.equal(await retention.getByTestId('retention-save').isDisabled(), true, 'nothing to save yet');

    await choice.getByLabel('7 days after the project finished').check();
    await retention.getByTestId('retention-save').click();
    await retention.getByTestId('retention-saved').waitFor();
    assert.match(await retention.getByTestId('retention-intermediates').textContent(), /Removed 7 days after/);
    await checkA11y(page);
    await screenshot(page, 'settings-retention');

    await page.reload();
    await page.getByTestId('retention-choice').waitFor();
    assert.equal(await page.getByTestId('retention-choice').locator('input[value="7d"]').isChecked(), true);
    const stored = await apiCall(server, 'GET', '/settings');
    assert.equal(stored.status, 200);
    assert.deepEqual(stored.body, { retention: '7d' });

    // A value the UI never sends is refused by the server, naming the field.
    const refused = await apiCall(server, 'PUT', '/settings', { retention: '14d' });
    assert.equal(refused.status, 422);
    assert.equal(refused.body.error.code, 'VALIDATION_ERROR');
    assert.equal(refused.body.error.details.field, 'retention');
    await page.context().close();
  });

  test('settings and setup at 768 px wide', async () => {
    const page = await newPage(browser, { width: 768, height: 1024 });
    await page.goto(`${server.url}/settings`);
    await page.getByTestId('key-state-gemini').waitFor();
    await page.getByTestId('youtube-unlinked').waitFor();
    await checkA11y(page);
    assert.equal(
      await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth),
      true,
      'no horizontal scrolling at 768 px',
    );
    await screenshot(page, 'settings-768');
    await page.goto(`${server.url}/setup`);
    await page.getByTestId('setup-next').click();
    await page.getByTestId('key-state-gemini').waitFor();
    await checkA11y(page);
    await screenshot(page, 'setup-keys-768');
    await page.context().close();
  });
});
