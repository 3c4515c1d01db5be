// Page-test harness: serves www/ (and the generated fixtures under /fixtures/) with the real
// server, drives Debian's Chromium headless with playwright-core, and fails on page errors.
import { chromium } from 'playwright-core';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../scripts/serve.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-quic', '--disable-default-apps', '--autoplay-policy=no-user-gesture-required',
  '--enable-unsafe-webgpu',
];

/** Starts server + browser; `open(path)` returns a page with the demo ready. */
export async function launch() {
  const server = await startServer({ root: `${repo}/www`, port: 0, mounts: { '/fixtures/': `${repo}/tests/fixtures/gen` } });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const problems = [];
  async function open(path = '') {
    const page = await browser.newPage();
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      const text = m.text();
      if (/panicked|RuntimeError|unreachable/.test(text)) problems.push(`console: ${text}`);
    });
    await page.goto(server.url + path);
    await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 20_000 });
    return page;
  }
  async function close() {
    await browser.close();
    await server.close();
  }
  return { server, browser, open, close, problems };
}

/** Polls `fn` in the page until it returns truthy (or throws after `ms`). */
export async function until(page, fn, arg, ms = 10_000) {
  const handle = await page.waitForFunction(fn, arg, { timeout: ms, polling: 50 });
  return handle.jsonValue();
}

/** Loads `url` into the page's player, collecting its events; resolves when `done(log)` holds. */
export async function loadAndWatch(page, url, { play = true } = {}) {
  await page.evaluate(({ url, play }) => {
    const p = window.kinema.player;
    window.events = [];
    if (!window.watching) {
      window.watching = true;
      for (const t of ['statechange', 'error', 'ended', 'seeked', 'playing', 'loadedmetadata']) {
        p.addEventListener(t, (e) => window.events.push({ type: t, detail: e.detail }));
      }
    }
    p.load(url);
    if (play) p.play().catch(() => {});
  }, { url, play });
}
