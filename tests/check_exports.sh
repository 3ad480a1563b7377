#!/bin/sh
# SPDX-License-Identifier: MIT
# The shared library exports the public API and nothing else: every
# exported symbol is pgt_ and public, and every public name is exported.
set -eu
NM=${NM:-nm}
so=${top_builddir:-.}/.libs/libpgtable.so
[ -f "$so" ] || { echo "SKIP: no shared library"; exit 77; }
exported=$($NM -D --defined-only "$so" | awk '$2 ~ /^[TDRB]$/ { sub(/@.*/, "", $3); print $3 }' | sort -u)
bad=$(printf '%s\n' $exported | grep -v '^pgt_[a-z0-9_]*$' || true)
internal=$(printf '%s\n' $exported | grep -e '^pgt__' -e '^pgt_x86_64_' -e '^pgt_armv8_[a-z]*_encode' || true)
if [ -n "$bad$internal" ]; then
	echo "FAIL: exported beyond the API: $bad $internal"; exit 1
fi
srcdir=${srcdir:-.}
for fn in $(grep -h '^PGT_API' "$srcdir"/include/pgtable/pgtable.h "$srcdir"/include/pgtable/mdb.h | grep -o 'pgt_[a-z0-9_]*\s*(' | tr -d ' (' | sort -u); do
	printf '%s\n' $exported | grep -qx "$fn" || { echo "FAIL: $fn not exported"; exit 1; }
done
echo "PASS: $(printf '%s\n' $exported | wc -l) symbols exported, all public"
