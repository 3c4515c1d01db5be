// Adaptive streaming under network trouble in headless Chromium, with the test server's
// per-session link (scripts/serve-control.mjs): a bandwidth drop (ABR must switch down before
// the buffer runs dry) and a 3 s outage (playback must resume soon after the network is back).
// The browser versions of the sim tests in core/tests/stream_sim.rs.
import { test as nodeTest, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, until, loadAndWatch, control as serverControl } from './harness.mjs';

const test = (name, fn) => nodeTest(name, { timeout: 120_000 }, fn);
const mbit = (m) => (m * 1e6) / 8; // bytes per second

let env;
let page;
before(async () => {
  env = await launch();
  page = await env.open('?renderer=2d');
}, { timeout: 60_000 });
after(async () => {
  if (env?.consoleErrors.length) console.log(`console errors seen:\n  ${env.consoleErrors.slice(0, 20).join('\n  ')}`);
  await env?.close();
}, { timeout: 30_000 });

const control = (session, body) => serverControl(env, session, body);

/** { t, state, level, buffer, wall } every `everyMs` for `ms` (or until `stop()` is true). */
const watch = (ms, everyMs = 100) => page.evaluate(({ ms, everyMs }) => new Promise((done) => {
  const p = window.kinema.player, out = [], t0 = performance.now();
  const id = setInterval(() => {
    const s = p.streamStats();
    out.push({ t: p.currentTime, state: p.state, level: s?.level, buffer: s?.bufferSecs, wall: Date.now() });
    if (performance.now() - t0 >= ms) { clearInterval(id); done(out); }
  }, everyMs);
}), { ms, everyMs });

test('bandwidth drop 10 → 0.5 Mbit/s: ABR switches down before the buffer empties, no rebuffering', async () => {
  const session = 'bw-drop';
  await control(session, { rate: mbit(10) });
  await loadAndWatch(page, `__s/${session}/fixtures/streams/hls-fmp4/master.m3u8`);
  await until(page, () => window.kinema.player.state === 'playing' && window.kinema.player.currentTime > 3, null, 30_000);
  const top = await watch(1000);
  const waits0 = await page.evaluate(() => window.events.filter((e) => e.type === 'waiting').length);
  // The lowest rung is 306 kbit/s video + 122 kbit/s audio (+ container overhead): it fits
  // 0.5 Mbit/s, barely; the buffer built at 10 Mbit/s carries the switch.
  await control(session, { rate: mbit(0.5) });
  const dropAt = Date.now();
  const samples = await watch(14_000, 100);
  const levels = samples.map((s) => s.level).filter((l, i, a) => i === 0 || l !== a[i - 1]);
  const minBuffer = Math.min(...samples.map((s) => s.buffer));
  const down = samples.find((s) => s.level < top.at(-1).level);
  const waits = await page.evaluate(() => window.events.filter((e) => e.type === 'waiting').length) - waits0;
  const err = await page.evaluate(() => window.kinema.player.error);
  console.log(`before the drop: level ${top.at(-1).level}, buffer ${top.at(-1).buffer?.toFixed(2)} s; level sequence ${JSON.stringify(levels)}; ` +
    `first lower level ${down ? `${((down.wall - dropAt) / 1000).toFixed(2)} s after the drop with ${down.buffer.toFixed(2)} s buffered` : 'never'}; ` +
    `lowest buffer ${minBuffer.toFixed(2)} s; waiting events ${waits}; ${JSON.stringify(await page.evaluate(() => window.kinema.player.streamStats()))}`);
  assert.equal(err, null, JSON.stringify(err));
  assert.ok(top.at(-1).level >= 1, `climbed on 10 Mbit/s: level ${top.at(-1).level}`);
  assert.ok(down, `switched down: ${JSON.stringify(levels)}`);
  assert.ok(down.buffer > 0.5, `switched with ${down.buffer} s left`);
  assert.equal(waits, 0, 'no rebuffering');
  assert.ok(samples.at(-1).t > samples[0].t + 12, `played on: ${samples[0].t} → ${samples.at(-1).t}`);
  await control(session, { clear: true });
});

test('3 s outage while playing: playback resumes within 2 s of the network returning', async () => {
  const session = 'outage';
  // A slow link keeps the forward buffer short (the default budget is 30 s ahead), so the
  // outage empties it and playback really has to recover. 0.7 Mbit/s: the lowest rung
  // (~430 kbit/s with audio) fills the buffer only slowly faster than it plays (at 0.9 the
  // buffer reached 6 s once audio stopped competing with the video download at startup).
  await control(session, { rate: mbit(0.7) });
  await loadAndWatch(page, `__s/${session}/fixtures/streams/hls-fmp4/master.m3u8`);
  await until(page, () => window.kinema.player.state === 'playing' && window.kinema.player.currentTime > 4, null, 40_000);
  const before = await page.evaluate(() => window.kinema.player.streamStats());
  const backAt = Date.now() + 3000;
  await control(session, { outage: { untilMs: backAt } });
  const samples = await watch(backAt - Date.now() + 6000, 50);
  const during = samples.filter((s) => s.wall < backAt);
  const stalled = during.some((s) => s.state !== 'playing') || samples.some((s) => s.state === 'buffering');
  // Resumed: from this sample on, playing with the clock moving (a stall that begins after
  // the network returned counts against the player too).
  let from = samples.length;
  while (from > 0 && samples[from - 1].state === 'playing' && (from === samples.length || samples[from].t >= samples[from - 1].t)) from--;
  const resumed = samples[Math.max(from, samples.findIndex((s) => s.wall >= backAt))];
  const delay = resumed && samples.at(-1).t > resumed.t + 2 ? Math.max(0, (resumed.wall - backAt) / 1000) : Infinity;
  const err = await page.evaluate(() => window.kinema.player.error);
  const waits = await page.evaluate(() => window.events.filter((e) => e.type === 'waiting').length);
  const trace = samples.filter((_, i) => i % 10 === 0).map((s) => `${((s.wall - backAt) / 1000).toFixed(1)}:${s.state[0]}${s.t.toFixed(1)}/${s.buffer?.toFixed(1)}`);
  const log = (await (await fetch(`${env.server.url}__control/${session}/log`)).json()).entries;
  const around = log.filter((e) => e.startMs >= backAt - 1500 && e.startMs <= backAt + 3000)
    .map((e) => `${e.path.split('/').slice(-2).join('/')}@${((e.startMs - backAt) / 1000).toFixed(2)}..${e.endMs ? ((e.endMs - backAt) / 1000).toFixed(2) : '-'}${e.complete ? '' : '!'}`);
  console.log(`requests around the return: ${around.join(' ')}`);
  console.log(`outage trace (s from the network's return: state, time/buffer): ${trace.join(' ')}`);
  console.log(`outage: buffer before ${before.bufferSecs.toFixed(2)} s; stalled during it: ${stalled}; ` +
    `playing and advancing ${delay.toFixed(2)} s after the network returned; waiting events ${waits}; ${JSON.stringify(await page.evaluate(() => window.kinema.player.streamStats()))}`);
  assert.equal(err, null, JSON.stringify(err));
  assert.ok(stalled || waits >= 2, 'the outage emptied the buffer (otherwise this test proves nothing)');
  assert.ok(delay <= 2, `resumed ${delay} s after the network returned`);
  await control(session, { clear: true });
  assert.deepEqual(env.problems, []);
});
