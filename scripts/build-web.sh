#!/usr/bin/env bash
# Builds the browser package (kinema-web, release, wasm-opt from npm binaryen 132) into www/pkg
# and prints the size of its .wasm, raw and gzip -9.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${KINEMA_ROOT:-}" ] || source scripts/bootstrap.sh
wasm-pack --log-level warn build web --target web --release --out-dir ../www/pkg --out-name kinema_web
# wasm-pack writes a `*` .gitignore into the package, which would also keep it out of
# `npm pack`; the repo's own .gitignore already ignores www/pkg/.
rm -f www/pkg/.gitignore
wasm=www/pkg/kinema_web_bg.wasm
raw=$(wc -c < "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
printf 'www/pkg/kinema_web_bg.wasm: %s bytes (%s KiB), gzip -9: %s bytes (%s KiB)\n' \
  "$raw" "$((raw / 1024))" "$gz" "$((gz / 1024))"
