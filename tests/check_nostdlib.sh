#!/bin/sh
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
# A 32-bit userland on a 64-bit kernel builds for another target: link only.
case $($CC -dumpmachine) in
x86_64-* | aarch64-*) ;;
*) echo "PASS: linked with -nostdlib (not run for this target)"; exit 0 ;;
esac
status=0
"$tmp/kmain" || status=$?
[ "$status" = 0 ] || { echo "FAIL: the freestanding program failed at step $status"; exit 1; }
echo "PASS: linked with -nostdlib and ran"
