// The npm package as a user meets it: `npm pack` of this repository (prepack builds www/pkg
// only when missing), installed into a fresh app folder, then
//   a. a Vite app (`vite build`, the repo's Vite) importing `kinema`, `kinema/webgl` (an alias
//      kept for apps written when WebGL2 was a second build), `kinema/streaming` (the
//      streaming-only flavour: no software audio decoder, no wgpu),
//      `kinema/device-shims` and `kinema/controls.css`, served from its dist/;
//   b. a plain page with an import map pointing at node_modules/kinema, no bundler;
//   c. TypeScript: app.ts uses every member of `Player` and every event of the installed .d.ts,
//      compiled with the repo's tsc --strict (the package's own .d.ts checked too);
// plus the tarball's file list. Chromium runs with default flags only (no WebGPU flag, no
// autoplay flag): playback starts from a click on the page's button, as for a user. The pages
// carry a strict Content-Security-Policy (no inline scripts, no blob: scripts): the AudioWorklet
// must load from the package's kinema_worklet.js, not from the blob: fallback.
// Every wait polls with a generous timeout; the checks are about function (time advances,
// pictures change and are not black), not speed.
import { test as nodeTest, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, readdirSync, copyFileSync, existsSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../scripts/serve.mjs';
import { launchBrowser, FIREFOX } from './harness.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const PANIC = /panicked|RuntimeError|unreachable executed|wasm trap/i;
// The video fixture: every frame shows its index as 8x2 black/white blocks (scripts/fixtures.sh).
const FIXTURE = join(repo, 'tests/fixtures/gen/h264-aac.mp4');

// Every test fails rather than hangs (generous: a loaded 2-core machine).
const test = (name, fn) => nodeTest(name, { timeout: 300_000 }, fn);

/**
 * Runs a command; resolves to its output, rejects with it (and the exit code) on failure.
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd?: string, timeout?: number }} [options]
 */
function run(cmd, args, { cwd, timeout = 600_000 } = {}) {
  // npm_* variables of an outer `npm test` (prefix, lifecycle event...) must not leak into the
  // user's npm runs.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  return new Promise((ok, fail) => {
    const t0 = Date.now();
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeout);
    child.on('error', (e) => { clearTimeout(timer); fail(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      if (code === 0) ok({ out, secs });
      else fail(new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed: ${signal ?? `exit ${code}`} after ${secs} s\n${out}`));
    });
  });
}

let tmp, tarball, tarFiles, app, browser;
const servers = [];

before(async () => {
  assert.ok(existsSync(FIXTURE), `${FIXTURE} is missing: run \`bash scripts/fixtures.sh\` first`);
  tmp = mkdtempSync(join(tmpdir(), 'kinema-npm-'));
  const packDir = join(tmp, 'pack');
  mkdirSync(packDir);
  // prepack builds www/pkg only when it is missing (minutes then).
  const pack = await run('npm', ['pack', '--pack-destination', packDir, '--loglevel=warn'], { cwd: repo, timeout: 1_500_000 });
  const tgz = readdirSync(packDir).filter((f) => f.endsWith('.tgz'));
  assert.equal(tgz.length, 1, `npm pack made ${tgz.join(', ') || 'no tarball'}:\n${pack.out}`);
  tarball = join(packDir, tgz[0]);
  tarFiles = (await run('tar', ['tzf', tarball], { cwd: tmp })).out.split('\n').filter(Boolean);
  console.log(`npm pack: ${tgz[0]}, ${statSync(tarball).size} bytes, ${tarFiles.length} files (${pack.secs} s)`);

  // A fresh app folder: package.json, the tarball installed from disk.
  app = join(tmp, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'kinema-npm-app', private: true, type: 'module' }, null, 2));
  const inst = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=warn', tarball], { cwd: app, timeout: 300_000 });
  console.log(`npm install <tarball> in a fresh app: ${inst.secs} s`);

  // The engine of this run as a user has it (harness.mjs: Chromium's or Firefox's defaults).
  browser = await launchBrowser();
}, { timeout: 1_800_000 });

after(async () => {
  await browser?.close().catch(() => {});
  for (const s of servers) await s.close().catch(() => {});
  if (tmp && process.env.KINEMA_KEEP_TMP) console.log(`kept ${tmp} (KINEMA_KEEP_TMP)`);
  else if (tmp) rmSync(tmp, { recursive: true, force: true });
}, { timeout: 60_000 });

test('the tarball holds the build, its worklet, the shims, the docs and licences', () => {
  const has = (f) => tarFiles.includes(`package/${f}`);
  const want = [
    'package.json', 'README.md', 'LICENSE-MIT', 'LICENSE-APACHE',
    'device-shims/index.js', 'device-shims/index.d.ts', 'device-shims/profiles.js',
    'device-shims/ui/controls.js', 'device-shims/ui/controls.css',
  ];
  for (const flavour of ['pkg', 'pkg-streaming']) {
    for (const f of ['kinema_web.js', 'kinema_web.d.ts', 'kinema_web_bg.wasm']) want.push(`www/${flavour}/${f}`);
    // The AudioWorklet module as its own file (scripts/build-web.sh copies web/js/worklet.js):
    // strict-CSP pages cannot load the blob: URL fallback.
    want.push(`www/${flavour}/kinema_worklet.js`);
  }
  const missing = want.filter((f) => !has(f));
  assert.deepEqual(missing, [], `missing from the tarball: ${missing.join(', ')}`);

  // Every snippet module the glue imports is shipped.
  for (const flavour of ['pkg', 'pkg-streaming']) {
    const glue = readFileSync(join(app, 'node_modules/kinema/www', flavour, 'kinema_web.js'), 'utf8');
    const snippets = [...glue.matchAll(/from '\.\/(snippets\/[^']+)'/g)].map((m) => `www/${flavour}/${m[1]}`);
    assert.deepEqual(snippets.filter((f) => !has(f)), [], `${flavour}: snippets imported but not shipped`);
  }

  // Not shipped: the set-top runtime (Rust), TV manifests, wasm-pack's own package.json (its
  // name and sideEffects would shadow the root package's for bundlers), .gitignore files.
  const unwanted = tarFiles.filter((f) => f.startsWith('package/device-shims/settop/')
    || (f.startsWith('package/device-shims/') && !/\.(js|d\.ts|css|md)$/.test(f))
    || /^package\/www\/pkg[^/]*\/package\.json$/.test(f) || f.endsWith('.gitignore'));
  assert.deepEqual(unwanted, [], 'files that must not be in the tarball');

  // Every target of the exports map exists in the installed package.
  const pkg = JSON.parse(readFileSync(join(app, 'node_modules/kinema/package.json'), 'utf8'));
  const targets = [pkg.main, pkg.types, ...Object.values(pkg.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)))];
  for (const t of targets) assert.ok(existsSync(join(app, 'node_modules/kinema', t)), `${t} (package.json) is not in the package`);
  assert.deepEqual(Object.keys(pkg.exports).sort(), ['.', './controls.css', './device-shims', './package.json', './streaming', './webgl']);
});

/**
 * The page's script: `imports` are its import lines, `pick` the code that chooses `init` and
 * `Player` (when the imports do not name them so). Builds the player, attaches the canvas, loads
 * the sample and plays on a click of the Play button; errors and warnings go to `playerErrors`.
 */
const mainJs = (imports, pick) => `${imports}
const say = (text) => { document.getElementById('error').textContent = text; };
try {
${pick}
  await init();
  const player = new Player();
  window.player = player;
  window.playerErrors = [];
  player.addEventListener('error', (e) => window.playerErrors.push(e.detail));
  player.addEventListener('warning', (e) => window.playerErrors.push({ warning: e.detail }));
  window.renderer = await player.attachCanvas(document.getElementById('video'));
  player.load('sample.mp4');
  document.getElementById('play').addEventListener('click', () => {
    player.play().catch((e) => window.playerErrors.push({ kind: 'play() rejected', message: String(e) }));
  });
  document.body.dataset.ready = '1';
} catch (e) {
  say(String(e?.stack ?? e));
  document.body.dataset.ready = 'error';
}
`;

/**
 * The page: a canvas, a Play button, the script; `inline` is an inline script (the import map)
 * whose hash the Content-Security-Policy allows. Nothing else inline: scripts and the worklet
 * only from 'self' (a blob: worklet is refused), WebAssembly compilation allowed.
 */
const indexHtml = (inline = '') => {
  const hash = inline ? ` 'sha256-${createHash('sha256').update(inline.replace(/^<script[^>]*>|<\/script>$/g, '')).digest('base64')}'` : '';
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self' 'wasm-unsafe-eval'${hash}">
  <title>Kinema from npm</title>
  ${inline}
</head>
<body>
  <div id="stage"><canvas id="video" width="640" height="360"></canvas></div>
  <button id="play">Play</button>
  <pre id="error"></pre>
  <script type="module" src="./main.js"></script>
</body>
</html>
`;
};

/**
 * Opens `url`, clicks Play, and checks what a user sees: the clock moves, the pictures change
 * and are not black, no page errors, no player errors. Returns what it measured.
 */
async function playsInPage(url, label) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  const consoleErrors = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('crash', () => problems.push('the page crashed'));
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(`${m.text()} (${m.location().url})`);
    if (PANIC.test(m.text())) problems.push(`console ${m.type()}: ${m.text()}`);
  });
  // Playwright does not see a worklet's module fetch; CSP violations show a refused blob: one.
  await page.addInitScript(() => {
    window.cspViolations = [];
    addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(`${e.effectiveDirective} refused ${e.blockedURI}`));
  });
  try {
    await page.goto(url, { timeout: 60_000 });
    const ready = await (await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 90_000, polling: 100 })).jsonValue();
    assert.equal(ready, '1', `${label}: the page did not start: ${await page.textContent('#error')}; ${problems.join('; ')}`);
    await page.click('#play'); // a user gesture: the AudioContext may start
    const poll = (fn, arg, ms) => page.waitForFunction(fn, arg, { timeout: ms, polling: 100 }).then((h) => h.jsonValue());
    await poll(() => window.player.state === 'playing' && window.player.currentTime > 0.1, null, 60_000).catch(async (e) => {
      const st = await page.evaluate(() => ({ state: window.player.state, t: window.player.currentTime, errors: window.playerErrors }));
      throw new Error(`${label}: not playing after the click: ${JSON.stringify(st)}; ${problems.join('; ')}\n${e.message}`);
    });

    // The clock: over at least 1 s of wall time, currentTime moves forward by 0.5 s or more.
    const w0 = Date.now();
    const t0 = await page.evaluate(() => window.player.currentTime);
    await new Promise((ok) => setTimeout(ok, 1000));
    const t1 = await poll((t0) => window.player.currentTime >= t0 + 0.5 && window.player.currentTime, t0, 30_000);
    const wall = (Date.now() - w0) / 1000;

    // The pictures: what the canvas shows (captureFrame), summarised in the page.
    const shot = () => page.evaluate(async () => {
      const { width: w, height: h, data } = await window.player.captureFrame();
      let sum = 0, bright = 0, hash = 0x811c9dc5;
      for (let i = 0; i < data.length; i += 4) {
        const y = 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
        sum += y;
        if (y > 128) bright++;
        hash = Math.imul(hash ^ data[i] ^ (data[i + 1] << 8) ^ (data[i + 2] << 16), 0x01000193) >>> 0;
      }
      // The fixture's frame index: bit b is block (b % 8, b / 8) of 8x2, white for 1.
      let index = 0;
      for (let b = 0; b < 16; b++) {
        const x = Math.floor(((b % 8) + 0.5) * w / 8), y = Math.floor((Math.floor(b / 8) + 0.5) * h / 2);
        const i = (y * w + x) * 4;
        if (0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2] > 128) index |= 1 << b;
      }
      return { w, h, mean: sum / (w * h), bright: bright / (w * h), hash, index, t: window.player.currentTime };
    });
    const a = await shot();
    let b = a;
    const until = Date.now() + 30_000;
    while ((b.hash === a.hash || b.index <= a.index) && Date.now() < until) {
      await new Promise((ok) => setTimeout(ok, 200));
      b = await shot();
    }
    const end = await page.evaluate(() => ({
      renderer: window.renderer, state: window.player.state, error: window.player.error, errors: window.playerErrors,
      stats: window.player.stats(), video: window.player.videoStats(), isolated: crossOriginIsolated,
      csp: window.cspViolations, attachDevice: typeof window.attachDevice,
      controlsCss: [...document.styleSheets].some((s) => [...s.cssRules].some((r) => /** @type {CSSStyleRule} */ (r).selectorText?.includes('.kinema-controls'))),
    }));
    console.log(`${label}: renderer ${end.renderer}, audio ${end.stats.audioMode} at ${end.stats.sampleRate} Hz ` +
      `(crossOriginIsolated ${end.isolated}), currentTime ${t0.toFixed(3)} → ${Number(t1).toFixed(3)} over ${wall.toFixed(2)} s wall; ` +
      `frames: index ${a.index} → ${b.index}, mean luma ${a.mean.toFixed(1)} → ${b.mean.toFixed(1)}, bright ${(b.bright * 100).toFixed(1)} % ` +
      `(${b.w}x${b.h}); video ${JSON.stringify(end.video)}`);
    if (consoleErrors.length) console.log(`${label}: console errors: ${consoleErrors.join(' | ')}`);

    assert.deepEqual(problems, [], `${label}: page errors`);
    assert.deepEqual(end.errors, [], `${label}: player errors and warnings`);
    assert.equal(end.error, null, `${label}: player.error`);
    assert.ok(['webgpu', 'webgl2', 'webgl1', '2d'].includes(end.renderer), `${label}: renderer ${end.renderer}`);
    assert.ok(t1 >= t0 + 0.5, `${label}: currentTime ${t0} → ${t1}`);
    assert.notEqual(b.hash, a.hash, `${label}: the canvas did not change in 30 s`);
    assert.ok(b.index > a.index, `${label}: the picture did not move forward (frame index ${a.index} → ${b.index})`);
    assert.ok(b.bright > 0.03 && b.mean > 20, `${label}: the picture is black (mean luma ${b.mean}, ${b.bright * 100} % bright)`);
    // Audio output open with the worklet from its file (the CSP refuses the blob: fallback).
    assert.deepEqual(end.csp, [], `${label}: Content-Security-Policy violations`);
    assert.ok(end.stats.audioMode === 'sab' || end.stats.audioMode === 'message', `${label}: audio output ${end.stats.audioMode}`);
    assert.ok(end.stats.framesPlayed > 0, `${label}: the worklet played no frames`);
    return end;
  } finally {
    await context.close().catch(() => {});
  }
}

test('a Vite app: import init, { Player } from "kinema", vite build, plays after a click', async () => {
  const root = join(app, 'vite-app');
  mkdirSync(join(root, 'public'), { recursive: true });
  copyFileSync(FIXTURE, join(root, 'public/sample.mp4'));
  writeFileSync(join(root, 'index.html'), indexHtml());
  // The package and the shims through its exports; ?webgl takes the package through its old
  // `kinema/webgl` name (the same module: one .wasm in dist).
  writeFileSync(join(root, 'main.js'), mainJs(
    `import initGpu, { Player as GpuPlayer } from 'kinema';
import initGl, { Player as GlPlayer } from 'kinema/webgl';
import initStreaming, { Player as StreamingPlayer } from 'kinema/streaming';
import { attachDevice } from 'kinema/device-shims';
import 'kinema/controls.css';`,
    `  const query = new URLSearchParams(location.search);
  const [init, Player] = query.has('streaming') ? [initStreaming, StreamingPlayer] : query.has('webgl') ? [initGl, GlPlayer] : [initGpu, GpuPlayer];
  window.attachDevice = attachDevice;`));
  const vite = await run(join(repo, 'node_modules/.bin/vite'), ['build', '--logLevel', 'info'], { cwd: root, timeout: 300_000 });
  console.log(`vite build: ${vite.secs} s\n${vite.out.split('\n').filter((l) => /dist\//.test(l)).map((l) => `  ${l.trim()}`).join('\n')}`);
  const dist = join(root, 'dist');
  const assets = readdirSync(join(dist, 'assets'));
  // Two modules: the package (kinema and kinema/webgl, one file) and the streaming-only flavour.
  assert.equal(assets.filter((f) => f.endsWith('.wasm')).length, 2, `two .wasm files in dist/assets: ${assets.join(', ')}`);
  assert.ok(assets.some((f) => /^kinema_worklet.*\.js$/.test(f)), `the worklet in dist/assets: ${assets.join(', ')}`);
  assert.ok(assets.some((f) => f.endsWith('.css')), `controls.css bundled into dist/assets: ${assets.join(', ')}`);

  const server = await startServer({ root: dist, port: 0 });
  servers.push(server);
  const gpu = await playsInPage(server.url, 'vite (kinema)');
  // The shims' export and the controls' CSS reached the page through the bundler.
  assert.equal(gpu.attachDevice, 'function', 'kinema/device-shims exports attachDevice');
  assert.ok(gpu.controlsCss, 'kinema/controls.css is on the page');
  // Stock Chromium here has no WebGPU adapter: `auto` draws with the package's own WebGL2
  // display. Headless Firefox here has no GL driver (no WebGL2): the package falls back to 2D.
  const want = FIREFOX ? '2d' : 'webgl2';
  assert.equal(gpu.renderer, want, `kinema draws with ${FIREFOX ? '2D (no WebGL2 in this Firefox)' : 'WebGL2 in stock Chromium'}`);
  const gl = await playsInPage(`${server.url}?webgl`, 'vite (kinema/webgl)');
  assert.equal(gl.renderer, want, 'kinema/webgl (the same package) draws alike');
  // The streaming-only flavour plays the same MP4: its audio through WebCodecs AudioDecoder.
  const streaming = await playsInPage(`${server.url}?streaming`, 'vite (kinema/streaming)');
  assert.equal(streaming.renderer, want, 'kinema/streaming draws with WebGL2 or 2D (it has no wgpu)');
});

test('a plain page: an import map to node_modules/kinema, no bundler, plays after a click', async () => {
  copyFileSync(FIXTURE, join(app, 'sample.mp4'));
  writeFileSync(join(app, 'index.html'), indexHtml(
    '<script type="importmap">{"imports":{"kinema":"./node_modules/kinema/www/pkg/kinema_web.js"}}</script>'));
  writeFileSync(join(app, 'main.js'), mainJs(`import init, { Player } from 'kinema';`, ''));
  const server = await startServer({ root: app, port: 0 });
  servers.push(server);
  await playsInPage(server.url, 'plain page');
});

/** Every member of `Player` and every event, used with their types (tsc --strict checks it). */
const APP_TS = `// Uses the whole public API of the installed package; compiled with tsc --strict, never run.
import init, { initSync, start, setAudioWorkletUrl, Player } from 'kinema';
import type {
  ActiveCue, Capabilities, ControlsView, DecodePath, InitOutput, KeyName, KinemaRequest, KinemaResponse, MediaInfo, PlayerError,
  PlayerErrorKind, PlayerEventMap, PlayerState, PlayerStats, PlayerWarning, RequestKind, StreamStats, TextTrackInfo, Thumbnail, TrackChoice, VideoStats,
} from 'kinema';
import initWebgl, { Player as WebglPlayer } from 'kinema/webgl';
import { attachDevice, detectProfile, PROFILES } from 'kinema/device-shims';
import type { AttachedDevice, Profile, ProfileName } from 'kinema/device-shims';

export async function main(canvas: HTMLCanvasElement, bytes: ArrayBuffer): Promise<void> {
  const out: InitOutput = await init();
  const memory: WebAssembly.Memory = out.memory;
  await init({ module_or_path: new URL('kinema_web_bg.wasm', import.meta.url) });
  const sync: InitOutput = initSync({ module: bytes });
  start();
  await initWebgl();

  const caps: Capabilities = await Player.capabilities();
  const decodable: boolean | undefined = caps.codecs.webcodecs['avc1'];
  const auto: DecodePath | 'none' = caps.decodePath;

  const player = new Player();
  const renderer: 'webgpu' | 'webgl2' | 'webgl1' | '2d' = await player.attachCanvas(canvas);
  await player.attachCanvas(canvas, 'webgl2');
  player.load('media/sample.mp4');
  await player.play();
  player.pause();
  player.seek(12.3);
  player.fastSeek(12.3);
  player.redraw();
  const frame = await player.captureFrame();
  const pixels: Uint8ClampedArray = frame.data;
  const area: number = frame.width * frame.height;
  const level: number = player.audioLevel();
  const bound: boolean = player.bindKey('Red', 'toggle-play');
  player.bindKey('Red', null);
  player.bindKey('Green');
  player.controlsActivate('playpause');
  player.controlsActivate(0);
  player.controlsPoke();
  const used: boolean = player.key('PlayPause');
  player.key('Ok', true, false);
  player.selectQuality(2);
  player.selectQuality(-1);
  player.setDecodePath('mse');
  // @ts-expect-error only 'auto' | 'webcodecs' | 'mse'
  player.setDecodePath('hardware');
  const seeking: boolean = player.seeking;
  player.setOutputLatency('read');
  player.setOutputLatency(0.04);
  // @ts-expect-error only 'ignore' | 'read' | seconds
  player.setOutputLatency('auto');
  player.setMaxVideoHeight(720);
  player.setMemoryBudget(64);
  const stats: PlayerStats = player.stats();
  const mode: 'sab' | 'message' | null = stats.audioMode;
  const stream: StreamStats | null = player.streamStats();
  const thumb: Thumbnail | null = player.thumbnail(12.5, 256);
  const thumbAt: number | undefined = player.thumbnail(3)?.x;
  const video: VideoStats | null = player.videoStats();
  const path: DecodePath | null | undefined = video?.decodePath;
  player.suspend();
  player.resume();
  const track: number = player.addTextTrack('subs/fr.vtt', 'fr', 'Français', 'captions');
  player.addTextTrack('subs/en.vtt');

  const cues: ActiveCue[] = player.activeCues;
  player.audioTrack = 1;
  const audioTrack: number = player.audioTrack;
  const audioTracks: TrackChoice[] = player.audioTracks;
  player.controls = true;
  const controls: boolean = player.controls;
  player.currentTime = 5;
  const time: number = player.currentTime;
  const decodePath: DecodePath | null = player.decodePath;
  const duration: number = player.duration;
  const error: PlayerError | null = player.error;
  const kind: PlayerErrorKind | undefined = error?.kind;
  player.loop = true;
  const loop: boolean = player.loop;
  const manual: number = player.manualQuality;
  const info: MediaInfo | null = player.mediaInfo;
  const budget: number | null | undefined = player.memoryBudget;
  player.muted = true;
  const muted: boolean = player.muted;
  const paused: boolean = player.paused;
  player.playbackRate = 1.5;
  const rate: number = player.playbackRate;
  const qualities: TrackChoice[] = player.qualities;
  const drawing: string | null | undefined = player.renderer;
  const seekable: [number, number] | null = player.seekable;
  player.textTrack = 0;
  const textTrack: number = player.textTrack;
  const textTracks: TextTrackInfo[] = player.textTracks;
  player.volume = 0.5;
  const volume: number = player.volume;
  const state: PlayerState = player.state;
  const suspended: boolean = player.suspended;
  // @ts-expect-error read-only
  player.duration = 10;
  // @ts-expect-error read-only
  player.state = 'playing';

  // Every event, its detail typed by PlayerEventMap.
  player.addEventListener('statechange', (e) => { const s: PlayerState = e.detail; });
  player.addEventListener('loadstart', (e) => { const url: string = e.detail; });
  player.addEventListener('loadedmetadata', (e) => { const m: MediaInfo = e.detail; const c: string | null = m.videoCodec; });
  player.addEventListener('durationchange', (e) => { const d: number = e.detail; });
  const onTime = (e: CustomEvent<number>): void => { const t: number = e.detail; };
  player.addEventListener('timeupdate', onTime);
  player.removeEventListener('timeupdate', onTime);
  // @ts-expect-error timeupdate's detail is a number
  player.addEventListener('timeupdate', (e) => { const wrong: string = e.detail; });
  player.addEventListener('play', (e) => { const n: null = e.detail; });
  player.addEventListener('pause', (e) => { const n: null = e.detail; }, { once: true });
  player.addEventListener('playing', (e) => { const n: null = e.detail; });
  player.addEventListener('waiting', (e) => { const n: null = e.detail; });
  player.addEventListener('seeking', (e) => { const to: number = e.detail; });
  player.addEventListener('seeked', (e) => { const at: number = e.detail; });
  player.addEventListener('ended', (e) => { const n: null = e.detail; });
  player.addEventListener('error', (e) => { const k: PlayerErrorKind = e.detail.kind; const m: string = e.detail.message; });
  player.addEventListener('warning', (e) => { const w: PlayerWarning = e.detail; const fatal: false = w.fatal; });
  setAudioWorkletUrl('/static/kinema_worklet.js');
  setAudioWorkletUrl(null);
  player.setRequestHook((req: KinemaRequest) => {
    const kind: RequestKind = req.kind;
    const from: number | undefined = req.range?.start;
    req.headers['Authorization'] = 'Bearer t';
    req.credentials = 'include';
    if (kind === 'segment') return false;
    return Promise.resolve(req);
  });
  player.setRequestHook(null);
  player.setResponseHook((res: KinemaResponse) => { const age: string | null = res.headers.get('age'); const s: number = res.status; const k: RequestKind = res.request.kind; });
  player.setResponseHook(null);
  // @ts-expect-error: a request kind outside the set
  const badKind: RequestKind = 'video';
  player.addEventListener('volumechange', (e) => { const v: number = e.detail.volume; const m: boolean = e.detail.muted; });
  player.addEventListener('ratechange', (e) => { const r: number = e.detail; });
  player.addEventListener('progress', (e) => { const b: number = e.detail.bufferedBytes + e.detail.totalBytes; });
  player.addEventListener('resize', (e) => { const px: number = e.detail.width * e.detail.height; });
  player.addEventListener('audiotrackchange', (e) => { const i: number = e.detail; });
  player.addEventListener('texttrackschange', (e) => { const n: null = e.detail; });
  player.addEventListener('texttrackchange', (e) => { const i: number = e.detail; });
  player.addEventListener('texttrackerror', (e) => { const i: number = e.detail.track; const k: PlayerErrorKind = e.detail.kind; });
  player.addEventListener('cuechange', (e) => { const texts: string[] = e.detail.map((c: ActiveCue) => c.text); });
  player.addEventListener('controlschange', (e) => {
    const v: ControlsView = e.detail;
    const focused: string | undefined = v.buttons.find((b) => b.focused)?.id;
    const menu: 'audio' | 'subtitles' | 'quality' | undefined = v.menu?.kind;
  });
  player.addEventListener('unhandledkey', (e) => { const k: KeyName = e.detail; });
  player.addEventListener('suspended', (e) => { const at: number = e.detail; });
  player.addEventListener('resumed', (e) => { const at: number = e.detail; });
  player.addEventListener('something-else', (e: Event) => {});
  const detailOf = <K extends keyof PlayerEventMap>(k: K, d: PlayerEventMap[K]): PlayerEventMap[K] => d;

  // Devices: the shims take either flavour's player.
  const device: AttachedDevice = attachDevice(player, { container: canvas.parentElement, profile: 'tizen' });
  const name: ProfileName = device.profile;
  device.ui?.destroy();
  device.detach();
  const gl = new WebglPlayer();
  attachDevice(gl, { profile: 'auto', controls: false });
  const profile: Profile = detectProfile('webos');
  const key: KeyName | null = PROFILES.hbbtv.keyOf(new KeyboardEvent('keydown'));

  player.destroy();
  player.free();
  gl[Symbol.dispose]();
}
`;

test('TypeScript: the whole Player API of the installed .d.ts compiles with tsc --strict', async () => {
  writeFileSync(join(app, 'app.ts'), APP_TS);
  // app.ts must keep up with the API: every member of the class, every event.
  const dts = readFileSync(join(app, 'node_modules/kinema/www/pkg/kinema_web.d.ts'), 'utf8');
  const cls = /\nexport class Player \{\n([\s\S]*?)\n\}\n/.exec(dts)?.[1];
  assert.ok(cls, 'class Player in kinema_web.d.ts');
  const members = [...cls.matchAll(/^ {4}(static )?(readonly )?(\[Symbol\.\w+\]|[A-Za-z_$][\w$]*)\s*(\(|:)/gm)];
  const map = /\nexport interface PlayerEventMap \{\n([\s\S]*?)\n\}/.exec(dts)?.[1] ?? '';
  const events = [...map.matchAll(/^ {4}(\w+):/gm)].map((m) => m[1]);
  const unused = [];
  for (const [, isStatic, readonly, name, kind] of members) {
    const uses = name === 'constructor' ? 'new Player('
      : name.startsWith('[') ? `${name}(`
      : isStatic ? `Player.${name}(`
      : kind === '(' ? `.${name}(`
      : readonly ? `player.${name};`
      : `player.${name} =`;
    if (!APP_TS.includes(uses)) unused.push(`${name} (expected \`${uses}\`)`);
    if (kind === ':' && !readonly && !APP_TS.includes(`player.${name};`)) unused.push(`${name} (read)`);
  }
  for (const e of events) if (!APP_TS.includes(`addEventListener('${e}'`)) unused.push(`event ${e}`);
  assert.ok(members.length > 40 && events.length > 20, `parsed ${members.length} members, ${events.length} events`);
  assert.deepEqual(unused, [], 'members of Player in kinema_web.d.ts that app.ts (in this test) does not use yet');

  const tsc = await run(join(repo, 'node_modules/.bin/tsc'), [
    '--noEmit', '--strict', '--skipLibCheck', 'false', '--lib', 'es2022,dom', '--module', 'esnext',
    '--moduleResolution', 'bundler', '--target', 'es2022', 'app.ts',
  ], { cwd: app, timeout: 300_000 }).catch((e) => e);
  if (tsc instanceof Error) assert.fail(tsc.message);
  console.log(`tsc --strict app.ts (${members.length} members, ${events.length} events): ok in ${tsc.secs} s`);
});
