#!/usr/bin/env bash
# Builds the browser packages (kinema-web, release, wasm-opt from npm binaryen 132) and prints the
# size of each .wasm, raw and gzip -9:
# - www/pkg, the default: draws with WebGPU (wgpu, which forwards to the browser: small), the own
#   WebGL2 display (web/src/webgl.rs) or a 2D canvas; decodes the audio of files itself
#   (symphonia) and of everything else with WebCodecs `AudioDecoder`.
# - www/pkg-streaming, the streaming-only flavour (`--no-default-features`): no symphonia and no
#   wgpu. HLS, DASH and files the core demuxes (MP4, WebM, MPEG-TS, Ogg Opus, MP3, ADTS, AC-3,
#   FLAC, WAV) play with the platform's decoders (PCM converted by the core); Ogg Vorbis files
#   are a typed `unsupported`.
# (Until 2026-12-07 a second flavour, www/pkg-webgl, carried wgpu's WebGL2 backend: +0.8 MB gzip.)
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
# What the packages are made of: the crates that go into them, the lock file, this script, the
# toolchain. A flavour whose inputs hash the same as at its last build (and whose files are
# there) is not built again: a warm test run spent ~85 s re-running wasm-bindgen and wasm-opt
# on identical input. KINEMA_REBUILD=1 builds anyway.
inputs_hash() { # inputs_hash FLAVOUR
  {
    echo "$1"
    rustc -V; wasm-pack --version; wasm-bindgen --version 2>/dev/null || true
    git ls-files -co --exclude-standard -- Cargo.toml Cargo.lock rust-toolchain.toml .cargo \
      scripts/build-web.sh web/Cargo.toml web/src web/js core/Cargo.toml core/src core/protocol \
      core/render | sort | while IFS= read -r f; do [ -f "$f" ] && sha256sum "$f"; done
  } | sha256sum | cut -d' ' -f1
}
build_unless_unchanged() { # build_unless_unchanged OUT_DIR [cargo args...]
  local out=$1 stamp="target/kinema-web-inputs-$1" hash
  hash=$(inputs_hash "$*")
  if [ "${KINEMA_REBUILD:-0}" != 1 ] && [ -f "www/$out/kinema_web_bg.wasm" ] && [ -f "www/$out/kinema_web.js" ] &&
    [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
    echo "www/$out: inputs unchanged since its last build (${hash:0:12}), not built again"
    return 0
  fi
  rm -f "$stamp"
  build "$@"
  mkdir -p target && echo "$hash" > "$stamp"
}
build_unless_unchanged pkg
build_unless_unchanged pkg-streaming --no-default-features
# The retired second flavour, if an older checkout built it: nothing loads it any more.
rm -rf www/pkg-webgl target/kinema-web-inputs-pkg-webgl
# What each flavour costs a page to download, against its ceiling (fails above it) and the
# budget it is meant to reach (scripts/size-budgets.mjs).
node scripts/size-budgets.mjs
