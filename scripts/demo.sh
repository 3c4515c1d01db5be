#!/usr/bin/env bash
# THE demo command: sets up what is missing, builds the web package, generates the default
# sample, packages the TV apps (dist/) and serves www/ on 127.0.0.1 (PORT, default 8080), the
# TV apps under /apps/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
bash scripts/build-web.sh
bash scripts/fixtures.sh
bash scripts/package-devices.sh
exec node scripts/serve.mjs --root www --host 127.0.0.1 --port "${PORT:-8080}"
