#!/usr/bin/env bash
# HTTP load on loopback, bounded in time: a release `grantry serve` over a fresh SQLite database
# (synchronous=FULL, so every write is durable), an organization with a developer who holds a
# temporary grant on bob's conversations, and wrk (apt-get install wrk) driving, for SECONDS each:
# single checks (one client, then eight), batches of 100 checks, lookups, and grant creations
# (durable writes, to 64 users in turn, committed in groups). ONLY_WRITES=1 runs the writes alone;
# WRITERS=N writes with N clients (default 8); GRANTRY_LOAD_DB=postgres://… runs on an empty
# PostgreSQL database instead; SERVER_LOG=FILE keeps the server's log.
#   crates/grantry-bench/http/load.sh [SECONDS]      (default 10)
set -euo pipefail
cd "$(dirname "$0")/../../.."
SECONDS_EACH="${1:-10}"
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk" >&2; exit 1; }
cargo build --release --locked -p grantry -j2 >&2
BIN="$PWD/target/release/grantry"
DIR="$(mktemp -d)"
DB="${GRANTRY_LOAD_DB:-sqlite://$DIR/grantry.db}"
export GRANTRY_AUDIT_KEY_FILE="$DIR/audit-key"
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval('d' + sys.argv[1]))" "$1"; }
TOKEN="$("$BIN" admin bootstrap --db "$DB" --org acme --email owner@acme.test --json | json '["token"]')"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
GRANTRY_LOG=warn "$BIN" serve --db "$DB" --listen "127.0.0.1:$PORT" >${SERVER_LOG:-/dev/null} 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DIR"' EXIT
until curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; do sleep 0.1; done
API="http://127.0.0.1:$PORT/v1/acme"
post() { curl -sf -X POST "$API$1" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "$2"; }
ORG_ID="$(curl -sf "$API/me" -H "Authorization: Bearer $TOKEN" | json '["org_id"]')"
DEV="$(post /users '{"email": "dev@acme.test"}' | json '["user"]["id"]')"
BOB="$(post /users '{"email": "bob@acme.test"}' | json '["user"]["id"]')"
CONV="$(post /conversation/ "{\"user_id\": \"$BOB\"}" | json '["conversation"]["id"]')"
grant() { # the temporary grant of bob's conversations to user $1, on one line
  echo "{\"user_id\": \"$1\", \"duration\": \"PT2H\", \"justification\": \"load test: debugging issue 42\", \"permission_grant\": {\"permission_name\": \"Conversation:GetMessage\", \"conditions\": {\"conversation_user_id\": {\"type\": \"Equals\", \"value\": \"$BOB\"}, \"org_id\": {\"type\": \"Equals\", \"value\": \"$ORG_ID\"}}}}"
}
GRANT="$(grant "$DEV")"
post /role/temporary_permission_grant/ "$GRANT" >/dev/null
CHECK="{\"principal\": {\"type\": \"user\", \"id\": \"$DEV\"}, \"permission\": \"Conversation:GetMessage\", \"resource\": {\"type\": \"conversation\", \"id\": \"$CONV\"}}"
[ "$(post /check "$CHECK" | json '["allowed"]')" = "True" ] || { echo "the check is not allowed; the setup is wrong" >&2; exit 1; }
BATCH="{\"checks\": [$(python3 -c "import sys; print(', '.join([sys.argv[1]] * 100))" "$CHECK")]}"
LOOKUP="{\"principal\": {\"type\": \"user\", \"id\": \"$DEV\"}, \"permission\": \"Conversation:GetMessage\", \"resource_type\": \"conversation\"}"

run() { # name, connections, path, body
  echo "== $1 ($2 connections, ${SECONDS_EACH}s)"
  TOKEN="$TOKEN" BODY="$4" wrk -t"$(( $2 < 2 ? 1 : 2 ))" -c"$2" -d"${SECONDS_EACH}s" --latency -s crates/grantry-bench/http/post.lua "$API$3" \
    | grep -E 'Latency  |50%|99%|Requests/sec|Non-2xx'
}
[ -n "${ONLY_WRITES:-}" ] || run "single check, one client" 1 /check "$CHECK"
[ -n "${ONLY_WRITES:-}" ] || run "single check" 8 /check "$CHECK"
[ -n "${ONLY_WRITES:-}" ] || run "batch of 100 checks" 4 /check:batch "$BATCH"
[ -n "${ONLY_WRITES:-}" ] || run "lookup" 8 /lookup "$LOOKUP"
# The writes grant to 64 users in turn (one user's grants piling up is not the common case).
GRANTS="$(for i in $(seq 1 64); do grant "$(post /users "{\"email\": \"user$i@acme.test\"}" | json '["user"]["id"]')"; done)"
run "grant creation (durable writes, grouped)" "${WRITERS:-8}" /role/temporary_permission_grant/ "$GRANTS"
