#!/usr/bin/env bash
# End-to-end load test over loopback HTTP: requests/s of the same GET handler with and without
# JwtAuthLayer, with `wrk` (Debian: `apt-get install wrk`) or `oha` (`cargo install oha`).
# Bounded runs on 127.0.0.1 only. See BENCHMARKS.md.
#
#   scripts/load.sh                 # benches/peers load_server: /open vs /protected vs /cached
#   scripts/load.sh example         # the schedule_server example: GET /api/weekly_schedule/
#                                   #   (protected) vs GET /healthz (unprotected)
#
# Environment: DURATION (seconds per run, default 10), CONNECTIONS (default 64), ROUNDS
# (alternating rounds per path, default 3), THREADS (load generator threads, default 1),
# LOAD_SERVER_THREADS (server worker threads, default 1), CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=${1:-peers}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-1}
export LOAD_SERVER_THREADS=${LOAD_SERVER_THREADS:-1}
TARGET=${CARGO_TARGET_DIR:-target}

if command -v wrk >/dev/null; then
  GEN=wrk
elif command -v oha >/dev/null; then
  GEN=oha
else
  echo "needs wrk (apt-get install wrk) or oha (cargo install oha)" >&2
  exit 2
fi

SERVER_PID=
cleanup() { if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi; }
trap cleanup EXIT
OUT=$(mktemp)

case "$MODE" in
  peers)
    cargo build --release --quiet --manifest-path benches/peers/Cargo.toml --bin load_server
    # benches/peers is its own workspace: its target dir is its own unless CARGO_TARGET_DIR says.
    "${CARGO_TARGET_DIR:-benches/peers/target}/release/load_server" 0 >"$OUT" 2>"$OUT.log" &
    SERVER_PID=$!
    for _ in $(seq 100); do grep -q '^token ' "$OUT" && break; sleep 0.1; done
    ADDR=$(sed -n 's/^addr //p' "$OUT")
    TOKEN=$(sed -n 's/^token //p' "$OUT")
    PATHS=(/open /protected /cached)
    AUTH=(no yes yes)
    ;;
  example)
    cargo build --release --quiet --example schedule_server
    # One log line per request would be measured too: warnings only, to a file.
    RUST_LOG=${RUST_LOG:-warn} "$TARGET/release/examples/schedule_server" serve \
      --addr 127.0.0.1:0 --access-lifetime 3600 >"$OUT" 2>"$OUT.log" &
    SERVER_PID=$!
    for _ in $(seq 100); do grep -q 'password' "$OUT" && break; sleep 0.1; done
    ADDR=$(sed -n 's/^schedule_server listening on http:\/\///p' "$OUT")
    USERNAME=$(sed -n 's/.*username "\([^"]*\)".*/\1/p' "$OUT")
    PASSWORD=$(sed -n 's/.*password "\([^"]*\)".*/\1/p' "$OUT")
    LOGIN=$(printf '{"username":"%s","password":"%s"}' "$USERNAME" "$PASSWORD")
    TOKEN=$(curl -sf -X POST "http://$ADDR/api/token/" -H 'Content-Type: application/json' \
      -d "$LOGIN" | sed -E 's/.*"access":"([^"]+)".*/\1/')
    curl -sf -X POST "http://$ADDR/api/weekly_schedule/" -H "Authorization: Bearer $TOKEN" \
      -H 'Content-Type: application/json' \
      -d '{"schedule":{"monday":[{"start":"00:00","stop":"01:00","ids":[1]}]}}' >/dev/null
    PATHS=(/healthz /api/weekly_schedule/)
    AUTH=(no yes)
    ;;
  *) echo "usage: $0 [peers|example]" >&2; exit 2 ;;
esac

[ -n "$ADDR" ] && [ -n "$TOKEN" ] || { echo "server did not start:"; cat "$OUT"; exit 1; }
case "$ADDR" in 127.0.0.1:*) ;; *) echo "refusing a non-loopback address: $ADDR" >&2; exit 1 ;; esac

# Sanity: the protected path refuses a request without a token and serves one with it.
for i in "${!PATHS[@]}"; do
  if [ "${AUTH[$i]}" = yes ]; then
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://$ADDR${PATHS[$i]}")
    [ "$code" = 401 ] || { echo "${PATHS[$i]} without a token: $code, expected 401"; exit 1; }
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "http://$ADDR${PATHS[$i]}")
  else
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://$ADDR${PATHS[$i]}")
  fi
  [ "$code" = 200 ] || { echo "${PATHS[$i]}: $code, expected 200"; exit 1; }
done

# Requests/s of one bounded run.
rps() {
  local path=$1
  # Every run sends the same request headers, the token included: the difference between two
  # paths is what the layer does with it, not the bytes on the wire.
  local hdr=(-H "Authorization: Bearer $TOKEN")
  if [ "$GEN" = wrk ]; then
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" "${hdr[@]}" "http://$ADDR$path" |
      awk '/^Requests\/sec:/ {print $2}'
  else
    oha --no-tui -z "${DURATION}s" -c "$CONNECTIONS" "${hdr[@]}" "http://$ADDR$path" |
      awk '/Requests\/sec:/ {print $2}'
  fi
}

echo "generator: $GEN, ${CONNECTIONS} connections, ${DURATION}s per run, $ROUNDS alternating rounds"
echo "server: $MODE on $ADDR, $LOAD_SERVER_THREADS worker thread(s); machine: $(nproc) CPUs"
declare -A SUM
for r in $(seq "$ROUNDS"); do
  for i in "${!PATHS[@]}"; do
    v=$(rps "${PATHS[$i]}")
    printf 'round %d  %-24s %12s req/s\n' "$r" "${PATHS[$i]}" "$v"
    SUM[$i]=$(awk -v a="${SUM[$i]:-0}" -v b="$v" 'BEGIN {print a + b}')
  done
done
echo "mean over $ROUNDS rounds (ratio to ${PATHS[0]}):"
for i in "${!PATHS[@]}"; do
  awk -v s="${SUM[$i]}" -v base="${SUM[0]}" -v n="$ROUNDS" -v p="${PATHS[$i]}" \
    'BEGIN {printf "  %-24s %12.0f req/s  %.2fx\n", p, s / n, s / base}'
done
