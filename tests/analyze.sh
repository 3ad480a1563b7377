#!/bin/sh
# SPDX-License-Identifier: MIT
# Static analysis of the library (lib/ and arch/): gcc -fanalyzer, clang-tidy
# and cppcheck. Any finding fails. Suppressions live beside the code they
# concern (NOLINT) or in tests/cppcheck-suppressions.xml, each with the
# reason it is a false positive. The analyses run a file at a time, as many
# at once as there are processors (JOBS), the longest first.
set -u
srcdir=${srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$srcdir" || exit 1
# The library as a kernel builds it, PGT_ASSERT a panic: the analyzers then
# take the engine's stated invariants (a pool holds what PLAN counted, ...)
# as given instead of exploring paths that break them.
flags="-std=c11 -Iinclude -Ilib -DPGT_BUILDING_LIBRARY -ffreestanding"
assert="-DPGT_ASSERT(c)=((c)?(void)0:__builtin_trap())"

# Checks that find bugs. Left out: bugprone-easily-swappable-parameters (the
# (level, prot) signatures are the descriptor contract) and misc-no-recursion
# (free_subtree recurses once per level, bounded by PGT_MAX_LEVELS).
tidy_checks='-*,clang-analyzer-*,bugprone-*,-bugprone-easily-swappable-parameters,cert-*,misc-*,-misc-no-recursion,performance-*,portability-*'

# The compiled walks are one template (lib/walks_tpl.h), which costs gcc's
# analyzer over a minute a format: it reads them through x86-64's file (4 and
# 5 levels), clang-tidy through x86-64's and ARMv8's (3 and 4 levels; 4K, 16K
# and 64K tables). In the other formats' files both read the descriptors'
# own code (tests/analyze_walks.h).
gcc_walks="arch/x86_64/x86_64.c"
tidy_walks="arch/x86_64/x86_64.c arch/armv8/armv8.c"

# --one DIR TOOL FILE (run by xargs): one analysis of one file; its findings,
# if any, in DIR.
if [ "${1:-}" = --one ]; then
	set -f # $assert holds a '?': no pathname expansion of it
	found=$2/$3-$(echo "$4" | tr / _).txt f=$4
	walks="-include tests/analyze_walks.h"
	case $f in arch/*/*) ;; *) walks= ;; esac
	case $3 in
	gcc)
		case " $gcc_walks " in *" $f "*) walks= ;; esac
		gcc $flags "$assert" $walks -fanalyzer -Wall -Wextra -Werror -c "$f" -o /dev/null >"$found" 2>&1
		rc=$? ;;
	clang-tidy)
		case " $tidy_walks " in *" $f "*) walks= ;; esac
		clang-tidy --quiet -warnings-as-errors='*' -checks="$tidy_checks" "$f" -- $flags "$assert" $walks 2>&1 |
			grep -v -e '^[0-9]* warnings* generated' -e '^Suppressed [0-9]* warnings' -e '^Use -header-filter' >"$found"
		rc=0 ;;
	esac
	[ "$rc" = 0 ] && ! grep -q -e 'warning:' -e 'error:' "$found" && rm -f "$found"
	exit 0
fi

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
arch_files=$(ls arch/*/*.c)
lib_files=$(ls lib/*.c arch/*.c)
# The longest first: those that read the compiled walks.
{
	for f in $gcc_walks; do echo "gcc $f"; done
	for f in $tidy_walks; do echo "clang-tidy $f"; done
	for f in $arch_files $lib_files; do
		case " $tidy_walks " in *" $f "*) ;; *) echo "clang-tidy $f" ;; esac
		case " $gcc_walks " in *" $f "*) ;; *) echo "gcc $f" ;; esac
	done
} >"$dir/jobs"
# cppcheck reads the whole library at once, alongside.
cppcheck -q --enable=warning,style,performance,portability --std=c11 -Iinclude -Ilib \
	--inline-suppr --suppress-xml=tests/cppcheck-suppressions.xml --error-exitcode=1 lib arch \
	>"$dir/cppcheck.txt" 2>&1 &
cppcheck_pid=$!
xargs -P "${JOBS:-$(nproc 2>/dev/null || echo 2)}" -L 1 sh "$0" --one "$dir" <"$dir/jobs"
wait "$cppcheck_pid" && ! grep -q -e 'warning:' -e 'error:' -e '^\[' "$dir/cppcheck.txt" && rm "$dir/cppcheck.txt"

fail=0
report() { # name, files of findings
	name=$1; shift
	if [ -e "$1" ]; then
		echo "FAIL: $name"; cat "$@"; fail=1
	else
		echo "PASS: $name"
	fi
}
report "gcc -fanalyzer ($(grep -c '^gcc ' "$dir/jobs") files; the compiled walks through $gcc_walks)" "$dir"/gcc-*.txt
report "clang-tidy ($(grep -c '^clang-tidy ' "$dir/jobs") files; the compiled walks through $tidy_walks)" "$dir"/clang-tidy-*.txt
report cppcheck "$dir/cppcheck.txt"
exit $fail
