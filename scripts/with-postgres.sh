#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL server, then stop and remove the server.
#   scripts/with-postgres.sh .venv/bin/pytest tests
# The server runs as the `postgres` system user when we are root (PostgreSQL refuses root),
# listens only on a private Unix socket and port, and lives in a temporary directory.
set -euo pipefail

PG_PORT="${MUTUALISE_TEST_PG_PORT:-55432}"
find_bin() {
  local name="$1"
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
  ls -1 /usr/lib/postgresql/*/bin/"$name" 2>/dev/null | sort -V | tail -n 1
}
INITDB="$(find_bin initdb)"
PG_CTL="$(find_bin pg_ctl)"
if [[ -z "$INITDB" || -z "$PG_CTL" ]]; then
  echo "PostgreSQL server binaries not found; installing Debian's postgresql" >&2
  apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
  INITDB="$(find_bin initdb)"; PG_CTL="$(find_bin pg_ctl)"
fi

PG_DIR="$(mktemp -d /tmp/mutualise-pg.XXXXXX)"
as_pg() {
  if [[ "$(id -u)" == "0" ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [[ "$(id -u)" == "0" ]]; then chown postgres "$PG_DIR"; fi

cleanup() {
  as_pg "$PG_CTL" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
trap cleanup EXIT INT TERM

as_pg "$INITDB" -D "$PG_DIR/data" -A trust -U postgres -E UTF8 --no-locale >/dev/null
as_pg "$PG_CTL" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
  -o "-p $PG_PORT -k $PG_DIR -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null

export DATABASE_URL="postgres://postgres@${PG_DIR//\//%2F}:${PG_PORT}/postgres"
echo "PostgreSQL $("$PG_CTL" --version | awk '{print $3}') running for the tests at ${PG_DIR} (port ${PG_PORT})"
"$@"
