#!/usr/bin/env bash
# Start Redis and PostgreSQL for the integration tests when they are not running
# (installing them first on a machine that lacks them).
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive

redis_up() { (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; }
pg_up() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }

if ! redis_up; then
  command -v redis-server >/dev/null || { $SUDO apt-get update -qq; $SUDO apt-get install -y -qq redis-server >/dev/null; }
  $SUDO mkdir -p /var/lib/redis /var/log/redis
  $SUDO redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
if ! pg_up; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq postgresql >/dev/null
  fi
  version=$(ls /etc/postgresql | sort -V | tail -1)
  conf=/etc/postgresql/$version/main/pg_hba.conf
  # Local test servers only: trust connections from this machine, as the dev machine does.
  if ! grep -q "intake-tests" "$conf"; then
    $SUDO sed -i '1i # intake-tests\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\nlocal all all trust' "$conf"
  fi
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
for _ in $(seq 1 30); do redis_up && pg_up && exit 0; sleep 1; done
echo "services: Redis or PostgreSQL did not come up" >&2
exit 1
