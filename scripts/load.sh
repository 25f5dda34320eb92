#!/usr/bin/env bash
# End-to-end load test over loopback HTTP: requests/s of the same GET handler with and without
# JwtAuthLayer, with `wrk` (Debian: `apt-get install wrk`) or `oha` (`cargo install oha`).
# Bounded runs on 127.0.0.1 only. See BENCHMARKS.md.
#
#   scripts/load.sh                 # benches/peers load_server: /open vs /protected vs /cached
#   scripts/load.sh example         # the schedule_server example's router: GET
#                                   #   /api/weekly_schedule/ behind JwtAuthLayer + user check vs
#                                   #   the same handler and stack with claims inserted, no auth
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
    URLS=("http://$ADDR/open" "http://$ADDR/protected" "http://$ADDR/cached")
    AUTH=(no yes yes)
    ;;
  example)
    # The example server's own router, served twice by one process (benches/peers/src/bin/
    # schedule_load.rs): behind JwtAuthLayer + the user check, and with the auth layer replaced
    # by one that only inserts the demo user's claims. Same handler, same middleware.
    cargo build --release --quiet --manifest-path benches/peers/Cargo.toml --bin schedule_load
    # The example logs one line per request at info: warnings only, to a file.
    RUST_LOG=${RUST_LOG:-warn} "${CARGO_TARGET_DIR:-benches/peers/target}/release/schedule_load" \
      >"$OUT" 2>"$OUT.log" &
    SERVER_PID=$!
    for _ in $(seq 100); do grep -q '^token ' "$OUT" && break; sleep 0.1; done
    ADDR=$(sed -n 's/^open //p' "$OUT")
    TOKEN=$(sed -n 's/^token //p' "$OUT")
    # Two listeners: the path is the same, the address differs.
    URLS=("http://$ADDR/api/weekly_schedule/" "http://$(sed -n 's/^protected //p' "$OUT")/api/weekly_schedule/")
    PATHS=("open /api/weekly_schedule/" "protected /api/weekly_schedule/")
    AUTH=(no yes)
    ;;
  *) echo "usage: $0 [peers|example]" >&2; exit 2 ;;
esac

[ -n "$ADDR" ] && [ -n "$TOKEN" ] || { echo "server did not start:"; cat "$OUT"; exit 1; }
case "$ADDR" in 127.0.0.1:*) ;; *) echo "refusing a non-loopback address: $ADDR" >&2; exit 1 ;; esac

# Sanity: the protected path refuses a request without a token and serves one with it.
for i in "${!PATHS[@]}"; do
  if [ "${AUTH[$i]}" = yes ]; then
    code=$(curl -s -o /dev/null -w '%{http_code}' "${URLS[$i]}")
    [ "$code" = 401 ] || { echo "${PATHS[$i]} without a token: $code, expected 401"; exit 1; }
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "${URLS[$i]}")
  else
    code=$(curl -s -o /dev/null -w '%{http_code}' "${URLS[$i]}")
  fi
  [ "$code" = 200 ] || { echo "${PATHS[$i]}: $code, expected 200"; exit 1; }
done

# Requests/s of one bounded run.
rps() {
  local url=$1
  # Every run sends the same request headers, the token included: the difference between two
  # paths is what the layer does with it, not the bytes on the wire.
  local hdr=(-H "Authorization: Bearer $TOKEN")
  if [ "$GEN" = wrk ]; then
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" "${hdr[@]}" "$url" |
      awk '/^Requests\/sec:/ {print $2}'
  else
    oha --no-tui -z "${DURATION}s" -c "$CONNECTIONS" "${hdr[@]}" "$url" |
      awk '/Requests\/sec:/ {print $2}'
  fi
}

echo "generator: $GEN, ${CONNECTIONS} connections, ${DURATION}s per run, $ROUNDS alternating rounds"
echo "server: $MODE on $ADDR, $LOAD_SERVER_THREADS worker thread(s); machine: $(nproc) CPUs"
declare -A SUM
for r in $(seq "$ROUNDS"); do
  for i in "${!PATHS[@]}"; do
    v=$(rps "${URLS[$i]}")
    printf 'round %d  %-34s %12s req/s\n' "$r" "${PATHS[$i]}" "$v"
    SUM[$i]=$(awk -v a="${SUM[$i]:-0}" -v b="$v" 'BEGIN {print a + b}')
  done
done
echo "mean over $ROUNDS rounds (ratio to ${PATHS[0]}):"
for i in "${!PATHS[@]}"; do
  awk -v s="${SUM[$i]}" -v base="${SUM[0]}" -v n="$ROUNDS" -v p="${PATHS[$i]}" \
    'BEGIN {printf "  %-34s %12.0f req/s  %.2fx\n", p, s / n, s / base}'
done
