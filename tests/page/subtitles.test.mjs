// Subtitles in headless Chromium: WebVTT from HLS SUBTITLES renditions (fMP4 and MPEG-TS
// timelines), a DASH side-car AdaptationSet, DASH WebVTT in MP4 (wvtt segments) and a
// side-loaded file over a plain MP4, drawn by the display over the video. Evidence: the `cuechange` events and `activeCues` at known times (the
// fixture's cue n runs from 2n−1 s to 2n+1 s and reads "Cue n …"), and the pixels: the canvas
// is read back with and without subtitles at the same paused frame, and inside the cue's box the
// picture must be the video under an 80 % black background with white text on it, while outside
// the box nothing changed.
//
// STYLE blocks and vertical cues: a side-loaded file (written by this test into the fixtures
// folder) colours a cue with `::cue(.hot){color:#ff0000}`, whose text pixels must then be red,
// and has a two-column `vertical:rl` cue, whose drawn pixels must span a box taller than wide,
// its first (longer) column on the right.
//
// Runs on the renderer given by KINEMA_RENDERER (webgl2 by default, webgpu, 2d): the GPU
// renderers composite the subtitle overlay texture, the 2D display draws it with drawImage.
import { test as nodeTest, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launch, until, loadAndWatch, FIREFOX } from './harness.mjs';

// Small enough to write here rather than in scripts/fixtures.sh; served as /fixtures/styled.vtt.
const STYLED_VTT = `WEBVTT

STYLE
::cue(.hot) { color: #ff0000 }

hot
00:00:01.000 --> 00:00:09.000 line:0
<c.hot>HOT RED TEXT</c>

tall
00:00:01.000 --> 00:00:09.000 vertical:rl size:60% position:70%
VERTICALLY SET
`;
const gen = fileURLToPath(new URL('../fixtures/gen', import.meta.url));

const test = (name, fn) => nodeTest(name, { timeout: 90_000 }, fn);
// Firefox headless here has no WebGL ("Exhausted GL driver options") nor WebGPU: 2D there.
const RENDERER = process.env.KINEMA_RENDERER ?? (FIREFOX ? '2d' : 'webgl2');

let env;
let page;
before(async () => {
  mkdirSync(gen, { recursive: true });
  writeFileSync(`${gen}/styled.vtt`, STYLED_VTT);
  env = await launch({ webgpu: RENDERER === 'webgpu' });
  page = await env.open(`?renderer=${RENDERER}`);
  assert.equal(await page.evaluate(() => window.kinema.renderer), RENDERER);
  await page.evaluate(() => {
    window.cueLog = [];
    window.kinema.player.addEventListener('cuechange', (e) => {
      window.cueLog.push({ t: window.kinema.player.currentTime, texts: e.detail.map((c) => c.text) });
    });
    window.seekedCount = 0;
    window.kinema.player.addEventListener('seeked', () => { window.seekedCount++; });
    window.trackErrors = [];
    window.kinema.player.addEventListener('texttrackerror', (e) => window.trackErrors.push(e.detail));
    // Luma of the canvas now, with the picture's rectangle on it (letterboxed).
    window.grab = async () => {
      const p = window.kinema.player;
      const { width: w, height: h, data } = await p.captureFrame();
      const luma = new Float32Array(w * h);
      for (let i = 0; i < w * h; i++) luma[i] = 0.299 * data[4 * i] + 0.587 * data[4 * i + 1] + 0.114 * data[4 * i + 2];
      const info = p.mediaInfo;
      const s = Math.min(w / info.width, h / info.height);
      const rect = { x: (w - info.width * s) / 2, y: (h - info.height * s) / 2, w: info.width * s, h: info.height * s };
      return { w, h, luma: Array.from(luma), rect };
    };
  });
});
after(async () => {
  if (env?.consoleErrors.length) console.log(`console errors seen:\n  ${env.consoleErrors.slice(0, 20).join('\n  ')}`);
  await env?.close();
});

/** Loads paused and waits for metadata and the text track list. */
async function open(url, tracks) {
  await loadAndWatch(page, url, { play: false });
  // The demo autoplays its sample: `paused` is the app's wish and carries over loads.
  await page.evaluate(() => window.kinema.player.pause());
  await until(page, (n) => {
    const p = window.kinema.player;
    return p.state === 'error' || (p.mediaInfo && p.textTracks.length >= n);
  }, tracks, 20_000);
  assert.equal(await page.evaluate(() => window.kinema.player.error), null);
}

/** Exact seek while paused; waits until the picture and the cues for `t` are up. */
async function seekTo(t) {
  // The count before the seek: a seek the core completes at once (nothing to fetch, as in a
  // text-only presentation) dispatches `seeked` inside the setter.
  const n = await page.evaluate((t) => { const n = window.seekedCount; window.kinema.player.currentTime = t; return n; }, t);
  await until(page, (n) => window.seekedCount > n || window.kinema.player.state === 'error', n, 15_000);
  // One more animation frame so the display has drawn both.
  await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => setTimeout(ok, 100))));
}

const activeTexts = () => page.evaluate(() => window.kinema.player.activeCues.map((c) => c.text));
const cueNumber = (text) => Number(text.split(' ')[1]);

/**
 * Compares two grabs of the same frame, `on` with the cue shown, `off` without, over the first
 * line of `cue` (percent box): returns the share of pixels that fit "80 % black over the video,
 * or white text", the share of new bright (text) pixels, and the largest change outside the box.
 */
function composite(on, off, cue) {
  const { rect } = on;
  const lineH = (cue.height / cue.lines.length) / 100 * rect.h;
  const y0 = Math.ceil(rect.y + cue.y / 100 * rect.h + lineH * 0.2);
  const y1 = Math.floor(rect.y + cue.y / 100 * rect.h + lineH * 0.8);
  // The text is centred: its middle fifth of the box is surely covered by text and background.
  const bx = rect.x + cue.x / 100 * rect.w, bw = cue.width / 100 * rect.w;
  const x0 = Math.ceil(bx + bw * 0.4), x1 = Math.floor(bx + bw * 0.6);
  let dark = 0, text = 0, under = 0, changed = 0, n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = y * on.w + x, a = on.luma[i], b = off.luma[i];
      n++;
      if (a <= 0.2 * b + 40) dark++; // the video under the 80 % background
      if (a >= 190 && b < 150) text++; // white text where the video is not white
      if (a < 0.2 * b - 12) under++; // darker than any composite of the video can be
      if (Math.abs(a - b) > 20) changed++;
    }
  }
  // Outside: the top third of the picture, where no cue goes.
  let outside = 0;
  for (let y = Math.ceil(rect.y + rect.h * 0.05); y < rect.y + rect.h * 0.33; y += 3) {
    for (let x = Math.ceil(rect.x); x < rect.x + rect.w; x += 3) {
      outside = Math.max(outside, Math.abs(on.luma[y * on.w + x] - off.luma[y * on.w + x]));
    }
  }
  return { dark: dark / n, text: text / n, under: under / n, changed: changed / n, outside, n };
}

test('HLS fMP4: the default track shows each cue at its time, drawn over the video', async () => {
  await open('fixtures/streams/hls-fmp4/master.m3u8', 2);
  const tracks = await page.evaluate(() => window.kinema.player.textTracks);
  assert.deepEqual(tracks.map((t) => [t.language, t.default]), [['en', true], ['de', false]]);
  assert.equal(await page.evaluate(() => window.kinema.player.textTrack), 0);

  // Paused seeks either side of cue boundaries.
  for (const [t, want] of [[4.9, 2], [5.1, 3], [0.5, null], [9.5, 5]]) {
    await seekTo(t);
    const texts = await activeTexts();
    if (want === null) assert.deepEqual(texts, [], `at ${t}`);
    else assert.deepEqual(texts.map(cueNumber), [want], `at ${t}: ${texts}`);
  }

  // Pixels: the same paused frame with the cue and without it.
  await seekTo(5.5);
  const cue = (await page.evaluate(() => window.kinema.player.activeCues))[0];
  assert.match(cue.text, /^Cue 3 00:00:05/);
  assert.ok(cue.y + cue.height > 85 && Math.abs(cue.x + cue.width / 2 - 50) < 1, JSON.stringify(cue));
  const on = await page.evaluate(() => window.grab());
  await page.evaluate(() => { window.kinema.player.textTrack = -1; });
  await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => setTimeout(ok, 100))));
  assert.deepEqual(await activeTexts(), []);
  const off = await page.evaluate(() => window.grab());
  const c = composite(on, off, cue);
  const pc = (v) => `${(v * 100).toFixed(1)} %`;
  console.log(`  ${RENDERER}: cue line pixels: background ${pc(c.dark)}, text ${pc(c.text)}, changed ${pc(c.changed)}, impossible ${pc(c.under)}; max change outside the box ${c.outside.toFixed(1)} (${c.n} px)`);
  assert.ok(c.dark > 0.5, `only ${pc(c.dark)} of the line is the darkened video`);
  assert.ok(c.under < 0.02, `${pc(c.under)} of the line is darker than the background allows`);
  assert.ok(c.changed > 0.3, `the cue changed only ${pc(c.changed)} of its line`);
  assert.ok(c.text > 0.02, `no text drawn (${(c.text * 100).toFixed(2)} %)`);
  assert.ok(c.outside < 8, `the picture changed outside the cue box by ${c.outside}`);
  // Same cue later in its interval: the same text pixels; the next cue: different ones.
  await page.evaluate(() => { window.kinema.player.textTrack = 0; });
  await until(page, () => window.kinema.player.activeCues.length === 1, null, 10_000);
  await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => setTimeout(ok, 100))));
  const again = await page.evaluate(() => window.grab());
  const mask = (g) => g.luma.map((v) => (v >= 190 ? 1 : 0));
  const differ = (a, b, box) => {
    let d = 0;
    const { rect } = a;
    for (let y = Math.floor(rect.y + box.y / 100 * rect.h); y < rect.y + (box.y + box.height) / 100 * rect.h; y++) {
      for (let x = Math.floor(rect.x + box.x / 100 * rect.w); x < rect.x + (box.x + box.width) / 100 * rect.w; x++) d += Number(a[y * a.w + x] !== b[y * a.w + x]);
    }
    return d;
  };
  const mOn = Object.assign(mask(on), { w: on.w, rect: on.rect });
  const mAgain = Object.assign(mask(again), { w: on.w, rect: on.rect });
  await seekTo(7.5);
  const next = await page.evaluate(() => window.grab());
  const mNext = Object.assign(mask(next), { w: on.w, rect: on.rect });
  const same = differ(mOn, mAgain, cue), changed = differ(mOn, mNext, cue);
  console.log(`  text pixels differing: same cue ${same}, next cue ${changed}`);
  assert.ok(changed > 10 * same + 50, `cue 4's text looks like cue 3's (${changed} vs ${same})`);

  // Playing: each cue enters within a quarter second of its start.
  await seekTo(0.2);
  await page.evaluate(() => { window.cueLog = []; window.kinema.player.play().catch(() => {}); });
  await until(page, () => window.kinema.player.currentTime > 5.6 || window.kinema.player.state === 'error', null, 30_000);
  const log = await page.evaluate(() => window.cueLog);
  const entered = log.filter((e) => e.texts.length).map((e) => [cueNumber(e.texts[0]), e.t]);
  assert.deepEqual(entered.map((e) => e[0]), [1, 2, 3], JSON.stringify(log));
  for (const [n, t] of entered) assert.ok(Math.abs(t - (2 * n - 1)) < 0.25, `cue ${n} entered at ${t.toFixed(3)} s`);
  await page.evaluate(() => window.kinema.player.pause());
});

test('HLS MPEG-TS: X-TIMESTAMP-MAP puts the cues on the video timeline', async () => {
  await open('fixtures/streams/hls-ts/master.m3u8', 2);
  for (const [t, want] of [[2.9, 1], [3.1, 2], [6.9, 3], [7.1, 4]]) {
    await seekTo(t);
    assert.deepEqual((await activeTexts()).map(cueNumber), [want], `at ${t}`);
  }
});

test('DASH side-car WebVTT: off by default, German when chosen', async () => {
  await open('fixtures/streams/dash-timeline/manifest.mpd', 2);
  const p = () => page.evaluate(() => ({ track: window.kinema.player.textTrack, tracks: window.kinema.player.textTracks.map((t) => t.language) }));
  assert.deepEqual(await p(), { track: -1, tracks: ['en', 'de'] });
  await seekTo(5.5);
  assert.deepEqual(await activeTexts(), []);
  await page.evaluate(() => { window.kinema.player.textTrack = 1; });
  await until(page, () => window.kinema.player.activeCues.length === 1, null, 10_000);
  assert.match((await activeTexts())[0], /^Untertitel 3 /);
});

test('DASH WebVTT in MP4 (wvtt segments): each cue at its time, across segment boundaries, in both languages', async () => {
  await open('fixtures/streams/dash-number/manifest-wvtt.mpd', 2);
  assert.deepEqual(await page.evaluate(() => window.kinema.player.textTracks.map((t) => t.language)), ['en', 'de']);
  await page.evaluate(() => { window.kinema.player.textTrack = 0; });
  // 3.9 and 4.1: one cue (3–5 s) cut into two samples by the segment boundary at 4 s.
  for (const [t, want] of [[0.5, null], [2.9, 1], [3.1, 2], [3.9, 2], [4.1, 2], [6.9, 3], [7.1, 4]]) {
    await seekTo(t);
    await until(page, (want) => window.kinema.player.activeCues.length === (want === null ? 0 : 1), want, 10_000);
    assert.deepEqual((await activeTexts()).map(cueNumber), want === null ? [] : [want], `at ${t}`);
  }
  await page.evaluate(() => { window.kinema.player.textTrack = 1; });
  await until(page, () => /^Untertitel 4 /.test(window.kinema.player.activeCues[0]?.text ?? ''), null, 10_000);
  assert.equal(await page.evaluate(() => window.kinema.player.error), null);
});

test('side-loaded WebVTT over a plain MP4; a broken file is reported and playback goes on', async () => {
  await open('fixtures/h264-aac.mp4', 0);
  const index = await page.evaluate(() => window.kinema.player.addTextTrack('fixtures/streams/subs-en.vtt', 'en', 'English', 'captions'));
  assert.equal(index, 0);
  const t = await page.evaluate(() => window.kinema.player.textTracks[0]);
  assert.deepEqual([t.name, t.kind, t.sideLoaded], ['English', 'captions', true]);
  assert.equal(await page.evaluate(() => window.kinema.player.textTrack), -1);
  await page.evaluate(() => { window.kinema.player.textTrack = 0; });
  await seekTo(3.5);
  assert.deepEqual((await activeTexts()).map(cueNumber), [2]);
  const bad = await page.evaluate(() => window.kinema.player.addTextTrack('fixtures/missing.vtt', 'xx'));
  assert.equal(bad, 1);
  await page.evaluate(() => { window.trackErrors = []; window.kinema.player.textTrack = 1; window.kinema.player.play().catch(() => {}); });
  const err = await until(page, () => window.trackErrors[0], null, 15_000);
  assert.equal(err.track, 1);
  assert.equal(err.kind, 'network');
  const t0 = await page.evaluate(() => window.kinema.player.currentTime);
  await page.evaluate(() => new Promise((ok) => setTimeout(ok, 700)));
  const after = await page.evaluate(() => ({ t: window.kinema.player.currentTime, error: window.kinema.player.error, state: window.kinema.player.state }));
  assert.equal(after.error, null);
  assert.equal(after.state, 'playing');
  assert.ok(after.t > t0 + 0.3, `playback stalled: ${t0} → ${after.t}`);
  // Back to the good track while playing.
  await page.evaluate(() => { window.kinema.player.textTrack = 0; });
  await until(page, () => window.kinema.player.activeCues.length === 1, null, 10_000);
  await page.evaluate(() => window.kinema.player.pause());
});

test('STYLE colours the text red; a vertical:rl cue is drawn as a tall column', async () => {
  await open('fixtures/h264-aac.mp4', 0);
  await page.evaluate(() => { window.kinema.player.addTextTrack('fixtures/styled.vtt', 'en', 'Styled'); });
  await until(page, () => window.kinema.player.textTracks.length === 1, null, 10_000);
  await page.evaluate(() => { window.kinema.player.textTrack = 0; });
  await seekTo(3.0);
  await until(page, () => window.kinema.player.activeCues.length === 2, null, 10_000);
  await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => setTimeout(ok, 100))));
  const cues = await page.evaluate(() => window.kinema.player.activeCues);
  const hot = cues.find((c) => c.id === 'hot'), tall = cues.find((c) => c.id === 'tall');
  assert.equal(hot.vertical, '');
  assert.equal(tall.vertical, 'rl');
  // 12 characters per column (60 % of the height at a 5 % font): two columns, at the left edge
  // (rl lines go right to left, and the auto line is the last one).
  assert.deepEqual(tall.lines, ['VERTICALLY', 'SET']);
  assert.ok(tall.x < 0.1 && tall.height > 4 * tall.width, JSON.stringify(tall));
  // Grab with the cues and without (same paused frame), and measure in the page.
  await page.evaluate(async () => { window.onFrame = await window.kinema.player.captureFrame(); });
  await page.evaluate(() => { window.kinema.player.textTrack = -1; });
  await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => setTimeout(ok, 100))));
  assert.deepEqual(await activeTexts(), []);
  const m = await page.evaluate(({ hot, tall }) => {
    const on = window.onFrame, { width: w, height: h } = on;
    return (async () => {
      const offFrame = await window.kinema.player.captureFrame();
      const info = window.kinema.player.mediaInfo;
      const s = Math.min(w / info.width, h / info.height);
      const rect = { x: (w - info.width * s) / 2, y: (h - info.height * s) / 2, w: info.width * s, h: info.height * s };
      const px = (box) => ({
        x0: Math.max(0, Math.floor(rect.x + box.x / 100 * rect.w)), x1: Math.min(w, Math.ceil(rect.x + (box.x + box.width) / 100 * rect.w)),
        y0: Math.max(0, Math.floor(rect.y + box.y / 100 * rect.h)), y1: Math.min(h, Math.ceil(rect.y + (box.y + box.height) / 100 * rect.h)),
      });
      // The styled cue: its text pixels, that is the pixels the cue changed (the box spans the
      // picture's width; the video beside the text stays) that are bright, unlike the 80 %
      // black under the text.
      const b = px(hot);
      const diff = (i) => Math.abs(on.data[i] - offFrame.data[i]) + Math.abs(on.data[i + 1] - offFrame.data[i + 1]) + Math.abs(on.data[i + 2] - offFrame.data[i + 2]);
      let red = 0, white = 0, bright = 0, maxR = 0, sumR = 0, sumG = 0, sumB = 0, n = 0;
      for (let y = b.y0; y < b.y1; y++) {
        for (let x = b.x0; x < b.x1; x++) {
          const i = 4 * (y * w + x), r = on.data[i], g = on.data[i + 1], bl = on.data[i + 2];
          if (diff(i) <= 60) continue; // the video, untouched
          n++;
          if (Math.max(r, g, bl) < 120) continue; // the background, with the video under it
          bright++;
          sumR += r; sumG += g; sumB += bl; maxR = Math.max(maxR, r);
          if (r >= 180 && g <= 90 && bl <= 90) red++;
          if (r >= 190 && g >= 190 && bl >= 190) white++;
        }
      }
      // The vertical cue: the bounding box of every pixel the cues changed in its box, and the
      // rows changed in its right and left halves (one column each).
      const v = px(tall);
      let minX = w, maxX = -1, minY = h, maxY = -1;
      const half = { right: [h, -1], left: [h, -1] };
      const mid = (v.x0 + v.x1) / 2;
      for (let y = v.y0; y < v.y1; y++) {
        for (let x = v.x0; x < v.x1; x++) {
          const i = 4 * (y * w + x);
          if (diff(i) > 60) {
            minX = Math.min(minX, x); maxX = Math.max(maxX, x); minY = Math.min(minY, y); maxY = Math.max(maxY, y);
            const side = x >= mid ? half.right : half.left;
            side[0] = Math.min(side[0], y); side[1] = Math.max(side[1], y);
          }
        }
      }
      return {
        n, bright, red, white, maxR,
        mean: bright ? [sumR / bright, sumG / bright, sumB / bright].map(Math.round) : null,
        column: { width: maxX - minX + 1, height: maxY - minY + 1, x: minX, y: minY },
        right: half.right[1] - half.right[0] + 1, left: half.left[1] - half.left[0] + 1,
        box: v, pic: rect,
      };
    })();
  }, { hot, tall });
  console.log(`  ${RENDERER}: styled cue: ${m.bright} text pixels of ${m.n} changed, ${m.red} red, ${m.white} white, mean RGB ${m.mean}, max R ${m.maxR}; vertical cue drawn ${m.column.width}×${m.column.height} px at (${m.column.x}, ${m.column.y}), right column ${m.right} px tall, left ${m.left} px`);
  assert.ok(m.bright > 0.01 * m.n, `no text drawn in the styled cue (${m.bright} of ${m.n})`);
  assert.ok(m.red > 0.3 * m.bright, `only ${m.red} of ${m.bright} text pixels are red`);
  assert.ok(m.white < 0.02 * m.bright, `${m.white} text pixels are white, not red`);
  assert.ok(m.mean[0] > 180 && m.mean[1] < 90 && m.mean[2] < 90, `text mean RGB ${m.mean}`);
  assert.ok(m.column.height > 3 * m.column.width, `the vertical cue drew ${m.column.width}×${m.column.height} px`);
  // rl: the first column (10 characters) on the right, the second (3) left of it.
  assert.ok(m.right > 2 * m.left && m.left > 0, `right column ${m.right} px, left ${m.left} px`);
  // At the picture's left edge, as laid out.
  assert.ok(m.column.x < m.pic.x + m.pic.w * 0.1, JSON.stringify(m.column));
});

test('DASH text only (no audio, no video): the text plays on its own clock, drawn on the canvas, to the end', async () => {
  await open('fixtures/streams/dash-thumbs/text-only.mpd', 2);
  const info = await page.evaluate(() => window.kinema.player.mediaInfo);
  assert.equal(info.videoCodec, null);
  assert.equal(info.duration, 30);
  // The text is the content: a track shows unasked (no default among them: the first, en).
  assert.equal(await page.evaluate(() => window.kinema.player.textTrack), 0);
  await seekTo(5.5);
  assert.deepEqual((await activeTexts()).map(cueNumber), [3]);
  // Drawn: white text pixels in the lower part of the canvas, none in the top half.
  const bright = await page.evaluate(async () => {
    const { width: w, height: h, data } = await window.kinema.player.captureFrame();
    let low = 0, high = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = 4 * (y * w + x);
        if (0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2] >= 190) {
          if (y > h * 0.7) low++;
          else if (y < h * 0.5) high++;
        }
      }
    }
    return { low, high, w, h };
  });
  console.log(`  ${RENDERER}: text-only cue: ${bright.low} text pixels in the bottom 30 % of ${bright.w}x${bright.h}, ${bright.high} in the top half`);
  assert.ok(bright.low > 200, `no cue text drawn: ${JSON.stringify(bright)}`);
  assert.equal(bright.high, 0);
  // Playing: cues enter on the clock, and the presentation ends at its duration.
  await seekTo(26.5);
  await page.evaluate(() => { window.cueLog = []; window.kinema.player.play().catch(() => {}); });
  await until(page, () => ['ended', 'error'].includes(window.kinema.player.state), null, 20_000);
  const end = await page.evaluate(() => ({ state: window.kinema.player.state, t: window.kinema.player.currentTime, log: window.cueLog }));
  assert.equal(end.state, 'ended');
  assert.ok(Math.abs(end.t - 30) < 0.1, `ended at ${end.t}`);
  const entered = end.log.filter((e) => e.texts.length).map((e) => [cueNumber(e.texts[0]), e.t]);
  // From 26.5 s (cue 13 on): cue 14 enters at 27 s, cue 15 at 29 s.
  assert.deepEqual(entered.map((e) => e[0]), [14, 15], JSON.stringify(end.log));
  for (const [n, t] of entered) assert.ok(Math.abs(t - (2 * n - 1)) < 0.25, `cue ${n} entered at ${t.toFixed(3)} s`);
});
