// Page-test harness: serves www/ (and the generated fixtures under /fixtures/) with the real
// server on a free port, drives a stock headless browser, and records every uncaught page error
// and panic so a test can fail on them. The engine is Debian's Chromium through playwright-core,
// or with `KINEMA_BROWSER=firefox` Debian's Firefox ESR through WebDriver BiDi (firefox.mjs,
// which gives its pages the same API).
import { chromium } from 'playwright-core';
import { launchFirefox } from './firefox.mjs';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../scripts/serve.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
/** The browser engine of this run: `chromium` (default) or `firefox`. */
export const ENGINE = process.env.KINEMA_BROWSER ?? 'chromium';
if (!['chromium', 'firefox'].includes(ENGINE)) throw new Error(`KINEMA_BROWSER=${ENGINE}: want chromium or firefox`);
export const FIREFOX = ENGINE === 'firefox';
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
// Chromium as users have it: default feature flags and the default autoplay policy (an
// AudioContext runs only after a user gesture; a muted <video> autoplays), no WebGPU adapter on
// this machine. The switches below change neither: --no-sandbox because the tests run as root,
// the rest keep a browser without internet from flooding refused connections. Never
// --disable-software-rasterizer (it breaks WebGL2 and WebGPU).
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run',
];
const PANIC = /panicked|RuntimeError|unreachable executed|wasm trap/i;

// Without these, presenting a WebGPU canvas on SwiftShader fails ("Could not find
// SharedImageBackingFactory ... WebgpuSwapChainTexture") and Chromium destroys every WebGPU
// device ~50 ms later, so nothing a WebGPU renderer draws can be read back. Vulkan on
// SwiftShader gives the swap chain a backing; ANGLE stays on SwiftShader so WebGL2 still works
// (ANGLE on Vulkan has no WebGL2 here). Measured on Chromium 156. Only the WebGPU runs use
// them: they make WebGL2 readbacks slower.
export const WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-angle=swiftshader'];

/**
 * Launches the engine of this run ({@link ENGINE}) as users have it. Chromium takes `args`
 * after {@link CHROMIUM_ARGS} (and {@link WEBGPU_ARGS} with `webgpu`); Firefox takes no
 * switches, and `audio: false` gives it no sound server (an engine whose output never starts).
 * `autoplay: true` is for the TV-app tests only: TV engines let an installed app start sound
 * without a gesture, and this makes the desktop engine behave like them (Chromium's autoplay
 * switch; Firefox's `media.autoplay.default` = allow).
 */
export async function launchBrowser({ webgpu = false, args = [], audio = true, autoplay = false } = {}) {
  if (FIREFOX) {
    if (webgpu || args.length) throw new Error('Firefox runs take no Chromium switches');
    return launchFirefox({ audio, prefs: autoplay ? { 'media.autoplay.default': 0 } : {} });
  }
  const policy = autoplay ? ['--autoplay-policy=no-user-gesture-required'] : [];
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...(webgpu ? WEBGPU_ARGS : []), ...policy, ...args], timeout: 30_000 });
}

/**
 * Starts server + browser; `open(path)` returns a page whose demo player is constructed.
 * `webgpu: true` launches Chromium with {@link WEBGPU_ARGS} (the only run with a WebGPU
 * adapter); `root` is the folder served (relative to the repository: `www`, or `dist` for the
 * packaged TV apps).
 */
export async function launch({ webgpu = false, root = 'www', mounts = {}, args = [], audio = true, autoplay = false } = {}) {
  if (!existsSync(`${repo}/www/pkg/kinema_web.js`)) {
    throw new Error('www/pkg/kinema_web.js is missing: run `bash scripts/build-web.sh` first');
  }
  const server = await startServer({ root: `${repo}/${root}`, port: 0, mounts: { '/fixtures/': `${repo}/tests/fixtures/gen`, ...mounts } });
  let browser;
  try {
    browser = await launchBrowser({ webgpu, args, audio, autoplay });
  } catch (e) {
    await server.close();
    throw e;
  }
  /** Uncaught page errors and panic text: any of them fails the run. */
  const problems = [];
  /** Every console error (expected ones too, e.g. a 404 the test asked for), for diagnosis. */
  const consoleErrors = [];
  /**
   * Opens the demo (optionally with a script run before the page's own) in a fresh context.
   * `gesture` (default true): once the page is ready, a user interaction (a trusted click on
   * the page's blank top-left corner) gives it the sticky user activation a viewer's first
   * click gives, after which the default autoplay policy lets sound start. Tests about
   * autoplay pass `gesture: false`.
   * @param {string} [path]
   * @param {{ initScript?: Parameters<import('playwright-core').Page['addInitScript']>[0],
   *   contextOptions?: import('playwright-core').BrowserContextOptions, gesture?: boolean }} [options]
   */
  async function open(path = '', { initScript, contextOptions, gesture = true } = {}) {
    const page = contextOptions ? await (await browser.newContext(contextOptions)).newPage() : await browser.newPage();
    if (initScript) await page.addInitScript(initScript);
    page.setDefaultTimeout(20_000);
    // With its stack: a page error's message alone rarely says which callback threw.
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}${e.stack ? `\n${e.stack}` : ''}`));
    page.on('crash', () => problems.push('the page crashed'));
    page.on('console', (m) => {
      const text = m.text();
      if (m.type() === 'error') consoleErrors.push(text);
      if (PANIC.test(text)) problems.push(`console ${m.type()}: ${text}`);
    });
    await page.goto(server.url + path, { timeout: 20_000 });
    // Polled without a user gesture (page.evaluate and waitForFunction run as one: see quiet).
    const ready = await quietUntil(page, () => document.body.dataset.ready, null, 20_000);
    if (ready !== '1') {
      const why = await page.evaluate(() => document.getElementById('error')?.textContent);
      throw new Error(`the demo did not start: ${why}; ${problems.join('; ')}`);
    }
    if (gesture) await userGesture(page);
    return page;
  }
  async function close() {
    await browser.close().catch(() => {});
    await server.close();
  }
  return { server, browser, open, close, problems, consoleErrors };
}

/**
 * Whether this engine's WebCodecs `VideoDecoder` and its MSE (fragmented MP4, as the core
 * remuxes for the MSE path) decode `codec` (a codec string such as `avc1.6e000d`).
 * @param {any} page
 * @param {string} codec
 * @returns {Promise<{ webcodecs: boolean, mse: boolean }>}
 */
export function decodable(page, codec) {
  return page.evaluate(async (/** @type {string} */ codec) => ({
    webcodecs: 'VideoDecoder' in window && (await VideoDecoder.isConfigSupported({ codec, codedWidth: 320, codedHeight: 180 })).supported === true,
    mse: 'MediaSource' in window && MediaSource.isTypeSupported(`video/mp4; codecs="${codec}"`),
  }), codec);
}

/**
 * Defines `window.frameIndex()` in the page: the frame index the fixtures burn into every
 * picture (a 16-bit block code, 8×2 blocks filling the picture: scripts/fixtures.sh), read from
 * what the display shows now (`captureFrame`: a presented WebGPU canvas cannot be read back).
 * It asks for the 8×2 pixels at the blocks' centres only: reading the whole canvas back at
 * every animation frame took 9–17 ms of each 16.7 ms of the page's main thread (a 632×356
 * WebGL2 canvas on SwiftShader), and the MSE decode path catches the element's pictures on
 * that thread (web/src/mse.rs): the measurement itself made it miss pictures.
 */
export async function installFrameIndex(page) {
  await page.evaluate(() => {
    window.frameIndex = async () => {
      const { width: w, height: h, data: px } = await window.kinema.player.captureFrame(8, 2);
      let n = 0;
      for (let b = 0; b < 16; b++) {
        const x = Math.floor(((b % 8) + 0.5) * w / 8), y = Math.floor((Math.floor(b / 8) + 0.5) * h / 2);
        const i = (y * w + x) * 4;
        if (0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2] > 128) n |= 1 << b;
      }
      return n;
    };
  });
}

/**
 * Runs `fn(arg)` in the page WITHOUT a user gesture and returns its (awaited, JSON) value.
 * Playwright's `page.evaluate` and `waitForFunction` run their functions as a user gesture
 * (measured: `navigator.userActivation.hasBeenActive` turns true and an AudioContext made
 * there runs, whatever the autoplay policy), so a test about autoplay must read the page only
 * through this (DevTools `Runtime.evaluate` with `userGesture: false`).
 */
export async function quiet(page, fn, arg) {
  // Firefox: WebDriver BiDi's script.evaluate with userActivation false (firefox.mjs).
  if (page.quietEvaluate) return page.quietEvaluate(`(${fn})(${JSON.stringify(arg ?? null)})`);
  page.__kinemaCdp ??= await page.context().newCDPSession(page);
  const r = await page.__kinemaCdp.send('Runtime.evaluate', {
    expression: `(${fn})(${JSON.stringify(arg ?? null)})`, awaitPromise: true, returnByValue: true, userGesture: false,
  });
  if (r.exceptionDetails) throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
  return r.result.value;
}

/** Polls `fn(arg)` with {@link quiet} every 50 ms until truthy; returns it (throws after `ms`). */
export async function quietUntil(page, fn, arg, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await quiet(page, fn, arg);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${String(fn).slice(0, 120)}`);
    await new Promise((ok) => setTimeout(ok, 50));
  }
}

/**
 * A trusted user interaction on the page (a click at its top-left corner, where the demo and
 * the TV apps have no control), so `navigator.userActivation.hasBeenActive` turns true.
 */
export async function userGesture(page) {
  // The demo starts its sample muted until a click and offers "Click for sound": a viewer
  // clicks that. Elsewhere (TV apps, test pages) a click on a blank corner.
  const unlock = page.locator('#unlock');
  if (await unlock.count() && await unlock.isVisible()) await unlock.click();
  else await page.mouse.click(1, 1);
  const active = await page.evaluate(() => navigator.userActivation?.hasBeenActive ?? true);
  if (!active) throw new Error('the click did not activate the page');
}

/** Sets the test server's faults for one session (scripts/serve-control.mjs). */
export async function control(env, session, body) {
  const r = await fetch(`${env.server.url}__control/${session}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (r.status !== 200) throw new Error(`control ${session}: ${r.status} ${await r.text()}`);
}

/** The test server's request log of one session. */
export async function requestLog(env, session) {
  return (await (await fetch(`${env.server.url}__control/${session}/log`)).json()).entries;
}

/** Polls `fn` in the page until it returns truthy and returns that value (throws after `ms`). */
export async function until(page, fn, arg, ms = 10_000) {
  const handle = await page.waitForFunction(fn, arg, { timeout: ms, polling: 50 });
  return handle.jsonValue();
}

/**
 * Loads `url` into the page's player and (by default) plays it. From then on
 * `window.events` collects the player's events ({type, detail}) for this load.
 */
export async function loadAndWatch(page, url, { play = true } = {}) {
  await page.evaluate(({ url, play }) => {
    const p = window.kinema.player;
    window.events = [];
    if (!window.watching) {
      window.watching = true;
      for (const t of ['statechange', 'loadstart', 'loadedmetadata', 'playing', 'waiting', 'seeked', 'ended', 'error', 'warning']) {
        // Where the player was when the event fired (the first `playing` of a live stream
        // tells where it started, whatever the test's polling latency).
        p.addEventListener(t, (e) => window.events.push({ type: t, detail: /** @type {CustomEvent} */ (e).detail, t: p.currentTime, seekable: t === 'playing' ? p.seekable : undefined }));
      }
    }
    // Failures are checked through events and `error`; the promises are tested on their own.
    p.load(url).catch(() => {});
    if (play) p.play().catch(() => {});
  }, { url, play });
}

/** How far currentTime moves over `ms` of wall-clock time in the page: { t0, t1, wall }. */
export async function advance(page, ms = 500) {
  return page.evaluate(async (ms) => {
    const p = window.kinema.player;
    const t0 = p.currentTime, w0 = performance.now();
    await new Promise((ok) => setTimeout(ok, ms));
    return { t0, t1: p.currentTime, wall: (performance.now() - w0) / 1000 };
  }, ms);
}

/**
 * An init script that makes Web Audio behave like an engine whose AudioContext never runs
 * (issue 18 saw Firefox ESR keep it suspended even after a click): contexts start suspended
 * and resume() never settles.
 */
export function audioNeverRuns() {
  const Real = window.AudioContext;
  window.AudioContext = class extends Real {
    constructor(options) {
      super(options);
      this.suspend();
    }
    resume() {
      return new Promise(() => {});
    }
  };
}
