#!/usr/bin/env bash
# Builds the browser package (kinema-web, release, wasm-opt from npm binaryen 132) in two
# flavours and prints the size of each .wasm, raw and gzip -9:
#   www/pkg        default: WebGPU renderer only (wgpu forwards to the browser: small)
#   www/pkg-webgl  fallback: + wgpu's WebGL2 backend (naga, wgpu-core), for browsers without
#                  WebGPU; the page loads it only when WebGPU is missing (or ?renderer=webgl2).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${KINEMA_ROOT:-}" ] || source scripts/bootstrap.sh
build() { # build OUT_DIR [cargo args...]
  local out=$1; shift
  wasm-pack --log-level warn build web --target web --release --out-dir "../www/$out" --out-name kinema_web "$@"
  # wasm-pack writes a `*` .gitignore into the package, which would also keep it out of
  # `npm pack`; the repo's own .gitignore already ignores www/pkg*/.
  rm -f "www/$out/.gitignore"
  # The AudioWorklet module, loaded from its own file (web/js/assets.js finds it beside
  # kinema_web.js): a strict CSP refuses the blob: URL fallback.
  cp web/js/worklet.js "www/$out/kinema_worklet.js"
  # wasm-bindgen's .d.ts declares `[Symbol.dispose]`: without this reference an app's
  # `tsc --strict --lib es2022,dom --skipLibCheck false` fails on it (TS2550).
  grep -q 'esnext.disposable' "www/$out/kinema_web.d.ts" \
    || sed -i '1i /// <reference lib="esnext.disposable" />' "www/$out/kinema_web.d.ts"
  local wasm="www/$out/kinema_web_bg.wasm" raw gz
  raw=$(wc -c < "$wasm")
  gz=$(gzip -9 -c "$wasm" | wc -c)
  printf 'www/%s/kinema_web_bg.wasm: %s bytes (%s KiB), gzip -9: %s bytes (%s KiB)\n' \
    "$out" "$raw" "$((raw / 1024))" "$gz" "$((gz / 1024))"
}
build pkg
build pkg-webgl --features webgl
