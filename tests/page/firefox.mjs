// The second engine: Debian's stock Firefox ESR, driven headless over WebDriver BiDi by
// puppeteer-core (Playwright's own patched Firefox cannot be downloaded here, and Playwright
// does not drive a stock Firefox). This file gives the page tests the small part of
// Playwright's Page API they use, so one test body runs on either engine
// (`KINEMA_BROWSER=firefox`; harness.mjs picks the engine).
//
// Sound: a headless Firefox with no sound server keeps every AudioContext `suspended`, even
// after a click and `resume()` (measured with Firefox ESR 153.8: cubeb finds no PulseAudio).
// A viewer's machine has an audio device, so the harness starts a private PulseAudio daemon
// with a null sink for each browser (`audio: false` leaves it out, for the test about an
// engine whose output never starts). The sink's monitor can be recorded (`recordAudio`).
import puppeteer from 'puppeteer-core';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const FIREFOX = process.env.FIREFOX ?? '/usr/bin/firefox-esr';

/**
 * Firefox as users have it: stock preferences except what a headless run on a machine without
 * internet needs (no update, telemetry or remote-settings traffic). The autoplay policy stays
 * the default one (audible media and Web Audio wait for a user gesture).
 */
export const FIREFOX_PREFS = {
  'app.update.disabledForTesting': true,
  'browser.safebrowsing.update.enabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.server': '',
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'services.settings.server': '',
};

/**
 * Sound servers this process started: ended with it, also when it is interrupted (a killed test
 * run must not leave daemons behind; Firefox processes end with puppeteer's own handlers).
 * @type {Map<import('node:child_process').ChildProcess, string>} daemon → its folder
 */
const daemons = new Map();
const endDaemons = () => {
  for (const [d, dir] of daemons) {
    d.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
};
let watching = false;
/** Installed with the first daemon only: Chromium runs import this file and keep their handlers. */
function endDaemonsWithProcess() {
  if (watching) return;
  watching = true;
  process.once('exit', endDaemons);
  for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
    process.once(signal, () => { endDaemons(); process.exit(128 + (signal === 'SIGINT' ? 2 : 15)); });
  }
}

/** Starts a private PulseAudio daemon with one null sink; returns its socket and a stop(). */
async function startPulse() {
  const dir = mkdtempSync(join(tmpdir(), 'kinema-pulse-'));
  const socket = join(dir, 'native');
  const child = spawn('pulseaudio', [
    '-n', '--daemonize=no', '--exit-idle-time=-1', '--use-pid-file=no', '--system=false',
    '-L', 'module-null-sink sink_name=kinema rate=48000',
    '-L', `module-native-protocol-unix socket=${socket} auth-anonymous=1`,
    '--log-target=stderr', '--log-level=error',
  ], { env: { ...process.env, HOME: dir, XDG_RUNTIME_DIR: dir, XDG_CONFIG_HOME: dir }, stdio: ['ignore', 'ignore', 'pipe'] });
  daemons.set(child, dir);
  endDaemonsWithProcess();
  child.once('exit', () => daemons.delete(child));
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  const end = Date.now() + 10_000;
  while (!existsSync(socket)) {
    if (child.exitCode !== null || Date.now() > end) {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`PulseAudio did not start: ${log}`);
    }
    await new Promise((ok) => setTimeout(ok, 50));
  }
  return {
    server: `unix:${socket}`,
    /**
     * Records `ms` of what reached the null sink (its monitor source) and returns the RMS level
     * (0..1) of the 16-bit stereo samples: proof that sound left the browser.
     */
    async record(ms) {
      const rec = spawn('parec', [`--server=unix:${socket}`, '-d', 'kinema.monitor', '--raw', '--format=s16le', '--rate=48000', '--channels=2'], { stdio: ['ignore', 'pipe', 'ignore'] });
      const chunks = [];
      rec.stdout.on('data', (c) => chunks.push(c));
      await new Promise((ok) => setTimeout(ok, ms));
      rec.kill();
      await new Promise((/** @type {(v?: unknown) => void} */ ok) => { if (rec.exitCode !== null || rec.signalCode) ok(); else rec.once('exit', ok); });
      const pcm = Buffer.concat(chunks);
      let sum = 0;
      const n = Math.floor(pcm.length / 2);
      for (let i = 0; i < n; i++) sum += (pcm.readInt16LE(i * 2) / 32768) ** 2;
      return { rms: n ? Math.sqrt(sum / n) : 0, seconds: n / 2 / 48000 };
    },
    async stop() {
      child.kill();
      await new Promise((/** @type {(v?: unknown) => void} */ ok) => { if (child.exitCode !== null) ok(); else child.once('exit', ok); });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Firefox ESR behind Playwright's Browser shape (`newPage()`, `newContext()`, `close()`), with
 * its own sound server unless `audio` is false. Every page gets a Firefox process of its own
 * (about 1.5 s to start), closed — killed if it does not close within 5 s — with the page, so a
 * page that hangs the engine cannot take the next test with it. One did: Firefox ESR 153.8
 * answers the first read of `AudioContext.outputLatency` with a synchronous call to its audio
 * process under the audio graph's lock, and on PulseAudio that deadlocked 1 page in 14–40
 * (gdb stacks in web/src/audio.rs `OutputLatency`); the player no longer reads it by default.
 */
export async function launchFirefox({ audio = true, prefs = {} } = {}) {
  const pulse = audio ? await startPulse() : null;
  /** @type {Set<import('puppeteer-core').Browser>} */
  const open = new Set();
  const start = async () => {
    const browser = await puppeteer.launch({
      browser: 'firefox', executablePath: FIREFOX, headless: true, timeout: 60_000,
      extraPrefsFirefox: { ...FIREFOX_PREFS, ...prefs },
      // Without a server Firefox would look for the user's; a run without audio gets none.
      env: { ...process.env, PULSE_SERVER: pulse ? pulse.server : 'unix:/nonexistent' },
    });
    open.add(browser);
    return browser;
  };
  const stop = async (browser) => {
    open.delete(browser);
    const proc = browser.process();
    const closed = await Promise.race([browser.close().then(() => true, () => false), new Promise((ok) => setTimeout(() => ok(false), 5000))]);
    if (!closed && proc && proc.exitCode === null) {
      proc.kill('SIGKILL');
      await new Promise((/** @type {(v?: unknown) => void} */ ok) => { if (proc.exitCode !== null || proc.signalCode) ok(); else proc.once('exit', ok); });
    }
  };
  let version;
  try {
    const probe = await start();
    version = await probe.version();
    await stop(probe);
  } catch (e) {
    await pulse?.stop();
    throw e;
  }
  const wrap = {
    engine: 'firefox',
    version,
    pulseServer: pulse?.server,
    /** What reached the sound server over `ms` (see startPulse's `record`); null without one. */
    recordAudio: (ms) => (pulse ? pulse.record(ms) : Promise.resolve(null)),
    async newPage() {
      const browser = await start();
      return new FirefoxPage(await browser.newPage(), () => stop(browser));
    },
    /** A page in a fresh profile; options Firefox cannot honour throw. */
    async newContext(options = {}) {
      const unsupported = Object.keys(options).filter((k) => k !== 'hasTouch');
      if (unsupported.length) throw new Error(`Firefox contexts do not take ${unsupported.join(', ')}`);
      const pages = [];
      return {
        async newPage() { const page = await wrap.newPage(); pages.push(page); return page; },
        async close() { await Promise.all(pages.map((p) => p.close())); },
      };
    },
    async close() {
      await Promise.all([...open].map(stop));
      await pulse?.stop();
    },
  };
  return wrap;
}

/** Firefox's own network and security reports (not page exceptions): see `on('pageerror')`. */
const BROWSER_REPORT = /^(Cross-Origin Request Blocked|Content-Security-Policy|Loading failed for|The resource from)/;

/** Turns Playwright's `page.evaluate(fn, arg)` shape into a puppeteer call (one argument). */
const args = (arg) => (arg === undefined ? [] : [arg]);

/**
 * A puppeteer page behind the part of Playwright's Page API the tests use. Puppeteer's
 * `evaluate` runs as a user gesture (BiDi `userActivation: true`), like Playwright's;
 * {@link FirefoxPage#quietEvaluate} is the way without one.
 */
export class FirefoxPage {
  /**
   * @param {import('puppeteer-core').Page} page
   * @param {() => Promise<void>} closeBrowser ends the page's own Firefox process
   */
  constructor(page, closeBrowser) {
    this.page = page;
    this.closeBrowser = closeBrowser;
    this.timeout = 30_000;
    /** @type {Function[]} */
    this.consoleListeners = [];
    // Playwright names the space bar `Space`; puppeteer's BiDi keyboard wants the character.
    this.keyboard = { press: (key) => page.keyboard.press(key === 'Space' ? ' ' : key) };
    this.mouse = {
      click: (x, y) => page.mouse.click(x, y),
      move: (x, y) => page.mouse.move(x, y),
    };
  }

  setDefaultTimeout(ms) {
    this.timeout = ms;
    this.page.setDefaultTimeout(ms);
  }

  /** `pageerror` (Error), `console` (a message with text() and type()), `crash` (never fired). */
  on(event, fn) {
    if (event === 'console') {
      this.consoleListeners.push(fn);
      // Playwright says `warning` where puppeteer says `warn`.
      this.page.on('console', (m) => fn({ text: () => m.text(), type: () => (m.type() === 'warn' ? 'warning' : m.type()), location: () => m.location() }));
    } else if (event === 'pageerror') {
      // Firefox files its network and security reports (a CORS refusal, a CSP violation, a
      // failed load) under the same "javascript" log as uncaught exceptions; Chromium prints
      // them as console errors, and so do these pages.
      this.page.on('pageerror', (e) => {
        const error = e instanceof Error ? e : new Error(String(e));
        if (BROWSER_REPORT.test(error.message)) this.consoleListeners.forEach((l) => l({ text: () => error.message, type: () => 'error', location: () => ({}) }));
        else fn(error);
      });
    } else if (event !== 'crash') {
      this.page.on(event, fn);
    }
  }

  /** @param {string} url @param {{ timeout?: number }} [options] */
  goto(url, { timeout } = {}) {
    return this.page.goto(url, { timeout: timeout ?? this.timeout, waitUntil: 'load' });
  }

  url() {
    return this.page.url();
  }

  evaluate(fn, arg) {
    return this.page.evaluate(fn, ...args(arg));
  }

  /** Runs `expression` (awaited, JSON-returning) without a user gesture: see harness `quiet`. */
  async quietEvaluate(expression) {
    const realm = /** @type {any} */ (this.page.mainFrame()).browsingContext.defaultRealm;
    // By value, like DevTools' returnByValue (a function comes back as `{}`).
    const r = await realm.evaluate(`(async () => { const v = await (${expression}); return JSON.stringify(typeof v === 'function' ? {} : v); })()`, true, { userActivation: false, resultOwnership: 'none' });
    if (r.type === 'exception') throw new Error(`in the page: ${r.exceptionDetails.text}`);
    const text = r.result.type === 'string' ? r.result.value : undefined;
    return text === undefined ? undefined : JSON.parse(text);
  }

  /**
   * @param {any} fn a function (or expression) run in the page
   * @param {unknown} arg
   * @param {{ timeout?: number, polling?: number }} [options]
   */
  async waitForFunction(fn, arg, options = {}) {
    const { timeout, polling = 50 } = options;
    const handle = await this.page.waitForFunction(fn, { timeout: timeout ?? this.timeout, polling }, ...args(arg));
    return { jsonValue: () => handle.jsonValue() };
  }

  waitForTimeout(ms) {
    return new Promise((ok) => setTimeout(ok, ms));
  }

  addInitScript(script) {
    return typeof script === 'function'
      ? this.page.evaluateOnNewDocument(script)
      : this.page.evaluateOnNewDocument(String(script));
  }

  click(selector) {
    return this.page.click(selector);
  }

  tap(selector) {
    return this.page.tap(selector);
  }

  selectOption(selector, value) {
    return this.page.select(selector, value);
  }

  textContent(selector) {
    return this.page.$eval(selector, (e) => e.textContent);
  }

  locator(selector) {
    const page = this.page;
    return {
      count: async () => (await page.$$(selector)).length,
      isVisible: async () => (await page.$(selector))?.isVisible() ?? false,
      click: () => page.click(selector),
    };
  }

  context() {
    return {
      newCDPSession: () => { throw new Error('Firefox has no DevTools protocol session (WebDriver BiDi only)'); },
    };
  }

  async close() {
    await this.closeBrowser();
  }
}

/** Whether this machine can run the Firefox set (the binary and a sound server). */
export function firefoxAvailable() {
  try {
    execFileSync(FIREFOX, ['--version'], { stdio: 'ignore' });
    execFileSync('pulseaudio', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
