#!/usr/bin/env bash
# services.sh makes sure the services Parley's tests talk to are up:
# PostgreSQL on 127.0.0.1:5432 (trust auth for the test user, database "test")
# and Redis on 127.0.0.1:6379. It starts them if they are installed but
# stopped, installs them from Debian's packages if missing (as root), and
# fails with a clear message otherwise. Point tests elsewhere with
# PARLEY_TEST_DATABASE_URL / PARLEY_TEST_REDIS_ADDR (then nothing is started).
set -euo pipefail

have_cmd() { command -v "$1" >/dev/null 2>&1; }
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"

apt_install() {
	if ! have_cmd apt-get; then
		echo "services: $* missing and no apt-get; install it by hand" >&2
		exit 1
	fi
	echo "services: installing $*" >&2
	log="$(mktemp -t parley-apt.XXXXXX)"
	if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@"; } >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		echo "services: apt-get install $* failed (log: $log)" >&2
		exit 1
	fi
}

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if [ -z "${PARLEY_TEST_DATABASE_URL:-}" ]; then
	have_cmd pg_isready || apt_install postgresql postgresql-client
	if ! pg_up; then
		ver="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)"
		if [ -z "$ver" ]; then apt_install postgresql; ver="$(ls /etc/postgresql | sort -V | tail -n 1)"; fi
		echo "services: starting PostgreSQL $ver" >&2
		$SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
		for _ in $(seq 1 50); do pg_up && break; sleep 0.2; done
	fi
	if ! pg_up; then
		echo "services: PostgreSQL is not reachable on 127.0.0.1:5432." >&2
		echo "  start it: pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start" >&2
		echo "  or set PARLEY_TEST_DATABASE_URL=postgres://user@host:port/db" >&2
		exit 1
	fi
	# Tests connect as postgres@127.0.0.1 without a password and create databases.
	if ! psql -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null 2>&1; then
		echo "services: cannot connect as postgres to database test on 127.0.0.1 without a password." >&2
		echo "  allow it for local tests (pg_hba.conf: host all all 127.0.0.1/32 trust) and run: createdb -U postgres test" >&2
		echo "  or set PARLEY_TEST_DATABASE_URL" >&2
		exit 1
	fi
fi

if [ -z "${PARLEY_TEST_REDIS_ADDR:-}" ]; then
	have_cmd redis-server || apt_install redis-server
	if ! redis_up; then
		echo "services: starting Redis" >&2
		mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
		redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
			--dir /var/lib/redis --logfile /var/log/redis/ci.log || true
		for _ in $(seq 1 50); do redis_up && break; sleep 0.1; done
	fi
	if ! redis_up; then
		echo "services: Redis is not reachable on 127.0.0.1:6379." >&2
		echo "  start it: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no" >&2
		echo "  or set PARLEY_TEST_REDIS_ADDR=host:port" >&2
		exit 1
	fi
fi
echo "services: PostgreSQL and Redis are up" >&2
