#!/usr/bin/env bash
# Runs the simplejwt reference probe (probe.py, from the shared reference/ folder) against this
# example server, exactly as make_transcript.sh runs it against Django, and compares the result
# with the recorded transcript.json (ignoring token strings, exp, iat and jti).
#
#   examples/schedule_server/probe/run_probe.sh REFERENCE_DIR [PYTHON]
#
# REFERENCE_DIR holds probe.py and ../transcript.json; PYTHON must have `requests`.
# Part 1: default settings. Part 2: --rotate-refresh-tokens --blacklist-after-rotation, on the
# same data directory (as the reference reuses its database). Part 2 is run twice: with this
# crate's default reuse detection (a reused refresh token revokes its family, so the probe's
# R#07 gets 401 and the probe stops there) and with --no-revoke-family-on-reuse (simplejwt's
# behaviour, so every exchange runs).
set -euo pipefail
REF="$(cd "$1" && pwd)"
PY="${2:-python3}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "${HERE}/../../.." && pwd)"
cd "${ROOT}"
cargo build --quiet --example schedule_server
EXE="${CARGO_TARGET_DIR:-${ROOT}/target}/debug/examples/schedule_server"
TMP="$(mktemp -d)"
PID=""
cleanup() { if [ -n "${PID}" ]; then kill "${PID}" 2>/dev/null || true; wait "${PID}" 2>/dev/null || true; fi; rm -rf "${TMP}"; }
trap cleanup EXIT
export JWT_SECRET="reference-only-test-secret-key-for-simplejwt-wire-format-probe-0123456789abcdef0123456789abcdef"

new_data() {  # the reference's users: alice (id 1, active), dormant (id 2, inactive)
  rm -rf "$1"
  echo "wonderland-42" | "${EXE}" users add alice --data-dir "$1" >/dev/null
  echo "sleepy-hollow-7" | "${EXE}" users add dormant --inactive --data-dir "$1" >/dev/null
}
serve() {  # serve DATA_DIR FLAGS... ; sets PID and BASE
  "${EXE}" serve --addr 127.0.0.1:0 --data-dir "$@" >"${TMP}/banner" 2>>"${TMP}/server.log" &
  PID=$!
  for _ in $(seq 1 100); do grep -q "listening on" "${TMP}/banner" 2>/dev/null && break; sleep 0.1; done
  BASE="$(sed -n 's/^schedule_server listening on //p' "${TMP}/banner")"
}
stop() { kill "${PID}"; wait "${PID}" || true; PID=""; }

for mode in default simplejwt-reuse; do
  new_data "${TMP}/data"
  serve "${TMP}/data"
  "${PY}" "${REF}/probe.py" "${BASE}" --json "${TMP}/part1.json" >/dev/null
  stop
  extra=()
  [ "${mode}" = simplejwt-reuse ] && extra=(--no-revoke-family-on-reuse)
  serve "${TMP}/data" --rotate-refresh-tokens --blacklist-after-rotation "${extra[@]}"
  if ! "${PY}" "${REF}/probe.py" "${BASE}" --rotation --json "${TMP}/part2.json" >/dev/null 2>"${TMP}/probe2.err"; then
    echo "(part 2 probe stopped early: $(tail -1 "${TMP}/probe2.err"))"
    [ -s "${TMP}/part2.json" ] || echo '[]' >"${TMP}/part2.json"
  fi
  stop
  echo "=== reuse detection: ${mode}"
  "${PY}" "${HERE}/compare.py" "${REF}/../transcript.json" "${TMP}/part1.json" "${TMP}/part2.json"
done
