#!/usr/bin/env bash
# Sourced by .ci/run after the tests: schemathesis (PyPI) against a real `grantry serve` on a
# temporary SQLite database, on loopback, with an owner's token, every check but one, for a
# bounded time. It must find no server error, no response outside the schema, no undocumented
# status and no schema-violating input accepted. (`positive_data_acceptance` is left out: a
# schema-valid request naming a user or scope that does not exist is rightly refused. Token
# revocation and exchange are left out too: revocation finds the run's own token with `GET /tokens` and
# revokes it, an exchange revokes the token presented, and every later operation answers 401; the
# route x caller table tests both.)
# One worker: with two, hypothesis's lambda descriptions race on Python's AST recursion counter
# ("AST constructor recursion depth mismatch"), a runtime error of the tool, not of the API.

SCHEMATHESIS_VERSION=4.32.5
if ! command -v st >/dev/null || ! st --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  echo "== installing schemathesis $SCHEMATHESIS_VERSION (PyPI)"
  python3 -m pip install -q "schemathesis==$SCHEMATHESIS_VERSION" 2>&1 | grep -v "^WARNING: Running pip as" || true
fi
ST_DIR="$(mktemp -d)"
GRANTRY="$PWD/target/debug/grantry"
cargo build -q -p grantry --locked
TOKEN="$("$GRANTRY" admin bootstrap --db "sqlite://$ST_DIR/g.db" --org acme --email owner@acme.test --json |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')"
GRANTRY_LOG=error "$GRANTRY" serve --db "sqlite://$ST_DIR/g.db" --listen 127.0.0.1:0 >"$ST_DIR/serve.out" 2>"$ST_DIR/serve.err" &
ST_SERVER=$!
for _ in $(seq 50); do grep -q "listening on" "$ST_DIR/serve.out" && break; sleep 0.1; done
ST_URL="$(grep -o 'http://[0-9.:]*' "$ST_DIR/serve.out" | head -n 1)"
cat >"$ST_DIR/schemathesis.toml" <<TOML
headers = { Authorization = "Bearer $TOKEN" }
[parameters]
"path.org" = "acme"
TOML
echo "== schemathesis $SCHEMATHESIS_VERSION against $ST_URL (60 s)"
st_status=0
(cd "$ST_DIR" && st run "$ST_URL/openapi.json" --checks all --exclude-checks positive_data_acceptance \
  --exclude-path "/v1/{org}/tokens/{id}" --exclude-path "/v1/{org}/tokens/exchange" --max-time 60 --workers 1 --seed 9 --no-color >"$ST_DIR/report.txt" 2>&1) || st_status=$?
kill "$ST_SERVER" 2>/dev/null || true
wait "$ST_SERVER" 2>/dev/null || true
sed -n '/=== SUMMARY ===/,$p' "$ST_DIR/report.txt"
if [ "$st_status" != 0 ]; then
  echo "schemathesis found failures:" >&2
  grep -E "^_+ |ST[0-9]+|Reproduce|curl " "$ST_DIR/report.txt" | head -n 80 >&2
  rm -rf "$ST_DIR"
  exit 1
fi
rm -rf "$ST_DIR"
