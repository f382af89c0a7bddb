#!/usr/bin/env bash
# fuzz.sh runs every Fuzz target in the module for a short time each
# (default 20s): they guard the parsers of untrusted input.
set -euo pipefail
t="${1:-20s}"
found=0
while IFS= read -r line; do
	file="${line%%:*}"
	name="$(sed -E 's/^.*func (Fuzz[A-Za-z0-9_]*)\(.*/\1/' <<<"$line")"
	pkg="./$(dirname "$file")"
	found=1
	echo "fuzz: $pkg $name for $t"
	go test -run '^$' -fuzz "^${name}\$" -fuzztime "$t" -fuzzminimizetime 20x "$pkg"
done < <(git grep -n -E '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' -- '*_test.go' | sed -E 's/^([^:]*):[0-9]+:/\1:/')
[ "$found" = 1 ] || echo "fuzz: no fuzz targets"
