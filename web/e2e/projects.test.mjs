// A user creates a project through the wizard, watches it run (reloading the progress page
// mid-run), and plays the video on the result page; all against the real server with the
// offline providers.

import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
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

// Failure limits for waits on a real render (2 cores); not measurements.
const RUN_LIMIT_MS = 15 * 60_000;
const STEP_LIMIT_MS = 60_000;
/** A 160×80 opaque orange PNG (0xFF8800). */
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

async function progressState(page) {
  const el = page.getByTestId('progress');
  return {
    status: await el.getAttribute('data-status'),
    stage: await el.getAttribute('data-stage'),
    percent: Number(await el.getAttribute('data-percent')),
    seq: Number(await el.getAttribute('data-seq')),
  };
}

const STAGE_ORDER = ['', 'script', 'assets', 'render', 'thumbnail', 'upload'];

test('wizard → live progress (with reloads) → result page plays and seeks the video', async () => {
  const page = await newPage(browser, { lang: 'zh-TW', openResultWhenDone: false });
  page.setDefaultTimeout(STEP_LIMIT_MS);
  await page.goto(server.url + '/');
  await page.getByTestId('first-run').waitFor();
  await page.getByTestId('stats').waitFor();
  await screenshot(page, 'dashboard-first-run');
  await checkA11y(page);

  await page.getByTestId('new-project').click();
  await page.getByTestId('wizard-step-text').waitFor();
  await page.getByTestId('project-name').fill('夜市測試影片');
  const article = shortArticle();
  await page.getByTestId('article').fill(article);
  const expectedCount = Array.from(article.trim()).length;
  assert.equal(Number(await page.getByTestId('article-count').getAttribute('data-count')), expectedCount);
  await screenshot(page, 'wizard-1-text');
  await checkA11y(page);
  await page.getByTestId('wizard-next').click();

  await page.getByTestId('wizard-step-visual').waitFor();
  await page.getByTestId('font-size').fill('60');
  // The logo uploads as soon as it is chosen; the preview is the server's stored copy.
  await page.getByTestId('logo-file').setInputFiles(LOGO_FIXTURE);
  await page.waitForFunction(() => {
    const img = document.querySelector('[data-testid=logo-preview]');
    return img?.complete && img.naturalWidth === 160;
  });
  await page.getByTestId('logo-position').selectOption('top_left');
  await page.getByTestId('logo-opacity').fill('90');
  await screenshot(page, 'wizard-2-visual');
  await checkA11y(page);
  await page.getByTestId('wizard-next').click();

  await page.getByTestId('wizard-step-script').waitFor();
  await page.getByTestId('local-writer').waitFor();
  await screenshot(page, 'wizard-3-script');
  await page.getByTestId('wizard-next').click();

  await page.getByTestId('wizard-step-youtube').waitFor();
  await page.getByTestId('yt-title').fill('台灣夜市一日遊');
  await page.getByTestId('yt-tags').fill('台灣, 夜市, 小吃');
  assert.equal(await page.getByTestId('ai-disclosure').isChecked(), true);
  assert.equal(await page.getByTestId('ai-disclosure').isDisabled(), true);
  await screenshot(page, 'wizard-4-youtube');
  await checkA11y(page);
  await page.getByTestId('wizard-next').click();

  await page.getByTestId('review').waitFor();
  // Honest about where the video goes: this server publishes locally and has no account linked.
  const publishing = page.getByTestId('review-publishing');
  await publishing.waitFor();
  assert.equal(await publishing.getAttribute('data-publisher'), 'local');
  assert.match(await publishing.textContent(), /尚未連結 YouTube 帳號：影片將保留在本機/);
  assert.equal(await publishing.getByRole('link').getAttribute('href'), '/settings');
  assert.doesNotMatch(await page.getByTestId('review').textContent(), /預設帳號/);
  await screenshot(page, 'wizard-5-review');
  await page.getByTestId('wizard-start').click();

  await page.waitForURL(/\/projects\/[0-9a-f-]{36}$/);
  const id = page.url().split('/').pop();
  const created = await apiCall(server, 'GET', `/projects/${id}`);
  assert.equal(created.status, 200);
  assert.equal(created.body.name, '夜市測試影片');
  assert.equal(created.body.configuration.subtitles.font_size, 60);
  assert.deepEqual(created.body.youtube_settings.tags, ['台灣', '夜市', '小吃']);
  const logo = created.body.configuration.logo;
  assert.match(logo.upload, /^[0-9a-f]{64}$/);
  assert.deepEqual([logo.position, logo.opacity, logo.size_percent, logo.on_thumbnail], ['top_left', 0.9, 12, true]);
  const storedLogo = await fetch(`${server.url}/api/v1/uploads/logo/${logo.upload}`);
  assert.equal(storedLogo.status, 200);
  assert.equal(storedLogo.headers.get('content-type'), 'image/png');

  // Every sub-progress text the page shows during the run (kept across reloads), to check its
  // numbers are rounded.
  const watchSubProgress = () =>
    page.evaluate(() => {
      new MutationObserver(() => {
        const seen = JSON.parse(sessionStorage.getItem('subTexts') ?? '[]');
        for (const el of document.querySelectorAll('[data-testid=sub-progress]')) seen.push(el.firstChild?.textContent ?? '');
        sessionStorage.setItem('subTexts', JSON.stringify(seen.slice(-500)));
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
  await watchSubProgress();

  // Mid-run: wait until the run has made progress, then reload.
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=progress]')?.getAttribute('data-percent')) > 0);
  await screenshot(page, 'progress-running');
  await checkA11y(page);
  const beforeReload = await progressState(page);
  await page.reload();
  await page.getByTestId('progress').waitFor();
  await watchSubProgress();
  const afterReload = await progressState(page);
  if (afterReload.status !== 'COMPLETED') {
    assert.ok(
      STAGE_ORDER.indexOf(afterReload.stage) >= STAGE_ORDER.indexOf(beforeReload.stage),
      `stage went back: ${beforeReload.stage} → ${afterReload.stage}`,
    );
  }
  assert.ok(afterReload.percent >= beforeReload.percent, `percent went back: ${beforeReload.percent} → ${afterReload.percent}`);

  // Paused, the state stands still: a reload shows exactly the same stage and percent, and they
  // equal the server's own fold of the event log.
  const pause = await apiCall(server, 'POST', `/projects/${id}/pause`);
  if (pause.status === 202 || pause.status === 200) {
    await page.waitForSelector('[data-testid=progress][data-status=PAUSED]', { timeout: RUN_LIMIT_MS });
    const paused = await progressState(page);
    await page.reload();
    await page.waitForSelector('[data-testid=progress][data-status=PAUSED]');
    await watchSubProgress();
    const reloaded = await progressState(page);
    assert.deepEqual(reloaded, paused);
    // The pause's log line is in the UI's language: the server sends it as a note with the
    // status, not as an English sentence.
    await page.locator('[data-testid=log] li[data-level=warn]').filter({ hasText: '已暫停' }).first().waitFor();
    assert.equal(await page.getByTestId('eta').count(), 0, 'a paused project shows no time left');
    assert.equal(await page.locator('[data-testid=log] li').filter({ hasText: 'paused during' }).count(), 0);
    const server_view = (await apiCall(server, 'GET', `/projects/${id}/events`)).body.view;
    assert.equal(reloaded.percent, server_view.percent);
    assert.equal(reloaded.stage, server_view.stage ?? '');
    assert.equal(reloaded.seq, server_view.seq);
    await screenshot(page, 'progress-paused');
    await page.getByTestId('action-resume').click();
    await page.getByTestId('continued').waitFor();
  } else {
    // The project finished before the pause arrived: the refusal names the state.
    assert.equal(pause.body.error.code, 'INVALID_STATE_TRANSITION');
  }

  await page.waitForSelector('[data-testid=progress][data-status=COMPLETED]', { timeout: RUN_LIMIT_MS });
  assert.equal(Number(await page.getByTestId('progress').getAttribute('data-percent')), 100);
  const levels = await page.locator('[data-testid=log] li').evaluateAll((lis) => lis.map((li) => li.dataset.level));
  assert.ok(levels.length > 0, 'the live log shows the run');
  // The log follows its newest line (it holds more lines than it shows).
  const logBox = await page.getByTestId('log').evaluate((el) => ({ top: el.scrollTop, height: el.clientHeight, full: el.scrollHeight }));
  assert.ok(logBox.full > logBox.height, `the log overflows: ${JSON.stringify(logBox)}`);
  assert.ok(logBox.top + logBox.height >= logBox.full - 8, `the log shows its newest line: ${JSON.stringify(logBox)}`);
  // Sub-progress numbers are rounded for people ("136.2 / 249.2 秒"), never a float's digits.
  const subTexts = await page.evaluate(() => JSON.parse(sessionStorage.getItem('subTexts') ?? '[]'));
  assert.ok(subTexts.some((text) => text.endsWith(' 秒')), `the render's seconds were shown: ${subTexts.slice(-5).join(' | ')}`);
  const unrounded = subTexts.filter((text) => /\d\.\d{2,}/.test(text));
  assert.deepEqual(unrounded, [], 'no unrounded number');
  // Times are in the UI's language (zh-TW: 下午1:19:00, never 1:19:00 PM).
  const logTime = await page.locator('[data-testid=log] li .muted').first().textContent();
  assert.doesNotMatch(logTime, /AM|PM/, `log time ${logTime}`);
  assert.match(logTime, /上午|下午/, `log time ${logTime}`);
  await screenshot(page, 'progress-completed');

  await page.getByTestId('result-link').click();
  await page.waitForURL(/\/result$/);
  const video = page.getByTestId('video');
  await video.waitFor();
  // The subtitles track is the server's SRT as WebVTT: every cue is there.
  const srt = await (await fetch(`${server.url}/api/v1/projects/${id}/files/subtitles`)).text();
  const srtCues = srt.split(/\r?\n/).filter((l) => l.includes(' --> ')).length;
  assert.ok(srtCues > 0);
  await page.getByTestId('subtitle-cues').waitFor();
  assert.equal(Number(await page.getByTestId('subtitle-cues').getAttribute('data-cues')), srtCues);
  const trackCues = await page.waitForFunction(() => {
    const v = document.querySelector('video');
    const tt = v?.textTracks[0];
    if (!tt) return null;
    tt.mode = 'hidden';
    return tt.cues && tt.cues.length > 0 ? tt.cues.length : null;
  });
  assert.equal(await trackCues.jsonValue(), srtCues);

  // It plays: currentTime advances.
  await page.evaluate(async () => {
    const v = document.querySelector('video');
    v.muted = true;
    await v.play();
  });
  await page.waitForFunction(() => document.querySelector('video').currentTime > 0.5);
  // It seeks (the files route answers byte ranges).
  const target = await page.evaluate(() => {
    const v = document.querySelector('video');
    v.pause();
    return Math.floor(v.duration / 2);
  });
  assert.ok(target > 5, `a video of ${target * 2} s`);
  await page.evaluate(
    (to) =>
      new Promise((resolve) => {
        const v = document.querySelector('video');
        v.addEventListener('seeked', () => resolve(), { once: true });
        v.currentTime = to;
      }),
    target,
  );
  const position = await page.evaluate(() => document.querySelector('video').currentTime);
  assert.ok(Math.abs(position - target) < 1, `seeked to ${position}, wanted ${target}`);
  assert.ok(await page.getByTestId('thumbnail').evaluate((img) => img.complete && img.naturalWidth === 1280));
  // The served thumbnail carries the logo: 12 % of 1280 wide (154×77) at the scaled 27-pixel
  // margin, top left, orange at 90 % over whatever the title card has there.
  const [r, g, b] = await page.getByTestId('thumbnail').evaluate((img) => {
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0);
    return Array.from(ctx.getImageData(27 + 77, 27 + 38, 1, 1).data);
  });
  assert.ok(r > 190 && g > 90 && g < 180 && b < 70, `logo pixel on the thumbnail: ${[r, g, b]}`);
  await page.getByTestId('youtube-status').waitFor();
  await screenshot(page, 'result');
  await checkA11y(page);

  // Both layouts, no horizontal scrolling, on the pages with content.
  for (const [width, height] of [
    [1280, 800],
    [768, 1024],
  ]) {
    await page.setViewportSize({ width, height });
    for (const path of ['/', `/projects/${id}`, `/projects/${id}/result`, '/projects/new']) {
      await page.goto(server.url + path);
      await page.locator('main h1').first().waitFor();
      assert.equal(await hasHorizontalScroll(page), false, `${path} scrolls sideways at ${width} px`);
    }
    await page.goto(server.url + '/');
    await page.getByTestId('project-table').waitFor();
    await screenshot(page, `dashboard-${width}`);
  }
  await checkA11y(page);
  await page.context().close();
});
