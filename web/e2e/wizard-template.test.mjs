// The new-project wizard and configuration templates (issue 12, defect 5): a template chosen in
// the wizard reaches the project exactly as stored — a subtitle position that is no preset stays
// x/y, a colour keeps its alpha, the template's script provider (Gemini) is kept, a logo opacity
// the form rounds for display is not rounded. Against the real server and the fake cloud.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { apiCall, checkA11y, launchBrowser, newPage, screenshot, shortArticle, startServer } from './harness.mjs';

const STEP_LIMIT_MS = 60_000;
const LOGO_FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'logo.png');

let server;
let browser;
before(async () => {
  server = await startServer({ cloud: true });
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

test('a template picked in the wizard reaches the project unchanged (x/y position, colour alpha, Gemini, logo)', async () => {
  const key = await apiCall(server, 'PUT', '/keys/gemini', { value: 'ui-test-key-for-the-fake-cloud' });
  assert.equal(key.status, 200, JSON.stringify(key.body));
  const logoId = await uploadLogo();
  const created = await apiCall(server, 'POST', '/configurations', {
    name: 'Exact values',
    configuration: {
      subtitles: {
        font_family: 'Noto Sans CJK TC',
        font_size: 48,
        primary_color: '#FFCC0080',
        outline_color: '#10203040',
        // Neither of the wizard's presets (bottom 960/1010, middle 960/600, top 960/220).
        position: { x: 700, y: 455 },
      },
      ken_burns: { mode: 'zoom_in', zoom: 1.3 },
      presenter: { enabled: false },
      providers: { script: 'gemini' },
      logo: { upload: logoId, position: 'bottom_left', size_percent: 7.5, opacity: 0.857, margin: 70, on_thumbnail: false },
    },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const template = created.body;
  assert.equal(template.configuration.subtitles.primary_color, '#FFCC0080');
  assert.deepEqual(template.configuration.subtitles.position, { x: 700, y: 455 });
  assert.equal(template.configuration.providers.script, 'gemini');

  const page = await newPage(browser, { lang: 'en' });
  page.setDefaultTimeout(STEP_LIMIT_MS);
  await page.goto(server.url + '/projects/new');
  await page.getByTestId('wizard-step-text').waitFor();
  await page.getByTestId('project-name').fill('template kept');
  await page.getByTestId('article').fill(shortArticle());
  await page.getByTestId('wizard-next').click();

  await page.getByTestId('wizard-step-visual').waitFor();
  await page.getByLabel('Configuration template').selectOption({ label: 'Exact values' });
  // The form shows the template's own values, not the nearest preset or an opaque colour.
  assert.equal(await page.getByTestId('position-x').inputValue(), '700');
  assert.equal(await page.getByTestId('position-y').inputValue(), '455');
  assert.equal(await page.getByTestId('font-color').inputValue(), '#FFCC0080');
  assert.equal(await page.getByTestId('logo-opacity').inputValue(), '86');
  await screenshot(page, 'wizard-template-visual');
  await checkA11y(page);
  await page.getByTestId('wizard-next').click();

  await page.getByTestId('wizard-step-script').waitFor();
  assert.equal(await page.getByTestId('script-provider').inputValue(), 'gemini');
  // The fake cloud lists models; the wizard preselects the default one.
  await page.waitForFunction(() => document.querySelector('[data-testid=model]')?.value !== '');
  await page.getByTestId('wizard-next').click();
  await page.getByTestId('wizard-step-youtube').waitFor();
  await page.getByTestId('wizard-next').click();
  await page.getByTestId('review').waitFor();
  const review = await page.getByTestId('review').textContent();
  assert.match(review, /#FFCC0080/);
  assert.match(review, /x 700, y 455/);
  await screenshot(page, 'wizard-template-review');
  await page.getByTestId('wizard-start').click();

  await page.waitForURL(/\/projects\/[0-9a-f-]{36}$/);
  const id = page.url().split('/').pop();
  const project = (await apiCall(server, 'GET', `/projects/${id}`)).body;
  assert.equal(project.config_template_id, template.id);
  // Every value of the template, unchanged (the whole configuration, not a sample of it).
  assert.deepEqual(project.configuration, template.configuration);
  await page.context().close();
});
