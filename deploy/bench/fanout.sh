#!/usr/bin/env bash
# Side-by-side fan-out benchmark (issue 9, docs/benchmarks.md "Parley and
# Centrifugo side by side"): the same load generator (`parley bench`)
# drives, one after the other in one run,
#   1. Centrifugo v6.9.1, Redis engine, history 100 per channel (centrifugo.json),
#   2. parley serve on Postgres + Redis,
#   3. parley dev on SQLite,
# at the same load, and prints p50/p99 of send→deliver, server CPU, and the
# ratios Parley/Centrifugo. Absolute times vary between machines; the ratio
# within one run is the figure.
#
# Needs: go, a Postgres at $PG_URL (a database named parley_fanout is
# dropped and created), a Redis at 127.0.0.1:6379 (db $REDIS_DB is flushed).
# Knobs: CLIENTS (1000), GROUP (10), RATE (2000), DURATION (20s).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CLIENTS=${CLIENTS:-1000}
GROUP=${GROUP:-10}
RATE=${RATE:-2000}
DURATION=${DURATION:-20s}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
REDIS_DB=${REDIS_DB:-7}
WORK=$(mktemp -d /tmp/parley-fanout.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT

GOBIN=$(go env GOPATH)/bin
if ! "$GOBIN/centrifugo" version 2>/dev/null | grep -q . || [ ! -x "$GOBIN/centrifugo" ]; then
	echo "installing Centrifugo v6.9.1 (go install)…" >&2
	go install github.com/centrifugal/centrifugo/v6@v6.9.1
fi
CENTRIFUGO=$GOBIN/centrifugo
go build -o "$WORK/parley" "$ROOT/cmd/parley"
PARLEY=$WORK/parley

wait_http() { # url
	for _ in $(seq 1 100); do curl -fs -o /dev/null "$1" && return 0; sleep 0.2; done
	echo "not answering: $1" >&2; return 1
}
bench() { # label url pid extra-args...
	local label=$1 url=$2 pid=$3; shift 3
	echo "== $label" | tee -a "$WORK/all.txt"
	"$PARLEY" bench -url "$url" -clients "$CLIENTS" -group-size "$GROUP" -rate "$RATE" -duration "$DURATION" \
		-pid "$pid" -no-memory -source-ips 8 "$@" 2>&1 | tee "$WORK/$label.txt" | tee -a "$WORK/all.txt"
}
field() { # file line-prefix field-name → value in ms
	awk -v p="$2" -v f="$3" '$1==p { for (i=1;i<=NF;i++) if ($i==f) { v=$(i+1); sub(/s$/,"",v);
		if (v ~ /m$/) { sub(/m$/,"",v); print v } else if (v ~ /µ$/) { sub(/µ$/,"",v); print v/1000 } else print v*1000 } }' "$1" | head -1
}
cpu() { awk '$1=="server" && $2=="cpu" { sub(/%/,"",$3); print $3 }' "$1"; }

echo "fanout: $CLIENTS clients, groups of $GROUP, $RATE msg/s, $DURATION; commit $(git -C "$ROOT" rev-parse --short HEAD); $(uptime)"

# 1. Centrifugo with the Redis engine and history.
redis-cli -n 0 --scan --pattern 'pbench-centrifugo*' | xargs -r redis-cli -n 0 del >/dev/null
"$CENTRIFUGO" -c "$ROOT/deploy/bench/centrifugo.json" > "$WORK/centrifugo.log" 2>&1 &
PIDS+=($!); CPID=$!
wait_http http://127.0.0.1:18000/health
bench centrifugo http://127.0.0.1:18000 "$CPID" -centrifugo-secret fanout-bench-secret-not-for-production
kill "$CPID"; wait "$CPID" 2>/dev/null || true

# 2. parley serve on Postgres + Redis.
psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS parley_fanout" -c "CREATE DATABASE parley_fanout" >/dev/null
redis-cli -n "$REDIS_DB" flushdb >/dev/null
PARLEY_DATABASE_URL="$PG_URL/parley_fanout?sslmode=disable" PARLEY_REDIS_URL="redis://127.0.0.1:6379/$REDIS_DB" \
PARLEY_JWT_SECRET=fanout-bench-secret-not-for-production-0123 PARLEY_LOG_LEVEL=warn PARLEY_ACCESS_LOG=false \
PARLEY_AUTH_PER_MINUTE=-1 \
	"$PARLEY" serve -addr 127.0.0.1:18080 > "$WORK/serve.log" 2>&1 &
PIDS+=($!); SPID=$!
wait_http http://127.0.0.1:18080/readyz
bench serve http://127.0.0.1:18080 "$SPID"
kill "$SPID"; wait "$SPID" 2>/dev/null || true

# 3. parley dev on SQLite.
PARLEY_LOG_LEVEL=warn PARLEY_ACCESS_LOG=false PARLEY_AUTH_PER_MINUTE=-1 \
	"$PARLEY" dev -addr 127.0.0.1:18081 -data "$WORK/dev" > "$WORK/dev.log" 2>&1 &
PIDS+=($!); DPID=$!
wait_http http://127.0.0.1:18081/readyz
bench dev http://127.0.0.1:18081 "$DPID"
kill "$DPID"; wait "$DPID" 2>/dev/null || true

echo
stored() { awk '$1=="stored" { print $2 }' "$1"; }
sent() { awk '$1=="sent" { print $2 }' "$1"; }
printf '%-12s %12s %12s %10s %10s %8s\n' "server" "sent" "acked" "p50 ms" "p99 ms" "cpu %"
for l in centrifugo serve dev; do
	printf '%-12s %12s %12s %10s %10s %8s\n' "$l" "$(sent "$WORK/$l.txt")" "$(stored "$WORK/$l.txt")" \
		"$(field "$WORK/$l.txt" deliver p50)" "$(field "$WORK/$l.txt" deliver p99)" "$(cpu "$WORK/$l.txt")"
done
echo "(latencies are of what was acked and delivered within --drain 5s; sent − acked were not acked in time)"
c99=$(field "$WORK/centrifugo.txt" deliver p99); s99=$(field "$WORK/serve.txt" deliver p99)
c50=$(field "$WORK/centrifugo.txt" deliver p50); s50=$(field "$WORK/serve.txt" deliver p50)
awk -v a="$s50" -v b="$c50" -v c="$s99" -v d="$c99" -v e="$(cpu "$WORK/serve.txt")" -v f="$(cpu "$WORK/centrifugo.txt")" \
	'BEGIN { printf "serve/centrifugo: p50 %.1fx, p99 %.1fx (target ≤ 2x), cpu %.1fx (Postgres not counted)\n", a/b, c/d, e/f }'
echo "machine after: $(uptime)"
echo "full output: $WORK/all.txt"
