#!/usr/bin/env bash
# Installs what Kinema's build, demo and tests need, skipping whatever is already there, and
# exports PATH with the repo's node_modules/.bin first (npm binaryen's wasm-opt 132 must win
# over Debian's wasm-opt 108, which produces a .wasm that fails to load with
# `WebAssembly.Table.set(): Argument 1 is invalid … __wbindgen_init_externref_table`).
# Sourced by demo.sh, test.sh and build-web.sh; can also be run on its own.
# Needs rustup/cargo and node >= 20 with npm; root or sudo for apt.
# Fresh machine: ~8 min (mostly two `cargo install`s). Everything present: ~1 s.
set -euo pipefail
KINEMA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export KINEMA_ROOT
export PATH="$KINEMA_ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"

say() { printf '[bootstrap] %s\n' "$*"; }
# Errors end the script, or only the `source` when sourced (`return` there, so an
# interactive shell that sourced this file survives): `die MSG; return 1 2>/dev/null || exit 1`.
die() { say "error: $*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
_kinema_t0=$SECONDS

for c in rustup cargo node npm; do
  command -v "$c" >/dev/null || { die "'$c' is not installed; install it first"; return 1 2>/dev/null || exit 1; }
done

if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "ok: rust target wasm32-unknown-unknown"
else
  say "adding the rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
for c in rustfmt clippy; do
  if rustup component list --installed 2>/dev/null | grep -q "^$c"; then
    say "ok: rustup component $c"
  else
    say "adding rustup component $c"
    rustup component add "$c"
  fi
done

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
# The second engine of the page tests (tests/page/firefox.mjs): Firefox ESR, and PulseAudio
# for a null sound sink (a headless Firefox with no sound server never starts an AudioContext).
command -v firefox-esr >/dev/null || missing+=(firefox-esr)
command -v pulseaudio >/dev/null || missing+=(pulseaudio)
command -v parec >/dev/null || missing+=(pulseaudio-utils)
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
command -v ffprobe >/dev/null || missing+=(ffmpeg)
command -v python3 >/dev/null || missing+=(python3)
# The HLS AES-128 fixtures (scripts/streams.sh) are encrypted with openssl enc.
command -v openssl >/dev/null || missing+=(openssl)
# The set-top host (device-shims/settop/host): GStreamer with avdec_h264 (libav), pkg-config for
# the gstreamer-rs build, Vulkan on the CPU (Mesa lavapipe) for wgpu.
for pkg in pkg-config libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-plugins-base \
  gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-libav mesa-vulkan-drivers libvulkan1; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  say "installing ${missing[*]} (apt)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  say "ok: chromium, chromedriver, firefox-esr, pulseaudio, ffmpeg, python3, openssl, GStreamer, lavapipe"
fi

# `cargo install` without --locked: wasm-bindgen-cli's lockfile wants a crate version the
# registry does not serve (measured with 0.2.130).
if [ "$(wasm-bindgen --version 2>/dev/null || true)" = "wasm-bindgen 0.2.130" ]; then
  say "ok: wasm-bindgen 0.2.130"
else
  say "installing wasm-bindgen-cli 0.2.130 (about 3.5 min)"
  cargo install wasm-bindgen-cli --version 0.2.130 --force
fi
if [ "$(wasm-pack --version 2>/dev/null || true)" = "wasm-pack 0.15.1" ]; then
  say "ok: wasm-pack 0.15.1"
else
  say "installing wasm-pack 0.15.1 (about 3 min)"
  cargo install wasm-pack --version 0.15.1 --force
fi

# npm packages: reinstall when node_modules is missing or older than the lock/manifest. Under a
# lock, because `npm ci` first deletes node_modules: two bootstraps racing would leave it empty.
npm_stale() {
  local stamp="$KINEMA_ROOT/node_modules/.package-lock.json"
  [ ! -f "$stamp" ] || [ "$KINEMA_ROOT/package.json" -nt "$stamp" ] \
    || { [ -f "$KINEMA_ROOT/package-lock.json" ] && [ "$KINEMA_ROOT/package-lock.json" -nt "$stamp" ]; } \
    || [ ! -x "$KINEMA_ROOT/node_modules/.bin/wasm-opt" ] || [ ! -d "$KINEMA_ROOT/node_modules/playwright-core" ] \
    || [ ! -d "$KINEMA_ROOT/node_modules/puppeteer-core" ]
}
npm_install() {
  npm_stale || return 0
  if [ -f "$KINEMA_ROOT/package-lock.json" ]; then
    say "installing npm packages (npm ci)"
    (cd "$KINEMA_ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  else
    say "installing npm packages (npm install: no package-lock.json)"
    (cd "$KINEMA_ROOT" && npm install --no-audit --no-fund --loglevel=error)
  fi
}
if npm_stale; then
  if command -v flock >/dev/null; then
    lock="${TMPDIR:-/tmp}/kinema-npm-$(printf '%s' "$KINEMA_ROOT" | cksum | cut -d' ' -f1).lock"
    (flock -w 600 9 || { say "error: timed out waiting for $lock"; exit 1; }; npm_install) 9>"$lock"
  else
    npm_install
  fi
else
  say "ok: npm packages (binaryen, playwright-core, puppeteer-core)"
fi

# wasm-pack takes the first wasm-opt on PATH.
if [ "$(command -v wasm-opt || true)" != "$KINEMA_ROOT/node_modules/.bin/wasm-opt" ]; then
  die "wasm-opt from npm binaryen is not first on PATH ($(command -v wasm-opt || echo none))"
  return 1 2>/dev/null || exit 1
fi
say "ready in $((SECONDS - _kinema_t0)) s ($(wasm-opt --version 2>/dev/null | head -1))"
