#!/bin/sh
# SPDX-License-Identifier: MIT
# Static analysis of the library (lib/ and arch/): gcc -fanalyzer, clang-tidy
# and cppcheck. Any finding fails. Suppressions live beside the code they
# concern (NOLINT) or in tests/cppcheck-suppressions.xml, each with the
# reason it is a false positive.
set -u
srcdir=${srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$srcdir" || exit 1
src=$(ls lib/*.c arch/*.c arch/*/*.c)
# The library as a kernel builds it, PGT_ASSERT a panic: the analyzers then
# take the engine's stated invariants (a pool holds what PLAN counted, ...)
# as given instead of exploring paths that break them.
flags="-std=c11 -Iinclude -Ilib -DPGT_BUILDING_LIBRARY -ffreestanding"
flags="$flags -DPGT_ASSERT(c)=((c)?(void)0:__builtin_trap())"
set -f # $flags holds a '?': no pathname expansion of it
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fail=0

# Checks that find bugs. Left out: bugprone-easily-swappable-parameters (the
# (level, prot) signatures are the descriptor contract) and misc-no-recursion
# (free_subtree recurses once per level, bounded by PGT_MAX_LEVELS).
tidy_checks='-*,clang-analyzer-*,bugprone-*,-bugprone-easily-swappable-parameters,cert-*,misc-*,-misc-no-recursion,performance-*,portability-*'

step() { # name, then the command; the command's output is its findings
	name=$1; shift
	"$@" >"$out" 2>&1
	rc=$?
	if [ "$rc" != 0 ] || grep -q -e 'warning:' -e 'error:' -e '^\[' "$out"; then
		echo "FAIL: $name"; cat "$out"; fail=1
	else
		echo "PASS: $name"
	fi
}

gcc_analyzer() {
	for f in $src; do gcc $flags -fanalyzer -Wall -Wextra -Werror -c "$f" -o /dev/null || return 1; done
}
clang_tidy() {
	clang-tidy --quiet -warnings-as-errors='*' -checks="$tidy_checks" $src -- $flags 2>&1 |
		grep -v -e '^[0-9]* warnings* generated' -e '^Suppressed [0-9]* warnings' -e '^Use -header-filter'
	return 0
}
cppcheck_run() {
	cppcheck -q --enable=warning,style,performance,portability --std=c11 -Iinclude -Ilib \
		--inline-suppr --suppress-xml=tests/cppcheck-suppressions.xml --error-exitcode=1 lib arch
}

step "gcc -fanalyzer ($(echo $src | wc -w) files)" gcc_analyzer
step "clang-tidy" clang_tidy
step "cppcheck" cppcheck_run
exit $fail
