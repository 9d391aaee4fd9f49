// Prompt and configuration templates through the UI against the real server: create, edit,
// duplicate, delete; the server's validation shown at the field; the protected default template.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiCall, checkA11y, launchBrowser, newPage, screenshot, startServer } from './harness.mjs';

async function closeDialog(page) {
  const dialog = page.getByTestId('error-dialog');
  await dialog.waitFor();
  await dialog.locator('.actions button').click();
  await dialog.waitFor({ state: 'hidden' });
}

describe('template managers', () => {
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

  test('prompt templates: create with a field error, edit, duplicate, delete, default protected', async () => {
    const page = await newPage(browser, { lang: 'en' });
    await page.goto(`${server.url}/templates/prompts`);
    await page.getByTestId('prompt-row').first().waitFor();
    await checkA11y(page);
    await screenshot(page, 'prompt-templates');

    // The server refuses content without {article}, naming the field.
    await page.getByTestId('prompt-new').click();
    await page.getByTestId('prompt-name').fill('Short news');
    await page.getByTestId('prompt-content').fill('Summarise this article in short segments.');
    await page.getByTestId('prompt-save').click();
    await closeDialog(page);
    const contentError = page.getByTestId('field-error-content');
    await contentError.waitFor();
    assert.match(await contentError.textContent(), /\{article\}/);
    assert.equal(await page.getByTestId('prompt-content').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByTestId('prompt-editor').getByTestId('error-code').textContent(), 'VALIDATION_ERROR');
    await checkA11y(page);
    await screenshot(page, 'prompt-template-field-error');

    await page.getByTestId('prompt-content').fill('Summarise this article in short segments:\n{article}');
    await page.getByTestId('prompt-save').click();
    await page.getByTestId('prompt-editor').waitFor({ state: 'detached' });
    const names = () => page.getByTestId('prompt-row-name').allTextContents();
    await page.getByTestId('prompt-row-name').filter({ hasText: /^Short news$/ }).waitFor();

    // Edit: the server keeps a new version.
    const row = page.getByTestId('prompt-row').filter({ hasText: 'Short news' });
    await row.getByRole('button', { name: 'Edit "Short news"' }).click();
    await page.getByTestId('prompt-name').fill('Short news v2');
    await page.getByTestId('prompt-save').click();
    await page.getByTestId('prompt-row-name').filter({ hasText: /^Short news v2$/ }).waitFor();
    const listed = await apiCall(server, 'GET', '/prompt-templates');
    const edited = listed.body.find((t) => t.name === 'Short news v2');
    assert.equal(edited.version, 2);
    assert.ok(edited.content.includes('{article}'));

    // Duplicate, then delete the copy.
    await page.getByRole('button', { name: 'Duplicate "Short news v2"' }).click();
    await page.getByTestId('prompt-row-name').filter({ hasText: 'Short news v2 (copy)' }).waitFor();
    await page.getByRole('button', { name: 'Delete "Short news v2 (copy)"' }).click();
    await page.getByTestId('confirm-delete').click();
    await page.getByTestId('templates-notice').filter({ hasText: 'Deleted' }).waitFor();
    await page.getByTestId('prompt-row-name').filter({ hasText: 'Short news v2 (copy)' }).waitFor({ state: 'detached' });
    assert.ok(!(await apiCall(server, 'GET', '/prompt-templates')).body.some((t) => t.name === 'Short news v2 (copy)'));

    // The default template cannot be deleted: the server's error, through the policy.
    const defaultRow = page.getByTestId('prompt-row').filter({ has: page.locator('.badge') });
    const defaultName = await defaultRow.getByTestId('prompt-row-name').textContent();
    await defaultRow.getByRole('button', { name: `Delete "${defaultName}"` }).click();
    await page.getByTestId('confirm-delete').click();
    const dialog = page.getByTestId('error-dialog');
    await dialog.waitFor();
    assert.equal(await dialog.getByTestId('error-code').textContent(), 'VALIDATION_ERROR');
    assert.match(await dialog.getByTestId('error-message').textContent(), /default prompt template cannot be deleted/);
    assert.ok((await dialog.getByTestId('error-solutions').locator('li').count()) > 0);
    await closeDialog(page);
    assert.ok((await names()).includes(defaultName));
    const still = await apiCall(server, 'GET', '/prompt-templates');
    assert.ok(still.body.some((t) => t.is_default));
    await page.context().close();
  });

  test('configuration templates: create from defaults, violations at the field, duplicate, delete', async () => {
    const page = await newPage(browser, { lang: 'en' });
    await page.goto(`${server.url}/templates/configurations`);
    await page.getByTestId('cfg-new-name').waitFor();

    // An empty name is refused by the server at the field.
    await page.getByTestId('cfg-create').click();
    await closeDialog(page);
    await page.getByTestId('field-error-name').waitFor();

    await page.getByTestId('cfg-new-name').fill('Big subtitles');
    await page.getByTestId('cfg-create').click();
    const editor = page.getByTestId('cfg-editor');
    await editor.waitFor();
    // The server filled in its defaults.
    assert.equal(await page.getByTestId('cfg-field-subtitles.font_size').inputValue(), '56');
    assert.equal(await page.getByTestId('cfg-field-ken_burns.mode').inputValue(), 'auto');
    await checkA11y(page);
    await screenshot(page, 'configuration-template-editor');

    // Two violations at once, each at its own field.
    await page.getByTestId('cfg-field-ken_burns.zoom').fill('3');
    await page.getByTestId('cfg-field-subtitles.primary_color').fill('white');
    await page.getByTestId('cfg-save').click();
    await closeDialog(page);
    await editor.getByTestId('field-error-ken_burns.zoom').waitFor();
    await editor.getByTestId('field-error-subtitles.primary_color').waitFor();
    assert.equal(await editor.getByTestId('error-code').textContent(), 'CONFIG_INVALID');
    assert.equal(await page.getByTestId('cfg-field-ken_burns.zoom').getAttribute('aria-invalid'), 'true');
    await checkA11y(page);
    await screenshot(page, 'configuration-template-violations');

    await page.getByTestId('cfg-field-ken_burns.zoom').fill('1.3');
    await page.getByTestId('cfg-field-subtitles.primary_color').fill('#FFEE00');
    await page.getByTestId('cfg-field-subtitles.font_size').fill('72');
    await page.getByTestId('cfg-field-ken_burns.mode').selectOption('pan_left');
    await page.getByTestId('cfg-field-presenter.enabled').uncheck();
    // A logo: uploaded at once, previewed from the server, placed in a corner.
    await page.getByTestId('cfg-logo-file').setInputFiles(path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'logo.png'));
    await page.waitForFunction(() => document.querySelector('[data-testid=cfg-logo-preview]')?.naturalWidth === 160);
    await page.getByTestId('cfg-logo-position').selectOption('bottom_left');
    await page.getByTestId('cfg-logo-opacity').fill('50');
    await checkA11y(page);
    await page.getByTestId('cfg-save').click();
    await editor.waitFor({ state: 'detached' });
    const saved = (await apiCall(server, 'GET', '/configurations')).body.find((t) => t.name === 'Big subtitles');
    assert.equal(saved.configuration.subtitles.font_size, 72);
    assert.equal(saved.configuration.subtitles.primary_color, '#FFEE00');
    assert.equal(saved.configuration.ken_burns.mode, 'pan_left');
    assert.equal(saved.configuration.ken_burns.zoom, 1.3);
    assert.equal(saved.configuration.presenter.enabled, false);
    assert.match(saved.configuration.logo.upload, /^[0-9a-f]{64}$/);
    assert.deepEqual([saved.configuration.logo.position, saved.configuration.logo.opacity], ['bottom_left', 0.5]);

    await page.getByRole('button', { name: 'Duplicate "Big subtitles"' }).click();
    await page.getByTestId('cfg-row-name').filter({ hasText: 'Big subtitles (copy)' }).waitFor();
    const copy = (await apiCall(server, 'GET', '/configurations')).body.find((t) => t.name === 'Big subtitles (copy)');
    assert.deepEqual(copy.configuration, saved.configuration);
    await screenshot(page, 'configuration-templates');

    await page.getByRole('button', { name: 'Delete "Big subtitles (copy)"' }).click();
    await page.getByTestId('confirm-delete').click();
    await page.getByTestId('templates-notice').filter({ hasText: 'Deleted' }).waitFor();
    const left = (await apiCall(server, 'GET', '/configurations')).body.map((t) => t.name);
    assert.deepEqual(left, ['Big subtitles']);
    await page.context().close();
  });

  test('template pages at 768 px wide', async () => {
    const page = await newPage(browser, { width: 768, height: 1024 });
    for (const [path, ready, name] of [
      ['/templates/prompts', 'prompt-row', 'prompt-templates-768'],
      ['/templates/configurations', 'cfg-row', 'configuration-templates-768'],
    ]) {
      await page.goto(`${server.url}${path}`);
      await page.getByTestId(ready).first().waitFor();
      await checkA11y(page);
      await screenshot(page, name);
    }
    await page.context().close();
  });
});
