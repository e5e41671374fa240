#!/usr/bin/env bash
# The one test command (`npm test`): installs what is missing, builds, provides a Redis, runs
# every test with node's test runner. Usage: npm test [-- dist/path/to/file.test.js …]
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d node_modules ] || npm ci --no-audit --no-fund
rm -rf dist
npm run -s build

# Tests run against a real Redis: REDIS_URL when given, otherwise a private redis-server on a
# free port, stopped on exit.
if [ -z "${REDIS_URL:-}" ]; then
  if ! command -v redis-server >/dev/null; then
    echo "tests need Redis: set REDIS_URL=redis://host:port or install redis-server (apt-get install redis-server)" >&2
    exit 1
  fi
  dir=$(mktemp -d)
  port=$(node -e 'const s=require("node:net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
  # stop it, wait until it is gone (it writes its log while shutting down), then remove its
  # folder; nothing here may change the suite's exit status (set -e applies inside the trap)
  stop_redis() {
    local pid
    pid=$(cat "$dir/redis.pid" 2>/dev/null) || pid=''
    if [ -n "$pid" ]; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -rf "$dir" 2>/dev/null || true
  }
  trap stop_redis EXIT
  for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  export REDIS_URL="redis://127.0.0.1:$port"
fi
echo "tests use REDIS_URL=$REDIS_URL"

# The deploy checks (test/ship) read the compose files with Debian's docker-compose and render
# the Kubernetes overlays with kubectl: installed once when missing (apt-get update first).
apt_updated=0
need_tool() { # need_tool COMMAND DEBIAN_PACKAGE
  command -v "$1" >/dev/null && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "the deploy tests need $1: install it (Debian: sudo apt-get install -y $2)" >&2
    exit 1
  fi
  [ "$apt_updated" = 1 ] || { apt-get update -qq >/dev/null && apt_updated=1; }
  echo "installing $2 (for $1)"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; then
    echo "could not install $2: run 'apt-get update && apt-get install -y $2' and retry" >&2
    exit 1
  fi
}
need_tool docker-compose docker-compose
need_tool kubectl kubernetes-client
# The admin UI's tests (test/ui) drive Debian's chromium through playwright-core, which
# downloads no browser of its own: install it when missing and we may, else say how.
if [ -z "${CHROMIUM_PATH:-}" ] && ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing chromium for the browser tests (apt-get install -y chromium)" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "the browser tests need Chromium: run 'sudo apt-get install -y chromium' (Debian/Ubuntu), or set CHROMIUM_PATH=/path/to/chromium" >&2
    exit 1
  fi
fi
export CHROMIUM_PATH="${CHROMIUM_PATH:-$(command -v chromium)}"

if [ $# -gt 0 ]; then targets=("$@"); else targets=(dist/src dist/demo dist/bench dist/test); fi
existing=()
for t in "${targets[@]}"; do [ -e "$t" ] && existing+=("$t"); done
# PORTICO_TEST_REPORTER=<module>: report with it instead of TAP (e.g. ./dist/scripts/kong-parity.js)
reporter=()
[ -n "${PORTICO_TEST_REPORTER:-}" ] && reporter=(--test-reporter="$PORTICO_TEST_REPORTER" --test-reporter-destination=stdout)
node --test --test-concurrency=2 --test-timeout=300000 "${reporter[@]}" "${existing[@]}"
