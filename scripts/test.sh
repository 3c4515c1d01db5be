#!/usr/bin/env bash
# THE test command (the README and .ci/run call exactly this): lints, native tests, browser
# tests of the web host, and page tests of the built demo in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
export WASM_BINDGEN_TEST_WEBDRIVER_JSON="$KINEMA_ROOT/web/webdriver.json"
export CARGO_TERM_COLOR=never

passed=0
step() {
  local name=$1; shift
  local t0=$SECONDS
  echo "==> $name"
  if "$@"; then
    passed=$((passed + 1))
    echo "<== $name: ok ($((SECONDS - t0)) s)"
  else
    echo "!!! FAILED: $name ($((SECONDS - t0)) s)"
    echo "steps: $passed passed, 1 failed"
    exit 1
  fi
}

step "cargo fmt --check" cargo fmt --all -- --check
step "clippy (native)" cargo clippy --workspace --all-targets -- -D warnings
step "clippy (wasm32)" cargo clippy --workspace --all-targets --target wasm32-unknown-unknown -- -D warnings
step "fixtures" bash scripts/fixtures.sh
step "native tests" cargo test --workspace
step "browser tests (wasm-pack, headless Chromium)" wasm-pack --log-level warn test --headless --chrome web
step "build the web package" bash scripts/build-web.sh
step "page tests (Playwright, headless Chromium)" node --test tests/page/
echo "steps: $passed passed, 0 failed"
