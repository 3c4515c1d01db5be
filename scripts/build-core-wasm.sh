#!/usr/bin/env bash
# Builds the standalone core module (device-shims/settop/guest, crate kinema-abi: kinema-core
# behind a small C ABI, no wasm-bindgen, no imports) to target/kinema-core.wasm. The set-top
# host (device-shims/settop/host) loads exactly this file. MVP=1 also builds the flavour with
# every post-MVP feature off (-C target-cpu=mvp) to target/kinema-core-mvp.wasm (own target
# dir: the whole core is rebuilt with other flags).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -p kinema-abi --target wasm32-unknown-unknown --release
cp target/wasm32-unknown-unknown/release/kinema_abi.wasm target/kinema-core.wasm
echo "target/kinema-core.wasm: $(stat -c %s target/kinema-core.wasm) bytes"
if [ "${MVP:-0}" = 1 ]; then
  RUSTFLAGS="-C target-cpu=mvp" CARGO_TARGET_DIR=target/mvp \
    cargo build -p kinema-abi --target wasm32-unknown-unknown --release
  cp target/mvp/wasm32-unknown-unknown/release/kinema_abi.wasm target/kinema-core-mvp.wasm
  echo "target/kinema-core-mvp.wasm: $(stat -c %s target/kinema-core-mvp.wasm) bytes"
fi
