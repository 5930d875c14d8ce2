#!/usr/bin/env bash
# `make test-services`: the whole suite on real PostgreSQL and Redis.
# Installs them from Debian if missing, starts throwaway servers on 127.0.0.1 (as their own users, in
# fresh data directories), runs the suite against them, and stops them whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo

need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing ${need[*]} from Debian…"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
as_user() {  # run as a service's own user when we are root, else as ourselves
  local user=$1; shift
  if [ "$(id -u)" = 0 ] && id "$user" >/dev/null 2>&1; then runuser -u "$user" -- "$@"; else "$@"; fi
}

work=$(mktemp -d /tmp/console-services.XXXXXX)
chmod 755 "$work"
mkdir -p "$work/pg" "$work/redis"
[ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1 && chown postgres "$work/pg"
[ "$(id -u)" = 0 ] && id redis >/dev/null 2>&1 && chown redis "$work/redis"
pg_port=$(free_port)
redis_port=$(free_port)

cleanup() {
  as_user postgres "$PGBIN/pg_ctl" -D "$work/pg/data" -m fast stop >/dev/null 2>&1 || true
  [ -f "$work/redis/redis.pid" ] && kill "$(cat "$work/redis/redis.pid")" 2>/dev/null || true
  sleep 0.5
  rm -rf "$work"
}
trap cleanup EXIT

as_user postgres "$PGBIN/initdb" -D "$work/pg/data" -U console -A trust -E UTF8 --no-sync >/dev/null
as_user postgres "$PGBIN/pg_ctl" -D "$work/pg/data" -l "$work/pg/server.log" -w \
  -o "-h 127.0.0.1 -p $pg_port -k $work/pg -F" start >/dev/null
as_user redis redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$work/redis" --save "" \
  --appendonly no --daemonize yes --pidfile "$work/redis/redis.pid" --logfile "$work/redis/redis.log"
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

echo "PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port"
export DATABASE_URL="postgres://console@127.0.0.1:$pg_port/console"
export CACHE_URL="redis://127.0.0.1:$redis_port/0"
.venv/bin/python -m pytest -n 2 --dist loadgroup -p no:cacheprovider "$@"
