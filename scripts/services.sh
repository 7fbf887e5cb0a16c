#!/usr/bin/env bash
# Start throw-away PostgreSQL and Redis servers on loopback for the test suite.
# Usage: eval "$(scripts/services.sh start DIR)"   -> exports ALLIN_TEST_POSTGRES_URL / ALLIN_TEST_REDIS_URL
#        scripts/services.sh stop DIR
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:-/tmp/allin-services}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
  echo "$d"
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    bin=$(pg_bin)
    pg_port=${ALLIN_TEST_PG_PORT:-$(free_port)}
    redis_port=${ALLIN_TEST_REDIS_PORT:-$(free_port)}
    mkdir -p "$dir"
    echo "$redis_port" >"$dir/redis.port"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    if [ ! -f "$dir/pg/PG_VERSION" ]; then
      as_postgres "$bin/initdb" -D "$dir/pg" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1
    fi
    as_postgres "$bin/pg_ctl" -D "$dir/pg" -l "$dir/pg.log" -w -t 60 \
      -o "-p $pg_port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >&2
    redis-server --port "$redis_port" --bind 127.0.0.1 --daemonize yes \
      --save "" --appendonly no --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >&2
    for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    redis-cli -p "$redis_port" ping >/dev/null
    echo "export ALLIN_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:$pg_port/postgres"
    echo "export ALLIN_TEST_REDIS_URL=redis://127.0.0.1:$redis_port/0"
    ;;
  stop)
    bin=$(pg_bin)
    redis_port=$(cat "$dir/redis.port" 2>/dev/null || echo 0)
    as_postgres "$bin/pg_ctl" -D "$dir/pg" -m fast stop >&2 || true
    redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|stop [DIR]" >&2; exit 2 ;;
esac
