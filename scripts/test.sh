#!/usr/bin/env bash
# THE test command (the README and .ci/run call exactly this): sets up what is missing, then
# lints, native tests, browser tests of the web host, and page tests of the built demo in
# headless Chromium. Stops at the first failing step; the last line is `N passed, N failed`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
export CARGO_TERM_COLOR=never

passed=0
failed=0
timings=()
summary() {
  echo
  echo "Step durations:"
  for t in "${timings[@]}"; do echo "  $t"; done
  echo "$passed passed, $failed failed"
}
step() {
  local name=$1; shift
  local t0=$SECONDS
  echo
  echo "==> [$((passed + 1))] $name"
  echo "    \$ $*"
  if "$@"; then
    passed=$((passed + 1))
    timings+=("$(printf '%5d s  ok      %s' $((SECONDS - t0)) "$name")")
    echo "<== ok: $name ($((SECONDS - t0)) s)"
  else
    local rc=$?
    failed=$((failed + 1))
    timings+=("$(printf '%5d s  FAILED  %s' $((SECONDS - t0)) "$name")")
    echo
    echo "########################################################################"
    echo "### FAILED: $name (exit $rc, after $((SECONDS - t0)) s)"
    echo "########################################################################"
    summary
    exit 1
  fi
}

# In-browser tests of the web crate (wasm-bindgen-test in headless Chromium). Chromium's flags
# live in web/webdriver.json (`goog:chromeOptions.args`), passed by absolute path: wasm-pack runs the runner
# inside web/, where a relative path is silently not found and the audio tests hang.
browser_tests() {
  if [ ! -d web/tests ]; then
    echo
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
    echo "!!! SKIPPED: web/tests does not exist: no in-browser tests were run"
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
    return 0
  fi
  WASM_BINDGEN_TEST_WEBDRIVER_JSON="$KINEMA_ROOT/web/webdriver.json" wasm-pack --log-level warn test --headless --chrome web
}

# The set-top runtime (device-shims/settop): the standalone core module, and the native host,
# which is outside the workspace (wasmtime/GStreamer/Vulkan never build for wasm32) with its
# own lock file, fmt and clippy. tests/page/settop-parity.test.mjs (in the page-test run
# below) plays the scripted remote in it and in Chromium.
settop_build() {
  bash scripts/build-core-wasm.sh
  (cd device-shims/settop/host &&
    cargo fmt -- --check &&
    CARGO_TARGET_DIR="$KINEMA_ROOT/target" cargo clippy --release --locked --all-targets -- -D warnings &&
    CARGO_TARGET_DIR="$KINEMA_ROOT/target" cargo build --release --locked)
}

step "cargo fmt --check" cargo fmt --all -- --check
step "clippy (native)" cargo clippy --workspace --all-targets -- -D warnings
step "clippy (wasm32)" cargo clippy --workspace --all-targets --target wasm32-unknown-unknown -- -D warnings
step "clippy (wasm32, WebGL2 build)" cargo clippy -p kinema-web -p kinema-render --target wasm32-unknown-unknown --features kinema-web/webgl -- -D warnings
step "fixtures" bash scripts/fixtures.sh
step "native tests" cargo test --workspace
step "browser tests (wasm-pack, headless Chromium)" browser_tests
step "build the web package" bash scripts/build-web.sh
step "JS type-check and lint" bash scripts/lint-js.sh
step "package the TV apps (dist/tizen, dist/webos, dist/hbbtv)" bash scripts/package-devices.sh
step "set-top: core .wasm + native host (fmt, clippy, build)" settop_build
# Video pixel checks run on the wgpu WebGL2 renderer (default of video.test.mjs), then again on
# the wgpu WebGPU renderer and on the 2D-canvas display. The directory run includes the stream
# tests: streams.test.mjs (VOD), streams-live.test.mjs (live HLS/DASH from /__live/, DVR, end)
# and streams-net.test.mjs (bandwidth drop, outage), one file at a time (they take real time).
step "page tests (Playwright, headless Chromium)" node --test --test-concurrency=1 tests/page/
step "video and subtitle page tests, WebGPU renderer" env KINEMA_RENDERER=webgpu node --test --test-concurrency=1 tests/page/video.test.mjs tests/page/subtitles.test.mjs
step "video and subtitle page tests, 2D-canvas display" env KINEMA_RENDERER=2d node --test --test-concurrency=1 tests/page/video.test.mjs tests/page/subtitles.test.mjs
# The decode path for engines without WebCodecs (web/src/mse.rs): the same video checks on a
# page whose WebCodecs video classes are deleted, video decoded by a hidden <video> through MSE.
step "video page tests, MSE decode path (no WebCodecs)" env KINEMA_DECODE=mse node --test --test-concurrency=1 tests/page/video.test.mjs
summary
