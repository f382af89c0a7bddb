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
# Knobs: CLIENTS (1000), GROUP (10), RATE (2000), DURATION (20s),
# SERVERS ("centrifugo serve dev": which to run, in that order),
# RATES (e.g. "500 1000 2000 3000 4000": step each server through these rates
# and report the highest whose p99 stays ≤ 50 ms; overrides RATE),
# IDLE=1 (instead of sending: hold CLIENTS idle sockets on each server and
# report its RSS per connection; e.g. IDLE=1 CLIENTS=10000 SERVERS="centrifugo serve").
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CLIENTS=${CLIENTS:-1000}
GROUP=${GROUP:-10}
RATE=${RATE:-2000}
DURATION=${DURATION:-20s}
SERVERS=${SERVERS:-centrifugo serve dev}
RATES=${RATES:-$RATE}
IDLE=${IDLE:-}
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
# pg_ticks: CPU time (clock ticks) used so far by every postgres process, so
# the database's share of a Parley run can be reported beside the server's.
pg_ticks() {
	local t=0 pid
	for pid in $(pgrep -x postgres 2>/dev/null || true); do
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
	done
	echo "$t"
}
bench() { # label rate url pid extra-args...
	local label=$1 rate=$2 url=$3 pid=$4; shift 4
	local out="$WORK/$label-$rate.txt" t0 t1 began ended
	echo "== $label at $rate msg/s" | tee -a "$WORK/all.txt"
	t0=$(pg_ticks); began=$(date +%s.%N)
	local mode=(-no-memory)
	[ -n "$IDLE" ] && mode=(-idle)
	"$PARLEY" bench -url "$url" -clients "$CLIENTS" -group-size "$GROUP" -rate "$rate" -duration "$DURATION" \
		-pid "$pid" "${mode[@]}" -source-ips 8 -users "$WORK/$label-users.json" "$@" 2>&1 | tee "$out" >> "$WORK/all.txt"
	t1=$(pg_ticks); ended=$(date +%s.%N)
	# Postgres' CPU over the whole bench (setup included), % of one core.
	awk -v a="$t0" -v b="$t1" -v s="$began" -v e="$ended" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "postgres cpu %.0f%% of one core over the whole bench (setup included)\n", (b-a)/hz/(e-s)*100 }' \
		| tee -a "$out" >> "$WORK/all.txt"
	grep -E '^(stored|deliver|server cpu|server rss|server go|machine)' "$out" >&2
}
field() { # file line-prefix field-name → value in ms
	awk -v p="$2" -v f="$3" '$1==p { for (i=1;i<=NF;i++) if ($i==f) { v=$(i+1); sub(/s$/,"",v);
		if (v ~ /m$/) { sub(/m$/,"",v); print v } else if (v ~ /µ$/) { sub(/µ$/,"",v); print v/1000 } else print v*1000 } }' "$1" | head -1
}
cpu() { awk '$1=="server" && $2=="cpu" { sub(/%/,"",$3); print $3 }' "$1"; }
pgcpu() { awk '$1=="postgres" && $2=="cpu" { sub(/%/,"",$3); print $3 }' "$1"; }
stored() { awk '$1=="stored" { print $2 }' "$1"; }
sent() { awk '$1=="sent" { print $2 }' "$1"; }

echo "fanout: $CLIENTS clients, groups of $GROUP, rates $RATES msg/s, $DURATION each; servers $SERVERS; commit $(git -C "$ROOT" rev-parse --short HEAD); $(uptime)"

run_centrifugo() {
	redis-cli -n 0 --scan --pattern 'pbench-centrifugo*' | xargs -r redis-cli -n 0 del >/dev/null
	"$CENTRIFUGO" -c "$ROOT/deploy/bench/centrifugo.json" > "$WORK/centrifugo.log" 2>&1 &
	PIDS+=($!); local pid=$!
	wait_http http://127.0.0.1:18000/health
	for r in $RATES; do
		bench centrifugo "$r" http://127.0.0.1:18000 "$pid" -centrifugo-secret fanout-bench-secret-not-for-production
	done
	kill "$pid"; wait "$pid" 2>/dev/null || true
}
run_serve() {
	psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS parley_fanout" -c "CREATE DATABASE parley_fanout" >/dev/null 2>&1
	redis-cli -n "$REDIS_DB" flushdb >/dev/null
	PARLEY_DATABASE_URL="$PG_URL/parley_fanout?sslmode=disable" PARLEY_REDIS_URL="redis://127.0.0.1:6379/$REDIS_DB" \
	PARLEY_JWT_SECRET=fanout-bench-secret-not-for-production-0123 PARLEY_LOG_LEVEL=warn PARLEY_ACCESS_LOG=false \
	PARLEY_AUTH_PER_MINUTE=-1 \
		"$PARLEY" serve -addr 127.0.0.1:18080 > "$WORK/serve.log" 2>&1 &
	PIDS+=($!); local pid=$!
	wait_http http://127.0.0.1:18080/readyz
	for r in $RATES; do bench serve "$r" http://127.0.0.1:18080 "$pid"; done
	kill "$pid"; wait "$pid" 2>/dev/null || true
}
run_dev() {
	PARLEY_LOG_LEVEL=warn PARLEY_ACCESS_LOG=false PARLEY_AUTH_PER_MINUTE=-1 \
		"$PARLEY" dev -addr 127.0.0.1:18081 -data "$WORK/dev" > "$WORK/dev.log" 2>&1 &
	PIDS+=($!); local pid=$!
	wait_http http://127.0.0.1:18081/readyz
	for r in $RATES; do bench dev "$r" http://127.0.0.1:18081 "$pid"; done
	kill "$pid"; wait "$pid" 2>/dev/null || true
}
for s in $SERVERS; do
	case $s in
	centrifugo | serve | dev) "run_$s" ;;
	*) echo "SERVERS: unknown server $s (want centrifugo, serve, dev)" >&2; exit 2 ;;
	esac
done

if [ -n "$IDLE" ]; then
	echo
	kib() { awk '$1=="server" && $2=="rss" { for (i=1;i<=NF;i++) if ($i=="per") print $(i-2) }' "$1" | head -1; }
	for l in $SERVERS; do
		echo "$l: $(kib "$WORK/$l-$(echo $RATES | awk '{print $1}').txt") KiB of RSS per idle connection at $CLIENTS sockets"
	done
	c=$(kib "$WORK/centrifugo-$(echo $RATES | awk '{print $1}').txt" 2>/dev/null || true)
	p=$(kib "$WORK/serve-$(echo $RATES | awk '{print $1}').txt" 2>/dev/null || true)
	[ -n "$c" ] && [ -n "$p" ] && awk -v a="$p" -v b="$c" 'BEGIN { printf "serve/centrifugo idle memory per connection: %.2fx (target ≤ 0.6x)\n", a/b }'
	echo "machine after: $(uptime)"
	echo "full output: $WORK/all.txt"
	exit 0
fi
echo
printf '%-12s %7s %9s %9s %9s %9s %7s %7s\n' "server" "rate" "sent" "acked" "p50 ms" "p99 ms" "cpu %" "pg %"
for l in $SERVERS; do
	for r in $RATES; do
		f="$WORK/$l-$r.txt"
		pg=$(pgcpu "$f"); [ "$l" = serve ] || pg=-
		printf '%-12s %7s %9s %9s %9s %9s %7s %7s\n' "$l" "$r" "$(sent "$f")" "$(stored "$f")" \
			"$(field "$f" deliver p50)" "$(field "$f" deliver p99)" "$(cpu "$f")" "$pg"
	done
done
echo "(latencies are of what was acked and delivered within --drain 5s; sent − acked were not acked in time;"
echo " pg % is every postgres process over the whole bench, setup included)"
# ratio prints serve/centrifugo at each rate both ran.
ratio() {
	local c="$WORK/centrifugo-$1.txt" s="$WORK/serve-$1.txt"
	[ -f "$c" ] && [ -f "$s" ] || return 0
	awk -v r="$1" -v a="$(field "$s" deliver p50)" -v b="$(field "$c" deliver p50)" \
		-v c="$(field "$s" deliver p99)" -v d="$(field "$c" deliver p99)" -v e="$(cpu "$s")" -v f="$(cpu "$c")" \
		'BEGIN { printf "serve/centrifugo at %s msg/s: p50 %.1fx, p99 %.1fx (target ≤ 2x), cpu %.1fx (Postgres not counted)\n", r, a/b, c/d, e/f }'
}
for r in $RATES; do ratio "$r"; done
# With several rates: the highest each server sustained with every message
# acked and p99 ≤ 50 ms.
if [ "$(echo $RATES | wc -w)" -gt 1 ]; then
	for l in $SERVERS; do
		best=0
		for r in $RATES; do
			f="$WORK/$l-$r.txt"
			if [ "$(sent "$f")" = "$(stored "$f")" ] && awk -v p="$(field "$f" deliver p99)" 'BEGIN { exit !(p <= 50) }'; then
				best=$r
			fi
		done
		echo "$l: highest rate with p99 ≤ 50 ms and every message acked: $best msg/s"
	done
fi
echo "machine after: $(uptime)"
echo "full output: $WORK/all.txt"
