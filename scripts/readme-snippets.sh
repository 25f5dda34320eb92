#!/usr/bin/env bash
# Builds every README snippet as a user would paste it: for each stack the README gives
# dependency lines for (`<!-- readme-deps: STACK -->` before a block of `cargo add` lines), a
# fresh `cargo new` project gets exactly those lines (this crate by path instead of from
# crates.io) and each snippet marked `<!-- readme-check: STACK -->` as one of its binaries.
# Then the quick start (the first axum snippet) is started and called with PyJWT tokens.
#
# Usage: scripts/readme-snippets.sh   (needs cargo; for the quick start run python3 with PyJWT
# and curl, as .ci/install-deps installs them). Every ```rust block of the README must be
# marked, so none escapes the check. The projects live in target/readme-snippets/ and share the
# repository's target directory, so the dependencies the test suite built are reused.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
readme="$repo/README.md"
work="$repo/target/readme-snippets"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

fail() {
  echo "readme-snippets: $*" >&2
  exit 1
}

# cargo, from the local registry cache when it has everything, else from the registry.
cargo_cached() {
  cargo "$@" --offline --quiet 2>/dev/null || cargo "$@" --quiet
}

rm -rf "$work"
mkdir -p "$work"

# Split the README's marked blocks into $work/STACK.deps and $work/STACK.N.rs.
awk -v work="$work" '
  function die(msg) { print "readme-snippets: README.md:" NR ": " msg > "/dev/stderr"; bad = 1; exit 1 }
  match($0, /^<!-- readme-(deps|check): [a-z0-9-]+ -->$/) {
    split($0, w, /[ :]+/); kind = w[2]; sub(/^readme-/, "", kind); stack = w[3]
    pending = 1; next
  }
  pending {
    pending = 0
    if (kind == "deps" && $0 != "```sh") die("a readme-deps marker must precede a ```sh block")
    if (kind == "check" && $0 !~ /^```rust/) die("a readme-check marker must precede a ```rust block")
    if (kind == "deps") { file = work "/" stack ".deps"; deps[stack] = 1 }
    else { n[stack]++; file = work "/" stack "." n[stack] ".rs"; checks++ }
    printf "" > file
    inside = 1; next
  }
  inside && /^```$/ { inside = 0; close(file); next }
  inside { print >> file; next }
  /^```rust/ { die("a ```rust block without a readme-check marker (mark it with the stack it builds in)") }
  END {
    if (bad) exit 1
    if (inside) die("unterminated code block")
    if (!checks) die("no readme-check snippets")
    for (s in n) if (!(s in deps)) die("snippets for stack " s " but no readme-deps block for it")
  }
' "$readme" || fail "could not extract the snippets"

for deps in "$work"/*.deps; do
  stack="$(basename "$deps" .deps)"
  project="$work/$stack"
  echo "== $stack: cargo new + the README's dependency lines"
  cargo new --quiet --bin --vcs none --name "readme-$stack" "$project"
  # Start from the repository's lock file: the same versions the test suite uses, from the cache.
  cp "$repo/Cargo.lock" "$project/Cargo.lock"
  while IFS= read -r line; do
    line="${line%%#*}"
    [ -n "${line// /}" ] || continue
    read -ra words <<<"$line"
    [ "${words[0]}" = cargo ] && [ "${words[1]}" = add ] || fail "$stack: not a cargo add line: $line"
    args=()
    for w in "${words[@]:1}"; do
      if [ "$w" = tower-jwt-auth ]; then args+=(--path "$repo"); else args+=("$w"); fi
    done
    echo "   cargo ${args[*]/#$repo/<repo>}"
    (cd "$project" && cargo_cached "${args[@]}") || fail "$stack: cargo ${args[*]} failed"
  done <"$deps"
  mkdir -p "$project/src/bin"
  for snippet in "$work/$stack".*.rs; do
    [ -e "$snippet" ] || continue
    n="${snippet#"$work/$stack".}"
    n="${n%.rs}"
    mv "$snippet" "$project/src/bin/${stack}_$n.rs"
  done
  echo "== $stack: cargo build ($(find "$project/src/bin" -name '*.rs' | wc -l) snippets)"
  (cd "$project" && cargo_cached build --bins) ||
    fail "$stack: a README snippet does not build with the README's dependency lines"
  sed -n '/^\[dependencies\]/,$p' "$project/Cargo.toml" | sed 's/^/   /'
done

# The quick start serves: own claims under the generic policy, simplejwt's under its own.
quick="$CARGO_TARGET_DIR/debug/axum_1"
[ -x "$quick" ] || fail "no quick start (the first axum snippet) was built"
command -v curl >/dev/null || fail "curl is needed to call the quick start"
python3 -c "import jwt" 2>/dev/null || fail "python3 with PyJWT is needed to mint the quick start's tokens"
echo "== the quick start serves"
export JWT_SECRET="readme-check-secret-of-at-least-32-bytes"
out="$work/quick-start.out"
ADDR=127.0.0.1:0 "$quick" >"$out" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
base=""
for _ in $(seq 1 100); do
  base="$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$out")"
  [ -n "$base" ] && break
  kill -0 "$pid" 2>/dev/null || fail "the quick start exited: $(cat "$out")"
  sleep 0.1
done
[ -n "$base" ] || fail "the quick start did not print its address"
mint() { python3 -c "import jwt, os, sys, time, uuid; t = int(time.time()); print(jwt.encode(eval(sys.argv[1]), os.environ['JWT_SECRET']))" "$1"; }
own="$(mint '{"sub": "alice", "role": "admin", "iat": t, "exp": t + 300}')"
sjwt="$(mint '{"token_type": "access", "exp": t + 300, "iat": t, "jti": uuid.uuid4().hex, "user_id": "1"}')"
expect() { # expect WHAT STATUS BODY curl-args...
  local what="$1" status="$2" body="$3" got
  shift 3
  got="$(curl -s -o "$work/body" -w '%{http_code}' "$@")"
  [ "$got" = "$status" ] && [ "$(cat "$work/body")" = "$body" ] ||
    fail "$what: got $got $(cat "$work/body"), want $status $body"
  echo "   ok: $what"
}
expect "own token, own claims" 200 "hello alice (admin)" -H "Authorization: Bearer $own" "$base/me"
expect "simplejwt token" 200 "you are user 1" -H "Authorization: Bearer $sjwt" "$base/api/whoami/"
expect "no token" 401 '{"detail":"Authentication credentials were not provided."}' "$base/me"
expect "own token under simplejwt's policy" 401 \
  '{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{"token_class":"AccessToken","token_type":"access","message":"Token has no id"}]}' \
  -H "Authorization: Bearer $own" "$base/api/whoami/"
echo "readme-snippets: every README snippet builds with the README's dependency lines; the quick start serves"
