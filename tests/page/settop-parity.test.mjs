// Set-top parity: the scripted remote session (device-shims/settop/remote.script) runs in the
// demo page in headless Chromium AND in the native set-top host (device-shims/settop/host),
// which loads the core's standalone .wasm (target/kinema-core.wasm) into wasmtime and into
// wasmi. Both read the frame index off the picture on screen at each checkpoint (the
// fixtures burn a 16-bit block code into every frame); the indices must agree within ±1
// frame. Needs `bash scripts/build-core-wasm.sh` and the host built in release mode
// (scripts/test.sh does both).
import { test as nodeTest, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, installFrameIndex } from './harness.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = `${repo}/device-shims/settop/remote.script`;
const HOST = process.env.KINEMA_SETTOP ?? `${repo}/target/release/kinema-settop`;
const WASM = `${repo}/target/kinema-core.wasm`;
const test = (name, fn) => nodeTest(name, { timeout: 120_000 }, fn);

/** The script's steps as [command, ...args] (the same format the set-top host reads). */
function steps() {
  return readFileSync(SCRIPT, 'utf8').split('\n')
    .map((l) => l.split('#')[0].trim()).filter(Boolean).map((l) => l.split(/\s+/));
}

let env;
let page;
before(async () => {
  for (const f of [HOST, WASM]) assert.ok(existsSync(f), `${f} is missing: run scripts/build-core-wasm.sh and build device-shims/settop/host`);
  env = await launch();
  page = await env.open('?renderer=webgl2');
  await installFrameIndex(page);
}, { timeout: 60_000 });
after(async () => { await env?.close(); }, { timeout: 30_000 });

/**
 * Runs the script inside the page (no round trips between steps, so a `wait time` is
 * followed by the next key within one animation frame). Keys go through `player.key(name)`
 * when the JS API has it; otherwise through the JS calls the default key map stands for
 * (core/src/input.rs): PlayPause toggles, Right/Left/FastForward/Rewind seek by ±10/±30 s.
 */
async function runInPage(script) {
  return page.evaluate(async (script) => {
    const p = window.kinema.player;
    const seen = { loaded: 0, pause: 0, seeked: 0, ended: 0 };
    for (const [type, key] of [['loadedmetadata', 'loaded'], ['pause', 'pause'], ['seeked', 'seeked'], ['ended', 'ended']]) {
      p.addEventListener(type, () => { seen[key] += 1; });
    }
    const frame = () => new Promise((ok) => requestAnimationFrame(ok));
    const until = async (cond, what) => {
      const t0 = performance.now();
      while (!cond()) {
        if (performance.now() - t0 > 30_000) throw new Error(`timed out waiting for ${what}`);
        await frame();
      }
    };
    const by = { Right: 10, Left: -10, FastForward: 30, Rewind: -30 };
    const press = (name) => {
      if (typeof p.key === 'function') return p.key(name);
      if (name === 'PlayPause') return p.paused ? p.play() : p.pause();
      if (name in by) return p.seek(p.currentTime + by[name]);
      throw new Error(`no JS equivalent of key ${name}`);
    };
    let mark = { ...seen };
    const checkpoints = [];
    for (const [cmd, a, b] of script) {
      if (cmd === 'load' || cmd === 'key' || cmd === 'seek') mark = { ...seen };
      if (cmd === 'load') { p.pause(); p.load(`fixtures/${a}`).catch(() => {}); }
      else if (cmd === 'key') press(a);
      else if (cmd === 'seek') p.seek(Number(a));
      else if (cmd === 'wait' && a === 'time') await until(() => p.currentTime >= Number(b), `time ${b}`);
      else if (cmd === 'wait') {
        const k = { loaded: 'loaded', paused: 'pause', seeked: 'seeked', ended: 'ended' }[a];
        await until(() => seen[k] > mark[k] || (k === 'loaded' && seen.loaded > 0), a);
      } else if (cmd === 'checkpoint') {
        await frame(); await frame();
        checkpoints.push({ name: a, time: p.currentTime, index: await window.frameIndex() });
      } else throw new Error(`unknown step ${cmd}`);
    }
    return checkpoints;
  }, script);
}

/** Runs the host against the harness's server (asynchronously: the server lives in this process). */
async function runHost(engine, script = SCRIPT) {
  const dir = mkdtempSync(join(tmpdir(), 'kinema-settop-'));
  const out = join(dir, `${engine}.json`);
  try {
    const { stdout } = await promisify(execFile)(HOST, ['run', '--wasm', WASM, '--script', script,
      '--base', `${env.server.url}fixtures/`, '--engine', engine, '--out', out],
    { env: { ...process.env, XDG_RUNTIME_DIR: tmpdir() }, timeout: 90_000 });
    console.log(stdout.trim());
    return JSON.parse(readFileSync(out, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the set-top host (wasmtime and wasmi) shows the frames the browser shows at every checkpoint', async () => {
  const script = steps();
  const browser = await runInPage(script);
  console.log(`browser: ${browser.map((c) => `${c.name}=${c.index}`).join(' ')}`);
  assert.equal(browser.length, script.filter(([c]) => c === 'checkpoint').length);
  const runs = {};
  for (const engine of ['wasmtime', 'wasmi']) {
    const host = await runHost(engine);
    runs[engine] = host;
    console.log(`${engine}: ${host.checkpoints.map((c) => `${c.name}=${c.index}`).join(' ')}; load ${host.load_ms.toFixed(1)} ms, session ${host.run_ms.toFixed(0)} ms, ${host.frames.length} frames`);
    assert.equal(host.checkpoints.length, browser.length);
    for (const [i, c] of host.checkpoints.entries()) {
      assert.equal(c.name, browser[i].name);
      assert.ok(c.index !== null, `${engine} ${c.name}: no picture on screen`);
      assert.ok(Math.abs(c.index - browser[i].index) <= 1,
        `${engine} ${c.name}: frame ${c.index}, browser ${browser[i].index} (t ${c.time} vs ${browser[i].time})`);
    }
    // Every presented picture is one of the fixture's frames, shown in order between seeks,
    // at its own timestamp (the index read from the pixels matches the picture's time).
    for (const f of host.frames) {
      assert.equal(f.index, Math.round(f.timestamp_us * 30 / 1e6), `${engine}: picture at ${f.timestamp_us} µs shows ${f.index}`);
    }
  }
  // The virtual clock makes the run deterministic: both engines present the same pictures at
  // the same virtual times, pixel for pixel.
  assert.deepEqual(runs.wasmi.frames, runs.wasmtime.frames);
});

// The app requests besides load/seek cross the ABI too (they were dropped by the byte encoding
// before ABI version 3): the on-screen controls take Back while they are shown, Back at the top
// level comes back as UnhandledKey (a TV app exits on it), and suspend/resume release and
// restore the session at its position.
test('the set-top host drives the controls, Back and suspend/resume through the ABI', async () => {
  const host = await runHost('wasmtime', `${repo}/device-shims/settop/lifecycle.script`);
  const log = host.log.map((l) => l.replace(/^\s*[\d.]+ ms /, ''));
  const at = (re) => log.findIndex((l) => re.test(l));
  const shown = at(/^ShowControls visible=true /);
  // (Turning the controls on sends a hidden view first.)
  const hidden = log.findIndex((l, i) => i > shown && /^ShowControls visible=false /.test(l));
  const unhandled = log.filter((l) => l === 'UnhandledKey(Back)');
  assert.ok(shown >= 0, `the bar was never shown: ${log.join(' | ')}`);
  assert.ok(hidden > shown, `the first Back hid the bar: ${log.join(' | ')}`);
  assert.equal(unhandled.length, 1, 'only the second Back went unused');
  assert.ok(log.indexOf('UnhandledKey(Back)') > hidden);
  const suspended = log.find((l) => l.startsWith('Suspended'));
  const resumed = log.find((l) => l.startsWith('Resumed'));
  assert.ok(suspended && resumed, `suspend/resume events: ${log.join(' | ')}`);
  const position = Number(/position: ([\d.]+)/.exec(suspended)[1]);
  const back = Number(/Resumed\(([\d.]+)\)/.exec(resumed)[1]);
  assert.ok(position >= 2 && position < 2.5, `suspended at ${position}`);
  assert.ok(Math.abs(back - position) < 0.1, `resumed at ${back}, suspended at ${position}`);
  const cp = Object.fromEntries(host.checkpoints.map((c) => [c.name, c]));
  // Nothing is presented while suspended (3 s of virtual time between the two events).
  const when = (prefix) => Number(/^\s*([\d.]+) ms /.exec(host.log.find((l) => l.replace(/^\s*[\d.]+ ms /, '').startsWith(prefix)))[1]);
  const [from, to] = [when('Suspended'), when('Resumed')];
  assert.ok(to - from >= 3000, `suspended for ${to - from} ms`);
  const during = host.frames.filter((f) => f.at_ms > from && f.at_ms < to);
  assert.equal(during.length, 0, `${during.length} pictures presented while suspended`);
  // The first picture after the resume is the one of the suspend position; it plays on from
  // there (it was playing when suspended), so 200 ms later the picture is ~6 frames on.
  const first = host.frames.find((f) => f.at_ms >= to);
  const want = Math.round(position * 30);
  assert.ok(first && Math.abs(first.index - want) <= 1, `first picture after resume: ${first?.index}, suspended at frame ${want}`);
  assert.ok(cp.resumed.index !== null && cp.resumed.index > first.index && cp.resumed.index <= want + 8,
    `200 ms after the resume: frame ${cp.resumed.index}`);
  console.log(`lifecycle: suspended at ${position}, resumed at ${back}, first picture ${first.index}, 200 ms later ${cp.resumed.index}; controls ${log.filter((l) => l.startsWith('ShowControls')).length} views`);
});

// A phone video turned 90° clockwise (rotate-90.mp4: h264-aac.mp4's 320×180 pictures with a
// tkhd matrix): the rotation crosses the ABI in ConfigureVideoDecoder and the host's wgpu
// renderer turns the picture. Every picture must come out portrait and, read back at where
// the turn puts each block of the frame code, show the frame of its own timestamp (a picture
// drawn unturned, or turned the wrong way, reads as another number).
test('the set-top host draws a rotated phone video portrait, each picture turned right', async () => {
  const host = await runHost('wasmtime', `${repo}/device-shims/settop/rotated.script`);
  assert.ok(host.frames.length > 10, `${host.frames.length} pictures presented`);
  for (const f of host.frames) {
    assert.deepEqual(f.shown, [180, 320], `picture at ${f.timestamp_us} µs shown ${f.shown}`);
    assert.equal(f.index, Math.round(f.timestamp_us * 30 / 1e6), `picture at ${f.timestamp_us} µs reads as frame ${f.index}`);
  }
  const cp = Object.fromEntries(host.checkpoints.map((c) => [c.name, c]));
  // Within one frame, as the remote script's checkpoints (4.5 s is a frame boundary).
  assert.ok(Math.abs(cp['seek-4.5'].index - 135) <= 1, `after the seek to 4.5 s: frame ${cp['seek-4.5'].index}`);
  console.log(`rotated: ${host.frames.length} pictures, all 180x320; checkpoints ${host.checkpoints.map((c) => `${c.name}=${c.index}`).join(' ')}`);
});
