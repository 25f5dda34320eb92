#!/usr/bin/env bash
# Login storm: latency of the protected route while argon2id logins run at full rate.
#
# Starts the schedule_server example (release) on 127.0.0.1, logs in once for an access token,
# then, per round, measures `GET /api/weekly_schedule/` with `wrk --latency` (low fixed
# concurrency) twice: idle, and while a second wrk posts correct-password logins to
# `/api/token/` as fast as the server answers them (every one is an argon2id verification).
# Reports p50/p99 of both and the storm/idle p99 ratio, per round and as medians over rounds.
# Bounded runs on 127.0.0.1 only; every process started here is stopped on exit. See
# BENCHMARKS.md ("Login storm").
#
#   scripts/login_storm.sh
#
# Needs wrk (Debian: `apt-get install wrk`) and curl. Environment: DURATION (seconds per measured
# run, default 10), ROUNDS (default 3), CONNECTIONS (GET connections, default 4),
# LOGIN_CONNECTIONS (login connections, default 8), CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-4}
LOGIN_CONNECTIONS=${LOGIN_CONNECTIONS:-8}
TARGET=${CARGO_TARGET_DIR:-target}

for tool in wrk curl; do
  command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install $tool)" >&2; exit 2; }
done

SERVER_PID=
STORM_PID=
WORK=$(mktemp -d)
cleanup() {
  for pid in "$STORM_PID" "$SERVER_PID"; do
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --release --quiet --example schedule_server
# A log line per login would be measured too: warnings only, to a file.
RUST_LOG=${RUST_LOG:-warn} "$TARGET/release/examples/schedule_server" serve \
  --addr 127.0.0.1:0 --access-lifetime 3600 >"$WORK/out" 2>"$WORK/log" &
SERVER_PID=$!
for _ in $(seq 100); do grep -q 'password' "$WORK/out" && break; sleep 0.1; done
ADDR=$(sed -n 's/^schedule_server listening on http:\/\///p' "$WORK/out")
USERNAME=$(sed -n 's/.*username "\([^"]*\)".*/\1/p' "$WORK/out")
PASSWORD=$(sed -n 's/.*password "\([^"]*\)".*/\1/p' "$WORK/out")
[ -n "$ADDR" ] && [ -n "$PASSWORD" ] || { echo "server did not start:"; cat "$WORK/out" "$WORK/log"; exit 1; }
case "$ADDR" in 127.0.0.1:*) ;; *) echo "refusing a non-loopback address: $ADDR" >&2; exit 1 ;; esac

LOGIN=$(printf '{"username":"%s","password":"%s"}' "$USERNAME" "$PASSWORD")
TOKEN=$(curl -sf -X POST "http://$ADDR/api/token/" -H 'Content-Type: application/json' \
  -d "$LOGIN" | sed -E 's/.*"access":"([^"]+)".*/\1/')
[ -n "$TOKEN" ] || { echo "login failed"; exit 1; }
curl -sf -X POST "http://$ADDR/api/weekly_schedule/" -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' \
  -d '{"schedule":{"monday":[{"start":"00:00","stop":"01:00","ids":[1]}]}}' >/dev/null
code=$(curl -s -o /dev/null -w '%{http_code}' "http://$ADDR/api/weekly_schedule/")
[ "$code" = 401 ] || { echo "GET without a token: $code, expected 401"; exit 1; }
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
  "http://$ADDR/api/weekly_schedule/")
[ "$code" = 200 ] || { echo "GET with the token: $code, expected 200"; exit 1; }

# The storm's request: a correct-password login (a wrong one would hit the login throttle).
cat >"$WORK/login.lua" <<EOF
wrk.method = "POST"
wrk.body = '$LOGIN'
wrk.headers["Content-Type"] = "application/json"
EOF

# `wrk --latency` prints "     50%  812.00us"; converted to milliseconds.
pct() {
  awk -v p="$1%" '$1 == p {
    v = $2; u = v; sub(/^[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
    if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000
    printf "%.3f", v
  }' "$2"
}
field() { awk -v k="$1" 'index($0, k) == 1 { print $NF }' "$2"; }
non2xx() { awk '/Non-2xx or 3xx responses:/ { print $NF }' "$1"; }
get() {
  wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "Authorization: Bearer $TOKEN" \
    "http://$ADDR/api/weekly_schedule/" >"$1"
  local bad
  bad=$(non2xx "$1")
  [ -z "$bad" ] || { echo "GET: $bad non-2xx responses" >&2; cat "$1" >&2; exit 1; }
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); server on $ADDR"
echo "GET /api/weekly_schedule/: wrk -t1 -c$CONNECTIONS ${DURATION}s; storm: wrk -t1" \
  "-c$LOGIN_CONNECTIONS POST /api/token/ (correct password); $ROUNDS rounds"
printf '%-6s %10s %10s %10s %10s %8s %12s\n' round 'idle p50' 'idle p99' 'storm p50' \
  'storm p99' 'p99 x' 'logins/s'
: >"$WORK/rows"
for r in $(seq "$ROUNDS"); do
  get "$WORK/idle"
  # The storm starts a second early and ends after the measured run.
  wrk -t1 -c"$LOGIN_CONNECTIONS" -d"$((DURATION + 2))s" -s "$WORK/login.lua" \
    "http://$ADDR/api/token/" >"$WORK/storm" &
  STORM_PID=$!
  sleep 1
  get "$WORK/busy"
  wait "$STORM_PID"
  STORM_PID=
  bad=$(non2xx "$WORK/storm")
  [ -z "$bad" ] || { echo "storm: $bad non-2xx login responses" >&2; cat "$WORK/storm" >&2; exit 1; }
  row=$(printf '%s %s %s %s %s' "$(pct 50 "$WORK/idle")" "$(pct 99 "$WORK/idle")" \
    "$(pct 50 "$WORK/busy")" "$(pct 99 "$WORK/busy")" "$(field Requests/sec: "$WORK/storm")")
  echo "$row" >>"$WORK/rows"
  echo "$r $row" | awk '{ printf "%-6s %8.3fms %8.3fms %8.3fms %8.3fms %7.2fx %12s\n",
    $1, $2, $3, $4, $5, $5 / $3, $6 }'
done
m() { awk -v c="$1" '{ print $c }' "$WORK/rows" | median; }
awk -v a="$(m 1)" -v b="$(m 2)" -v c="$(m 3)" -v d="$(m 4)" -v l="$(m 5)" 'BEGIN {
  printf "%-6s %8.3fms %8.3fms %8.3fms %8.3fms %7.2fx %12.1f\n", "median", a, b, c, d, d / b, l }'
