// Chromium and Firefox ESR side by side (issue 18): time to the first picture, exact-seek time,
// and the A/V offset read from the pixels, for Kinema on the 2D display (the renderer both
// headless engines have here) and for the engine's own <video> on the same page and file.
//
//   node scripts/bench-engines.mjs [runs=5]     (needs www/pkg and the fixtures)
//
// Runs itself once per engine (KINEMA_BROWSER picks the harness's engine at import time) and
// prints one table of medians; BENCHMARKS.md keeps the results. Not a test: numbers vary with
// the machine's load, compare the two engines within one run.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 5);
const FILE = 'fixtures/h264-aac.mp4'; // 320x180 30 fps H.264 + AAC, frame index burned in

if (!process.env.KINEMA_BENCH_CHILD) {
  const rows = {};
  for (const engine of ['chromium', 'firefox']) {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), String(runs)], {
      env: { ...process.env, KINEMA_BROWSER: engine, KINEMA_BENCH_CHILD: '1' }, encoding: 'utf8', timeout: 600_000,
    });
    if (r.status !== 0) throw new Error(`${engine}: ${r.stderr || r.stdout}`);
    rows[engine] = JSON.parse(r.stdout.trim().split('\n').at(-1));
  }
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
  const f = (x, d = 1) => (x === null || x === undefined ? '—' : x.toFixed(d));
  console.log(`${runs} runs each, medians (${FILE}, Kinema on the 2D display)`);
  console.log('| | Chromium | Firefox ESR |');
  console.log('|---|---|---|');
  const line = (label, key, d) => console.log(`| ${label} | ${f(median(rows.chromium.map((x) => x[key])), d)} | ${f(median(rows.firefox.map((x) => x[key])), d)} |`);
  line('Kinema: load() to first picture, ms', 'firstPicture');
  line('`<video>`: src to loadeddata, ms', 'videoFirst');
  line('Kinema: exact seek (paused) to seeked, ms', 'seek');
  line('`<video>`: seek (paused) to seeked, ms', 'videoSeek');
  line('Kinema: picture vs clock from the pixels, mean ms', 'avMean');
  line('Kinema: picture vs clock, share of samples within ±1 frame, %', 'within1', 0);
  line("Kinema: the core's A/V offset at presentation, ms", 'coreAv');
  console.log(`versions: Chromium ${rows.chromium[0].version}, Firefox ${rows.firefox[0].version}`);
  process.exit(0);
}

const { launch, installFrameIndex } = await import('../tests/page/harness.mjs');
const env = await launch();
// Playwright's Browser has version(); the Firefox wrapper (tests/page/firefox.mjs) a string.
const version = typeof env.browser.version === 'function' ? env.browser.version() : env.browser.version;
const out = [];
try {
  for (let i = 0; i < runs; i++) {
    const page = await env.open('?renderer=2d');
    await installFrameIndex(page);
    const r = await page.evaluate(async (file) => {
      const p = window.kinema.player;
      p.pause();
      // The output runs (the harness's click asked for it) before anything is timed.
      for (let w = 0; !(p.stats().framesPlayed > 0) && w < 200; w++) await new Promise((ok) => setTimeout(ok, 50));
      const wait = async (cond, ms = 10_000) => { const t = performance.now(); while (!cond() && performance.now() - t < ms) await new Promise((ok) => requestAnimationFrame(ok)); };
      let t0 = performance.now();
      await p.load(file);
      await wait(() => (p.videoStats()?.presented ?? 0) > 0);
      const firstPicture = performance.now() - t0;
      const seeked = () => new Promise((ok) => p.addEventListener('seeked', ok, { once: true }));
      let done = seeked();
      t0 = performance.now();
      p.seek(4.567);
      await done;
      const seek = performance.now() - t0;
      // Play 3 s: (frame index on screen, clock) at every animation frame.
      await p.play();
      await wait(() => p.currentTime > 0.3 + 4.567);
      const offsets = [];
      const end = performance.now() + 3000;
      while (performance.now() < end) {
        const t = p.currentTime;
        const n = await window.frameIndex();
        offsets.push(n - Math.floor(t * 30 + 1e-6));
        await new Promise((ok) => requestAnimationFrame(ok));
      }
      const coreAv = p.videoStats().avOffsetMs;
      p.pause();
      // The engine's own element, same file.
      const v = document.createElement('video');
      v.muted = true;
      document.body.append(v);
      t0 = performance.now();
      done = new Promise((ok) => v.addEventListener('loadeddata', ok, { once: true }));
      v.src = file;
      await done;
      const videoFirst = performance.now() - t0;
      done = new Promise((ok) => v.addEventListener('seeked', ok, { once: true }));
      t0 = performance.now();
      v.currentTime = 4.567;
      await done;
      const videoSeek = performance.now() - t0;
      v.remove();
      const mean = offsets.reduce((a, b) => a + b, 0) / offsets.length;
      return { firstPicture, seek, videoFirst, videoSeek, avMean: mean * 1000 / 30, within1: 100 * offsets.filter((o) => Math.abs(o) <= 1).length / offsets.length, coreAv };
    }, FILE);
    out.push({ ...r, version });
    await page.close();
  }
} finally {
  await env.close();
}
console.log(JSON.stringify(out));
