#!/usr/bin/env bash
# fuzz.sh runs every Fuzz target in the module for a short time each
# (default 20s): they guard the parsers of untrusted input.
#
# Go 1.26's fuzz coordinator can fail a target with a bare "context deadline
# exceeded" when -fuzztime ends while a worker is mid-call (golang/go#75804,
# fixed in Go 1.27). Such a run wrote no failing input; a run that did (a
# new file under testdata/fuzz/<target>) or failed any other way fails here.
set -euo pipefail
t="${1:-20s}"
found=0
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
while IFS= read -r line; do
	file="${line%%:*}"
	name="$(sed -E 's/^.*func (Fuzz[A-Za-z0-9_]*)\(.*/\1/' <<<"$line")"
	pkg="./$(dirname "$file")"
	corpus="$pkg/testdata/fuzz/$name"
	found=1
	echo "fuzz: $pkg $name for $t"
	before="$(ls "$corpus" 2>/dev/null | sort || true)"
	if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$t" -fuzzminimizetime 20x "$pkg" 2>&1 | tee "$out"; then
		continue
	fi
	after="$(ls "$corpus" 2>/dev/null | sort || true)"
	if [ "$before" = "$after" ] && grep -qx '    context deadline exceeded' "$out" &&
		[ "$(grep -c -- '--- FAIL' "$out")" = 1 ]; then
		echo "fuzz: $name stopped on Go's fuzztime deadline race (golang/go#75804) with no failing input; not a failure"
		continue
	fi
	echo "fuzz: $name failed (a new failing input is under $corpus when the target found one)" >&2
	exit 1
done < <(git grep -n -E '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' -- '*_test.go' | sed -E 's/^([^:]*):[0-9]+:/\1:/')
[ "$found" = 1 ] || echo "fuzz: no fuzz targets"
