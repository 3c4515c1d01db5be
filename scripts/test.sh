#!/usr/bin/env bash
# THE test command (the README and .ci/run call exactly this): sets up what is missing, then
# runs every tier below in order. Stops at the first failing step; the last line is
# `N passed, N failed`. `--tier NAME` (repeatable) runs only those tiers; `--help` lists them.
set -euo pipefail
cd "$(dirname "$0")/.."

TIERS=(lint unit sim wasm build settop page firefox)
usage() {
  cat <<'HELP'
Usage: bash scripts/test.sh [--tier NAME]... [--help]

Without --tier: every tier, in this order (what CI runs: ~31 min on 2 cores from a fresh
clone, ~17 min warm).
  lint    cargo fmt --check; clippy -D warnings native and wasm32; no import
          cycle between the modules of any crate (scripts/module-cycles.py)
  unit    fixtures; the crates' unit tests and doc tests (cargo test --lib --bins --doc)
  sim     fixtures; integration tests: the core in the simulated host with virtual time,
          parsers against ffprobe and public test assets, the protocol codec (core/tests,
          core/protocol/tests, device-shims/settop/guest/tests)
  wasm    wasm-bindgen tests of the web host in headless Chromium (wasm-pack)
  build   the web package (www/pkg), the JS type-check and lint, the TV apps
  settop  the standalone core .wasm and the native set-top host (fmt, clippy, build)
  page    fixtures; page tests in headless Chromium as users have it: the demo, the npm
          tarball, TV apps, streams, set-top parity; video again on WebGPU, 2D and MSE.
          Uses the outputs of `build` and `settop`, building them first when missing.
  firefox the same page tests (but set-top parity) in Firefox ESR as users have it, building
          the web package first when missing
With both page tiers, the stream files (they wait on real time) run in both engines side by
side. The TV apps are packaged again when www/pkg is newer than their copy.
Other scripts (fixtures, benchmarks, fuzzing, servers): scripts/README.md.
HELP
}
selected=()
while [ $# -gt 0 ]; do
  case "$1" in
    --help|-h) usage; exit 0 ;;
    --tier)
      [ $# -ge 2 ] || { usage >&2; exit 2; }
      case " ${TIERS[*]} " in *" $2 "*) ;; *) echo "unknown tier: $2" >&2; usage >&2; exit 2 ;; esac
      selected+=("$2"); shift 2 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
[ ${#selected[@]} -gt 0 ] || selected=("${TIERS[@]}")
wants() { case " ${selected[*]} " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

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
# inside web/, where a relative path is silently not found and the audio tests hang. The one
# non-stock flag there is the autoplay policy: these tests open an AudioContext and cannot click;
# the default policy is what the page tier tests (door.test.mjs). No WebGPU switch: no test here
# uses WebGPU.
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

fixtures_done=0
fixtures() {
  [ "$fixtures_done" = 1 ] && return 0
  fixtures_done=1
  step "fixtures" bash scripts/fixtures.sh
}

if wants lint; then
  step "cargo fmt --check" cargo fmt --all -- --check
  step "clippy (native)" cargo clippy --workspace --all-targets -- -D warnings
  step "clippy (wasm32)" cargo clippy --workspace --all-targets --target wasm32-unknown-unknown -- -D warnings
  # The streaming-only flavour's feature set (www/pkg-streaming): no symphonia, no wgpu.
  step "clippy without default features (core native, web wasm32)" \
    bash -c 'cargo clippy -p kinema-core --all-targets --no-default-features -- -D warnings &&
      cargo clippy -p kinema-web --no-default-features --target wasm32-unknown-unknown -- -D warnings'
  step "no import cycle between modules" python3 scripts/module-cycles.py core/protocol/src core/src \
    core/render/src core/testkit/src web/src device-shims/settop/guest/src device-shims/settop/host/src
fi
if wants unit; then
  fixtures
  step "unit tests (native)" cargo test --workspace --lib --bins
  step "doc tests" cargo test --workspace --doc
fi
if wants sim; then
  fixtures
  step "integration tests (simulated host, parsers, codec)" cargo test --workspace --test '*'
  step "the core without its software audio decoder (simulated host)" \
    cargo test -p kinema-core --no-default-features --test without_software_audio
fi
if wants wasm; then
  step "browser tests (wasm-pack, headless Chromium)" browser_tests
fi
# The page tier needs the built packages and the set-top host: alone, it builds them when missing.
if wants build || { { wants page || wants firefox; } && { [ ! -f www/pkg/kinema_web_bg.wasm ] ||
  [ ! -d dist/tizen ]; }; }; then
  step "build the web package" bash scripts/build-web.sh
  step "JS type-check and lint" bash scripts/lint-js.sh
  step "package the TV apps (dist/tizen, dist/webos, dist/hbbtv)" bash scripts/package-devices.sh
fi
if wants settop || { wants page && { [ ! -x target/release/kinema-settop ] ||
  [ ! -f target/kinema-core.wasm ]; }; }; then
  step "set-top: core .wasm + native host (fmt, clippy, build)" settop_build
fi
# The page files. The stream files are the longest and spend their time waiting on real time
# (live clocks, outages, seconds of play per switch): one engine keeps the two cores 14–19 %
# busy in them (measured). When both engines' tiers run, the two engines run them side by side,
# one step; every other page file (pixels read back every frame, builds, TV apps) runs with one
# engine at a time. Each engine keeps its own server, browser and sound server.
PAGE_STREAMS=(tests/page/streams.test.mjs tests/page/streams-live.test.mjs tests/page/streams-net.test.mjs)
PAGE_CHROMIUM=()
PAGE_FIREFOX=()
for f in tests/page/*.test.mjs; do
  case " ${PAGE_STREAMS[*]} " in *" $f "*) continue ;; esac
  PAGE_CHROMIUM+=("$f")
  # Set-top parity compares the native set-top host with Chromium: not a Firefox test.
  [ "$f" = tests/page/settop-parity.test.mjs ] || PAGE_FIREFOX+=("$f")
done
PAGE_PIXELS=(tests/page/video.test.mjs tests/page/subtitles.test.mjs tests/page/parity.test.mjs)
pages() { node --test --test-concurrency=1 "$@"; }
firefox_pages() { KINEMA_BROWSER=firefox node --test --test-concurrency=1 "$@"; }
# Both engines at once on the same files; each one's output printed whole after both end.
side_by_side() {
  local dir rc_c=0 rc_f=0 pid_c pid_f
  dir=$(mktemp -d "${TMPDIR:-/tmp}/kinema-side.XXXXXX")
  pages "$@" > "$dir/chromium" 2>&1 &
  pid_c=$!
  firefox_pages "$@" > "$dir/firefox" 2>&1 &
  pid_f=$!
  wait "$pid_c" || rc_c=$?
  wait "$pid_f" || rc_f=$?
  echo "--- Chromium (exit $rc_c) ---"; cat "$dir/chromium"
  echo "--- Firefox ESR (exit $rc_f) ---"; cat "$dir/firefox"
  rm -rf "$dir"
  [ "$rc_c" = 0 ] && [ "$rc_f" = 0 ]
}

if wants page || wants firefox; then
  fixtures
  # The packaged TV apps are copies of www/pkg: package them again when it is newer (a stale
  # copy tests old code; packaging takes a second).
  if [ www/pkg/kinema_web_bg.wasm -nt dist/tizen/pkg/kinema_web_bg.wasm ]; then
    step "package the TV apps again (www/pkg is newer than their copy)" bash scripts/package-devices.sh
  fi
fi
# Chromium as users have it (tests/page/harness.mjs). Video pixel checks run on the WebGL2
# display (web/src/webgl.rs, what `auto` picks there), then again on the wgpu WebGPU renderer and
# on the 2D-canvas display,
# and on the MSE decode path (web/src/mse.rs: WebCodecs' video classes deleted, video decoded
# by a hidden <video>).
if wants page; then
  step "page tests (Playwright, headless Chromium)" pages "${PAGE_CHROMIUM[@]}"
  if wants firefox; then
    step "stream page tests (VOD, live, network), Chromium and Firefox ESR side by side" side_by_side "${PAGE_STREAMS[@]}"
  else
    step "stream page tests (VOD, live, network), Chromium" pages "${PAGE_STREAMS[@]}"
  fi
  step "video, subtitle and <video>-parity page tests, WebGPU renderer" env KINEMA_RENDERER=webgpu node --test --test-concurrency=1 "${PAGE_PIXELS[@]}"
  step "video, subtitle and <video>-parity page tests, 2D-canvas display" env KINEMA_RENDERER=2d node --test --test-concurrency=1 "${PAGE_PIXELS[@]}"
  step "video page tests, MSE decode path (no WebCodecs)" env KINEMA_DECODE=mse node --test --test-concurrency=1 tests/page/video.test.mjs
fi
# The second engine: the same page tests in Debian's Firefox ESR over WebDriver BiDi
# (tests/page/firefox.mjs), as users have it; all but set-top parity (the set-top box is the
# native host; its browser side is Chromium). Firefox headless here has no WebGL: the video and
# subtitle pixel checks run on the 2D display.
if wants firefox; then
  step "page tests, Firefox ESR" firefox_pages "${PAGE_FIREFOX[@]}"
  if ! wants page; then
    step "stream page tests (VOD, live, network), Firefox ESR" firefox_pages "${PAGE_STREAMS[@]}"
  fi
fi
summary
