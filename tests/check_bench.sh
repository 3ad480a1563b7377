#!/bin/sh
# SPDX-License-Identifier: MIT
# pgbench and pgcount answer right on every shipped descriptor: each
# benchmark row checks the state its timed passes leave (every mapping, or
# that unmapped pages are gone), and a wrong answer makes the program fail.
# Small sizes and one timed pass: this checks results, it measures nothing.
# hot-4k is left out (its lookup count does not scale with -n).
set -eu
bench=${top_builddir:-.}/bench
if [ ! -x "$bench/pgbench" ] || [ ! -x "$bench/pgcount" ]; then
	echo "SKIP: bench programs not built"
	exit 77
fi
for w in seq-4k rand-4k huge-2m huge-1g churn; do
	"$bench/pgbench" --arch all --workload "$w" -n 2048 -r 1 >/dev/null ||
		{ echo "FAIL: pgbench --workload $w"; exit 1; }
done
n=0
for arch in $("$bench/pgcount" --list); do
	"$bench/pgcount" "$arch" >/dev/null || { echo "FAIL: pgcount $arch"; exit 1; }
	n=$((n + 1))
done
[ "$n" -ge 18 ] || { echo "FAIL: pgcount --list names $n descriptors"; exit 1; }
echo "PASS: pgbench rows and pgcount calls right on $n descriptors"
