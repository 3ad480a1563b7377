#!/bin/sh
# SPDX-License-Identifier: MIT
# Instructions per call of the library's common calls, counted by callgrind
# (valgrind) running bench/pgcount, for each descriptor named (default:
# x86_64 and armv8-4k-48). insert_2m and map_2m are the next page size after
# the smallest: 2M, or 32M and 512M for the 16K and 64K granules. Each
# figure is one op_* function of pgcount divided by its calls, so it
# includes the few instructions of the calling loop (the arguments, the
# check of the answer). The *_sparse calls each empty or fill a leaf table
# of their own; *_kept with the space keeping emptied tables
# (pgt_space_cache), so the table goes to and comes from its cache.
#
# Usage: bench/pgcount.sh [ARCH... | all]   (from the build directory; all:
# every shipped descriptor, as pgcount --list names them)
set -eu
prog=${PGCOUNT:-./bench/pgcount}
[ -x "$prog" ] || { echo "pgcount.sh: build $prog first (make bench/pgcount)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "pgcount.sh: needs valgrind" >&2; exit 2; }
[ $# -gt 0 ] || set -- x86_64 armv8-4k-48
if [ "$*" = all ]; then
	# shellcheck disable=SC2046 # one descriptor name a word
	set -- $("$prog" --list)
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# With a shared library, $prog is libtool's wrapper script: libtool runs
# valgrind on the real program.
lt=
[ -x "$(dirname "$prog")/.libs/$(basename "$prog")" ] && lt="./libtool --mode=execute"

for arch in "$@"; do
	"$prog" "$arch" >/dev/null || { echo "pgcount.sh: pgcount failed on $arch" >&2; exit 1; }
	$lt valgrind --tool=callgrind --callgrind-out-file="$out" "$prog" "$arch" >/dev/null 2>&1
	echo "$arch (instructions per call, callgrind):"
	callgrind_annotate --inclusive=yes --threshold=100 "$out" 2>/dev/null |
		sed -n 's/^ *\([0-9,]*\) .*pgcount\.c:op_\([a-z0-9_]*\) \[.*/\2 \1/p' |
		awk '{ n = $2; gsub(",", "", n); ir[$1] = n }
		END {
			split("limit_x86 limit_arm limit_sv39 fast_walk fast_walk_with fast_lookup fast_lookup_once fast_lookup_with fast_translate fast_translate_once fast_translate_with lookup translate tlb_hit tlb_miss tlb_miss_wide insert insert_2m set_paddr set_prot " \
			      "map map_2m protect unmap unmap_sparse map_sparse unmap_sparse_kept map_sparse_kept", order, " ")
			for (i = 1; i in order; i++) {
				op = order[i]
				calls = (op ~ /^(fast_)?(lookup|translate)(_once|_with)?$/ || op ~ /^(tlb|limit|fast_walk)/) ? 512 : 511
				if (op in ir)
					printf "  %-20s %7.1f\n", op, ir[op] / calls
			}
		}'
done
