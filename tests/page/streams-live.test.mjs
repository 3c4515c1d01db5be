// Live adaptive streaming in headless Chromium: HLS (fMP4, TS) and DASH ($Number$ template,
// SegmentTimeline)
// made live by the test server (scripts/serve-live.mjs: /__live/start=…,window=…,end=…/…),
// decoded by WebCodecs, drawn on the 2D canvas. The ladders show each frame's VOD index as
// a block code, and the server's live clock says which VOD frame is at the live edge, so the
// canvas gives the real distance behind the edge: latency = (live clock − frame/30) mod 30.
// Checked: the start hold-back behind the edge, ≥ 20 s of continuous playback across playlist
// / MPD reloads with the picture on the clock, duration Infinity and seekable = DVR window,
// DVR seeks (inside the window, clamped before it), the window sliding, and `ended` when the
// stream ends; live DASH `wvtt` subtitles from refreshed MPDs on time.
import { test as nodeTest, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, until, loadAndWatch, installFrameIndex, requestLog as serverLog } from './harness.mjs';

const test = (name, fn) => nodeTest(name, { timeout: 120_000 }, fn);
const VOD_S = 30; // the fixtures' length: the live stream loops it

let env;
let page;
before(async () => {
  env = await launch();
  page = await env.open('?renderer=2d');
  await installFrameIndex(page);
  await page.evaluate(() => {
    // (frame, clock, wall ms, state, seekable) every `everyMs` for `ms`.
    window.sample = (ms, everyMs = 200) => new Promise((done) => {
      const p = window.kinema.player, out = [], t0 = performance.now();
      const step = async () => {
        const t = p.currentTime, state = p.state, wall = Date.now(), seekable = p.seekable;
        out.push({ n: await window.frameIndex(), t, wall, state, seekable, level: p.streamStats()?.level });
        if (performance.now() - t0 >= ms) done(out); else setTimeout(step, everyMs);
      };
      step();
    });
  });
}, { timeout: 60_000 });
after(async () => {
  if (env?.consoleErrors.length) console.log(`console errors seen:\n  ${env.consoleErrors.slice(0, 20).join('\n  ')}`);
  await env?.close();
}, { timeout: 30_000 });

const requestLog = (session) => serverLog(env, session);
const mod = (x, m) => ((x % m) + m) % m;
/** Seconds behind the server's live clock, from the VOD frame on the canvas. */
const latency = (s, start) => mod((s.wall - start) / 1000 - s.n / 30, VOD_S);
/** Frame-vs-clock offset in frames, modulo the VOD loop (900 frames). */
const offset = (s) => mod(s.n - Math.floor(s.t * 30), VOD_S * 30);
const circ = (a, b) => { const d = mod(a - b, VOD_S * 30); return d > VOD_S * 15 ? d - VOD_S * 30 : d; };
const cueNumber = (text) => Number(text.split(' ')[1]);
const count = (xs) => { const m = {}; for (const x of xs) m[x] = (m[x] ?? 0) + 1; return m; };
const waits = () => page.evaluate(() => window.events.filter((e) => e.type === 'waiting').length);

/** Loads a live URL and waits for playback; returns what it looked like when it started. */
async function startLive(url) {
  await loadAndWatch(page, url);
  await until(page, () => ['playing', 'error'].includes(window.kinema.player.state), null, 30_000);
  // Position and window at the first `playing` event: a start at the window start (even a
  // transient one before the live reposition) shows here.
  const r = await page.evaluate(() => {
    const p = window.kinema.player, first = window.events.find((e) => e.type === 'playing');
    return { err: p.error, t: first?.t ?? p.currentTime, seekable: first?.seekable ?? p.seekable, duration: p.duration, state: p.state, playingEvents: window.events.filter((e) => e.type === 'playing').length };
  });
  assert.equal(r.err, null, `${url}: ${JSON.stringify(r.err)}`);
  // Times count from the video window's first segment, whichever list came in first (on the
  // alternate audio's timeline the window began at −2.01 s).
  assert.ok(r.seekable[0] >= -0.01, `${url}: the window starts at ${r.seekable[0]}`);
  return r;
}

/**
 * Plays for `ms` and checks: the picture follows the clock, the latency to the server's live
 * clock stays put, no rebuffering. Returns the samples and measured numbers.
 */
async function playsLive(label, start, ms, { holdBack = 6, target = 2 } = {}) {
  const waits0 = await waits();
  const samples = (await page.evaluate((ms) => window.sample(ms), ms)).filter((s) => s.state === 'playing');
  const offsets = samples.map(offset);
  const bad = offsets.filter((o) => Math.abs(circ(o, offsets[0])) > 2);
  const lat = samples.map((s) => latency(s, start));
  const first = lat.slice(0, 3).reduce((a, b) => a + b, 0) / 3, last = lat.slice(-3).reduce((a, b) => a + b, 0) / 3;
  const s0 = samples[0].seekable, s1 = samples.at(-1).seekable;
  const info = { samples: samples.length, latencyStart: +first.toFixed(2), latencyEnd: +last.toFixed(2), offsets: count(offsets.map((o) => circ(o, offsets[0]))), seekable: [s0, s1], waits: (await waits()) - waits0 };
  console.log(`${label}: ${JSON.stringify(info)}; ${JSON.stringify(await page.evaluate(() => window.kinema.player.streamStats()))}`);
  assert.ok(samples.length >= ms / 300, `${samples.length} samples while playing`);
  assert.ok(bad.length <= samples.length * 0.05, `${label}: ${bad.length} of ${samples.length} samples off the clock`);
  // No lasting shift either, in particular where the VOD loops (a discontinuity; reading a
  // frame jitters by a frame, so compare means, seen within 0.6): crossing it once placed the
  // new loop 2.3 frames late, where the audio list's longer segments (2.005333 s) had that
  // discontinuity start.
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rel = offsets.map((o) => circ(o, offsets[0]));
  const wrap = samples.findIndex((x, i) => i > 0 && x.n < samples[i - 1].n - VOD_S * 15);
  const [pre, post] = wrap >= 5 && samples.length - wrap >= 3 ? [rel.slice(Math.max(0, wrap - 25), wrap), rel.slice(wrap)] : [rel.slice(0, 25), rel.slice(-25)];
  const shift = mean(post) - mean(pre);
  console.log(`${label}: the picture shifted ${shift.toFixed(2)} frames against the clock${wrap > 0 ? ` across the loop at ${samples[wrap].t.toFixed(1)} s (${post.length} samples after)` : ''}`);
  assert.ok(Math.abs(shift) < 1.5, `${label}: the picture moved ${shift.toFixed(2)} frames against the clock`);
  // RFC 8216 6.3.3: at least three target durations behind the edge; a segment at most more,
  // plus the time a new segment takes to show up in a reload.
  assert.ok(first >= holdBack - 0.3 && first <= holdBack + target + 1.0, `${label}: started ${first.toFixed(2)} s behind the live edge`);
  // The clock is the audio device's: on a loaded 2-core machine it was seen 4% slow (0.9 s
  // in 21 s); unloaded, 0.03–0.08 s.
  assert.ok(Math.abs(last - first) < 1.0, `${label}: latency drifted ${first.toFixed(2)} → ${last.toFixed(2)}`);
  assert.equal(info.waits, 0, `${label}: rebuffered`);
  // The edge moves with the clock; the start follows once the window is full (old segments
  // drop out).
  assert.ok(s1[1] > s0[1] + ms / 1000 - 3, `${label}: the edge moves ${JSON.stringify([s0, s1])}`);
  assert.ok(s1[0] > s0[0] + (s0[1] - s0[0] >= 17 ? ms / 1000 - 3 : 2), `${label}: the window slides ${JSON.stringify([s0, s1])}`);
  assert.equal(await page.evaluate(() => window.kinema.player.error), null);
  return { samples, first, last };
}

test('live HLS fMP4: starts behind the edge, plays 21 s across reloads, duration Infinity, DVR seeks', async () => {
  const session = 'live-fmp4';
  const start = Date.now() - 47_000; // past the first loop: the 20 s window is full
  const r = await startLive(`__s/${session}/__live/start=${start},window=20/fixtures/streams/hls-fmp4/master.m3u8`);
  console.log(`fMP4 at start: ${JSON.stringify(r)}; ${r.seekable[1] - r.t} s behind the known edge`);
  assert.equal(r.duration, Infinity, 'duration of a live stream');
  assert.ok(Array.isArray(r.seekable) && r.seekable[1] - r.seekable[0] >= 17 && r.seekable[1] - r.seekable[0] <= 20.5, JSON.stringify(r.seekable));
  assert.ok(r.seekable[1] - r.t >= 5.8 && r.seekable[1] - r.t <= 8.2, `${r.seekable[1] - r.t} s behind the playlist's edge`);
  const log0 = (await requestLog(session)).filter((e) => e.path.endsWith('index.m3u8')).length;
  await playsLive('HLS fMP4 live', start, 21_000);
  const reloads = (await requestLog(session)).filter((e) => e.path.endsWith('index.m3u8')).length - log0;
  console.log(`HLS fMP4 live: ${reloads} media playlist reloads in 21 s`);
  assert.ok(reloads >= 8, `${reloads} reloads`);

  // DVR: 12 s behind the edge, inside the window.
  const [a, b] = await page.evaluate(() => window.kinema.player.seekable);
  const target = b - 12;
  const before = (await page.evaluate(() => window.sample(400))).filter((s) => s.state === 'playing');
  await page.evaluate((t) => { window.events = []; window.kinema.player.currentTime = t; }, target);
  await until(page, (t) => window.events.some((e) => e.type === 'seeked') && window.kinema.player.state === 'playing' && window.kinema.player.currentTime > t + 0.5, target, 15_000);
  const after = (await page.evaluate(() => window.sample(2000))).filter((s) => s.state === 'playing');
  const o = after.map(offset), ref = offset(before.at(-1));
  const lat = latency(after.at(-1), start);
  console.log(`DVR: window ${a.toFixed(2)}..${b.toFixed(2)}, seek to ${target.toFixed(2)}: at ${after.at(-1).t.toFixed(2)}, latency ${lat.toFixed(2)} s, offsets vs before ${JSON.stringify(count(o.map((x) => circ(x, ref))))}`);
  assert.ok(after.at(-1).t >= target && after.at(-1).t < target + 3.5, `plays from the seek target: ${after.at(-1).t}`);
  assert.ok(o.filter((x) => Math.abs(circ(x, ref)) > 2).length <= 1, 'the picture is the content of that time');
  assert.ok(lat > 11 && lat < 16, `DVR latency ${lat}`);

  // Before the window: clamps to the window start.
  const [ws] = await page.evaluate(() => window.kinema.player.seekable);
  await page.evaluate((t) => { window.events = []; window.kinema.player.currentTime = t; }, ws - 30);
  await until(page, () => window.events.some((e) => e.type === 'seeked') && window.kinema.player.state === 'playing', null, 15_000);
  const landed = await page.evaluate(() => window.events.find((e) => e.type === 'seeked').detail);
  console.log(`seek to ${(ws - 30).toFixed(2)}, window start ${ws.toFixed(2)}: landed at ${landed}`);
  assert.ok(landed >= ws - 0.01 && landed <= ws + 2.5, `clamped to the window start ${ws}: ${landed}`);
  assert.equal(await page.evaluate(() => window.kinema.player.error), null);
});

test('live HLS MPEG-TS: starts behind the edge, plays 21 s, reaches ended when the playlist gets ENDLIST', async () => {
  const start = Date.now() - 47_000;
  const end = 47 + 30; // the live clock ends 30 s after the load
  const r = await startLive(`__live/start=${start},window=20,end=${end}/fixtures/streams/hls-ts/master.m3u8`);
  console.log(`TS at start: ${JSON.stringify(r)}; ${r.seekable[1] - r.t} s behind the known edge`);
  assert.equal(r.duration, Infinity);
  await playsLive('HLS TS live', start, 21_000);
  await until(page, () => ['ended', 'error'].includes(window.kinema.player.state), null, 30_000);
  const fin = await page.evaluate(() => ({ err: window.kinema.player.error, d: window.kinema.player.duration, t: window.kinema.player.currentTime, seekable: window.kinema.player.seekable, ended: window.events.filter((e) => e.type === 'ended').length }));
  const lag = (Date.now() - start) / 1000 - end;
  console.log(`HLS TS live end: ${JSON.stringify(fin)}; ended ${lag.toFixed(2)} s after the server's end`);
  assert.equal(fin.err, null);
  assert.equal(fin.ended, 1);
  assert.ok(Number.isFinite(fin.d) && Math.abs(fin.d - fin.t) < 0.2, `a finite duration once ended: ${fin.d}`);
});

/** A live DASH stream from `dir` (its MPD made dynamic): edge, 18 s of play, MPD refreshes, end. */
async function liveDash(session, dir, { manifest = 'manifest.mpd', subtitles = false } = {}) {
  // 10 s into the live stream; it ends at 30 s on the live clock (the MPD turns static).
  // DASH stays within the first VOD loop: its segments' times repeat after one.
  const start = Date.now() - 10_000;
  const r = await startLive(`__s/${session}/__live/start=${start},window=20,end=30/fixtures/streams/${dir}/${manifest}`);
  console.log(`DASH ${dir} at start: ${JSON.stringify(r)}`);
  assert.equal(r.duration, Infinity);
  assert.ok(r.seekable[1] - r.t >= 5.8 && r.seekable[1] - r.t <= 8.2, `${r.seekable[1] - r.t} s behind the MPD's edge`);
  if (subtitles) {
    assert.deepEqual(await page.evaluate(() => window.kinema.player.textTracks.map((t) => t.language)), ['en', 'de']);
    await page.evaluate(() => { window.kinema.player.textTrack = 0; });
  }
  // On the DASH timeline presentation time = live clock: the frame is t·30 (+1 B-frame delay).
  const { samples } = await playsLive(`DASH ${dir} live`, start, 18_000);
  if (subtitles) {
    // wvtt segments from the refreshed MPDs: the fixture's cue n shows from 2n−1 to 2n+1 s
    // (presentation time = VOD time in the first loop). The first MPD listed up to 10 s.
    const cues = await page.evaluate(() => new Promise((done) => {
      const out = [], t0 = performance.now();
      const step = () => {
        const p = window.kinema.player;
        out.push({ t: p.currentTime, texts: p.activeCues.map((c) => c.text) });
        if (performance.now() - t0 >= 4000) done(out); else setTimeout(step, 100);
      };
      step();
    }));
    const clear = cues.filter((c) => ![...Array(16).keys()].some((k) => Math.abs(c.t - (2 * k + 1)) < 0.15));
    const wrong = clear.filter((c) => c.texts.length !== 1 || cueNumber(c.texts[0]) !== Math.floor((c.t - 1) / 2) + 1);
    console.log(`DASH ${dir} live subtitles: ${clear.length} samples ${clear[0]?.t.toFixed(2)}..${clear.at(-1)?.t.toFixed(2)} s, ${wrong.length} wrong ${JSON.stringify(wrong.slice(0, 3))}`);
    assert.ok(clear.length >= 25, `${clear.length} samples`);
    assert.ok(clear[0].t > 12, `cues beyond the first MPD's window: from ${clear[0].t}`);
    assert.equal(wrong.length, 0, 'the cue on screen is the one for the clock');
  }
  const offs = samples.map((s) => s.n - Math.floor(s.t * 30));
  assert.ok(offs.filter((o) => o < -2 || o > 2).length <= samples.length * 0.05, JSON.stringify(count(offs)));
  const mpds = (await requestLog(session)).filter((e) => e.path.endsWith('.mpd')).length;
  console.log(`DASH ${dir} live: ${mpds} MPD fetches`);
  assert.ok(mpds >= 6, `${mpds} MPD fetches`);
  await until(page, () => ['ended', 'error'].includes(window.kinema.player.state), null, 30_000);
  const fin = await page.evaluate(() => ({ err: window.kinema.player.error, d: window.kinema.player.duration, t: window.kinema.player.currentTime }));
  console.log(`DASH ${dir} live end: ${JSON.stringify(fin)}`);
  assert.equal(fin.err, null);
  assert.ok(Math.abs(fin.t - 30) < 0.3, `ended at ${fin.t}`);
  assert.deepEqual(env.problems, []);
}

test('live DASH ($Number$ template, dynamic MPD, wvtt subtitles): starts behind the edge, plays 20 s across MPD refreshes with the cues on time, ends', () => liveDash('live-dash', 'dash-number', { manifest: 'manifest-wvtt.mpd', subtitles: true }));

test('live DASH (SegmentTimeline sliding with the window, dynamic MPD): starts behind the edge, plays 20 s across MPD refreshes, ends', () => liveDash('live-dash-timeline', 'dash-timeline'));
