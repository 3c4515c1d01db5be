#!/usr/bin/env bash
# Installs what Kinema's build, demo and tests need, skipping whatever is already there.
# Sourced by demo.sh and test.sh (it exports PATH); can also be run on its own.
# Needs: rustup/cargo, node/npm (present on this machine kind), root or sudo for apt.
set -euo pipefail
KINEMA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export KINEMA_ROOT
export PATH="$KINEMA_ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"

say() { printf '[bootstrap] %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
for c in rustfmt clippy; do
  rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c"
done

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} (apt)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen 0.2.130" ]; then
  say "installing wasm-bindgen-cli 0.2.130 (a few minutes)"
  cargo install -q wasm-bindgen-cli --version 0.2.130 --force
fi
if [ "$(wasm-pack --version 2>/dev/null)" != "wasm-pack 0.15.1" ]; then
  say "installing wasm-pack 0.15.1 (a few minutes)"
  cargo install -q wasm-pack --version 0.15.1 --force
fi

if [ ! -d "$KINEMA_ROOT/node_modules" ] || [ "$KINEMA_ROOT/package-lock.json" -nt "$KINEMA_ROOT/node_modules/.package-lock.json" ]; then
  say "installing npm packages"
  (cd "$KINEMA_ROOT" && npm ci --no-audit --no-fund --loglevel=error)
fi
# wasm-pack takes the first wasm-opt on PATH; Debian's (108) breaks the build (TOOLCHAIN.md).
case "$(command -v wasm-opt || true)" in
  "$KINEMA_ROOT/node_modules/.bin/wasm-opt") ;;
  *) say "warning: wasm-opt from npm binaryen is not first on PATH" ;;
esac
