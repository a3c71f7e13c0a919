#!/usr/bin/env bash
# Sourced by .ci/run: a throwaway PostgreSQL cluster for the tests — Debian's server (installed if
# missing), in a temporary directory, on a free loopback port, as a non-root user, removed on exit.
# Exports GRANTRY_TEST_POSTGRES_URL. Tests that need PostgreSQL fail loudly without it.

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

if [ -z "$(pg_bin)" ]; then
  echo "== installing PostgreSQL (Debian's postgresql package)"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
fi
PG_BIN="$(pg_bin)"
[ -n "$PG_BIN" ] || { echo "PostgreSQL could not be installed: the PostgreSQL tests cannot run" >&2; exit 1; }

PG_DIR="$(mktemp -d)"
PG_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$PG_DIR"
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi
as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U grantry --auth=trust -E UTF8 >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
  -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null
stop_postgres() {
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
trap stop_postgres EXIT
# The tests connect as an ordinary role, as a server should: superusers bypass row-level security.
"$PG_BIN/psql" -q -h 127.0.0.1 -p "$PG_PORT" -U grantry -d postgres -c "CREATE ROLE grantry_app LOGIN CREATEDB" >/dev/null
export GRANTRY_TEST_POSTGRES_URL="postgres://grantry_app@127.0.0.1:$PG_PORT/postgres"
echo "== PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT (removed on exit)"
