#!/usr/bin/env bash
# Builds the browser package (kinema-web) into www/pkg with wasm-opt -Oz, prints its size.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${KINEMA_ROOT:-}" ] || source scripts/bootstrap.sh
wasm-pack --log-level warn build web --target web --release --out-dir ../www/pkg --out-name kinema_web
wasm=www/pkg/kinema_web_bg.wasm
printf 'kinema_web_bg.wasm: %s bytes, gzip -9: %s bytes\n' "$(wc -c < "$wasm")" "$(gzip -9 -c "$wasm" | wc -c)"
