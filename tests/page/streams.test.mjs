// Adaptive streaming in headless Chromium: HLS (fMP4, TS) and DASH (SegmentTemplate with a
// timeline, SegmentBase) from the test stream server, decoded by WebCodecs and drawn on the
// 2D-canvas display (cheap to read back; the renderers have their own tests). The ladders show each frame's index as a block code
// (scripts/streams.sh); the canvas is read back to check the picture follows the clock through
// quality and audio switches, and the server's per-session faults and request log check the
// network side (scripts/serve-control.mjs).
import { test as nodeTest, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, until, loadAndWatch, installFrameIndex, control as serverControl, requestLog as serverLog } from './harness.mjs';

const test = (name, fn) => nodeTest(name, { timeout: 90_000 }, fn);

let env;
let page;
/** Opens the demo at `query` with the frame reader and `window.sample` installed. */
async function openPage(query) {
  const p = await env.open(query);
  await installFrameIndex(p);
  await p.evaluate(() => {
    // (frame on the canvas, clock) every `everyMs`.
    window.sample = (ms, everyMs = 100) => new Promise((done) => {
      const p = window.kinema.player, out = [], t0 = performance.now();
      const step = async () => {
        const t = p.currentTime, state = p.state;
        out.push({ n: await window.frameIndex(), t, state, level: p.streamStats()?.level });
        if (performance.now() - t0 >= ms) done(out); else setTimeout(step, everyMs);
      };
      step();
    });
  });
  return p;
}
before(async () => {
  env = await launch();
  page = await openPage('?renderer=2d');
}, { timeout: 60_000 });
after(async () => {
  if (env?.consoleErrors.length) console.log(`console errors seen:\n  ${env.consoleErrors.slice(0, 20).join('\n  ')}`);
  await env?.close();
}, { timeout: 30_000 });

const control = (session, body) => serverControl(env, session, body);
const requestLog = (session) => serverLog(env, session);

/** Plays `url` until `secs` of media have played; returns the samples of the last 3 s. */
async function playAndCheck(url, { secs = 5 } = {}) {
  await loadAndWatch(page, url);
  await until(page, (secs) => {
    const p = window.kinema.player;
    return p.state === 'error' || (p.state === 'playing' && p.currentTime > secs);
  }, secs, 30_000);
  const err = await page.evaluate(() => window.kinema.player.error);
  assert.equal(err, null, `${url}: ${JSON.stringify(err)}`);
  const samples = (await page.evaluate(() => window.sample(3000))).filter((s) => s.state === 'playing');
  // The frame on screen vs the clock: frame n shows at n/30 s, one frame late in these
  // streams (video starts after the B-frame delay against audio, as in MSE players).
  const offsets = samples.map((s) => s.n - Math.floor(s.t * 30));
  const bad = offsets.filter((o) => o < -2 || o > 2);
  const info = await page.evaluate(() => ({ media: window.kinema.player.mediaInfo, stats: window.kinema.player.streamStats(), video: window.kinema.player.videoStats() }));
  console.log(`${url}: ${info.media.container} ${info.media.videoCodec}/${info.media.audioCodec}; frame-clock offsets ${JSON.stringify(count(offsets))}; stream ${JSON.stringify(info.stats)}`);
  assert.ok(samples.length >= 15, `${samples.length} samples`);
  assert.ok(bad.length <= samples.length * 0.1, `${url}: ${bad.length} of ${samples.length} samples more than 2 frames off`);
  return { samples, info };
}

function count(xs) {
  const m = {};
  for (const x of xs) m[x] = (m[x] ?? 0) + 1;
  return m;
}

for (const [name, url] of [
  ['HLS fMP4', 'fixtures/streams/hls-fmp4/master.m3u8'],
  ['HLS MPEG-TS', 'fixtures/streams/hls-ts/master.m3u8'],
  ['DASH SegmentTemplate + SegmentTimeline', 'fixtures/streams/dash-timeline/manifest.mpd'],
  ['DASH SegmentBase (sidx)', 'fixtures/streams/dash-base/manifest.mpd'],
]) {
  test(`${name} plays in the browser: the picture follows the clock`, async () => {
    const { info } = await playAndCheck(url);
    assert.ok(info.stats.segments >= 3, JSON.stringify(info.stats));
    assert.equal(info.video.decoderErrors, 0);
  });
}

test('HLS AES-128 (TS, and fMP4 with an encrypted init segment) plays with the picture on the clock; keys are requests of kind "key"', async () => {
  // scripts/streams.sh: hls-aes/ts is ffmpeg's own -hls_key_info_file output, hls-aes/fmp4 is
  // encrypted with openssl (init segment too, key tag before the MAP); 5.9 s each.
  await page.evaluate(() => {
    window.keyRequests = [];
    window.kinema.player.setRequestHook((r) => { if (r.kind === 'key') window.keyRequests.push(r.url); });
  });
  try {
    for (const kind of ['ts', 'fmp4']) {
      const { info } = await playAndCheck(`fixtures/streams/hls-aes/${kind}/index.m3u8`, { secs: 1.5 });
      assert.equal(info.video.decoderErrors, 0, `${kind}: decoder errors`);
    }
    const keys = await page.evaluate(() => window.keyRequests);
    assert.ok(keys.length >= 2 && keys.every((u) => u.endsWith('/hls-aes/key1.bin')), `key requests: ${JSON.stringify(keys)}`);
  } finally {
    await page.evaluate(() => window.kinema.player.setRequestHook(null));
  }
});

test('quality switches mid-playback (manual, then automatic) keep the picture on the clock', async () => {
  await loadAndWatch(page, 'fixtures/streams/hls-fmp4/master.m3u8');
  await until(page, () => window.kinema.player.qualities.length > 0, null, 10_000);
  const qualities = await page.evaluate(() => window.kinema.player.qualities);
  assert.deepEqual(qualities.map((q) => q.height), [234, 360, 720]);
  await page.evaluate(() => window.kinema.player.selectQuality(0));
  await until(page, () => window.kinema.player.state === 'playing' && window.kinema.player.currentTime > 2, null, 20_000);
  await page.evaluate(() => window.kinema.player.selectQuality(2));
  const samples = (await page.evaluate(() => window.sample(8000, 150))).filter((s) => s.state === 'playing');
  const levels = [...new Set(samples.map((s) => s.level))];
  const offsets = samples.map((s) => s.n - Math.floor(s.t * 30));
  console.log(`switch 0 → 2: levels seen ${JSON.stringify(levels)}; offsets ${JSON.stringify(count(offsets))}; ${JSON.stringify(await page.evaluate(() => window.kinema.player.videoStats()))}`);
  assert.ok(levels.includes(2), `reached the top level: ${levels}`);
  assert.ok(offsets.filter((o) => o < -2 || o > 2).length <= samples.length * 0.1, JSON.stringify(count(offsets)));
  const waits = await page.evaluate(() => window.events.filter((e) => e.type === 'waiting').length);
  assert.ok(waits <= 1, `rebuffered ${waits} times`);
  await page.evaluate(() => window.kinema.player.selectQuality(-1));
  assert.equal(await page.evaluate(() => window.kinema.player.manualQuality), -1);
});

/**
 * Plays `dir`'s 2-level ladder (`manifest`) at level 0, switches to 1 and back to 0, sampling picture,
 * level and sound; checks the picture on the clock, sound throughout, no error. Returns the
 * server's request log of the session.
 */
async function switchesKeepSound(dir, session, manifest = 'master.m3u8') {
  await loadAndWatch(page, `__s/${session}/fixtures/streams/${dir}/${manifest}`);
  await page.evaluate(() => window.kinema.player.selectQuality(0));
  await until(page, () => window.kinema.player.state === 'playing' && window.kinema.player.currentTime > 2, null, 20_000);
  const run = (ms) => page.evaluate((ms) => new Promise((done) => {
    const p = window.kinema.player, out = [], t0 = performance.now();
    const step = async () => {
      out.push({ n: await window.frameIndex(), t: p.currentTime, state: p.state, level: p.streamStats()?.level, rms: p.audioLevel() });
      if (performance.now() - t0 >= ms) done(out); else setTimeout(step, 150);
    };
    step();
  }), ms);
  const u0 = await page.evaluate(() => window.kinema.player.stats().underruns);
  // The level playing before the switch: the first sample after selectQuality(1) may already
  // show level 1 (Firefox's slower canvas read-back made that happen in a fresh-clone run).
  const before = await page.evaluate(() => window.kinema.player.streamStats()?.level);
  await page.evaluate(() => window.kinema.player.selectQuality(1));
  const up = await run(6000);
  await page.evaluate(() => window.kinema.player.selectQuality(0));
  const down = await run(5000);
  const samples = [...up, ...down].filter((s) => s.state === 'playing');
  const levels = [before, ...samples.map((s) => s.level)].filter((l, i, a) => i === 0 || l !== a[i - 1]);
  const offsets = samples.map((s) => s.n - Math.floor(s.t * 30));
  const quiet = samples.filter((s) => s.rms < 0.02).length;
  const r = await page.evaluate(() => ({ err: window.kinema.player.error, waits: window.events.filter((e) => e.type === 'waiting').length, stats: window.kinema.player.stats() }));
  console.log(`${dir} switches: levels ${JSON.stringify(levels)}; offsets ${JSON.stringify(count(offsets))}; quiet samples ${quiet}/${samples.length} ` +
    `(rms min ${Math.min(...samples.map((s) => s.rms)).toFixed(3)}); underruns +${r.stats.underruns - u0}; waiting ${r.waits}`);
  assert.equal(r.err, null, JSON.stringify(r.err));
  assert.ok(levels[0] === 0 && levels.includes(1) && levels.at(-1) === 0, `levels ${levels}`);
  assert.ok(offsets.filter((o) => o < -2 || o > 2).length <= samples.length * 0.1, JSON.stringify(count(offsets)));
  assert.ok(quiet <= samples.length * 0.1, `${quiet} of ${samples.length} samples without sound`);
  assert.ok(r.waits <= 1, `rebuffered ${r.waits} times`);
  return requestLog(session);
}

test('muxed audio coded differently per level (44.1 kHz mono / 48 kHz stereo): switches keep sound and picture', async () => {
  // hls-ts-muxed: each switch drains WebCodecs' AudioDecoder and configures it again at the
  // segment boundary; the core converts the output back to the session's format.
  await switchesKeepSound('hls-ts-muxed', 'muxed');
});

test('each level plays its own AUDIO group: the audio follows the level, with sound', async () => {
  // hls-groups: 234p with group "lo" (44.1 kHz mono), 360p with "hi" (48 kHz stereo).
  const log = await switchesKeepSound('hls-groups', 'groups');
  const audio = log.filter((e) => /audio-(lo|hi)\/seg\d+\.m4s$/.test(e.path)).map((e) => e.path.match(/audio-(lo|hi)/)[1]);
  const runs = audio.filter((g, i) => i === 0 || g !== audio[i - 1]);
  console.log(`hls-groups audio requests: ${audio.length}, groups in order ${JSON.stringify(runs)}`);
  assert.deepEqual(runs.slice(0, 3), ['lo', 'hi', 'lo'], `audio groups ${runs}`);
  assert.deepEqual(await page.evaluate(() => window.kinema.player.audioTracks.length), 1);
});

test('DASH: the audio bitrate follows the video level (64k with 234p, 128k with 360p), with sound', async () => {
  const log = await switchesKeepSound('dash-audio-ladder', 'audio-ladder', 'manifest.mpd');
  const audio = log.filter((e) => /chunk-stream[23]-\d+\.m4s$/.test(e.path)).map((e) => (e.path.includes('stream2-') ? '64k' : '128k'));
  const runs = audio.filter((b, i) => i === 0 || b !== audio[i - 1]);
  console.log(`dash-audio-ladder audio requests: ${audio.length}, bitrates in order ${JSON.stringify(runs)}`);
  assert.deepEqual(runs.slice(0, 3), ['64k', '128k', '64k'], `audio bitrates ${runs}`);
  assert.deepEqual(await page.evaluate(() => window.kinema.player.audioTracks.length), 1);
});

test('audio language switch mid-playback: video goes on, German segments play', async () => {
  const session = 'audio-switch';
  await loadAndWatch(page, `__s/${session}/fixtures/streams/hls-fmp4/master.m3u8`);
  await until(page, () => window.kinema.player.state === 'playing' && window.kinema.player.currentTime > 2, null, 20_000);
  const tracks = await page.evaluate(() => window.kinema.player.audioTracks);
  assert.deepEqual(tracks.map((t) => t.language), ['en', 'de']);
  const t0 = await page.evaluate(() => { window.kinema.player.audioTrack = 1; return window.kinema.player.currentTime; });
  await until(page, (t0) => window.kinema.player.state === 'playing' && window.kinema.player.currentTime > t0 + 2, t0, 10_000);
  assert.equal(await page.evaluate(() => window.kinema.player.audioTrack), 1);
  const { samples } = { samples: (await page.evaluate(() => window.sample(1500))).filter((s) => s.state === 'playing') };
  const offsets = samples.map((s) => s.n - Math.floor(s.t * 30));
  assert.ok(offsets.filter((o) => o < -2 || o > 2).length <= 2, JSON.stringify(count(offsets)));
  const log = await requestLog(session);
  assert.ok(log.some((e) => e.path.includes('/audio-de/')), 'German audio segments were fetched');
});

test('5% segment 404s and 10% connection resets: playback continues without an error', async () => {
  const session = 'flaky';
  await control(session, {
    seed: 7,
    status: { pattern: '\\.m4s$', code: 404, probability: 0.05 },
    reset: { pattern: '\\.m4s$', probability: 0.1 },
  });
  await loadAndWatch(page, `__s/${session}/fixtures/streams/hls-fmp4/master.m3u8`);
  await until(page, () => {
    const p = window.kinema.player;
    return p.state === 'error' || (p.state === 'playing' && p.currentTime > 12);
  }, null, 60_000);
  const r = await page.evaluate(() => ({ err: window.kinema.player.error, stats: window.kinema.player.streamStats() }));
  const log = await requestLog(session);
  const faults = log.filter((e) => e.faults.length).map((e) => e.faults.join(','));
  console.log(`flaky: ${faults.length} faulted requests of ${log.length} (${JSON.stringify(count(faults))}); ${JSON.stringify(r.stats)}`);
  assert.equal(r.err, null, JSON.stringify(r.err));
  assert.ok(faults.length > 0, 'faults were injected');
  assert.equal(await page.evaluate(() => window.events.filter((e) => e.type === 'error').length), 0);
});

test('bad manifests end in typed errors and the player plays again', async () => {
  const bad = 'data:application/vnd.apple.mpegurl,' + encodeURIComponent('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nmissing/index.m3u8\n');
  await loadAndWatch(page, bad);
  await until(page, () => window.kinema.player.state === 'error', null, 20_000);
  const err = await page.evaluate(() => window.kinema.player.error);
  console.log(`missing media playlist: ${JSON.stringify(err)}`);
  assert.ok(['network', 'decode'].includes(err.kind), JSON.stringify(err));
  await playAndCheck('fixtures/streams/dash-timeline/manifest.mpd', { secs: 2 });
  assert.deepEqual(env.problems, []);
});

test('the streaming-only package (no software audio decoder, no wgpu) plays HLS, DASH, MP3, FLAC and WAV; an Ogg Vorbis file is a typed unsupported error', async () => {
  const main = page;
  // The main page's player would go on playing the last test's stream beside this one: two
  // players on the loaded 2-core machine held pictures in both engines' runs. Stopped first.
  await main.evaluate(() => window.kinema.player.pause());
  page = await openPage('?renderer=2d&package=streaming');
  try {
    for (const url of ['fixtures/streams/hls-ts/master.m3u8', 'fixtures/streams/dash-timeline/manifest.mpd']) {
      const before = await page.evaluate(() => window.kinema.player.stats().framesPlayed);
      // Sampled after 5 s as in the default package's tests above. At 3 s the DASH ladder's
      // first ABR switches fall inside the sample window, and on the loaded 2-core machine
      // (both engines at once) Chromium once showed the picture 3-9 frames behind the clock
      // in 3 of 27 samples there: a hold at an early level switch, in either package, that
      // this test is not about.
      const { info } = await playAndCheck(url);
      const audio = await page.evaluate(() => window.kinema.player.stats());
      const played = audio.framesPlayed - before;
      console.log(`streaming-only ${url}: audio ${audio.audioMode}, ${played} frames played`);
      // Over 5 s of media and the 3 s sample: at least 3 s of sound at the device's rate.
      assert.ok(played > 3 * audio.sampleRate, `${url}: sound played (${played} frames at ${audio.sampleRate} Hz)`);
      assert.equal(info.video.decoderErrors, 0);
    }
    // An MP3 and a FLAC file (the core's demuxers, the browser's decoder) and a WAV (the core's
    // PCM conversion, no decoder).
    for (const [name, container] of [['clicks-10s.mp3', 'mp3'], ['clicks-10s.wav', 'wav'], ['clicks-10s.flac', 'flac']]) {
      const before = await page.evaluate(() => window.kinema.player.stats().framesPlayed);
      await loadAndWatch(page, `/fixtures/${name}`);
      await until(page, () => window.kinema.player.state === 'error' || window.kinema.player.currentTime > 3, null, 30_000);
      const file = await page.evaluate(() => ({ error: window.kinema.player.error, duration: window.kinema.player.duration, info: window.kinema.player.mediaInfo, stats: window.kinema.player.stats() }));
      const played = file.stats.framesPlayed - before;
      console.log(`streaming-only ${name}: ${file.info?.container} ${file.info?.audioCodec}, duration ${file.duration}, ${played} frames played`);
      assert.equal(file.error, null, `${name}: ${JSON.stringify(file.error)}`);
      assert.equal(file.info.container, container);
      assert.ok(Math.abs(file.duration - 10) < 0.001, `${name}: duration ${file.duration}`);
      // Until the clock passed 3 s: the output's latency and the worklet's reporting lag
      // behind the clock (143,872 frames at 48 kHz in one Firefox run), so 2 s is asked.
      assert.ok(played > 2 * file.stats.sampleRate, `${name}: sound played (${played} frames)`);
    }
    // A file whose container only the software decoder reads: typed, and the player goes on.
    await loadAndWatch(page, '/fixtures/clicks-10s.ogg');
    await until(page, () => window.kinema.player.state === 'error', null, 20_000);
    const err = await page.evaluate(() => window.kinema.player.error);
    console.log(`streaming-only clicks-10s.ogg: ${JSON.stringify(err)}`);
    assert.equal(err.kind, 'unsupported', JSON.stringify(err));
    assert.match(err.message, /no software audio decoder/);
    await playAndCheck('fixtures/streams/hls-fmp4/master.m3u8', { secs: 2 });
    assert.deepEqual(env.problems, []);
  } finally {
    await page.close().catch(() => {});
    page = main;
  }
});

test('DASH thumbnail tiles: thumbnail(t) names the tile whose picture is the one at t; the demo shows it over the seek bar', async () => {
  await playAndCheck('fixtures/streams/dash-thumbs/manifest.mpd', { secs: 2 });
  // Each thumbnail is the picture at a whole second k, so its frame code reads 30k.
  const read = await page.evaluate(async () => {
    const out = [];
    for (const t of [0.4, 12.5, 27.2]) {
      const th = window.kinema.player.thumbnail(t, 256);
      const img = await createImageBitmap(await (await fetch(th.url)).blob());
      const c = new OffscreenCanvas(th.width, th.height);
      const g = c.getContext('2d');
      g.drawImage(img, th.x, th.y, th.width, th.height, 0, 0, th.width, th.height);
      const px = g.getImageData(0, 0, th.width, th.height).data;
      let n = 0;
      for (let b = 0; b < 16; b++) {
        const x = Math.floor(((b % 8) + 0.5) * th.width / 8), y = Math.floor((Math.floor(b / 8) + 0.5) * th.height / 2);
        const i = (y * th.width + x) * 4;
        if (0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2] > 128) n |= 1 << b;
      }
      out.push({ t, n, url: th.url.split('/').pop(), x: th.x, y: th.y, start: th.start, duration: th.duration });
    }
    return out;
  });
  console.log(`  thumbnails: ${JSON.stringify(read)}`);
  assert.deepEqual(read.map((r) => r.n), [0, 360, 810]);
  assert.deepEqual(read.map((r) => [r.url, r.x, r.y, r.start, r.duration]), [
    ['tile-1.jpg', 0, 0, 0, 1], ['tile-2.jpg', 512, 0, 12, 1], ['tile-3.jpg', 512, 144, 27, 1],
  ]);
  // The demo: the pointer over the seek bar at 40 % of 30 s shows the tile of 12 s.
  const preview = await page.evaluate(() => {
    const seek = document.getElementById('seek'), r = seek.getBoundingClientRect();
    seek.dispatchEvent(new PointerEvent('pointermove', { clientX: r.left + r.width * 0.4, clientY: r.top + r.height / 2, bubbles: true }));
    const box = document.getElementById('preview');
    return { hidden: box.hidden, image: box.style.backgroundImage, position: box.style.backgroundPosition, width: box.style.width, time: Number(box.dataset.time) };
  });
  assert.equal(preview.hidden, false);
  assert.match(preview.image, /dash-thumbs\/tiles\/tile-2\.jpg/);
  assert.equal(preview.position, '-512px 0px');
  assert.equal(preview.width, '256px');
  assert.ok(Math.abs(preview.time - 12) < 0.5, `${preview.time}`);
  await page.evaluate(() => window.kinema.player.pause());
});

test('DASH images only: plays as a blank timeline with an unsupported warning, never an error', async () => {
  await page.evaluate(() => {
    window.warnings = [];
    window.kinema.player.addEventListener('warning', (e) => window.warnings.push(e.detail));
  });
  await loadAndWatch(page, 'fixtures/streams/dash-thumbs/images-only.mpd');
  await until(page, () => window.kinema.player.state === 'error' || window.kinema.player.currentTime > 1, null, 20_000);
  const r = await page.evaluate(() => ({ error: window.kinema.player.error, warnings: window.warnings, th: window.kinema.player.thumbnail(3) }));
  assert.equal(r.error, null);
  assert.equal(r.warnings.length, 1, JSON.stringify(r.warnings));
  assert.equal(r.warnings[0].kind, 'unsupported');
  assert.match(r.warnings[0].message, /thumbnail/);
  assert.match(r.th.url, /tile-1\.jpg$/);
  await page.evaluate(() => window.kinema.player.pause());
});
