#!/bin/sh
# SPDX-License-Identifier: MIT
# The ABI against abi/libpgtable.abi (make abi-check, libabigail's abidiff),
# in a fresh clone: the tree as it is must pass; then two planted changes
# show what the check tells apart: a public struct whose layout changes (a
# field inserted in struct pgt_mm, which pgt_space_init takes) must fail,
# and a private field added to pgt_space_t inside its fixed room must pass.
# Needs abigail-tools.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q "$top" "$work/src" && cd "$work/src" || exit 1
{ ./autogen.sh && ./configure -q --disable-static && make -j"${JOBS:-2}" libpgtable.la; } >"$work/build.log" 2>&1 ||
	{ tail -30 "$work/build.log"; echo "abi_check: build failed"; exit 1; }

check() { # what, expected: pass|fail
	if make -s abi-check >"$work/abi.log" 2>&1; then got=pass; else got=fail; fi
	if [ "$got" = "$2" ]; then
		echo "ok: $1: abi-check: $got, as it must"
		return 0
	fi
	cat "$work/abi.log"
	echo "FAIL: $1: abi-check: $got, wanted $2"
	exit 1
}
rebuild() { make -j"${JOBS:-2}" libpgtable.la >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; exit 1; }; }

check "the tree as it is" pass
h=include/pgtable/pgtable.h
cp "$h" "$work/pgtable.h"
sed -i 's/^\(\t*\)void \*(\*p2v)(void \*ctx, pgt_paddr_t pa);/&\n\1uint64_t pgt__planted;/' "$h"
grep -q pgt__planted "$h" || { echo "abi_check: could not plant the public change"; exit 1; }
rebuild
check "a field inserted in struct pgt_mm" fail
cp "$work/pgtable.h" "$h"
sed -i 's/^\(\t*\)unsigned pgt__enc_prot;/\1unsigned pgt__planted;\n\1unsigned pgt__enc_prot;/' "$h"
grep -q pgt__planted "$h" || { echo "abi_check: could not plant the private change"; exit 1; }
rebuild
check "a private field added to pgt_space_t inside its room" pass
