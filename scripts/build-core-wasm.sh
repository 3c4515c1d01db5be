#!/usr/bin/env bash
# Builds the standalone core module (device-shims/settop/guest, crate kinema-abi: kinema-core
# behind a small C ABI, no wasm-bindgen, no imports) to target/kinema-core.wasm. The set-top
# host (device-shims/settop/host) loads exactly this file. MVP=1 also makes the two MVP
# candidates of the portability report (scripts/portability.sh):
#   target/kinema-core-mvp.wasm      RUSTFLAGS=-C target-cpu=mvp (own target dir: the core is
#                                    rebuilt; the prebuilt std still carries post-MVP code)
#   target/kinema-core-lowered.wasm  wasm-opt (npm binaryen 132) lowering sign-ext, bulk memory
#                                    and saturating float->int to MVP code, written MVP-only
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
  wasm-opt -O2 --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int \
    --enable-mutable-globals --enable-reference-types --signext-lowering \
    --llvm-memory-copy-fill-lowering --llvm-nontrapping-fptoint-lowering \
    target/kinema-core.wasm -o target/kinema-core-lowered.tmp.wasm
  wasm-opt --mvp-features --enable-mutable-globals target/kinema-core-lowered.tmp.wasm \
    -o target/kinema-core-lowered.wasm
  rm -f target/kinema-core-lowered.tmp.wasm
  echo "target/kinema-core-lowered.wasm: $(stat -c %s target/kinema-core-lowered.wasm) bytes"
fi
