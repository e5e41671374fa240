#!/usr/bin/env bash
# `npm start` / `npm run demo`: installs dependencies on a fresh clone, builds, runs portico.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run -s build
exec node bin/portico.js "$@"
