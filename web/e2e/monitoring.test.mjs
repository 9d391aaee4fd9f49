// The monitoring page and the header's alert list against the real server and the fake cloud:
// quotas are shown, a failed provider call brings that API's success rate below 100 %, and the
// open alerts the server reports are the ones listed, reachable by keyboard.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiCall, checkA11y, launchBrowser, newPage, screenshot, startServer } from './harness.mjs';

const isDiskAlert = (alert) => alert.rule === 'disk_low' || alert.rule === 'disk_critical';

describe('monitoring', () => {
  let server;
  let browser;

  before(async () => {
    // A free-disk threshold above any real disk makes the monitor open a real disk alert at its
    // first evaluation (every second here), independent of the providers. Which one depends on
    // the machine: on a disk with less than 10 % free, `disk_critical` opens and suppresses
    // `disk_low` (CI's disk once was that full), so either counts.
    server = await startServer({
      cloud: true,
      env: { YTMAKER_MONITORING__INTERVAL_SECONDS: '1', YTMAKER_MONITORING__DISK_LOW_PERCENT: '99.99' },
    });
    browser = await launchBrowser();
    // One successful and one refused call to Stability, one successful call to Gemini.
    for (const [provider, value] of [
      ['stability', 'stability-e2e-key-0a1b2c3d'],
      ['gemini', 'gemini-e2e-key-4e5f6a7b'],
    ]) {
      assert.equal((await apiCall(server, 'PUT', `/keys/${provider}`, { value })).status, 200);
      assert.equal((await apiCall(server, 'POST', `/keys/${provider}/test`)).status, 200);
    }
    assert.equal((await apiCall(server, 'PUT', '/keys/stability', { value: 'invalid-stability-e2e' })).status, 200);
    const refused = await apiCall(server, 'POST', '/keys/stability/test');
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error.code, 'STABILITY_INVALID_API_KEY');
    // The monitor evaluates in the background: wait (up to a minute, as a loaded CI machine may
    // be slow) for its alert.
    let open;
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
      open = await apiCall(server, 'GET', '/alerts?state=open');
      assert.equal(open.status, 200, `GET /alerts answered ${JSON.stringify(open.body)}`);
      if (open.body.alerts.some(isDiskAlert)) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.ok(open.body.alerts.some(isDiskAlert), `the monitor opened a disk alert: ${JSON.stringify(open.body.alerts)}`);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('the page shows health, quotas and a success rate below 100 % after a failed call', async () => {
    const monitoring = await apiCall(server, 'GET', '/monitoring');
    assert.equal(monitoring.status, 200, `GET /monitoring answered ${JSON.stringify(monitoring.body)}`);

    const page = await newPage(browser, { lang: 'en' });
    await page.goto(`${server.url}/monitoring`);
    await page.getByTestId('mon-health').waitFor();
    // An open alert (a disk alert at least) keeps the system from being healthy.
    assert.match(await page.getByTestId('mon-health').textContent(), /^System health: (degraded|unhealthy)$/);
    await page.getByTestId('mon-alerts').getByTestId('alert-item').first().waitFor();
    assert.ok(
      (await page.getByTestId('mon-alerts').getByTestId('alert-message').allTextContents()).some((m) => m.trim() !== ''),
    );

    const stability = page.getByTestId('mon-api-stability');
    await stability.waitFor();
    const rate = (await stability.getByTestId('success-rate').textContent()).trim();
    const percent = Number(rate.replace('%', '').trim());
    assert.ok(Number.isFinite(percent) && percent < 100, `the success rate ${rate} is below 100 %`);
    assert.equal(await stability.getByTestId('success-rate').getAttribute('class'), 'bad');
    const gemini = page.getByTestId('mon-api-gemini');
    assert.equal((await gemini.getByTestId('success-rate').textContent()).trim(), '100.0 %');

    // Every quota the server reports has its row.
    assert.ok(monitoring.body.quotas.length > 0, 'the server reports quotas');
    for (const q of monitoring.body.quotas) {
      await page.getByTestId(`quota-${q.provider}`).waitFor();
    }
    const withLimit = monitoring.body.quotas.find((q) => q.limit !== null);
    if (withLimit) {
      const bar = page.getByTestId(`quota-${withLimit.provider}`).locator('progress');
      assert.equal(Number(await bar.getAttribute('max')), withLimit.limit);
    }
    await page.getByTestId('mon-disk').locator('progress').waitFor();
    await checkA11y(page);
    await screenshot(page, 'monitoring');
    await page.context().close();
  });

  test('the alert list shows the open alerts and is reachable by keyboard', async () => {
    const open = await apiCall(server, 'GET', '/alerts?state=open');
    assert.ok(open.body.alerts.some(isDiskAlert));
    const page = await newPage(browser, { lang: 'en' });
    // A page of its own whose content raises no error dialog (a modal would take the keyboard).
    await page.goto(`${server.url}/templates/prompts`);
    const bell = page.getByTestId('alerts-bell');
    await page.locator(`[data-testid="alerts-bell"][aria-label="Alerts: ${open.body.alerts.length}"]`).waitFor();
    if (open.body.alerts.length > 0) {
      assert.equal(await page.getByTestId('alerts-count').textContent(), String(open.body.alerts.length));
    }

    await bell.focus();
    await page.keyboard.press('Enter');
    const panel = page.getByTestId('alerts-panel');
    await panel.waitFor();
    assert.equal(await bell.getAttribute('aria-expanded'), 'true');
    const items = panel.getByTestId('alert-item');
    assert.equal(await items.count(), open.body.alerts.length);
    for (const [i, alert] of open.body.alerts.entries()) {
      assert.equal(await items.nth(i).getByTestId('alert-priority').textContent(), alert.priority);
      assert.equal(await items.nth(i).getByTestId('alert-message').textContent(), alert.message);
    }
    await checkA11y(page);
    await screenshot(page, 'alerts-list');
    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'alerts-bell');
    await page.context().close();
  });

  test('monitoring at 768 px wide', async () => {
    const page = await newPage(browser, { width: 768, height: 1024 });
    await page.goto(`${server.url}/monitoring`);
    await page.getByTestId('mon-api-stability').waitFor();
    await checkA11y(page);
    await screenshot(page, 'monitoring-768');
    await page.context().close();
  });
});
