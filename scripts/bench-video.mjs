// Video benchmark: Kinema against Chromium's own <video>, same files, same browser run.
// Measures time to first frame, seek latency (exact seek, paused, to 5 targets) and frames
// dropped over 20 s of playback, on 720p30 and 1080p30 H.264/AAC MP4 and VP9/Opus WebM. Rounds
// per file alternate which player goes first; medians. Prints a table of ratios
// (Kinema / <video>).
// Usage: node scripts/bench-video.mjs   (after scripts/build-web.sh; results go to BENCHMARKS.md by hand)
// Environment: ROUNDS (default 5); RENDERER=webgpu (default: the WebGPU flags below) or webgl2
// (stock Chromium: no WebGPU adapter, the package's WebGL2 display); THROTTLE=4 (DevTools CPU
// throttling, a TV-class CPU; default 1); PLAY_SECONDS (default 20; 0 skips the playback part);
// SIZES=720,1080 (default both).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launch } from '../tests/page/harness.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const gen = `${repo}/tests/fixtures/gen`;
mkdirSync(gen, { recursive: true });
const SIZES = (process.env.SIZES ?? '720,1080').split(',').map(Number);
const RENDERER = process.env.RENDERER ?? 'webgpu';
const THROTTLE = Number(process.env.THROTTLE ?? 1);
const PLAY_SECONDS = Number(process.env.PLAY_SECONDS ?? 20);
/** @type {Record<string, string[]>} */
const files = {};
for (const h of SIZES) {
  files[`bench-${h}p30-h264.mp4`] = ['-c:v', 'libx264', '-preset', 'veryfast', '-g', '60', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '128k', '-movflags', '+faststart'];
  files[`bench-${h}p30-vp9.webm`] = ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-g', '60', '-b:v', h > 720 ? '4M' : '2M', '-c:a', 'libopus'];
}
for (const [name, codec] of Object.entries(files)) {
  if (existsSync(`${gen}/${name}`)) continue;
  const size = name.includes('1080p') ? '1920x1080' : '1280x720';
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=s=${size}:r=30:d=22`,
    '-f', 'lavfi', '-i', "aevalsrc='0.2*sin(2*PI*440*t)|0.2*sin(2*PI*550*t)':s=48000:d=22", ...codec, `${gen}/${name}`]);
}

// WebGPU flags (harness WEBGPU_ARGS): without them headless SwiftShader destroys the WebGPU
// device at the first present and Kinema's draws would be free no-ops. WebGL2: stock Chromium.
const env = await launch({ webgpu: RENDERER === 'webgpu' });
const page = await env.open(`?renderer=${RENDERER}`);
if (await page.evaluate(() => window.kinema.renderer) !== RENDERER) throw new Error(`the ${RENDERER} renderer is not in use`);
await page.evaluate(() => window.kinema.player.pause());
if (THROTTLE !== 1) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: THROTTLE });
}
const SEEKS = [12.34, 3.21, 17.7, 8.05, 0.5];
// The breakdown of the first frame: when the first response byte came (Resource Timing of the
// first request for the file made after t0; Chromium makes no entry for a <video>'s own
// requests), when `loadedmetadata` fired; the rest is configuring the decoder, decoding the
// first keyframe and drawing it. (Kinema's first picture is presented in the task its decoder
// output arrives in, so "decoded" and "shown" cannot be told apart from the page.)
await page.evaluate(() => {
  performance.setResourceTimingBufferSize(10_000);
  /** @type {any} */ (window).firstByte = (/** @type {string} */ url, /** @type {number} */ t0) => {
    const abs = new URL(url, location.href).href;
    const hits = performance.getEntriesByName(abs).filter((e) => e.startTime >= t0)
      .map((e) => /** @type {PerformanceResourceTiming} */ (e).responseStart).filter((x) => x > 0);
    return hits.length ? Math.min(...hits) - t0 : NaN;
  };
});

async function measureVideo(url) {
  return page.evaluate(async ({ url, SEEKS, PLAY_SECONDS }) => {
    const v = document.createElement('video');
    v.muted = false;
    v.style.width = '640px';
    document.body.append(v);
    const frame = () => new Promise((ok) => v.requestVideoFrameCallback((now) => ok(now)));
    performance.clearResourceTimings();
    const t0 = performance.now();
    let meta = 0;
    v.addEventListener('loadedmetadata', () => { meta = performance.now() - t0; }, { once: true });
    v.src = url;
    const first = frame();
    await v.play();
    const ttff = (await first) - t0;
    const byte = /** @type {any} */ (window).firstByte(url, t0);
    v.pause();
    const seeks = [];
    for (const t of SEEKS) {
      const s0 = performance.now();
      const shown = frame();
      v.currentTime = t;
      await new Promise((ok) => v.addEventListener('seeked', ok, { once: true }));
      seeks.push((await shown) - s0);
    }
    if (!PLAY_SECONDS) {
      v.remove();
      return { ttff, seeks, dropped: 0, total: 0, byte, meta };
    }
    v.currentTime = 0;
    await new Promise((ok) => v.addEventListener('seeked', ok, { once: true }));
    const q0 = v.getVideoPlaybackQuality();
    await v.play();
    await new Promise((ok) => setTimeout(ok, PLAY_SECONDS * 1000));
    const q1 = v.getVideoPlaybackQuality();
    v.pause();
    v.remove();
    return { ttff, seeks, dropped: q1.droppedVideoFrames - q0.droppedVideoFrames, total: q1.totalVideoFrames - q0.totalVideoFrames, byte, meta };
  }, { url, SEEKS, PLAY_SECONDS });
}

async function measureKinema(url) {
  return page.evaluate(async ({ url, SEEKS, PLAY_SECONDS }) => {
    const p = window.kinema.player;
    const presented = () => p.videoStats()?.presented ?? 0;
    const untilNewFrame = (n0) => new Promise((ok) => {
      const poll = () => (presented() > n0 ? ok(performance.now()) : requestAnimationFrame(poll));
      // Presents happen in timer/decoder callbacks; poll at every animation frame and microtask.
      const id = setInterval(() => { if (presented() > n0) { clearInterval(id); ok(performance.now()); } }, 1);
      poll();
    });
    performance.clearResourceTimings();
    const t0 = performance.now();
    let meta = 0;
    p.addEventListener('loadedmetadata', () => { meta = performance.now() - t0; }, { once: true });
    p.load(url);
    const first = untilNewFrame(0);
    await p.play();
    const ttff = (await first) - t0;
    const byte = /** @type {any} */ (window).firstByte(url, t0);
    p.pause();
    const seeks = [];
    for (const t of SEEKS) {
      const n0 = presented();
      const s0 = performance.now();
      const shown = untilNewFrame(n0);
      p.seek(t);
      seeks.push((await shown) - s0);
    }
    if (!PLAY_SECONDS) return { ttff, seeks, dropped: 0, total: 0, av: 0, byte, meta };
    p.seek(0);
    await new Promise((ok) => p.addEventListener('seeked', ok, { once: true }));
    const before = p.videoStats();
    await p.play();
    await new Promise((ok) => setTimeout(ok, PLAY_SECONDS * 1000));
    const after = p.videoStats();
    p.pause();
    return { ttff, seeks, dropped: after.dropped - before.dropped, total: after.presented - before.presented, av: after.avOffsetMs, byte, meta };
  }, { url, SEEKS, PLAY_SECONDS });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const rows = [];
for (const name of Object.keys(files)) {
  const url = `fixtures/${name}`;
  const runs = { video: [], kinema: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 ? ['kinema', 'video'] : ['video', 'kinema'];
    for (const who of order) {
      const m = who === 'video' ? await measureVideo(url) : await measureKinema(url);
      runs[who].push(m);
      console.log(JSON.stringify({ name, round: r, who, ...m }));
    }
  }
  const agg = (list) => ({
    byte: median(list.map((m) => m.byte)),
    meta: median(list.map((m) => m.meta)),
    gap: median(list.map((m) => m.ttff - m.meta)),
    ttff: median(list.map((m) => m.ttff)),
    seeks: list.flatMap((m) => m.seeks),
    dropped: median(list.map((m) => m.dropped)),
    total: median(list.map((m) => m.total)),
  });
  rows.push({ name, video: agg(runs.video), kinema: agg(runs.kinema) });
}
console.log(`\n${RENDERER}, CPU throttling ${THROTTLE}×, ${ROUNDS} rounds`);
console.log('\n| file | metric | Kinema | <video> | ratio |');
console.log('|---|---|---|---|---|');
for (const { name, video, kinema } of rows) {
  const r = (a, b) => (b > 0 ? (a / b).toFixed(2) : 'n/a');
  console.log(`| ${name} | time to first frame, median of ${ROUNDS} (ms) | ${kinema.ttff.toFixed(0)} | ${video.ttff.toFixed(0)} | ${r(kinema.ttff, video.ttff)} |`);
  console.log(`| ${name} | seek latency, median of ${SEEKS.length * ROUNDS} (ms) | ${median(kinema.seeks).toFixed(0)} | ${median(video.seeks).toFixed(0)} | ${r(median(kinema.seeks), median(video.seeks))} |`);
  if (PLAY_SECONDS) console.log(`| ${name} | frames dropped / shown in ${PLAY_SECONDS} s (median) | ${kinema.dropped} / ${kinema.total} | ${video.dropped} / ${video.total} | - |`);
}
console.log('\nFirst frame, where the milliseconds go (medians, ms after load()/src=):');
console.log('\n| file | player | first byte | loadedmetadata | metadata → first frame | first frame |');
console.log('|---|---|---:|---:|---:|---:|');
const ms = (/** @type {number} */ x) => (Number.isFinite(x) ? x.toFixed(0) : '—');
for (const { name, video, kinema } of rows) {
  for (const [who, m] of [['Kinema', kinema], ['<video>', video]]) {
    console.log(`| ${name} | ${who} | ${ms(m.byte)} | ${ms(m.meta)} | ${ms(m.gap)} | ${ms(m.ttff)} |`);
  }
}
if (env.problems.length) console.log(`page problems: ${env.problems.join('; ')}`);
await env.close();
