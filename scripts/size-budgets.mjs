#!/usr/bin/env node
// What a page downloads for each web package flavour (the .wasm, the JS glue, the worklet and
// wasm-bindgen's snippets, each gzip -9), against two numbers:
// - `ceiling`: the size the flavour has now, plus a little. The build fails above it, so no
//   change makes a package bigger unnoticed; lower it as the packages shrink.
// - `target`: the budget the project is working towards (issue #16: 400 KB for the package as
//   browsers with WebGPU use it, 450 KB for browsers without, 200 KB for the streaming-only
//   flavour with platform decoders only, www/pkg-streaming). Not met yet: printed, not enforced.
// hls.js and dash.js (their minified builds from node_modules, gzip -9) are printed beside.
// Run by scripts/build-web.sh after it builds; `node scripts/size-budgets.mjs` alone reads the
// packages already built.
import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const KB = 1000;
/** @type {{ dir: string, what: string, ceiling: number, target: number }[]} */
// One package serves browsers with WebGPU (wgpu) and without (its own WebGL2 display, a 2D
// canvas): both budgets apply to it. Until 2026-12-07 browsers without WebGPU loaded a second
// flavour with wgpu's WebGL2 backend, 1,624,548 bytes.
const FLAVOURS = [
  // 2026-12-07, with the own WebGL2 display: 828,083 (.wasm) + 29,761 (JS) = 857,844 (WebGL1 too);
  // then opt-level "z" (symphonia at "s"): 785,403 + 29,764 = 815,167; then the core's own MP3,
  // ADTS, AC-3 and WAV demuxers and PCM conversion (+6 KB, the way to symphonia's ~320 KB going):
  // 791,422 + 29,763 = 821,185; with FLAC too: 795,991 + 29,764 = 825,755.
  { dir: 'www/pkg', what: 'with WebGPU (wgpu renderer)', ceiling: 831 * KB, target: 400 * KB },
  { dir: 'www/pkg', what: 'without WebGPU (own WebGL2 display, 2D canvas)', ceiling: 831 * KB, target: 450 * KB },
  // `--no-default-features`: no symphonia (audio by WebCodecs AudioDecoder), no wgpu.
  // 2026-12-07: 492,240 (.wasm) + 22,789 (JS) = 515,029; at opt-level "z": 446,560 + 22,788 = 469,348;
  // with MP3/ADTS/AC-3/WAV files: 453,014 + 22,787 = 475,801; with FLAC: 457,792 + 22,787 = 480,579.
  { dir: 'www/pkg-streaming', what: 'streaming-only (platform decoders, no wgpu)', ceiling: 486 * KB, target: 200 * KB },
];
const REFERENCES = [
  ['hls.js', 'node_modules/hls.js/dist/hls.min.js'],
  ['hls.js light', 'node_modules/hls.js/dist/hls.light.min.js'],
  ['dash.js', 'node_modules/dashjs/dist/modern/umd/dash.all.min.js'],
];

// GNU gzip, as build-web.sh and BENCHMARKS.md measure (Node's zlib at level 9 differs by ~1 %).
const gz = (/** @type {string} */ file) => execFileSync('gzip', ['-9', '-c', file], { maxBuffer: 1 << 28 }).length;
/** Every .js file under `dir` (wasm-bindgen's snippets). @param {string} dir @returns {string[]} */
function jsUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return jsUnder(p);
    return name.endsWith('.js') ? [p] : [];
  });
}
const fmt = (/** @type {number} */ n) => n.toLocaleString('en-US');

const rows = [];
let over = 0;
for (const f of FLAVOURS) {
  const dir = join(root, f.dir);
  const wasm = join(dir, 'kinema_web_bg.wasm');
  if (!existsSync(wasm)) {
    console.error(`size-budgets: ${f.dir} is not built (bash scripts/build-web.sh)`);
    process.exit(1);
  }
  const files = [wasm, join(dir, 'kinema_web.js'), join(dir, 'kinema_worklet.js'), ...jsUnder(join(dir, 'snippets'))];
  const wasmGz = gz(wasm);
  const total = files.reduce((sum, file) => sum + gz(file), 0);
  const ok = total <= f.ceiling;
  if (!ok) over++;
  rows.push([f.dir, f.what, fmt(wasmGz), fmt(total), fmt(f.ceiling), fmt(f.target), ok ? (total <= f.target ? 'within target' : 'ok (over target)') : 'OVER CEILING']);
}
for (const [name, file] of REFERENCES) {
  const p = join(root, file);
  rows.push([name, `${JSON.parse(readFileSync(join(root, file.split('/dist/')[0], 'package.json'), 'utf8')).version} (reference)`, '-', existsSync(p) ? fmt(gz(p)) : 'absent', '-', '-', '']);
}
const head = ['package', 'what', '.wasm gzip', 'download gzip', 'ceiling', 'target', ''];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
const line = (/** @type {string[]} */ r) => r.map((c, i) => (i >= 2 && i <= 5 ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))).join('  ');
console.log('Web package sizes, bytes gzip -9 (scripts/size-budgets.mjs):');
console.log(line(head));
for (const r of rows) console.log(line(r));
if (over) {
  console.error(`size-budgets: ${over} package(s) over their ceiling: a change made them bigger. Make it smaller, or raise the ceiling in scripts/size-budgets.mjs with the reason in the commit.`);
  process.exit(1);
}
