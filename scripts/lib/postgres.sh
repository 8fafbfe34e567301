# Starts a private PostgreSQL cluster on loopback for tests. Sourced by scripts/test.sh.
# Sets PG_URL. Installs PostgreSQL from Debian when its binaries are missing. Tests run it with
# fsync off (a throwaway cluster); BLINDVAULT_PG_FSYNC=on makes it sync every commit as a
# production one does (the benchmarks' figures for a real deployment).

pg_find_bin() {
  local d
  for d in "$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")" /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  return 1
}

pg_start_test_cluster() {
  local bin
  if ! bin=$(pg_find_bin); then
    echo "PostgreSQL not found: installing it with apt-get"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    bin=$(pg_find_bin)
  fi
  PG_DIR=$(mktemp -d /tmp/blindvault-pg.XXXXXX)
  PG_PORT=${BLINDVAULT_PG_PORT:-$(( 20000 + RANDOM % 20000 ))}
  local as=()
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$PG_DIR"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust >/dev/null
  "${as[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" \
    -o "-k $PG_DIR -p $PG_PORT -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=${BLINDVAULT_PG_FSYNC:-off}" -w start >/dev/null
  PG_BIN=$bin
  PG_AS=("${as[@]}")
  PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
  export PG_DIR PG_PORT PG_URL PG_BIN
}

pg_stop_test_cluster() {
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}
