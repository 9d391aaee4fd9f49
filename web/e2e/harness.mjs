// Browser-test harness: the real `ytmaker serve` (offline providers, or the fake cloud) on a
// fresh data dir, Debian's Chromium driven by playwright-core, screenshots into
// target/ui-artifacts/, and axe-core checks. No browser is ever downloaded.

import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');
export const artifactsDir = path.join(repoRoot, 'target', 'ui-artifacts');
// YTMAKER_E2E_BIN_DIR runs binaries built elsewhere (e.g. a copy kept while the shared target
// dir is rebuilt); the default is this work tree's target/debug.
const binDir = process.env.YTMAKER_E2E_BIN_DIR || path.join(repoRoot, 'target', 'debug');
const serverBin = path.join(binDir, 'ytmaker');
const cloudBin = path.join(binDir, 'ytmaker-fake-cloud');
// YTMAKER_E2E_UI_DIR serves another build of the UI (e.g. one built from an older commit, to
// see a new test fail before its fix); the default is this work tree's web/dist.
const uiDir = process.env.YTMAKER_E2E_UI_DIR || path.join(repoRoot, 'web', 'dist');
// How long a child process may take to print its address before the test gives up on it
// (a failure condition, not a measurement).
const STARTUP_LIMIT_MS = 60_000;

/** Spawns `bin args` and resolves with the first stdout line matching `pattern`. */
function spawnAndWaitFor(bin, args, env, pattern, what) {
  const child = spawn(bin, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk.toString()).slice(-8000);
  });
  const lines = createInterface({ input: child.stdout });
  let stdout = '';
  lines.on('line', (line) => {
    stdout = (stdout + line + '\n').slice(-8000);
  });
  const found = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} printed no address within ${STARTUP_LIMIT_MS} ms; stderr:\n${stderr}`));
    }, STARTUP_LIMIT_MS);
    lines.on('line', (line) => {
      const match = line.match(pattern);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (code ${code}, signal ${signal}) before printing its address; stderr:\n${stderr}`));
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${what} could not be started (${bin}): ${e.message}; run \`make web-test\`, which builds it`));
    });
  });
  return { child, found, stdout: () => stdout, stderr: () => stderr };
}

function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/**
 * Starts the real server on a free port with a fresh data dir.
 * `cloud: true` also starts the fake cloud and points every cloud client at it; `faults` are
 * POSTed to its `/_fake/faults` before the server starts. `token` starts it with that access
 * token (YTMAKER_SERVER_TOKEN); `apiCall` then sends it.
 */
export async function startServer({ cloud = false, faults = [], env = {}, token = null } = {}) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'ytmaker-ui-'));
  const children = [];
  let cloudUrl = null;
  const childEnv = {
    ...process.env,
    YTMAKER_DATA_DIR: dataDir,
    YTMAKER_RETRY_DELAY_SCALE: '0',
    YTMAKER_RENDER__X264_PRESET: 'ultrafast',
    ...env,
  };
  delete childEnv.YTMAKER_DATABASE_URL;
  delete childEnv.YTMAKER_UI_DIR;
  if (token !== null) childEnv.YTMAKER_SERVER_TOKEN = token;
  else if (!('YTMAKER_SERVER_TOKEN' in env)) delete childEnv.YTMAKER_SERVER_TOKEN;
  try {
    if (cloud) {
      const fake = spawnAndWaitFor(cloudBin, ['--port', '0'], childEnv, /^(http:\/\/\S+)$/, 'ytmaker-fake-cloud');
      children.push(fake.child);
      cloudUrl = await fake.found;
      for (const fault of faults) await addFault(cloudUrl, fault);
      childEnv.YTMAKER_CLOUD_BASE_URL = cloudUrl;
    }
    const server = spawnAndWaitFor(
      serverBin,
      ['serve', '--port', '0', '--ui-dir', uiDir],
      childEnv,
      /listening on (http:\/\/\S+)/,
      'ytmaker serve',
    );
    children.push(server.child);
    const url = await server.found;
    return {
      url,
      dataDir,
      cloudUrl,
      token,
      serverStdout: server.stdout,
      serverStderr: server.stderr,
      async stop() {
        for (const child of children.reverse()) await stopChild(child);
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    for (const child of children) await stopChild(child);
    await rm(dataDir, { recursive: true, force: true });
    throw e;
  }
}

/** Adds a fault to the fake cloud (format: crates/ytmaker-fake-cloud/src/faults.rs). */
export async function addFault(cloudUrl, fault) {
  const r = await fetch(`${cloudUrl}/_fake/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(fault),
  });
  if (!r.ok) throw new Error(`the fake cloud refused fault ${JSON.stringify(fault)}: HTTP ${r.status} ${await r.text()}`);
}

export async function clearFaults(cloudUrl) {
  const r = await fetch(`${cloudUrl}/_fake/faults`, { method: 'DELETE' });
  if (!r.ok) throw new Error(`clearing the fake cloud's faults failed: HTTP ${r.status}`);
}

/** A JSON API call from the test itself (not through the page), answering `{status, body}`. */
export async function apiCall(server, method, apiPath, body) {
  const headers = body === undefined ? {} : { 'content-type': 'application/json' };
  if (server.token) headers.authorization = `Bearer ${server.token}`;
  const r = await fetch(`${server.url}/api/v1${apiPath}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text === '' ? null : JSON.parse(text) };
}

/** Every JSON log line the server wrote under `<dataDir>/logs/`. */
export async function serverLogLines(dataDir) {
  const dir = path.join(dataDir, 'logs');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.log') || f.includes('.log'));
  const lines = [];
  for (const f of files) {
    const text = await readFile(path.join(dir, f), 'utf8');
    lines.push(...text.split('\n').filter((l) => l.trim() !== ''));
  }
  return lines;
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      // The machine has no network but loopback: Chromium's own background calls only fail.
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A page in a fresh context; `lang` presets the UI language (the user can still switch it). */
/**
 * `openResultWhenDone: false` is a user who unticked "open the result when the run completes"
 * (stored in the browser): the progress page stays after a watched run completes.
 */
export async function newPage(browser, { width = 1280, height = 800, lang, openResultWhenDone = true } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  if (!openResultWhenDone) {
    await context.addInitScript(() => window.localStorage.setItem('ytmaker.openResultWhenDone', 'false'));
  }
  if (lang) {
    await context.addInitScript((l) => {
      if (!window.localStorage.getItem('ytmaker.lang')) window.localStorage.setItem('ytmaker.lang', l);
    }, lang);
  }
  const page = await context.newPage();
  // A script error in the page is a bug even when the test goes on: make it visible.
  page.on('pageerror', (e) => console.error(`page error on ${page.url()}: ${e.stack ?? e.message}`));
  return page;
}

export async function screenshot(page, name) {
  await mkdir(artifactsDir, { recursive: true });
  const file = path.join(artifactsDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// Rules that keep text readable and every control reachable and named.
const A11Y_RULES = [
  'color-contrast',
  'button-name',
  'link-name',
  'label',
  'select-name',
  'input-button-name',
  'aria-command-name',
  'aria-input-field-name',
  'aria-dialog-name',
  'scrollable-region-focusable',
  'tabindex',
  'nested-interactive',
  'frame-focusable-content',
  'image-alt',
  'html-has-lang',
  'document-title',
  'duplicate-id-aria',
];

/** Runs axe-core on the page; throws listing each violation of the rules above. */
export async function checkA11y(page) {
  await page.addScriptTag({ path: path.join(here, '..', 'node_modules', 'axe-core', 'axe.min.js') });
  const result = await page.evaluate(
    (rules) => window.axe.run(document, { runOnly: { type: 'rule', values: rules } }),
    A11Y_RULES,
  );
  if (result.violations.length > 0) {
    const report = result.violations
      .map((v) => `${v.id}: ${v.help}\n${v.nodes.map((n) => `  ${n.target.join(' ')} — ${n.failureSummary}`).join('\n')}`)
      .join('\n');
    throw new Error(`accessibility violations on ${page.url()}:\n${report}`);
  }
  return result;
}

/** True when the page is wider than the viewport (a horizontal scroll bar). */
export async function hasHorizontalScroll(page) {
  return page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
}

/**
 * A Traditional Chinese article of 600–900 characters written for these tests (about Taiwan's
 * night markets), so a project renders in little time.
 */
export function shortArticle() {
  return [
    '台灣的夜市是許多旅人認識這座島嶼的第一扇窗。傍晚時分，攤販推著餐車陸續抵達，',
    '一盞盞燈泡亮起，原本安靜的街道很快就擠滿了下班的上班族、放學的學生和遠道而來的觀光客。',
    '夜市的魅力不只在於食物，更在於那種人與人之間近距離的熱鬧氣氛。',
    '\n\n',
    '說到夜市小吃，多數人第一個想到的是蚵仔煎。煎台上的蚵仔、雞蛋與地瓜粉漿在高溫中凝固，',
    '淋上甜中帶鹹的醬汁，外酥內軟，是許多人心中的經典。另一樣不能錯過的是鹽酥雞，',
    '攤位上擺滿雞肉、豆干、四季豆和杏鮑菇，客人挑好之後交給老闆下鍋，起鍋前撒上胡椒鹽與九層塔，',
    '香氣在整條街上飄散。珍珠奶茶則是近年最受國際注目的台灣飲品，Q彈的粉圓搭配濃郁奶茶，',
    '讓不少外國旅客專程來台只為喝上一杯。',
    '\n\n',
    '夜市也是觀察台灣社會的好地方。許多攤位是家族經營，父母在前面招呼客人，孩子在後面幫忙洗碗備料，',
    '一做就是二三十年。有些老攤甚至傳到第三代，年輕人接手後加入新的口味與行動支付，',
    '讓傳統生意跟上時代。除了吃，夜市還有射氣球、撈金魚、套圈圈等遊戲攤，',
    '大人小孩都能在這裡找到童年的樂趣。',
    '\n\n',
    '不過，夜市的發展也面臨挑戰。環境衛生、垃圾處理與交通擁擠一直是附近居民關心的問題，',
    '各地政府近年推動減少一次性餐具、設置集中回收站，並輔導攤商改善排煙設備。',
    '如何在保留庶民文化的同時兼顧生活品質，是每一座夜市都在思考的課題。',
    '\n\n',
    '下次來到台灣，不妨放慢腳步，在夜市裡多走幾圈。從攤販的吆喝聲、排隊人潮的閒聊，',
    '到手上那份熱騰騰的小吃，都能讓你感受到這座島嶼最真實、最有活力的一面。',
  ].join('');
}
