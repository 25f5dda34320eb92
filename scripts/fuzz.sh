#!/usr/bin/env bash
# Builds the cargo-fuzz (libFuzzer) targets in fuzz/ and runs each for SECONDS (default 10),
# printing the executions, executions per second, corpus size and coverage of each. Exits
# nonzero when a target crashes (the input is then in fuzz/artifacts/<target>/; re-run it with
# `fuzz/target/x86_64-unknown-linux-gnu/release/<target> <file>`).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      (all targets by default)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`) and a nightly toolchain, or stable with
# RUSTC_BOOTSTRAP=1 (used when no nightly is installed). The corpus grows in fuzz/corpus/<target>
# (git-ignored), starting from the committed inputs in fuzz/initial/<target>.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

secs="${1:-10}"
shift || true
all=(verify_token verify_signed payload bearer token_body django_import password_hash file_stores)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  fuzz=(cargo +nightly fuzz)
else
  export RUSTC_BOOTSTRAP=1
  fuzz=(cargo fuzz)
fi
"${fuzz[@]}" build -O --sanitizer none
triple="$(rustc -vV | sed -n 's/^host: //p')"
bin="target/$triple/release"

max_len() {
  case "$1" in
    verify_token) echo 9000 ;;
    django_import|file_stores) echo 16384 ;;
    *) echo 4096 ;;
  esac
}

failed=()
printf '%-14s %12s %8s %10s %8s %8s %8s\n' target executions seconds exec/s corpus cov ft
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  log="$(mktemp)"
  status=0
  "$bin/$t" "corpus/$t" "initial/$t" -dict=json.dict -max_len="$(max_len "$t")" \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="artifacts/$t/" >"$log" 2>&1 || status=$?
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")"
  last="$(grep -E '^#[0-9]+' "$log" | tail -1 || true)"
  cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")"
  ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")"
  corp="$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")"
  printf '%-14s %12s %8s %10s %8s %8s %8s\n' "$t" "${execs:-?}" "$secs" "${rate:-?}" "${corp:-?}" "${cov:-?}" "${ft:-?}"
  if [ "$status" -ne 0 ]; then
    failed+=("$t")
    echo "--- $t FAILED (exit $status); the end of its log:" >&2
    tail -40 "$log" >&2
  fi
  rm -f "$log"
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashes in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz: no crash"
