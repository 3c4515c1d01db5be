// First contact, as a new user meets Kinema: Chromium with default flags and the default
// autoplay policy (no WebGPU adapter here), the demo's default URL, the README's snippet,
// `<video>`-like promises, muted autoplay, and a strict Content-Security-Policy.
//
// Autoplay tests read the page only through `quiet` (DevTools evaluation without a user
// gesture): Playwright's page.evaluate counts as a gesture and would unlock audio by itself.
import { test as nodeTest, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, quiet, quietUntil, until, audioNeverRuns, FIREFOX } from './harness.mjs';

const test = (name, opts, fn) => (fn ? nodeTest(name, { timeout: 90_000, ...opts }, fn) : nodeTest(name, { timeout: 90_000 }, opts));
const repo = fileURLToPath(new URL('../..', import.meta.url));

let env;
let scratch;
before(async () => {
  // The README's first snippet, verbatim, on a plain page (served from a folder mounted at
  // /readme/, with the package and the sample beside it through an import map).
  scratch = mkdtempSync(join(tmpdir(), 'kinema-door-'));
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const snippet = readme.match(/<!-- first-snippet -->\s*```js\n([\s\S]*?)```/)?.[1];
  if (!snippet) throw new Error('README.md has no <!-- first-snippet --> js block');
  writeFileSync(join(scratch, 'snippet.js'), snippet);
  writeFileSync(join(scratch, 'index.html'), `<!doctype html><meta charset="utf-8"><title>snippet</title>
<script type="importmap">{"imports":{"kinema":"/pkg/kinema_web.js"}}</script>
<canvas width="640" height="360"></canvas><button>Play</button>
<script type="module">
window.errors = [];
addEventListener('error', (e) => window.errors.push(e.message));
addEventListener('unhandledrejection', (e) => window.errors.push(String(e.reason)));
// The snippet keeps its player to itself: note it when it attaches its canvas, so the test can
// read the picture with captureFrame() (a WebGL canvas cannot be copied after it was shown).
import { Player } from 'kinema';
const attach = Player.prototype.attachCanvas;
Player.prototype.attachCanvas = function (...args) { window.player = this; return attach.apply(this, args); };
</script>
<script type="module" src="snippet.js"></script>
<script type="module">document.body.dataset.ready = '1';</script>`);
  env = await launch({ mounts: { '/readme/media/': join(repo, 'www/media'), '/readme/': scratch } });
}, { timeout: 60_000 });
after(async () => {
  if (env?.consoleErrors.length) console.log(`console errors seen:\n  ${env.consoleErrors.join('\n  ')}`);
  await env?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}, { timeout: 30_000 });

/** Mean red value and a cheap hash of the player's picture (read without a gesture). */
const picture = (page) => quiet(page, async () => {
  const f = await window.kinema.player.captureFrame();
  let sum = 0, hash = 0;
  for (let i = 0; i < f.data.length; i += 4 * 97) { sum += f.data[i]; hash = (hash * 31 + f.data[i] + f.data[i + 1]) | 0; }
  return { mean: sum / (f.data.length / (4 * 97)), hash };
});

test('stock browser: the demo plays its sample muted at once, beside a muted <video>; a click gives sound where it is', async () => {
  const page = await env.open('', { gesture: false });
  const logs = [];
  page.on('console', (m) => { if (['warning', 'error'].includes(m.type())) logs.push(m.text()); });
  // A muted <video> on the same page, for the reference: the default policy lets it autoplay.
  await quiet(page, () => {
    const v = document.createElement('video');
    v.muted = true; v.src = 'media/sample.mp4'; v.id = 'ref';
    document.body.append(v);
    v.play();
  });
  await quietUntil(page, () => window.kinema.player.state === 'playing' && window.kinema.player.currentTime > 0.5, null, 15_000);
  const a = await quiet(page, async () => {
    const p = window.kinema.player, v = /** @type {HTMLVideoElement} */ (document.getElementById('ref'));
    const t0 = p.currentTime, v0 = v.currentTime;
    await new Promise((ok) => setTimeout(ok, 1000));
    return { t0, t1: p.currentTime, v0, v1: v.currentTime, muted: p.muted, renderer: window.kinema.renderer,
      active: navigator.userActivation.hasBeenActive, unlock: document.getElementById('unlock').textContent,
      shown: !document.getElementById('unlock').hidden, level: p.audioLevel() };
  });
  const p1 = await picture(page);
  await new Promise((ok) => setTimeout(ok, 300));
  const p2 = await picture(page);
  console.log(`before any gesture: ${JSON.stringify(a)}; pictures ${JSON.stringify([p1, p2])}`);
  assert.equal(a.active, false, 'no user gesture so far');
  // No WebGPU adapter in either engine here: 'auto' draws with the package's WebGL2 display in
  // Chromium, on a 2D canvas in this headless Firefox (no WebGL2).
  assert.equal(a.renderer, FIREFOX ? '2d' : 'webgl2', "no WebGPU adapter: the package's 'auto' falls back");
  assert.ok(a.v1 - a.v0 > 0.5, `the muted <video> autoplays: ${a.v0} → ${a.v1}`);
  assert.ok(a.t1 - a.t0 > 0.5, `Kinema autoplays muted on the page clock: ${a.t0} → ${a.t1}`);
  assert.equal(a.muted, true);
  assert.ok(a.shown && /sound/i.test(a.unlock), `the demo offers sound: ${a.unlock}`);
  assert.ok(p1.mean > 20 && p1.hash !== p2.hash, 'moving, non-black video before any gesture');
  assert.deepEqual(logs.filter((l) => !/GPU stall|GL Driver/.test(l)), [], 'nothing wrong, nothing logged');
  // The click: sound starts at the position reached, not from the start.
  const before = await quiet(page, () => window.kinema.player.currentTime);
  await page.click('#unlock');
  const level = await until(page, () => { const l = window.kinema.player.audioLevel(); return l > 0.01 && l; }, null, 10_000);
  const after = await page.evaluate(() => ({ t: window.kinema.player.currentTime, muted: window.kinema.player.muted, mode: window.kinema.player.stats().audioMode }));
  console.log(`after the click: RMS ${level.toFixed(3)}, ${JSON.stringify(after)} (was at ${before.toFixed(3)})`);
  assert.equal(after.muted, false);
  assert.ok(after.t >= before, `sound joined at the position reached (${before} → ${after.t})`);
  if (FIREFOX) {
    // Firefox plays into the harness's own sound server: what reached it is recorded there.
    const heard = await env.browser.recordAudio(1000);
    console.log(`the sound server heard: ${JSON.stringify(heard)}`);
    assert.ok(heard.seconds > 0.5 && heard.rms > 0.01, `sound reached the sound server: ${JSON.stringify(heard)}`);
  }
  await page.close();
});

test('stock browser: an unmuted play() before any gesture is refused like <video>', async () => {
  const page = await env.open('', { gesture: false });
  const logs = [];
  page.on('console', (m) => { if (['warning', 'error'].includes(m.type())) logs.push(m.text()); });
  const r = await quiet(page, async () => {
    const p = window.kinema.player;
    p.muted = false;
    p.pause();
    await p.load('fixtures/clicks-10s.mp3');
    const v = document.createElement('video');
    v.src = 'fixtures/clicks-10s.mp3';
    const video = await v.play().then(() => 'played', (e) => e.name);
    const kinema = await p.play().then(() => 'played', (e) => e.name);
    await new Promise((ok) => setTimeout(ok, 300));
    return { video, kinema, state: p.state, paused: p.paused, t: p.currentTime };
  });
  console.log(`unmuted play() without a gesture: ${JSON.stringify(r)}; console warnings/errors: ${JSON.stringify(logs)}`);
  assert.equal(r.video, 'NotAllowedError');
  assert.equal(r.kinema, 'NotAllowedError');
  assert.equal(r.state, 'paused');
  assert.equal(r.paused, true);
  // The browser's own console warning about the refused AudioContext is its answer to the
  // page asking for sound without a gesture; nothing else may be logged.
  assert.deepEqual(logs.filter((l) => !/GPU stall|GL Driver|AudioContext was not allowed to start/.test(l)), []);
  await page.close();
});

/**
 * play() after a click on a page whose audio output never starts: playback goes on on the
 * page clock at once, and one `audio-output` warning follows once the output had its grace
 * period to start (web/src/driver.rs OUTPUT_START_GRACE_MS, 3 s).
 */
async function playsWithoutOutput(page) {
  const r = await page.evaluate(async () => {
    const p = window.kinema.player;
    const warnings = [];
    p.addEventListener('warning', (e) => warnings.push({ ...e.detail, at: p.currentTime }));
    p.muted = false;
    await p.load('fixtures/h264-aac.mp4');
    await p.play();
    const t0 = p.currentTime;
    await new Promise((ok) => setTimeout(ok, 1000));
    const t1 = p.currentTime;
    await new Promise((ok) => setTimeout(ok, 4000));
    return { warnings, t0, t1, state: p.state, audioMode: p.stats().audioMode };
  });
  console.log(`audio output never runs: ${JSON.stringify(r)}`);
  assert.equal(r.state, 'playing');
  assert.ok(r.t1 - r.t0 > 0.7, `the clock runs without audio: ${r.t0} → ${r.t1}`);
  const warned = r.warnings.filter((w) => w.kind === 'audio-output' && w.fatal === false);
  assert.equal(warned.length, 1, JSON.stringify(r.warnings));
  assert.ok(warned[0].at > 2, `the warning waits for the output's grace period: at ${warned[0].at} s`);
  await page.evaluate(() => window.kinema.player.pause());
}

test('an engine whose audio output never runs: play() after a click plays on the clock and says so (audio-output warning)', async () => {
  const page = await env.open('?renderer=2d', { initScript: audioNeverRuns });
  await playsWithoutOutput(page);
  await page.close();
});

// The engine of issue 18 as it was found: Firefox on a machine with no sound server keeps
// every AudioContext suspended, even after a click and resume(). (Chromium falls back to a
// fake output of its own there, so this is Firefox's test.)
test('Firefox with no sound server: play() after a click plays on the clock, with one audio-output warning', { skip: !FIREFOX && 'Chromium always has an output' }, async () => {
  const silent = await launch({ audio: false });
  try {
    const page = await silent.open('?renderer=2d');
    await playsWithoutOutput(page);
    assert.deepEqual(silent.problems, []);
  } finally {
    await silent.close();
  }
});

test('media on another origin without CORS headers: the error names CORS', async () => {
  const { startServer } = await import('../../scripts/serve.mjs');
  const other = await startServer({ root: join(repo, 'tests/fixtures/gen'), port: 0 });
  try {
    const page = await env.open('?renderer=2d');
    const url = `${other.url}clicks-10s.mp3`;
    const r = await page.evaluate((url) => window.kinema.player.load(url).then(() => 'loaded', (e) => ({ name: e.name, kind: e.kind, message: e.message })), url);
    console.log(`cross-origin without CORS: ${JSON.stringify(r)}`);
    assert.equal(r.kind, 'network');
    assert.match(r.message, /CORS/);
    assert.match(r.message, /Access-Control-Allow-Origin/);
    await page.close();
  } finally {
    await other.close();
  }
});

/**
 * A second origin that serves tests/fixtures/gen with CORS for the page (credentials, the
 * test's own header), Range, and a log of every request's headers.
 */
async function corsOrigin() {
  const { createServer } = await import('node:http');
  const { readFile } = await import('node:fs/promises');
  const seen = [];
  const server = createServer(async (req, res) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers });
    const cors = {
      'Access-Control-Allow-Origin': req.headers.origin ?? '*', 'Access-Control-Allow-Credentials': 'true',
      'Access-Control-Allow-Headers': 'range, x-kinema-token', 'Access-Control-Expose-Headers': 'content-range, content-length',
      'Cross-Origin-Resource-Policy': 'cross-origin', Vary: 'Origin',
    };
    if (req.method === 'OPTIONS') return res.writeHead(204, cors).end();
    try {
      const body = await readFile(join(repo, 'tests/fixtures/gen', decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/^\/+/, '')));
      const m = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? '');
      if (!m) return res.writeHead(200, { ...cors, 'Content-Length': body.length }).end(body);
      const start = Number(m[1]), end = Math.min(m[2] ? Number(m[2]) : body.length - 1, body.length - 1);
      res.writeHead(206, { ...cors, 'Content-Range': `bytes ${start}-${end}/${body.length}`, 'Content-Length': end - start + 1 }).end(body.subarray(start, end + 1));
    } catch {
      res.writeHead(404, cors).end();
    }
  });
  await new Promise((/** @type {(value?: unknown) => void} */ ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}/`, seen, close: () => new Promise((ok) => server.close(ok)) };
}

test('request hooks: headers, credentials mode, URL rewrite, refusal, and every request kind; response hook', async () => {
  const other = await corsOrigin();
  try {
    const page = await env.open('?renderer=2d');
    const r = await page.evaluate(async (other) => {
      const p = window.kinema.player;
      p.pause();
      document.cookie = 'kinema-session=42; path=/';
      const requests = [], responses = [];
      /** @type {RequestCredentials} */
      let credentials = 'same-origin';
      p.setRequestHook((req) => {
        requests.push({ url: req.url, kind: req.kind, range: req.range });
        if (req.url.endsWith('/rewrite-me.mp4')) req.url = `${other}h264-aac.mp4`;
        if (req.url.endsWith('/refuse-me.mp4')) return false;
        req.headers['x-kinema-token'] = 'abc';
        req.credentials = credentials;
        return Promise.resolve(req);
      });
      p.setResponseHook((res) => responses.push({ kind: res.kind, status: res.status, type: res.headers.get('content-type') }));
      const out = {};
      const outcome = (pr) => pr.then((v) => ({ ok: v?.container ?? true }), (e) => ({ name: e.name, kind: e.kind, message: e.message }));
      out.plain = await outcome(p.load(`${other}h264-aac.mp4`));
      credentials = 'include';
      out.withCookies = await outcome(p.load(`${other}clicks-10s.mp3`));
      credentials = 'same-origin';
      out.rewritten = await outcome(p.load('rewrite-me.mp4'));
      out.refused = await outcome(p.load('refuse-me.mp4'));
      out.hls = await outcome(p.load('fixtures/streams/hls-fmp4/master.m3u8'));
      await new Promise((ok) => setTimeout(ok, 1500));
      const track = p.addTextTrack('fixtures/vtt/srt.vtt', 'en', 'Side-loaded');
      p.textTrack = track;
      await new Promise((ok) => setTimeout(ok, 1000));
      p.setRequestHook(null);
      p.setResponseHook(null);
      return { out, kinds: [...new Set(requests.map((q) => q.kind))].sort(), responses: [...new Set(responses.map((q) => `${q.kind} ${q.status}`))].sort(), first: requests[0] };
    }, other.url);
    const token = other.seen.filter((q) => q.method === 'GET').map((q) => [q.url, q.headers['x-kinema-token'], q.headers.cookie ?? null]);
    console.log(`hooks: ${JSON.stringify(r)}; the other origin saw (url, token, cookie): ${JSON.stringify(token)}`);
    assert.equal(r.out.plain.ok, 'isomp4');
    assert.equal(r.out.withCookies.ok, 'mp3');
    assert.equal(r.out.rewritten.ok, 'isomp4');
    assert.equal(r.out.refused.kind, 'network');
    assert.match(r.out.refused.message, /refused by the request hook/);
    assert.equal(r.out.hls.ok, 'hls');
    assert.deepEqual(r.first.range, { start: 0, end: r.first.range.end });
    for (const k of ['media', 'manifest', 'playlist', 'init', 'segment', 'text']) assert.ok(r.kinds.includes(k), `kind ${k} in ${r.kinds}`);
    for (const k of ['media', 'manifest', 'playlist', 'init', 'segment', 'text']) {
      assert.ok(r.responses.some((x) => new RegExp(`^${k} 20[06]$`).test(x)), `response hook saw ${k}: ${r.responses}`);
    }
    assert.ok(token.length > 0 && token.every(([, t]) => t === 'abc'), 'the header the hook added reached the server');
    const mp4 = token.filter(([u]) => u.endsWith('.mp4')), mp3 = token.filter(([u]) => u.endsWith('.mp3'));
    assert.ok(mp4.length > 0 && mp4.every(([, , c]) => c === null), 'same-origin credentials: no cookie to another origin');
    assert.ok(mp3.length > 0 && mp3.every(([, , c]) => c?.includes('kinema-session=42')), "credentials 'include': the cookie goes along");
    await page.close();
  } finally {
    await other.close();
  }
});

// Firefox headless here has no GL driver at all (no WebGL2 context to lose).
test('the WebGL2 context is lost mid-play: the picture goes on on a 2D canvas in its place, with a render warning', { skip: FIREFOX && 'no WebGL2 in headless Firefox here' }, async () => {
  const page = await env.open('?renderer=webgl2');
  await page.evaluate(async () => {
    const p = window.kinema.player;
    window.warnings = [];
    p.addEventListener('warning', (e) => window.warnings.push(e.detail));
    await p.load('fixtures/h264-aac.mp4');
    await p.play();
  });
  await until(page, () => window.kinema.player.currentTime > 0.5, null, 10_000);
  const before = await page.evaluate(() => ({ renderer: window.kinema.player.renderer, canvas: document.querySelectorAll('canvas#video').length }));
  const lost = await page.evaluate(() => {
    const ext = /** @type {HTMLCanvasElement} */ (document.getElementById('video')).getContext('webgl2')?.getExtension('WEBGL_lose_context');
    ext?.loseContext();
    return !!ext;
  });
  assert.ok(lost, 'WEBGL_lose_context is offered');
  await until(page, () => window.kinema.player.renderer === '2d', null, 10_000);
  const p1 = await picture(page);
  await new Promise((ok) => setTimeout(ok, 300));
  const p2 = await picture(page);
  const r = await page.evaluate(() => {
    const c = /** @type {HTMLCanvasElement} */ (document.getElementById('video'));
    const d = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? [];
    let sum = 0;
    for (let i = 0; i < d.length; i += 4 * 97) sum += d[i];
    return { warnings: window.warnings, canvases: document.querySelectorAll('canvas#video').length, onScreen: sum / Math.max(1, d.length / (4 * 97)), state: window.kinema.player.state };
  });
  console.log(`context lost: before ${JSON.stringify(before)}; after ${JSON.stringify(r)}; pictures ${JSON.stringify([p1, p2])}`);
  assert.equal(before.renderer, 'webgl2');
  assert.equal(r.canvases, 1, 'the 2D canvas took the old one\'s place');
  assert.ok(r.warnings.some((w) => w.kind === 'render'), JSON.stringify(r.warnings));
  assert.ok(p1.mean > 5 && p1.hash !== p2.hash && r.onScreen > 5, 'moving, non-black video after the loss');
  assert.equal(r.state, 'playing');
  await page.evaluate(() => window.kinema.player.pause());
  await page.close();
});

// Old TV engines have WebGL1 only: the same display draws it (GLSL ES 1.00, LUMINANCE planes,
// rows repacked where WebGL2 would skip their padding). Its pictures must be WebGL2's.
test('WebGL1 (old TV engines): the same pictures as WebGL2 at exact seeks, turned files too, and playback moves', { skip: FIREFOX && 'no WebGL in headless Firefox here' }, async () => {
  /** The picture at each exact seek of `file`, drawn with `renderer`. */
  const shots = async (renderer, file, times) => {
    const page = await env.open(`?renderer=${renderer}`);
    try {
      return await page.evaluate(async ({ file, times }) => {
        const p = window.kinema.player;
        p.pause();
        await p.load(`fixtures/${file}`);
        const out = [];
        for (const t of times) {
          const seeked = new Promise((ok) => p.addEventListener('seeked', ok, { once: true }));
          p.seek(t);
          await seeked;
          // The draw follows the present (a plane copy first): wait until the canvas holds still.
          let shot = null;
          // A 160×90 probe (each pixel the canvas's at its centre): a full read-back per try
          // costs a loaded machine tens of ms.
          for (let i = 0; i < 60 && !shot; i++) {
            const a = await p.captureFrame(160, 90);
            await new Promise((ok) => setTimeout(ok, 50));
            const b = await p.captureFrame(160, 90);
            if (a.data.every((v, k) => v === b.data[k]) && a.data.some((v, k) => k % 4 !== 3 && v > 16)) shot = b;
          }
          out.push(shot && { width: shot.width, height: shot.height, data: Array.from(shot.data) });
        }
        return { renderer: p.renderer, out };
      }, { file, times });
    } finally {
      await page.close();
    }
  };
  /** @type {[string, number[]][]} */
  const cases = [['h264-aac.mp4', [1.0, 4.5, 8.2]], ['rotate-90.mp4', [2.0, 6.1]]];
  for (const [file, times] of cases) {
    const one = await shots('webgl1', file, times);
    const two = await shots('webgl2', file, times);
    assert.equal(one.renderer, 'webgl1');
    assert.equal(two.renderer, 'webgl2');
    const diffs = times.map((_, i) => {
      const a = one.out[i], b = two.out[i];
      assert.ok(a && b, `${file} at ${times[i]}: a still, non-black picture on both`);
      assert.equal(a.width, b.width);
      let sum = 0, n = 0;
      for (let k = 0; k < a.data.length; k++) if (k % 4 !== 3) { sum += Math.abs(a.data[k] - b.data[k]); n++; }
      return sum / n;
    });
    console.log(`WebGL1 vs WebGL2, ${file}: mean |diff| per channel ${diffs.map((d) => d.toFixed(3)).join(', ')}`);
    for (const d of diffs) assert.ok(d < 1, `${file}: WebGL1's picture differs from WebGL2's by ${d.toFixed(3)} on average`);
  }
  const page = await env.open('?renderer=webgl1');
  await page.evaluate(async () => {
    await window.kinema.player.load('fixtures/h264-aac.mp4');
    await window.kinema.player.play();
  });
  await until(page, () => window.kinema.player.currentTime > 0.5, null, 10_000);
  const p1 = await picture(page);
  await new Promise((ok) => setTimeout(ok, 300));
  const p2 = await picture(page);
  // Non-black as the other page tests take it: the sample's frames have mean red 16-48.
  assert.ok(p1.mean > 5 && p2.mean > 5 && p1.hash !== p2.hash, `moving, non-black video on WebGL1: ${JSON.stringify([p1, p2])}`);
  await page.evaluate(() => window.kinema.player.pause());
  await page.close();
});

test('load() and play() promises settle like HTMLMediaElement: success, 404, unsupported, superseded, paused', async () => {
  const page = await env.open('?renderer=2d');
  const r = await page.evaluate(async () => {
    const p = window.kinema.player;
    const outcome = (promise) => promise.then((v) => ({ ok: v ?? null }), (e) => ({ name: e.name, kind: e.kind, message: e.message }));
    p.pause();
    const out = {};
    out.load = await outcome(p.load('fixtures/h264-aac.mp4'));
    out.play = await outcome(p.play());
    out.playAgain = await outcome(p.play());
    p.load('fixtures/clicks-10s.mp3').catch(() => {});
    const pausing = outcome(p.play());
    p.pause();
    out.pausedFirst = await pausing;
    out.load404 = await outcome(p.load('fixtures/missing.mp4'));
    out.play404 = await outcome(p.play());
    out.unsupported = await outcome(p.load('style.css'));
    const first = outcome(p.load('fixtures/clicks-10s.flac'));
    const second = outcome(p.load('fixtures/clicks-10s.wav'));
    out.superseded = await first;
    out.second = await second;
    const late = outcome(p.play());
    out.playAfterLoad = await late;
    return out;
  });
  console.log(JSON.stringify(r));
  assert.equal(r.load.ok?.videoCodec?.startsWith('avc1'), true, 'load() resolves with the MediaInfo');
  assert.deepEqual(r.play, { ok: null });
  assert.deepEqual(r.playAgain, { ok: null }, 'play() while playing resolves');
  assert.equal(r.pausedFirst.name, 'AbortError');
  assert.equal(r.load404.kind, 'network');
  assert.equal(r.load404.name, 'NetworkError');
  assert.match(r.load404.message, /404/);
  assert.equal(r.play404.kind, 'network', 'play() on a failed source rejects with its error');
  assert.ok(['unsupported', 'decode'].includes(r.unsupported.kind), JSON.stringify(r.unsupported));
  assert.equal(r.superseded.name, 'AbortError');
  assert.equal(r.second.ok?.container, 'wave');
  assert.deepEqual(r.playAfterLoad, { ok: null });
  await page.evaluate(() => window.kinema.player.pause());
  await page.close();
});

test("the README's first snippet works verbatim on a plain page (no WebGPU: the package's WebGL2 display, 2D in this Firefox)", async () => {
  const page = await env.open('readme/index.html', { gesture: false });
  await quietUntil(page, () => document.querySelector('button').onclick, null, 15_000);
  await page.click('button');
  await new Promise((ok) => setTimeout(ok, 1500));
  const read = () => page.evaluate(async () => {
    const d = (await window.player.captureFrame()).data;
    let sum = 0, hash = 0;
    for (let i = 0; i < d.length; i += 4 * 97) { sum += d[i]; hash = (hash * 31 + d[i] + d[i + 1]) | 0; }
    return { mean: sum / (d.length / (4 * 97)), hash, errors: window.errors };
  });
  const a = await read();
  await new Promise((ok) => setTimeout(ok, 300));
  const b = await read();
  console.log(`README snippet: ${JSON.stringify([a, b])}`);
  assert.deepEqual(a.errors, []);
  assert.ok(a.mean > 20 && a.hash !== b.hash, 'moving, non-black video on the canvas');
  await page.close();
});

for (const [renderer, decode] of [['2d', 'webcodecs'], ['webgl2', 'webcodecs'], ['auto', 'webcodecs'], ['webgl2', 'mse']]) {
  test(`strict CSP (${renderer}, ${decode}): sound and moving pictures, no violation, no audio-output warning`, async () => {
    const page = await env.open(`csp.html?renderer=${renderer}&decode=${decode}&src=fixtures/h264-aac.mp4`);
    await page.click('#play');
    await until(page, () => window.kinema.player.state === 'playing' && window.kinema.player.currentTime > 0.3, null, 15_000);
    const level = await until(page, () => { const l = window.kinema.player.audioLevel(); return l > 0.01 && l; }, null, 10_000);
    const p1 = await picture(page);
    await new Promise((ok) => setTimeout(ok, 300));
    const p2 = await picture(page);
    const r = await page.evaluate(() => ({ violations: window.violations, warnings: window.warnings, renderer: window.kinema.renderer,
      path: window.kinema.player.videoStats()?.decodePath, mode: window.kinema.player.stats().audioMode }));
    console.log(`CSP ${renderer}/${decode}: RMS ${level.toFixed(3)}, ${JSON.stringify(r)}, pictures ${JSON.stringify([p1, p2])}`);
    assert.deepEqual(r.violations, []);
    assert.deepEqual(r.warnings, []);
    assert.equal(r.path, decode);
    assert.ok(p1.mean > 5 && p1.hash !== p2.hash, 'moving, non-black video');
    await page.close();
  });
}

test('no page errors or panics', () => {
  assert.deepEqual(env.problems, []);
});
