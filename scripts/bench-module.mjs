// Module start-up benchmark (issue 16): how long a page takes from asking for the player to
// having it ready, Kinema against hls.js (full and light) and dash.js, in stock Chromium,
// unthrottled and under DevTools CPU throttling (4×: a TV-class CPU).
// - Kinema: `import()` of the package's glue, then its default export (wasm-bindgen's init:
//   `WebAssembly.instantiateStreaming` of the .wasm, served as application/wasm, so compiling
//   overlaps the download), then `new Player()`. Reported: the glue import, the init (fetch +
//   compile + instantiate) and the total.
// - hls.js / dash.js: a classic `<script>` of the minified build (fetch + parse + compile +
//   run), then `new Hls()` / `dashjs.MediaPlayer().create()`.
// Every round opens a fresh browser context (its own HTTP cache, so no code cache from a
// previous round); rounds alternate the order of the players; medians.
// Usage: node scripts/bench-module.mjs   (after scripts/build-web.sh and npm install; results
// go to BENCHMARKS.md by hand). Environment: ROUNDS (default 7), THROTTLE (default "1,4").
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launchBrowser } from '../tests/page/harness.mjs';
import { startServer } from './serve.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const vendor = `${repo}/tests/fixtures/gen/bench-vendor`;
mkdirSync(vendor, { recursive: true });
const REFS = {
  'hls.js': `${repo}/node_modules/hls.js/dist/hls.min.js`,
  'hls.js light': `${repo}/node_modules/hls.js/dist/hls.light.min.js`,
  'dash.js': `${repo}/node_modules/dashjs/dist/modern/umd/dash.all.min.js`,
};
for (const f of Object.values(REFS)) if (!existsSync(f)) throw new Error(`${f} is missing: run npm install`);
if (!existsSync(`${repo}/www/pkg/kinema_web_bg.wasm`)) throw new Error('www/pkg is missing: run scripts/build-web.sh');
for (const [name, f] of Object.entries(REFS)) copyFileSync(f, `${vendor}/${name.replace(/ /g, '-')}.js`);
writeFileSync(`${vendor}/blank.html`, '<!doctype html><meta charset="utf-8"><title>module bench</title><body></body>');

const ROUNDS = Number(process.env.ROUNDS ?? 7);
const THROTTLES = (process.env.THROTTLE ?? '1,4').split(',').map(Number);
const SUBJECTS = ['Kinema', ...Object.keys(REFS)];

const server = await startServer({ root: `${repo}/www`, port: 0, mounts: { '/vendor/': vendor } });
const browser = /** @type {import('playwright-core').Browser} */ (await launchBrowser());

/** One measurement of `subject` in a fresh context at CPU throttling `rate`. */
async function measure(subject, rate) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${server.url}/vendor/blank.html`);
    if (rate !== 1) {
      const cdp = await context.newCDPSession(page);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate });
    }
    if (subject === 'Kinema') {
      return await page.evaluate(async () => {
        const t0 = performance.now();
        const glue = '/pkg/kinema_web.js';
        const m = await import(glue);
        const t1 = performance.now();
        await m.default();
        const t2 = performance.now();
        const p = new m.Player();
        const t3 = performance.now();
        p.free();
        return { glue: t1 - t0, init: t2 - t1, create: t3 - t2, total: t3 - t0 };
      });
    }
    const file = `/vendor/${subject.replace(/ /g, '-')}.js`;
    return await page.evaluate(async ({ file, dash }) => {
      const t0 = performance.now();
      await new Promise((ok, fail) => {
        const s = document.createElement('script');
        s.src = file;
        s.onload = ok;
        s.onerror = fail;
        document.head.append(s);
      });
      const t1 = performance.now();
      const w = /** @type {any} */ (window);
      const p = dash ? w.dashjs.MediaPlayer().create() : new w.Hls();
      const t2 = performance.now();
      if (!dash) p.destroy();
      return { glue: t1 - t0, init: 0, create: t2 - t1, total: t2 - t0 };
    }, { file, dash: subject === 'dash.js' });
  } finally {
    await context.close();
  }
}

const median = (/** @type {number[]} */ xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

try {
  const version = await browser.version();
  console.log(`Chromium ${version}, ${ROUNDS} rounds, fresh context each, medians (ms)`);
  for (const rate of THROTTLES) {
    /** @type {Record<string, {glue: number, init: number, create: number, total: number}[]>} */
    const runs = Object.fromEntries(SUBJECTS.map((s) => [s, []]));
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 ? [...SUBJECTS].reverse() : SUBJECTS;
      for (const s of order) runs[s].push(await measure(s, rate));
    }
    console.log(`\nCPU throttling ${rate}×`);
    console.log('| player | script / glue | Wasm fetch + compile + instantiate | create a player | total |');
    console.log('|---|---:|---:|---:|---:|');
    for (const s of SUBJECTS) {
      const m = (/** @type {'glue'|'init'|'create'|'total'} */ k) => median(runs[s].map((x) => x[k])).toFixed(1);
      console.log(`| ${s} | ${m('glue')} | ${s === 'Kinema' ? m('init') : '—'} | ${m('create')} | ${m('total')} |`);
    }
  }
} finally {
  await browser.close();
  await server.close();
}
