#!/bin/sh
# SPDX-License-Identifier: MIT
# Every source file of the tree carries the licence's SPDX line (LICENSE:
# MIT), so that a file copied into a kernel or a hypervisor keeps it. Third
# party files (autoconf-archive and libtool macros, the fuzzer's corpus),
# generated ones and man pages that only source another are not marked.
set -u
src=${srcdir:-.}
missing=0
files=$(cd "$src" && find lib arch include tests examples bench man doc .ci \
	\( -path tests/fuzz/corpus -o -path tests/stage -o -name .deps -o -name .libs \) -prune -o -type f \
	\( -name '*.c' -o -name '*.h' -o -name '*.S' -o -name '*.ld' -o -name '*.sh' -o -name '*.hw' \
	-o -name '*.py' -o -name '*.mk' -o -name '*.3' -o -name '*.md' -o -name run -o -name hardening \) -print 2>/dev/null;
	for f in configure.ac Makefile.am autogen.sh pgtable.pc.in pgtable-freestanding.pc.in Doxyfile README.md \
		m4/pgt_*.m4; do [ -f "$f" ] && echo "$f"; done)
for f in $files; do
	head -n 3 "$src/$f" | grep -q 'SPDX-License-Identifier: MIT' && continue
	# a man page that only sources another (.so) has nothing of its own to license
	case $f in *.3) [ "$(grep -cv '^\.so ' "$src/$f")" = 0 ] && continue ;; esac
	echo "FAIL: no SPDX-License-Identifier line in $f"
	missing=$((missing + 1))
done
n=$(echo "$files" | wc -l)
[ "$missing" = 0 ] && echo "PASS: $n files checked, each with its SPDX line" && exit 0
echo "$missing of $n files lack the SPDX line"
exit 1
