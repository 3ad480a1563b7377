#!/bin/sh
# libpgtable-freestanding.a must link into a kernel with no libc: the only
# symbols it may need from outside are the four the compiler itself emits.
set -eu
NM=${NM:-nm}
lib=${top_builddir:-.}/libpgtable-freestanding.a
[ -f "$lib" ] || { echo "missing $lib"; exit 1; }
defined=$($NM --defined-only "$lib" | awk 'NF == 3 { print $3 }' | sort -u)
undefined=$($NM -u "$lib" | awk '$1 == "U" { print $2 }' | sort -u)
# _GLOBAL_OFFSET_TABLE_ is defined by the linker itself (i386 position-independent code).
outside=$(printf '%s\n' $undefined | grep -vxF -e memset -e memcpy -e memmove -e memcmp -e _GLOBAL_OFFSET_TABLE_ \
	$(printf -- '-e %s ' $defined) || true)
if [ -n "$outside" ]; then
	echo "FAIL: freestanding archive needs symbols from outside:"; echo "$outside"
	exit 1
fi
echo "PASS: freestanding archive needs only: $(printf '%s ' $undefined | tr ' ' '\n' | grep -xE 'mem(set|cpy|move|cmp)' | tr '\n' ' ')"
