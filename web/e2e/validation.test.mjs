// Input rules are enforced twice: the wizard shows each broken rule at its field before any
// request is made, and the server refuses the same input with a code naming the field.
// Also: both layouts without sideways scrolling, keyboard reach, and contrast.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  apiCall,
  checkA11y,
  hasHorizontalScroll,
  launchBrowser,
  newPage,
  screenshot,
  shortArticle,
  startServer,
} from './harness.mjs';

const STEP_LIMIT_MS = 60_000;

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

/** Counts the requests that would create or change a project. */
function countWrites(page) {
  const writes = [];
  page.on('request', (r) => {
    if (r.method() !== 'GET' && r.url().includes('/api/v1/projects')) writes.push(`${r.method()} ${r.url()}`);
  });
  return writes;
}

function localDateTime(offsetMs) {
  const d = new Date(Date.now() + offsetMs);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

describe('the wizard checks every rule at its field before any request', () => {
  test('short text, 101-character title, 31 tags, a past schedule: errors at the fields, no request', async () => {
    const page = await newPage(browser, { lang: 'en' });
    page.setDefaultTimeout(STEP_LIMIT_MS);
    const writes = countWrites(page);
    await page.goto(server.url + '/projects/new');

    // A .txt upload fills the text; one that is not UTF-8 (Big5 here) is refused at the field.
    const big5 = Buffer.from([0xa5, 0x78, 0xc6, 0x57]);
    await page.getByTestId('article-file').setInputFiles({ name: 'big5.txt', mimeType: 'text/plain', buffer: big5 });
    await page.getByTestId('field-error-content').waitFor();
    assert.match(await page.getByTestId('field-error-content').textContent(), /big5\.txt is not UTF-8/);
    const uploaded = `\uFEFF${shortArticle()}`;
    await page
      .getByTestId('article-file')
      .setInputFiles({ name: 'article.txt', mimeType: 'text/plain', buffer: Buffer.from(uploaded, 'utf8') });
    await page.waitForFunction(() => document.querySelector('[data-testid=article]').value.length > 0);
    assert.equal(await page.getByTestId('article').inputValue(), shortArticle());
    assert.equal(await page.getByTestId('field-error-content').count(), 0);

    await page.getByTestId('article').fill('太短的文章。'.repeat(10));
    assert.equal(Number(await page.getByTestId('article-count').getAttribute('data-count')), 60);
    await page.getByTestId('wizard-next').click();
    const contentError = page.getByTestId('field-error-content');
    await contentError.waitFor();
    assert.match(await contentError.textContent(), /60 characters; at least 500/);
    assert.equal(await page.getByTestId('article').getAttribute('aria-invalid'), 'true');
    await page.getByTestId('wizard-step-text').waitFor();
    await screenshot(page, 'validation-text');

    // Whitespace around the text is not counted, as on the server.
    await page.getByTestId('article').fill(`  \n${'字'.repeat(499)}\n  `);
    assert.equal(Number(await page.getByTestId('article-count').getAttribute('data-count')), 499);
    await page.getByTestId('wizard-next').click();
    await contentError.waitFor();
    await page.getByTestId('article').fill(shortArticle());
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('wizard-step-visual').waitFor();
    await page.getByTestId('font-size').fill('5');
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('field-error-subtitles.font_size').waitFor();
    await page.getByTestId('font-size').fill('48');
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('wizard-step-script').waitFor();
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('wizard-step-youtube').waitFor();

    await page.getByTestId('yt-title').fill('題'.repeat(101));
    await page.getByTestId('yt-tags').fill(Array.from({ length: 31 }, (_, i) => `tag${i}`).join(', '));
    await page.getByTestId('publish-scheduled').check();
    await page.getByTestId('publish-at').fill(localDateTime(-60 * 60_000));
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('field-error-youtube.title').waitFor();
    assert.match(await page.getByTestId('field-error-youtube.title').textContent(), /101 characters; at most 100/);
    assert.match(await page.getByTestId('field-error-youtube.tags').textContent(), /31 tags; at most 30/);
    assert.match(await page.getByTestId('field-error-youtube.publish_at').textContent(), /future/);
    await screenshot(page, 'validation-youtube');
    await checkA11y(page);

    // A future time, but not private: scheduling needs private.
    await page.getByTestId('publish-at').fill(localDateTime(24 * 60 * 60_000));
    await page.getByTestId('privacy').selectOption('public');
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('field-error-youtube.privacy').waitFor();
    assert.equal(await page.getByTestId('field-error-youtube.publish_at').count(), 0);

    // Fixed, the wizard moves on; nothing was sent on the way.
    await page.getByTestId('privacy').selectOption('private');
    await page.getByTestId('yt-title').fill('題'.repeat(100));
    await page.getByTestId('yt-tags').fill(Array.from({ length: 30 }, (_, i) => `tag${i}`).join(', '));
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('review').waitFor();
    assert.deepEqual(writes, []);
    await page.context().close();
  });
});

describe('the server refuses the same input', () => {
  const base = () => ({ content: shortArticle() });

  test('a short article is INPUT_TOO_SHORT', async () => {
    const r = await apiCall(server, 'POST', '/projects', { content: '太短。'.repeat(20) });
    assert.equal(r.status, 422);
    assert.equal(r.body.error.code, 'INPUT_TOO_SHORT');
    assert.equal(r.body.error.details.characters, 60);
  });

  for (const [name, youtube, field] of [
    ['a 101-character title', { title: 'x'.repeat(101) }, 'youtube.title'],
    ['31 tags', { tags: Array.from({ length: 31 }, (_, i) => `t${i}`) }, 'youtube.tags'],
    ['a past schedule', { publish_at: new Date(Date.now() - 3_600_000).toISOString() }, 'youtube.publish_at'],
    ['a public scheduled video', { privacy: 'public', publish_at: new Date(Date.now() + 86_400_000).toISOString() }, 'youtube.privacy'],
  ]) {
    test(`${name} is a VALIDATION_ERROR naming ${field}`, async () => {
      const r = await apiCall(server, 'POST', '/projects', { ...base(), youtube });
      assert.equal(r.status, 422, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'VALIDATION_ERROR');
      assert.equal(r.body.error.details.field, field);
    });
  }
});

describe('layout, keyboard and contrast', () => {
  test('1280×800 and 768 px: no sideways scrolling; Tab reaches the primary actions', async () => {
    for (const [width, height] of [
      [1280, 800],
      [768, 1024],
    ]) {
      const page = await newPage(browser, { width, height, lang: 'zh-TW' });
      page.setDefaultTimeout(STEP_LIMIT_MS);
      for (const path of ['/', '/projects/new', '/settings', '/monitoring', '/templates/prompts', '/templates/configurations', '/setup']) {
        await page.goto(server.url + path);
        await page.locator('main h1').first().waitFor();
        assert.equal(await hasHorizontalScroll(page), false, `${path} scrolls sideways at ${width} px`);
      }
      await page.goto(server.url + '/');
      await page.getByTestId('stats').waitFor();
      await checkA11y(page);
      await screenshot(page, `dashboard-empty-${width}`);
      // Keyboard: Tab from the top of the page reaches "new project", Enter opens the wizard,
      // and Tab reaches its "next" button.
      assert.ok(await tabTo(page, '[data-testid=new-project]'), 'Tab reaches the new-project link');
      await page.keyboard.press('Enter');
      await page.getByTestId('wizard-step-text').waitFor();
      assert.ok(await tabTo(page, '[data-testid=wizard-next]'), 'Tab reaches the wizard’s next button');
      const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
      assert.notEqual(outline, 'none', 'the focused control shows a focus ring');
      await page.context().close();
    }
  });
});

async function tabTo(page, selector) {
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return true;
  }
  return false;
}
