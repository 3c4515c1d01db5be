// Runs a wasm32-wasip1 benchmark module under Node's WASI with the current folder preopened.
// Usage: node scripts/bench-wasi.mjs MODULE.wasm ARGS...
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';
import process from 'node:process';

const [module, ...args] = process.argv.slice(2);
const wasi = new WASI({ version: 'preview1', args: ['bench', ...args], env: {}, preopens: { '.': '.' }, returnOnExit: true });
const wasm = await WebAssembly.compile(await readFile(module));
const instance = await WebAssembly.instantiate(wasm, /** @type {WebAssembly.Imports} */ (wasi.getImportObject()));
process.exitCode = wasi.start(instance);
