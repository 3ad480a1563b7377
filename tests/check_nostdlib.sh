#!/bin/sh
# SPDX-License-Identifier: MIT
# A program without any C library links against libpgtable-freestanding.a
# given only memset, memcpy, memmove and memcmp, and runs (on x86-64 and
# AArch64 Linux hosts, where it has an exit system call).
set -eu
CC=${CC:-cc}
srcdir=${srcdir:-.}
lib=${top_builddir:-.}/libpgtable-freestanding.a
[ -f "$lib" ] || { echo "FAIL: missing $lib"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

$CC -std=c11 -O0 -Wall -Wextra -Werror -ffreestanding -fno-stack-protector -fno-pie \
	-I"$srcdir/include" -c "$srcdir/tests/nostdlib/kmain.c" -o "$tmp/kmain.o"
$CC -static -nostdlib -o "$tmp/kmain" "$tmp/kmain.o" "$lib"

case $(uname -s)-$(uname -m) in
Linux-x86_64 | Linux-aarch64) ;;
*) echo "PASS: linked with -nostdlib (not run on this host)"; exit 0 ;;
esac
# The program's exit system call is written for x86-64 and AArch64 only. Ask
# the compiler what it targets: `gcc -m32 -dumpmachine` still says x86_64,
# and the 32-bit program it builds would never reach its exit.
if ! $CC -dM -E -x c /dev/null | grep -q -e '^#define __x86_64__ ' -e '^#define __aarch64__ '; then
	echo "PASS: linked with -nostdlib (not run for this target)"; exit 0
fi
status=0
timeout 60 "$tmp/kmain" || status=$?
[ "$status" != 124 ] || { echo "FAIL: the freestanding program did not exit within 60 s"; exit 1; }
[ "$status" = 0 ] || { echo "FAIL: the freestanding program failed at step $status"; exit 1; }
echo "PASS: linked with -nostdlib and ran"
