// Memory benchmark (issue 16): what playing costs in memory, Kinema against the browser's own
// players on the same media, in stock Chromium:
// - a progressive 1080p30 H.264/AAC MP4: Kinema vs `<video src>`;
// - the HLS fMP4 ladder of the stream fixtures (up to 720p): Kinema vs `<video>` + hls.js.
// Each player runs alone in its own browser (launched for it), muted, on a 1280×720 canvas or
// element, for PLAY_SECONDS; then:
// - JS heap in use (DevTools `Runtime.getHeapUsage`), and for Kinema its Wasm memory (the
//   module's `memory.buffer.byteLength`: everything the core and the host's Rust side hold);
// - the whole browser's proportional set size (PSS, /proc/*/smaps_rollup, summed over every
//   process of that browser: renderer, GPU, network, utility, browser), less the same sum on a
//   blank page in that browser before the player was created. This is the number that counts
//   the `<video>`'s decoder and buffers, which live outside the page's heap.
// Rounds alternate the order; medians. Linux only (reads /proc).
// Usage: node scripts/bench-memory.mjs   (after scripts/build-web.sh, scripts/streams.sh and
// npm install; results go to BENCHMARKS.md by hand). Environment: ROUNDS (default 3),
// PLAY_SECONDS (default 10).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launchBrowser } from '../tests/page/harness.mjs';
import { startServer } from './serve.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const gen = `${repo}/tests/fixtures/gen`;
const vendor = `${gen}/bench-vendor`;
mkdirSync(vendor, { recursive: true });
const HLSJS = `${repo}/node_modules/hls.js/dist/hls.min.js`;
if (!existsSync(HLSJS)) throw new Error(`${HLSJS} is missing: run npm install`);
if (!existsSync(`${gen}/streams/hls-fmp4/master.m3u8`)) throw new Error('no stream fixtures: run `bash scripts/streams.sh` first');
copyFileSync(HLSJS, `${vendor}/hls.min.js`);
writeFileSync(`${vendor}/blank.html`, '<!doctype html><meta charset="utf-8"><title>memory bench</title><body></body>');
const MP4 = 'bench-1080p30-h264.mp4';
if (!existsSync(`${gen}/${MP4}`)) {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=1920x1080:r=30:d=22',
    '-f', 'lavfi', '-i', "aevalsrc='0.2*sin(2*PI*440*t)|0.2*sin(2*PI*550*t)':s=48000:d=22",
    '-c:v', 'libx264', '-preset', 'veryfast', '-g', '60', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '128k', '-movflags', '+faststart', `${gen}/${MP4}`]);
}
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const PLAY_SECONDS = Number(process.env.PLAY_SECONDS ?? 10);

/** Proportional set size (bytes) summed over every process descended from this one. */
function treePss() {
  /** @type {Map<number, number[]>} */
  const children = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid)?.push(Number(d));
    } catch { /* gone */ }
  }
  let total = 0;
  const walk = (/** @type {number} */ pid) => {
    for (const c of children.get(pid) ?? []) {
      try {
        const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${c}/smaps_rollup`, 'utf8'));
        if (m) total += Number(m[1]) * 1024;
      } catch { /* gone */ }
      walk(c);
    }
  };
  walk(process.pid);
  return total;
}

const server = await startServer({ root: `${repo}/www`, port: 0, mounts: { '/vendor/': vendor, '/fixtures/': gen } });

/** One run of `player` on `media` in a browser of its own. */
async function measure(player, media) {
  const browser = /** @type {import('playwright-core').Browser} */ (await launchBrowser());
  try {
    const page = await browser.newPage();
    const cdp = await page.context().newCDPSession(page);
    await page.goto(`${server.url}/vendor/blank.html`);
    await page.waitForTimeout(1000);
    const base = treePss();
    const url = media === 'hls' ? '/fixtures/streams/hls-fmp4/master.m3u8' : `/fixtures/${MP4}`;
    const wasm = await page.evaluate(async ({ player, url, seconds }) => {
      const w = /** @type {any} */ (window);
      if (player === 'Kinema') {
        const glue = '/pkg/kinema_web.js';
        const m = await import(glue);
        const exports = await m.default();
        const canvas = document.createElement('canvas');
        canvas.style.cssText = 'width:1280px;height:720px';
        canvas.width = 1280;
        canvas.height = 720;
        document.body.append(canvas);
        const p = new m.Player();
        await p.attachCanvas(canvas);
        await p.load(url);
        p.muted = true;
        await p.play();
        await new Promise((ok) => setTimeout(ok, seconds * 1000));
        w.keep = p;
        return exports.memory.buffer.byteLength;
      }
      const v = document.createElement('video');
      v.muted = true;
      v.style.cssText = 'width:1280px;height:720px';
      document.body.append(v);
      if (url.endsWith('.m3u8')) {
        await new Promise((ok, fail) => {
          const s = document.createElement('script');
          s.src = '/vendor/hls.min.js';
          s.onload = ok;
          s.onerror = fail;
          document.head.append(s);
        });
        const hls = new w.Hls();
        hls.loadSource(url);
        hls.attachMedia(v);
        w.keep = hls;
      } else {
        v.src = url;
      }
      await v.play();
      await new Promise((ok) => setTimeout(ok, seconds * 1000));
      return 0;
    }, { player, url, seconds: PLAY_SECONDS });
    const heap = (await cdp.send('Runtime.getHeapUsage')).usedSize;
    const pss = treePss() - base;
    return { heap, wasm, pss };
  } finally {
    await browser.close();
  }
}

const median = (/** @type {number[]} */ xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mb = (/** @type {number} */ b) => (b / 1048576).toFixed(1);

try {
  console.log(`${ROUNDS} rounds, ${PLAY_SECONDS} s of playback each, medians (MiB)`);
  console.log('| media | player | JS heap | Wasm memory | browser PSS over a blank page |');
  console.log('|---|---|---:|---:|---:|');
  for (const [media, ref] of [['mp4', '<video>'], ['hls', '<video> + hls.js']]) {
    /** @type {Record<string, {heap: number, wasm: number, pss: number}[]>} */
    const runs = { Kinema: [], [ref]: [] };
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 ? [ref, 'Kinema'] : ['Kinema', ref];
      for (const p of order) runs[p].push(await measure(p, media));
    }
    for (const p of ['Kinema', ref]) {
      const m = (/** @type {'heap'|'wasm'|'pss'} */ k) => mb(median(runs[p].map((x) => x[k])));
      console.log(`| ${media === 'hls' ? 'HLS fMP4 ladder (≤ 720p)' : `${MP4} (1080p30)`} | ${p} | ${m('heap')} | ${p === 'Kinema' ? m('wasm') : '—'} | ${m('pss')} |`);
    }
  }
} finally {
  await server.close();
}
