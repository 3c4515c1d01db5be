// ESLint (flat config) for the repository's JavaScript: `npm run lint`, scripts/lint-js.sh.
// @eslint/js's recommended rules, each folder with the globals of where its code runs, and a few
// rules beyond recommended that catch real bugs (listed below). Types are tsc's job
// (tsconfig.json, tsconfig.node.json); nothing here is about style.
import js from '@eslint/js';
import globals from 'globals';

export default [
  // Generated or fetched, never edited here: the wasm-bindgen packages (scripts/build-web.sh),
  // the packaged TV apps (scripts/package-devices.sh), fixtures, caches.
  { ignores: ['www/pkg/**', 'www/pkg-streaming/**', 'web/pkg/**', 'dist/**', 'target/**', 'tests/fixtures/**', '.cache/**', 'core/fuzz/**'] },
  js.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      // `const { done, ...rest } = x` leaves out `done` on purpose (bench-streams, serve-control).
      'no-unused-vars': ['error', { ignoreRestSiblings: true }],
      // A callback of map/filter/find/… that forgets to return.
      'array-callback-return': 'error',
      // `x === x` (a NaN test gone wrong), `'${x}'` in a plain string (a template meant).
      'no-self-compare': 'error',
      'no-template-curly-in-string': 'error',
      // Loops whose condition never changes, or whose body always exits on the first pass.
      'no-unmodified-loop-condition': 'error',
      'no-unreachable-loop': 'error',
      // A value returned from a constructor replaces the object.
      'no-constructor-return': 'error',
    },
  },
  // Pages, wasm-bindgen snippets, device shims: the browser.
  { files: ['www/**/*.js', 'web/js/**/*.js', 'device-shims/**/*.js'], ignores: ['web/js/worklet.js'], languageOptions: { globals: globals.browser } },
  // The AudioWorklet module runs in an AudioWorkletGlobalScope, not a window.
  { files: ['web/js/worklet.js'], languageOptions: { globals: globals.audioWorklet } },
  // Node scripts and tests. The page tests and the benchmarks also hold the code they run in
  // the page (page.evaluate, waitForFunction, init scripts): browser globals there too.
  { files: ['scripts/**/*.mjs', 'tests/**/*.mjs', '*.js'], languageOptions: { globals: globals.node } },
  { files: ['tests/page/**/*.mjs', 'scripts/bench-*.mjs'], languageOptions: { globals: globals.browser } },
];
