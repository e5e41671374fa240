#!/usr/bin/env bash
# The TLS peer rows (issue 20, point 6): nginx with `ssl` and Portico, both terminating TLS for
# the same small GET, with ../shared/bench/peers.mjs's topology and pinning: backend nginx and
# the proxy on cpu 0, wrk on cpu 1. Two figures per proxy, each the median of ROUNDS
# interleaved rounds: keep-alive (50 connections reused) and handshake rate (`Connection:
# close`: a new connection, so a full TLS handshake, per request; wrk does not resume sessions).
#
#   bash ../shared/bench/setup.sh && npm run build && bash bench/tls-peers.sh
#
# Run it on a quiet machine; it prints one line per run and a Markdown table at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared/bench}
RUN=${RUN_DIR:-/tmp/bench-tls}
BACKEND_PORT=${BACKEND_PORT:-9001}
PORT=${PORT:-8080}
TLS_PORT=${TLS_PORT:-8443}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}
WARMUP=${WARMUP:-8}
CONNS=${CONNS:-50}
SUT_CPUS=${SUT_CPUS:-0}
WRK_CPUS=${WRK_CPUS:-1}
mkdir -p "$RUN/tmp-backend" "$RUN/tmp-tls"
render() { sed -e "s#__RUN__#$RUN#g" -e "s#__BACKEND_PORT__#$BACKEND_PORT#g" -e "s#__TLS_PORT__#$TLS_PORT#g" "$1" >"$2"; }
render "$SHARED/conf/nginx-backend.conf" "$RUN/nginx-backend.conf"
render bench/conf/nginx-tls-proxy.conf "$RUN/nginx-tls.conf"
# one ECDSA P-256 certificate for both proxies
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$RUN/tls-key.pem" -out "$RUN/tls-cert.pem" 2>/dev/null

pids=()
stop_all() { for p in "${pids[@]}"; do kill -- -"$p" 2>/dev/null || true; done; }
trap stop_all EXIT
start() { # start NAME CMD…: in its own process group, pinned to the SUT cpus; its pid in $pid
  setsid taskset -c "$SUT_CPUS" "${@:2}" >"$RUN/$1.log" 2>&1 &
  pid=$!
  pids+=("$pid")
}
wait_up() { for _ in $(seq 1 100); do curl -ksf "https://127.0.0.1:$TLS_PORT/json" >/dev/null && return 0; sleep 0.2; done; echo "not up" >&2; return 1; }
bench() { # bench LABEL [wrk args…]: warm-up, then the measured run; prints req/s and p99
  taskset -c "$WRK_CPUS" wrk -t1 -c"$CONNS" -d"${WARMUP}s" "${@:2}" "https://127.0.0.1:$TLS_PORT/json" >/dev/null
  out=$(taskset -c "$WRK_CPUS" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "${@:2}" "https://127.0.0.1:$TLS_PORT/json")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errs=$(grep -Eo 'Socket errors:.*|Non-2xx.*' <<<"$out" | tr '\n' ' ' || true)
  echo "$1 $rps $p99 $errs" | tee -a "$RUN/results.txt"
}
: >"$RUN/results.txt"
start backend nginx -p "$RUN/" -c "$RUN/nginx-backend.conf" -e "$RUN/nginx-backend.err"
for round in $(seq 1 "$ROUNDS"); do
  start nginx-tls nginx -p "$RUN/" -c "$RUN/nginx-tls.conf" -e "$RUN/nginx-tls.err"
  wait_up
  bench "round$round nginx-tls keepalive"
  bench "round$round nginx-tls handshake" -H 'Connection: close'
  kill -- -"$pid"; sleep 1
  start portico env PORT="$PORT" TLS_PORT="$TLS_PORT" UPSTREAM="http://127.0.0.1:$BACKEND_PORT" \
    PORTICO_SSL_CERT="$RUN/tls-cert.pem" PORTICO_SSL_CERT_KEY="$RUN/tls-key.pem" NODE_ENV=production \
    node dist/bench/peer-gateway.js
  wait_up
  bench "round$round portico-tls keepalive"
  bench "round$round portico-tls handshake" -H 'Connection: close'
  kill -- -"$pid"; sleep 1
done
echo
echo "| row | req/s (median of $ROUNDS rounds) | p99 of that round |"
echo "|---|---:|---:|"
for row in "nginx-tls keepalive" "nginx-tls handshake" "portico-tls keepalive" "portico-tls handshake"; do
  grep " $row " "$RUN/results.txt" | awk '{print $4, $5}' | sort -n | awk -v row="$row" '
    { r[NR]=$1; l[NR]=$2 } END { m=int((NR+1)/2); print "| " row " | " r[m] " | " l[m] " |" }'
done
