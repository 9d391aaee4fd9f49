// The progress WebSocket drops mid-run: the page says so (code, trace id, reported to the server
// log), reconnects asking for the events after the last one it saw, and ends with every log line
// of the run exactly once.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { apiCall, launchBrowser, newPage, screenshot, serverLogLines, shortArticle, startServer } from './harness.mjs';

const RUN_LIMIT_MS = 15 * 60_000;
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

test('a dropped progress socket reconnects with after_seq and misses no event', async () => {
  const created = await apiCall(server, 'POST', '/projects', { name: 'reconnect', content: shortArticle(), start: true });
  assert.equal(created.status, 201);
  const id = created.body.id;
  const page = await newPage(browser, { lang: 'en', openResultWhenDone: false });
  page.setDefaultTimeout(STEP_LIMIT_MS);

  const urls = [];
  let firstMaxSeq = 0;
  let dropped = null;
  const dropDone = new Promise((resolve) => {
    dropped = resolve;
  });
  let releaseReconnect = null;
  const reconnectAllowed = new Promise((resolve) => {
    releaseReconnect = resolve;
  });
  await page.routeWebSocket(/\/progress/, async (ws) => {
    urls.push(ws.url());
    const connection = urls.length;
    if (connection === 2) await reconnectAllowed;
    const upstream = ws.connectToServer();
    let live = 0;
    let closed = false;
    upstream.onMessage((message) => {
      // Messages already on their way when the test dropped the socket never reach the page.
      if (closed) return;
      ws.send(message);
      if (connection !== 1) return;
      const m = JSON.parse(message);
      if (!m.replay) firstMaxSeq = Math.max(firstMaxSeq, m.seq);
      if (m.type !== 'snapshot' && !m.replay) live += 1;
      // Drop the page's side after a few live events.
      if (live === 3) {
        closed = true;
        ws.close({ code: 4000, reason: 'dropped by the test' });
        upstream.close();
        dropped();
      }
    });
  });

  await page.goto(`${server.url}/projects/${id}`);
  await dropDone;
  const notice = page.getByTestId('error-notice').filter({ hasText: 'WEBSOCKET_DISCONNECTED' });
  await notice.waitFor();
  assert.match(await notice.textContent(), /dropped by the test/);
  const traceId = await notice.getByTestId('trace-id').textContent();
  await screenshot(page, 'progress-disconnected');
  releaseReconnect();
  await notice.waitFor({ state: 'detached' });

  assert.equal(urls.length, 2);
  assert.match(urls[0], /after_seq=0$/);
  assert.equal(new URL(urls[1]).searchParams.get('after_seq'), String(firstMaxSeq));

  await page.waitForSelector('[data-testid=progress][data-status=COMPLETED]', { timeout: RUN_LIMIT_MS });
  const { events } = (await apiCall(server, 'GET', `/projects/${id}/events`)).body;
  const expected = events.filter((e) => e.kind !== 'status' && e.kind !== 'progress').map((e) => e.seq);
  const shown = (await page.locator('[data-testid=log] li').evaluateAll((lis) => lis.map((li) => Number(li.dataset.seq)))).sort(
    (a, b) => a - b,
  );
  assert.deepEqual(shown, expected);

  // The drop the page showed is in the server's log.
  const deadline = Date.now() + STEP_LIMIT_MS;
  let line;
  while (!line && Date.now() < deadline) {
    line = (await serverLogLines(server.dataDir)).find((l) => l.includes(traceId) && l.includes('"source":"ui"'));
    if (!line) await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(line, `no UI log line for trace id ${traceId}`);
  assert.match(line, /WEBSOCKET_DISCONNECTED/);
  await page.context().close();

  // In the zh-TW UI the log speaks Chinese: an asset the server reports with an English line is
  // shown from its typed event.
  const zh = await newPage(browser, { lang: 'zh-TW' });
  await zh.goto(`${server.url}/projects/${id}`);
  const image = events.find((e) => e.kind === 'asset' && e.payload.kind === 'image' && e.payload.index !== null);
  assert.ok(image, 'the run completed an image');
  const imageLine = zh.locator(`[data-testid=log] li[data-seq="${image.seq}"]`);
  await imageLine.waitFor();
  const text = await imageLine.textContent();
  assert.match(text, new RegExp(`第 ${image.payload.index} 段圖片完成`));
  assert.doesNotMatch(text, /completed/);
  await zh.context().close();
});
