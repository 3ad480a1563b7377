#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds the libFuzzer target (clang, -fsanitize=fuzzer,address,undefined)
# and runs it for a fixed number of executions from the committed corpus,
# deterministically (fixed seed). Any crash fails: a disagreement with the
# model, a sanitizer report or a leak; the input that crashed is kept and
# printed. First builds with planted bugs in the models must crash, so the
# comparisons are known to be able to fail.
#
# Environment: FUZZ_RUNS (executions, the corpus's replay included; default
# 12000, about four minutes beside the other lane), FUZZ_SEED (1),
# FUZZ_MAX_LEN (512), FUZZ_OUT (a directory to keep the build and crashes).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
runs=${FUZZ_RUNS:-12000}
seed=${FUZZ_SEED:-1}
max_len=${FUZZ_MAX_LEN:-512}
out=${FUZZ_OUT:-$(mktemp -d)}
mkdir -p "$out/new" "$out/crash" || exit 1
CC=${CC_FUZZ:-clang}

flags="-std=c11 -g -O1 -Wall -Wextra -Werror -fsanitize=address,undefined -fno-sanitize-recover=all"
# shellcheck disable=SC2046,SC2086 # pkg-config's words and the flags are meant to split
check_cflags=$(pkg-config --cflags check) check_libs=$(pkg-config --libs check)

# The library, the descriptors and the test support are compiled once, two at a
# time (-fsanitize=fuzzer-no-link: instrumented for the fuzzer's coverage), into
# objects every target links; only what a planted bug changes is compiled per target.
objects() {
	mkdir -p "$out/obj" || return 1
	# shellcheck disable=SC2086
	printf '%s\n' "$top"/lib/*.c "$top"/arch/*.c "$top"/arch/*/*.c "$top/tests/harness.c" "$top/tests/model.c" \
		"$top/tests/extents.c" |
		xargs -P 2 -I{} sh -c 'f={}; o=$(echo "${f#$1/}" | tr / _); exec $2 -fsanitize=fuzzer-no-link \
			-I"$1/include" -I"$1/lib" -I"$1/tests" $3 -c "$f" -o "$4/obj/${o%.c}.o"' \
			sh "$top" "$CC $flags" "$check_cflags" "$out"
}

link() { # output binary, the target's source files and extra flags
	bin=$1; shift
	# shellcheck disable=SC2086
	$CC $flags -fsanitize=fuzzer -I"$top/include" -I"$top/lib" -I"$top/tests" $check_cflags "$@" \
		$(ls "$out"/obj/*.o | grep -v -e 'tests_model\.o$' -e 'tests_extents\.o$') $check_libs -o "$bin"
}

build() { # output binary, extra flags: the tree's target (fuzz_pgtable.c)
	bin=$1; shift
	link "$bin" "$out/obj/tests_model.o" "$out/obj/tests_extents.o" "$top/tests/fuzz/fuzz_pgtable.c" "$@"
}

build_mdb() { # output binary, extra flags: the mapping database's target (fuzz_mdb.c)
	bin=$1; shift
	link "$bin" "$top/tests/mdb_model.c" "$top/tests/fuzz/fuzz_mdb.c" "$@"
}

objects || { echo "fuzz: build failed"; exit 1; }

# The fuzzers are single-threaded: the long run of the tree's target is one
# lane, its self-tests and the mapping database's target the other, the two at
# once (one per core); their reports print once both ended.
pgtable_lane() {
	build "$out/fuzz_pgtable" || { echo "fuzz: build failed"; exit 1; }
	# New inputs go to a scratch directory; the committed corpus is only read.
	start=$(date +%s)
	"$out/fuzz_pgtable" -seed="$seed" -runs="$runs" -max_len="$max_len" -print_final_stats=1 \
		-artifact_prefix="$out/crash/" "$out/new" "$top/tests/fuzz/corpus" >"$out/fuzz.log" 2>&1
	status=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz.log")
	if [ "$status" != 0 ]; then
		echo "FAIL: fuzz: crash after ${execs:-?} executions (seed $seed); input in $out/crash:"
		ls "$out/crash"
		grep -E -m5 'fuzz_pgtable: operation|ERROR: |runtime error|SUMMARY' "$out/fuzz.log"
		exit 1
	fi
	echo "PASS: fuzz: $execs executions clean in $(($(date +%s) - start)) s (seed $seed, max_len $max_len)"
}

# The other lane: the planted bugs first, then the mapping database.
plants_and_mdb_lane() {
	# Planted bugs, one per build, must each be found within a few thousand
	# executions: 1, an off-by-one in the ADT model's allocation count; 2, the
	# range model ignoring a conflict; 3, the range models ignoring pgt_share.
	for plant in 1 2 3; do
		build "$out/fuzz_selftest$plant" -DFUZZ_SELFTEST=$plant || { echo "fuzz: self-test build failed"; exit 1; }
		if "$out/fuzz_selftest$plant" -seed=1 -runs=20000 -max_len="$max_len" \
			-artifact_prefix="$out/crash/selftest$plant-" "$top/tests/fuzz/corpus" >"$out/selftest$plant.log" 2>&1; then
			echo "FAIL: fuzz self-test $plant: the planted bug was not found"; exit 1
		fi
		grep -q 'fuzz_pgtable: operation' "$out/selftest$plant.log" ||
			{ echo "FAIL: fuzz self-test $plant crashed, but not by a disagreement"; tail -20 "$out/selftest$plant.log"; exit 1; }
		echo "PASS: fuzz self-test $plant: planted bug found ($(grep -o 'fuzz_pgtable: operation.*' "$out/selftest$plant.log" | head -1))"
	done

	# The mapping database against its model (fuzz_mdb.c): a planted bug in the
	# model (map and grant ignore the source's rights) must be found first.
	build_mdb "$out/fuzz_mdb" || { echo "fuzz: mdb build failed"; exit 1; }
	build_mdb "$out/fuzz_mdb_selftest" -DMDB_MODEL_SELFTEST || { echo "fuzz: mdb self-test build failed"; exit 1; }
	mkdir -p "$out/new_mdb"
	# It stops at the find (about 14,000 executions from an empty corpus with seed 1 today): the
	# limit leaves room for changes in the library to move it.
	if "$out/fuzz_mdb_selftest" -seed=1 -runs=150000 -max_len="$max_len" -artifact_prefix="$out/crash/mdb-selftest-" \
		"$out/new_mdb" >"$out/mdb_selftest.log" 2>&1; then
		echo "FAIL: fuzz mdb self-test: the planted bug was not found"; exit 1
	fi
	grep -q 'fuzz_mdb: operation' "$out/mdb_selftest.log" ||
		{ echo "FAIL: fuzz mdb self-test crashed, but not by a disagreement"; tail -20 "$out/mdb_selftest.log"; exit 1; }
	echo "PASS: fuzz mdb self-test: planted bug found ($(grep -o 'fuzz_mdb: operation.*' "$out/mdb_selftest.log" | head -1))"
	rm -rf "$out/new_mdb" && mkdir -p "$out/new_mdb"
	start=$(date +%s)
	"$out/fuzz_mdb" -seed="$seed" -runs="$runs" -max_len="$max_len" -print_final_stats=1 \
		-artifact_prefix="$out/crash/mdb-" "$out/new_mdb" >"$out/fuzz_mdb.log" 2>&1
	status=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz_mdb.log")
	if [ "$status" != 0 ]; then
		echo "FAIL: fuzz mdb: crash after ${execs:-?} executions (seed $seed); input in $out/crash:"
		grep -E -m5 'fuzz_mdb: operation|ERROR: |runtime error|SUMMARY' "$out/fuzz_mdb.log"
		exit 1
	fi
	echo "PASS: fuzz mdb: $execs executions clean in $(($(date +%s) - start)) s (seed $seed, max_len $max_len)"
}

(pgtable_lane) >"$out/lane_pgtable.txt" 2>&1 &
pgtable_pid=$!
(plants_and_mdb_lane) >"$out/lane_other.txt" 2>&1
other_status=$?
wait "$pgtable_pid"
pgtable_status=$?
cat "$out/lane_pgtable.txt" "$out/lane_other.txt"
[ "$pgtable_status" = 0 ] && [ "$other_status" = 0 ]
