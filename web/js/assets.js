// Files the browser host loads at run time, found next to the package's own files.
// wasm-bindgen copies this module to <package>/snippets/kinema-web-<hash>/js/assets.js, so
// `../../../` is the package folder (www/pkg/ in this repository, kinema/www/pkg/ once
// installed). Bundlers (Vite, webpack 5, Rollup, Parcel) recognise `new URL('…', import.meta.url)`
// and ship the file with the app; without a bundler it is an ordinary same-origin URL, which a
// strict Content-Security-Policy (`script-src 'self'`) allows where a `blob:` URL is refused.

/** URL of the AudioWorklet module (`kinema_worklet.js`, a copy of web/js/worklet.js). */
export function defaultWorkletUrl() {
  return new URL('../../../kinema_worklet.js', import.meta.url).href;
}
