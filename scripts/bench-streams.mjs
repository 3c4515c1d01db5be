// Adaptive-streaming benchmark: Kinema against hls.js (HLS) and dash.js (DASH) on the same
// streams, in the same headless Chromium run, through the same scripted bandwidth trace.
//
// Each player session gets its own server control session (scripts/serve-control.mjs): its
// requests go to /__s/<session>/fixtures/streams/…, and node applies the trace to that session
// with POST /__control/<session> at fixed times after the load call, so every player sees the
// same link. Measured per session:
//   startup      load() call → the player's first `playing` event (also: → first frame shown:
//                Kinema's videoStats().presented > 0, <video>'s first requestVideoFrameCallback)
//   stalls       `waiting` → `playing` after the first `playing` (a `waiting` within 0.5 s of
//                the end that `ended` closes is not counted); rebuffering ratio = stall time /
//                wall time from the first `playing` to `ended`
//   quality      from the server's request log (the same source for every player): for each
//                2 s video segment index the rung of its last complete download, averaged
//                (nominal video bitrate 300/800/2500 kbit/s, height 234/360/720); switches =
//                rung changes between consecutive indices; extra = video segment requests
//                beyond one per index (abandoned or replaced downloads)
// Three rounds per stream (ROUNDS=n), alternating which player goes first; medians.
// The players run with their default settings. Kinema on the demo page with the 2D display
// (?renderer=2d); the references on a bare page with a <video>, scripts from node_modules
// copied into tests/fixtures/gen/bench-vendor/ (git-ignored, served under /fixtures/).
// Usage: node scripts/bench-streams.mjs   (after scripts/build-web.sh and scripts/streams.sh;
// results go to BENCHMARKS.md by hand). STREAMS=hls-fmp4,dash-timeline picks streams; SAMPLES=1
// also prints each session's 0.5 s samples (position, buffer, level) and video request times.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launch } from '../tests/page/harness.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const gen = `${repo}/tests/fixtures/gen`;
if (!existsSync(`${gen}/streams/hls-fmp4/master.m3u8`)) throw new Error('no stream fixtures: run `bash scripts/streams.sh` first');
const vendor = `${gen}/bench-vendor`;
mkdirSync(vendor, { recursive: true });
const HLSJS = `${repo}/node_modules/hls.js/dist/hls.min.js`;
const DASHJS = `${repo}/node_modules/dashjs/dist/modern/umd/dash.all.min.js`;
for (const f of [HLSJS, DASHJS]) if (!existsSync(f)) throw new Error(`${f} is missing: run npm install`);
copyFileSync(HLSJS, `${vendor}/hls.min.js`);
copyFileSync(DASHJS, `${vendor}/dash.all.min.js`);
writeFileSync(`${vendor}/ref.html`, `<!doctype html><meta charset="utf-8"><title>reference player</title>
<video id="v" width="640" height="360"></video>
<script src="hls.min.js"></script><script src="dash.all.min.js"></script>`);
const { version: hlsVersion } = JSON.parse(await (await import('node:fs/promises')).readFile(`${repo}/node_modules/hls.js/package.json`, 'utf8'));
const { version: dashVersion } = JSON.parse(await (await import('node:fs/promises')).readFile(`${repo}/node_modules/dashjs/package.json`, 'utf8'));

const STREAMS = {
  'hls-fmp4': { url: 'fixtures/streams/hls-fmp4/master.m3u8', ref: 'hls.js', rung: (p) => /\/(234|360|720)p\/seg(\d+)\.m4s$/.exec(p) },
  'hls-ts': { url: 'fixtures/streams/hls-ts/master.m3u8', ref: 'hls.js', rung: (p) => /\/(234|360|720)p\/seg(\d+)\.ts$/.exec(p) },
  'dash-timeline': {
    url: 'fixtures/streams/dash-timeline/manifest.mpd', ref: 'dash.js',
    rung: (p) => { const m = /chunk-stream([012])-(\d+)\.m4s$/.exec(p); return m && [m[0], [234, 360, 720][m[1]], m[2]]; },
  },
};
const KBPS = { 234: 300, 360: 800, 720: 2500 }; // the encoder targets of scripts/streams.sh

// The trace: [start s, Mbit/s], from the load call. Made for 30 s streams: a short fast start,
// a long trough below the 360p rung (only 234p + audio fits), a recovery, then a link that
// carries 360p but not 720p.
// TRACE="0:10,10:0.5,20:3,30:1" replaces it.
const TRACE = process.env.TRACE
  ? process.env.TRACE.split(',').map((step) => step.split(':').map(Number))
  : [[0, 5], [4, 0.5], [14, 3], [22, 1]];
if (TRACE[0]?.[0] !== 0 || TRACE.some(([at, m]) => !(at >= 0) || !(m > 0))) throw new Error('TRACE: "0:MBPS,S:MBPS,…" starting at 0');
const LATENCY_MS = 30;
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const pick = process.env.STREAMS ? process.env.STREAMS.split(',') : Object.keys(STREAMS);

const env = await launch();
const control = async (session, body) => {
  const r = await fetch(`${env.server.url}__control/${session}`, { method: body ? 'POST' : 'DELETE', headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
  if (r.status !== 200) throw new Error(`control ${session}: ${r.status} ${await r.text()}`);
};
const requestLog = async (session) => (await (await fetch(`${env.server.url}__control/${session}/log`)).json()).entries;

// In-page recorder shared by both kinds of player: `target` is Kinema's Player or the <video>.
function recorderSource() {
  window.benchRecord = (target, { position, duration, firstFrame, sample }) => {
    const t0 = performance.now();
    const now = () => performance.now() - t0;
    const rec = { firstPlaying: null, firstFrame: null, stalls: [], ended: null, errors: [], samples: [], timedOut: false };
    let stall = null;
    target.addEventListener('playing', () => {
      const t = now();
      if (rec.firstPlaying === null) rec.firstPlaying = t;
      else if (stall) { rec.stalls.push({ from: stall.from, to: t, at: stall.at }); stall = null; }
    });
    target.addEventListener('waiting', () => {
      if (rec.firstPlaying !== null && !stall && rec.ended === null) stall = { from: now(), at: position() };
    });
    target.addEventListener('error', (e) => rec.errors.push(String(e.detail?.message ?? e.message ?? 'error')));
    firstFrame().then(() => { rec.firstFrame = now(); });
    const id = setInterval(() => rec.samples.push({ t: Math.round(now()), ...sample() }), 500);
    rec.done = new Promise((/** @type {(value?: unknown) => void} */ ok) => {
      const finish = () => {
        clearInterval(id);
        rec.ended = now();
        if (stall) {
          // Open at the end: a real stall only if it began well before the end of the media.
          if (duration() - stall.at > 0.5) rec.stalls.push({ from: stall.from, to: rec.ended, at: stall.at });
          stall = null;
        }
        ok();
      };
      target.addEventListener('ended', finish, { once: true });
      setTimeout(() => { rec.timedOut = true; finish(); }, 120_000);
    });
    return rec;
  };
}

async function startKinema(page, url) {
  await page.evaluate(recorderSource);
  await page.evaluate((url) => {
    const p = window.kinema.player;
    p.pause();
    window.rec = window.benchRecord(p, {
      position: () => p.currentTime,
      duration: () => p.duration,
      firstFrame: () => new Promise((/** @type {(value?: unknown) => void} */ ok) => {
        const id = setInterval(() => { if ((p.videoStats()?.presented ?? 0) > 0) { clearInterval(id); ok(); } }, 2);
      }),
      sample: () => { const s = p.streamStats(); return { pos: p.currentTime, level: s?.level, buf: s?.bufferSecs, est: s?.throughputBps }; },
    });
    p.load(url);
    p.play().catch((e) => window.rec.errors.push(`play: ${e}`));
  }, url);
}

async function startReference(page, url, kind) {
  await page.evaluate(recorderSource);
  await page.evaluate(({ url, kind }) => {
    const v = /** @type {HTMLVideoElement} */ (document.getElementById('v'));
    const buffered = () => {
      for (let i = 0; i < v.buffered.length; i++) if (v.buffered.start(i) <= v.currentTime + 0.1 && v.buffered.end(i) > v.currentTime) return v.buffered.end(i) - v.currentTime;
      return 0;
    };
    window.rec = window.benchRecord(v, {
      position: () => v.currentTime,
      duration: () => v.duration,
      firstFrame: () => new Promise((/** @type {(value?: unknown) => void} */ ok) => v.requestVideoFrameCallback(() => ok())),
      sample: () => ({ pos: v.currentTime, height: v.videoHeight, buf: buffered() }),
    });
    if (kind === 'hls.js') {
      const hls = new window.Hls();
      hls.on(window.Hls.Events.ERROR, (_, d) => { if (d.fatal) window.rec.errors.push(`hls.js: ${d.details}`); });
      hls.loadSource(url);
      hls.attachMedia(v);
      v.play().catch((e) => window.rec.errors.push(`play: ${e}`));
      window.ref = hls;
    } else {
      const player = window.dashjs.MediaPlayer().create();
      player.on('error', (e) => window.rec.errors.push(`dash.js: ${JSON.stringify(e.error ?? e).slice(0, 200)}`));
      player.initialize(v, url, true);
      window.ref = player;
    }
  }, { url, kind });
}

/** One player session on a fresh page and its own control session. */
async function measure(stream, who, session) {
  const { url, rung } = STREAMS[stream];
  await control(session, { clear: true, rate: (TRACE[0][1] * 1e6) / 8, latencyMs: LATENCY_MS });
  const page = who === 'kinema' ? await env.open('?renderer=2d') : await env.browser.newPage();
  if (who !== 'kinema') {
    page.on('pageerror', (e) => env.problems.push(`pageerror (${who}): ${e.message}`));
    await page.goto(`${env.server.url}fixtures/bench-vendor/ref.html`);
  }
  const full = `${env.server.url}__s/${session}/${url}`;
  const timers = [];
  const t0 = Date.now();
  if (who === 'kinema') await startKinema(page, full);
  else await startReference(page, full, who);
  for (const [at, mbps] of TRACE.slice(1)) {
    timers.push(setTimeout(() => control(session, { rate: (mbps * 1e6) / 8 }).catch((e) => console.error(e.message)), Math.max(0, at * 1000 - (Date.now() - t0))));
  }
  await page.evaluate(() => window.rec.done);
  const rec = await page.evaluate(() => { const { done, ...r } = window.rec; return r; });
  for (const t of timers) clearTimeout(t);
  await page.close();
  const log = await requestLog(session);
  await control(session, null);

  // Quality from the request log.
  const byIndex = new Map();
  let videoRequests = 0, bytes = 0;
  for (const e of log) {
    bytes += e.bytes;
    const m = rung(e.path);
    if (!m) continue;
    videoRequests++;
    if (e.complete && e.status >= 200 && e.status < 300) byIndex.set(Number(m[2]), Number(m[1]));
  }
  const idx = [...byIndex.keys()].sort((a, b) => a - b);
  const heights = idx.map((i) => byIndex.get(i));
  let switches = 0;
  for (let i = 1; i < heights.length; i++) if (heights[i] !== heights[i - 1]) switches++;
  const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  const stallMs = rec.stalls.reduce((a, s) => a + s.to - s.from, 0);
  const wall = rec.firstPlaying !== null ? rec.ended - rec.firstPlaying : NaN;
  return {
    startup: rec.firstPlaying, firstFrame: rec.firstFrame, stalls: rec.stalls.length, stallMs, wall,
    ratio: stallMs / wall, kbps: mean(heights.map((h) => KBPS[h])), height: mean(heights), switches,
    segments: heights.length, extra: videoRequests - heights.length, mbytes: bytes / 1e6, rungs: heights.join(' '),
    errors: rec.errors, timedOut: rec.timedOut, stallList: rec.stalls.map((s) => `${(s.from / 1000).toFixed(1)}s+${Math.round(s.to - s.from)}ms@${s.at.toFixed(1)}`).join(' '),
    samples: rec.samples,
    early: log.filter((e) => e.startMs - t0 < 1500).map((e) => `${e.startMs - t0}-${e.endMs ? e.endMs - t0 : '?'}ms ${e.path.split('/').slice(-2).join('/')} ${e.bytes}B`).join(', '),
    timeline: log.filter((e) => rung(e.path)).map((e) => `${((e.startMs - t0) / 1000).toFixed(1)}-${e.endMs ? ((e.endMs - t0) / 1000).toFixed(1) : '?'}s ${rung(e.path)[1]}p#${rung(e.path)[2]}${e.complete ? '' : ' (cut)'}`).join(', '),
  };
}

const median = (xs) => { const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : NaN; };
console.log(`trace (from the load call): ${TRACE.map(([at, m]) => `${at}s ${m} Mbit/s`).join(', ')}; latency ${LATENCY_MS} ms; hls.js ${hlsVersion}, dash.js ${dashVersion}; ${ROUNDS} rounds`);
const rows = [];
for (const stream of pick) {
  const ref = STREAMS[stream].ref;
  const runs = { kinema: [], [ref]: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const who of r % 2 ? ['kinema', ref] : [ref, 'kinema']) {
      const m = await measure(stream, who, `bench-${stream}-${who.replace('.', '')}-${r}`);
      runs[who].push(m);
      const { samples, timeline, early, ...brief } = m;
      console.log(JSON.stringify({ stream, round: r, who, ...brief }));
      if (process.env.SAMPLES) console.log(`  samples ${JSON.stringify(samples)}\n  video requests ${timeline}\n  requests in the first 1.5 s ${early}`);
    }
  }
  const agg = (list) => Object.fromEntries(['startup', 'firstFrame', 'stalls', 'stallMs', 'ratio', 'kbps', 'height', 'switches', 'extra', 'mbytes']
    .map((k) => [k, median(list.map((m) => m[k]))]));
  rows.push({ stream, ref, kinema: agg(runs.kinema), reference: agg(runs[ref]), failures: [...runs.kinema, ...runs[ref]].filter((m) => m.errors.length || m.timedOut).length });
}

/** @type {[label: string, key: string, digits: number, scale?: number][]} */
const METRICS = [
  ['startup: load → `playing` (ms)', 'startup', 0],
  ['startup: load → first frame (ms)', 'firstFrame', 0],
  ['rebuffers (count)', 'stalls', 0],
  ['stall time (ms)', 'stallMs', 0],
  ['rebuffering ratio (%)', 'ratio', 1, 100],
  ['avg video bitrate (kbit/s)', 'kbps', 0],
  ['avg height (px)', 'height', 0],
  ['quality switches', 'switches', 0],
  ['extra video requests', 'extra', 0],
  ['MB transferred', 'mbytes', 1],
];
console.log(`\n| stream | metric (median of ${ROUNDS}) | Kinema | reference | Kinema / reference |`);
console.log('|---|---|---|---|---|');
for (const { stream, ref, kinema, reference, failures } of rows) {
  for (const [label, k, digits, scale = 1] of METRICS) {
    const a = kinema[k] * scale, b = reference[k] * scale;
    const ratio = b > 0 && Number.isFinite(a) ? (a / b).toFixed(2) : 'n/a';
    console.log(`| ${stream} | ${label} | ${a.toFixed(digits)} | ${b.toFixed(digits)} (${ref}) | ${ratio} |`);
  }
  if (failures) console.log(`| ${stream} | sessions with errors or timeouts | ${failures} | | |`);
}
if (env.problems.length) console.log(`page problems: ${env.problems.join('; ')}`);
await env.close();
