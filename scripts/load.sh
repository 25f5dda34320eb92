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
# LOAD_SERVER_THREADS (server worker threads, default 1), PIN (default 1: server on CPU 0,
# generator on CPU 1), CARGO_TARGET_DIR.
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

# Pinning (PIN=1, the default with taskset and 2+ CPUs): the server on CPU 0, the load generator
# on CPU 1, so neither is scheduled onto the other's core mid-run (halves the round-to-round
# spread on the 2-core machine of BENCHMARKS.md). PIN=0 lets the scheduler place them.
SERVER_PIN=()
GEN_PIN=()
if [ "${PIN:-1}" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  SERVER_PIN=(taskset -c 0)
  GEN_PIN=(taskset -c 1)
fi

SERVER_PID=
cleanup() { if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi; }
trap cleanup EXIT
OUT=$(mktemp)

case "$MODE" in
  peers)
    cargo build --release --quiet --manifest-path benches/peers/Cargo.toml --bin load_server
    # benches/peers is its own workspace: its target dir is its own unless CARGO_TARGET_DIR says.
    "${SERVER_PIN[@]}" "${CARGO_TARGET_DIR:-benches/peers/target}/release/load_server" 0 >"$OUT" 2>"$OUT.log" &
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
    RUST_LOG=${RUST_LOG:-warn} "${SERVER_PIN[@]}" \
      "${CARGO_TARGET_DIR:-benches/peers/target}/release/schedule_load" \
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
    "${GEN_PIN[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" "${hdr[@]}" "$url" |
      awk '/^Requests\/sec:/ {print $2}'
  else
    "${GEN_PIN[@]}" oha --no-tui -z "${DURATION}s" -c "$CONNECTIONS" "${hdr[@]}" "$url" |
      awk '/Requests\/sec:/ {print $2}'
  fi
}

# The server's CPU time so far, in clock ticks (user + system, all threads), from /proc.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat" 2>/dev/null || echo 0; }
TICK_US=$((1000000 / $(getconf CLK_TCK 2>/dev/null || echo 100)))

echo "generator: $GEN, ${CONNECTIONS} connections, ${DURATION}s per run, $ROUNDS alternating rounds"
echo "server: $MODE on $ADDR, $LOAD_SERVER_THREADS worker thread(s); machine: $(nproc) CPUs;" \
  "pinned: ${SERVER_PIN[*]:-no} / ${GEN_PIN[*]:-no}"
# Rounds alternate the order of the paths (A B C, then C B A, …) so that a drift in the machine's
# load does not favour one path; each round's ratios are taken within that round. Besides
# requests/s, the server's CPU time per request: a slowed load generator lowers the first, not
# the second.
RESULTS=$(mktemp)
for r in $(seq "$ROUNDS"); do
  order=("${!PATHS[@]}")
  if [ $((r % 2)) = 0 ]; then
    order=($(printf '%s\n' "${order[@]}" | tac))
  fi
  for i in "${order[@]}"; do
    t0=$(cpu_ticks)
    v=$(rps "${URLS[$i]}")
    t1=$(cpu_ticks)
    cpu=$(awk -v t="$((t1 - t0))" -v us="$TICK_US" -v rps="$v" -v d="$DURATION" \
      'BEGIN {printf "%.2f", (rps > 0) ? t * us / (rps * d) : 0}')
    printf 'round %d  %-34s %12s req/s  %6s µs server CPU/request\n' "$r" "${PATHS[$i]}" "$v" "$cpu"
    echo "$r $i $v $cpu" >>"$RESULTS"
  done
done
echo "over $ROUNDS rounds: mean req/s and server CPU per request; the medians of the per-round"
echo "ratios to ${PATHS[0]} (requests/s, and requests per server CPU-second) with their ranges:"
for i in "${!PATHS[@]}"; do
  awk -v want="$i" -v p="${PATHS[$i]}" '
    function median(a, n,    i, j, x) {
      for (i = 2; i <= n; i++) { x = a[i]; j = i - 1
        while (j > 0 && a[j] > x) { a[j + 1] = a[j]; j-- } a[j + 1] = x }
      return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    { v[$1, $2] = $3; c[$1, $2] = $4; rounds[$1] = 1 }
    END {
      n = 0; sum = 0; csum = 0
      for (r in rounds) {
        sum += v[r, want]; csum += c[r, want]; n++
        ratio[n] = v[r, want] / v[r, 0]
        eff[n] = (c[r, want] > 0) ? c[r, 0] / c[r, want] : 0
      }
      mr = median(ratio, n); me = median(eff, n)
      printf "  %-34s %9.0f req/s %6.2f µs  %.2fx (%.2f-%.2f)  per CPU %.2fx (%.2f-%.2f)\n", \
        p, sum / n, csum / n, mr, ratio[1], ratio[n], me, eff[1], eff[n]
    }' "$RESULTS"
done
rm -f "$RESULTS"
