#!/usr/bin/env bash
# npm's `prepack` (package.json): makes `npm pack` / `npm publish` complete on a fresh clone.
# Builds www/pkg and www/pkg-streaming only when one is missing (scripts/build-web.sh, minutes),
# then fixes what wasm-bindgen's output lacks for TypeScript users.
set -euo pipefail
cd "$(dirname "$0")/.."
{ [ -f www/pkg/kinema_web.js ] && [ -f www/pkg-streaming/kinema_web.js ]; } || bash scripts/build-web.sh
# wasm-bindgen declares `Player[Symbol.dispose]`, which only TypeScript's esnext.disposable lib
# defines: with `lib: ["es2022", "dom"]` and skipLibCheck off, the package's .d.ts failed to
# compile (TS2550). The reference brings that lib in. Idempotent.
for d in www/pkg/kinema_web.d.ts www/pkg-streaming/kinema_web.d.ts; do
  grep -q '<reference lib="esnext.disposable"' "$d" || sed -i '1i /// <reference lib="esnext.disposable" />' "$d"
done
