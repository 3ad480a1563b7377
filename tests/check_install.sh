#!/bin/sh
# SPDX-License-Identifier: MIT
# Consume the library as a user would: install it into a temporary root,
# then build the installed examples out of tree with nothing but
# `pkg-config --cflags --libs pgtable` against the shared library, one of
# them also with --static, and run them all; link a program with no C library
# with `pkg-config --cflags --libs pgtable-freestanding`.
set -eu
MAKE=${MAKE:-make}
CC=${CC:-cc}
NM=${NM:-nm}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
srcdir=${srcdir:-.}
build=${abs_top_builddir:-$(pwd)}
command -v "$PKG_CONFIG" >/dev/null 2>&1 || { echo "SKIP: pkg-config is not installed"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

# MAKEFLAGS of the calling `make check` would hand the jobserver down.
if ! (unset MAKEFLAGS MFLAGS; $MAKE -C "$build" install DESTDIR="$root") >"$tmp/install.log" 2>&1; then
	cat "$tmp/install.log"; echo "FAIL: make install"; exit 1
fi

# What a user finds after installing.
for f in pgtable.pc pgtable-freestanding.pc pgtable.h arch.h libpgtable-freestanding.a pgtable.3 pgt_map.3 \
	pae.c kernel-style.c simulator.c; do
	[ -n "$(find "$root" -name "$f")" ] || { echo "FAIL: $f is not installed"; exit 1; }
done

# pkg-config sees only the temporary root, and prefixes its paths with it.
pc=$(find "$root" -name pgtable.pc)
PKG_CONFIG_LIBDIR=$(dirname "$pc")
PKG_CONFIG_PATH=
PKG_CONFIG_SYSROOT_DIR=$root
export PKG_CONFIG_LIBDIR PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
libdir=$("$PKG_CONFIG" --libs-only-L pgtable | sed 's/^ *-L//; s/ .*//')
[ -d "$libdir" ] || { echo "FAIL: pkg-config gives no usable library directory"; exit 1; }

flags="-std=c11 -Wall -Wextra -Werror"

# Shared: each installed example, as a user would find it, needs
# libpgtable.so and finds it in the installed libdir.
for name in pae kernel-style simulator microkernel; do
	example=$(find "$root" -name "$name.c")
	# shellcheck disable=SC2046,SC2086
	$CC $flags -o "$tmp/$name" "$example" $("$PKG_CONFIG" --cflags --libs pgtable)
	$NM "$tmp/$name" | grep -q ' U pgt_' || { echo "FAIL: $name does not use the shared library"; exit 1; }
	LD_LIBRARY_PATH=$libdir "$tmp/$name" >"$tmp/$name.out" ||
		{ cat "$tmp/$name.out"; echo "FAIL: $name built against the installed library"; exit 1; }
done
example=$(find "$root" -name pae.c)

# Freestanding: a program with no C library, as a kernel is, built with
# nothing but `pkg-config --cflags --libs pgtable-freestanding`.
# shellcheck disable=SC2046
$CC -std=c11 -O0 -fno-stack-protector -fno-pie -static -nostdlib -o "$tmp/kmain" \
	$("$PKG_CONFIG" --cflags pgtable-freestanding) "$srcdir/tests/nostdlib/kmain.c" \
	$("$PKG_CONFIG" --libs pgtable-freestanding) ||
	{ echo "FAIL: a -nostdlib program with pgtable-freestanding.pc"; exit 1; }
$NM "$tmp/kmain" | grep -q ' T pgt_space_init' || { echo "FAIL: kmain does not have the archive's code"; exit 1; }

# Static: everything linked in, no shared library needed at run time.
if [ -n "$(find "$root" -name libpgtable.a)" ]; then
	# shellcheck disable=SC2046,SC2086
	$CC $flags -static -o "$tmp/static" "$example" $("$PKG_CONFIG" --cflags --static --libs pgtable)
	$NM "$tmp/static" | grep -q ' T pgt_insert' || { echo "FAIL: static build is not static"; exit 1; }
	"$tmp/static" >"$tmp/static.out" || { cat "$tmp/static.out"; echo "FAIL: static build"; exit 1; }
	echo "PASS: installed; three examples built with pkg-config and ran; pae also with --static;" \
		"a -nostdlib program linked with pgtable-freestanding.pc"
else
	echo "PASS: installed; three examples built with pkg-config and ran (no static library: configured --disable-static);" \
		"a -nostdlib program linked with pgtable-freestanding.pc"
fi
