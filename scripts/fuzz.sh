#!/usr/bin/env bash
# Runs every cargo-fuzz target of the core for SECS seconds each (default 60).
# cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP lets the stable toolchain provide them, and
# `-s none` skips the sanitizer runtime (coverage guidance still works).
# Usage: bash scripts/fuzz.sh [SECS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --version 0.13.2
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(decode headers mp4_edit demux ts player webvtt hls hls_aes dash sidx fmp4 abi_codec)
cd core
for t in "${targets[@]}"; do
  echo "== fuzz $t for ${secs}s"
  RUSTC_BOOTSTRAP=1 cargo fuzz run -s none "$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 2>&1 | tail -n 2
done
