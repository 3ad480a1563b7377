#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds a fresh clone of the tree in one of the other configurations and
# runs `make check` there:
#   sanitizers  ASan + UBSan (./configure --enable-sanitizers), gcc
#   m32         a 32-bit program (gcc -m32): uintptr_t narrower than pgt_paddr_t
#   aarch64     an aarch64 Linux program (gcc-aarch64-linux-gnu), run under qemu-aarch64
#   tsan        clang -fsanitize=thread, the concurrent-reader suite only
#               (every test program is built, with clang's warnings as errors)
#   riscv64     cross-built for riscv64 (gcc-riscv64-linux-gnu), no Check:
#               the installed freestanding archive is checked, nothing runs
# Exits non-zero when the build or any test fails, after printing the logs
# of the failures. Needs what .ci/hardening installs.
set -u
what=${1:?usage: run_build.sh sanitizers|m32|aarch64|tsan|riscv64}
top=$(cd "$(dirname "$0")/.." && pwd)
jobs=${JOBS:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Whether this machine runs i386 programs: some kernels are built or
# booted without IA32 emulation, and then only qemu-i386 runs them.
m32_runs() {
	printf 'int main(void) { return 0; }\n' >"$work/m32.c" &&
		gcc -m32 "$work/m32.c" -o "$work/m32" 2>/dev/null && "$work/m32" 2>/dev/null
}

# Line tables only (-g1): a failure's backtrace still names file and line,
# and the compiled walks, inlined per format, build in half the time that
# full debug information (-g: variable locations) takes them; these builds
# are never debugged in place. Optimised as the default build is (-O2).
gcc_cflags="-O2 -g1"

# Per configuration: configure arguments, environment, and how tests run.
# "emulated": the tests run under qemu-user, as static programs (a libtool
# wrapper is a shell script qemu cannot run).
check_args=
emulated=
tests_flag=--enable-tests
# The configurations that run the suites cut the long random sequences
# short (PGT_TEST_SLOW, test_slow_runner in tests/harness.c): most run them
# several times slower than a plain build (sanitizers, emulation), and each
# is here for a concern of its own (a narrow uintptr_t, another host), which
# the shorter sequences reach too. The quick start's make check runs them at
# full length.
export PGT_TEST_SLOW=1
case $what in
sanitizers)
	set -- --enable-sanitizers --disable-static CFLAGS="$gcc_cflags" ;;
m32)
	# The i386 Check library comes from Debian's multiarch check:i386.
	export PKG_CONFIG_LIBDIR=/usr/lib/i386-linux-gnu/pkgconfig:/usr/share/pkgconfig
	if m32_runs; then
		set -- CC="gcc -m32" CFLAGS="$gcc_cflags"
	else
		echo "$what: this kernel runs no i386 program: the tests run under qemu-i386"
		set -- --host=i686-linux-gnu CC="gcc -m32" CFLAGS="$gcc_cflags" --disable-shared
		check_args="LOG_COMPILER=qemu-i386"
		emulated=1
	fi ;;
aarch64)
	# check:arm64 ships a static libcheck only; without a shared libpgtable
	# the tests are plain binaries qemu-aarch64 can run (no libtool wrapper).
	export PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig
	set -- --host=aarch64-linux-gnu --disable-shared CFLAGS="$gcc_cflags"
	check_args="LOG_COMPILER=qemu-aarch64"
	emulated=1 ;;
tsan)
	# Every other suite is single-threaded: ThreadSanitizer runs the one with threads.
	set -- CC=clang CFLAGS="-gline-tables-only -O1 -fsanitize=thread"
	check_args="TESTS=tests/check_concurrent" ;;
riscv64)
	# Debian 12 has no riscv64 Check; the host's pkg-config files must not be used.
	export PKG_CONFIG_LIBDIR=/usr/lib/riscv64-linux-gnu/pkgconfig
	set -- --host=riscv64-linux-gnu CFLAGS="$gcc_cflags"
	tests_flag=
	check_args="TESTS=tests/check_freestanding.sh" ;;
*)
	echo "run_build.sh: unknown configuration $what"; exit 2 ;;
esac

git clone -q "$top" "$work/src" || exit 1
cd "$work/src" || exit 1
# Warnings are errors in every configuration CI builds, and the unit-test
# suites must build (configure fails without Check), but on riscv64, which
# has no Check. No QEMU kernel: they are built with their own flags, not
# these, and the main build builds and boots them; check_freestanding.sh
# still holds this build's installed archive to a kernel's rules.
if ! { ./autogen.sh && ./configure -q --enable-werror --disable-hw-tests $tests_flag "$@"; } >"$work/configure.log" 2>&1; then
	echo "$what: configure failed"; tail -30 "$work/configure.log"; exit 1
fi
if ! make -j"$jobs" >"$work/make.log" 2>&1; then
	echo "$what: build failed"; grep -E 'error|warning' "$work/make.log" | head -30; exit 1
fi
if [ -n "$emulated" ]; then
	# Script tests that build a program and run it directly (no binfmt_misc
	# here to hand it to qemu) cannot run for another architecture.
	tests=$(make -s --no-print-directory --eval='pgt-print-tests: ; @echo $(TESTS)' pgt-print-tests |
		tr ' ' '\n' | grep -v -x -e tests/check_install.sh -e tests/check_nostdlib.sh -e tests/check_bench.sh | tr '\n' ' ')
	check_args="$check_args TESTS=\"$tests\""
	echo "$what: not run here: tests/check_install.sh tests/check_nostdlib.sh tests/check_bench.sh (they run what they build)"
fi
eval make -j"$jobs" check "$check_args" >"$work/check.log" 2>&1
status=$?
# automake's summary, on one line: "m32: TOTAL 10 PASS 10 SKIP 0 FAIL 0 ERROR 0"
echo "$what: $(sed -n 's/^# \(TOTAL\|PASS\|SKIP\|FAIL\|ERROR\): */\1 /p' "$work/check.log" | tr '\n' ' ')"
if [ "$status" != 0 ]; then
	for log in tests/*.log; do
		[ "$log" = tests/test-suite.log ] && continue
		trs=${log%.log}.trs
		grep -q ':test-result: \(FAIL\|ERROR\)' "$trs" 2>/dev/null || continue
		echo "--- $what: $log"; tail -20 "$log"
	done
	[ -f test-suite.log ] || tail -30 "$work/check.log"
	exit 1
fi
exit 0
