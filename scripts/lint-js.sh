#!/usr/bin/env bash
# The JavaScript gate: TypeScript's type-check of the JS (checkJs, no emit: tsconfig.json for the
# browser side, strict; tsconfig.node.json for scripts/ and tests/) and ESLint (eslint.config.js).
# Runs both, reports every problem, exits non-zero if either found one.
# Needs the npm devDependencies (`npm ci`; scripts/bootstrap.sh does it) and the generated
# package www/pkg (bash scripts/build-web.sh): the type-check reads their .d.ts.
# scripts/test.sh runs this right after the build. ~10 s.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=node_modules/.bin
for t in tsc eslint; do
  [ -x "$bin/$t" ] || { echo "lint-js: $bin/$t missing: run npm ci (or source scripts/bootstrap.sh)" >&2; exit 2; }
done
for p in www/pkg/kinema_web.d.ts; do
  [ -f "$p" ] || { echo "lint-js: $p missing: run bash scripts/build-web.sh first (the type-check reads the generated API)" >&2; exit 2; }
done

rc=0
t0=$SECONDS
echo "lint-js: tsc -p tsconfig.json (browser code, strict)"
"$bin/tsc" -p tsconfig.json --pretty false || rc=1
echo "lint-js: tsc -p tsconfig.node.json (scripts and tests)"
"$bin/tsc" -p tsconfig.node.json --pretty false || rc=1
echo "lint-js: eslint ."
"$bin/eslint" --max-warnings 0 . || rc=1
if [ "$rc" = 0 ]; then echo "lint-js: ok ($((SECONDS - t0)) s)"; else echo "lint-js: FAILED ($((SECONDS - t0)) s)" >&2; fi
exit "$rc"
