#!/bin/sh
# SPDX-License-Identifier: MIT
# make check-proof: the Eva harnesses of harness.c on the library's own
# sources, one format at a time, then each planted bug, whose analysis
# must FAIL. A run passes when Eva reports no alarm, every CHECK's failure
# branch is dead and the analysis reached the end of its entry point.
# Usage: run.sh [srcdir]   (FRAMAC names the analyser, default frama-c;
# PROOF_FORMATS and PROOF_MAINS, space-separated, choose what runs, "all"
# for everything, and PROOF_PLANTS=no skips the planted bugs)
#
# By default: proof_safety on the formats where it is shown in seconds.
# Not yet by default: armv8-64k-42 (its 8192-entry tables take Eva over
# four minutes); proof_insert (about 35 s on x86-64; every insert and
# lookup CHECK holds there, but Eva finds pgt_set_field answering
# PGT_EINVAL on some 1 GiB states, not yet settled as imprecision or a
# bug); proof_range (not yet run to its end).
set -u
src=${1:-.}
framac=${FRAMAC:-frama-c}
if ! command -v "$framac" >/dev/null 2>&1; then
	echo "check-proof: SKIP: $framac not found (Debian: apt-get install frama-c-base)"
	exit 0
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

# The library's sources the harnesses reach, and Eva's options: tables are
# cleared and walked by loops up to a table's entry count, which Eva must
# unroll to keep each entry apart; free_subtree recurses once per level.
lib_sources="lib/field.c lib/insert.c lib/lookup.c lib/range.c lib/space.c lib/table.c lib/tlb.c
	lib/translate.c lib/walks.c lib/walk.c lib/strerror.c lib/share.c arch/registry.c
	arch/x86_64/x86_64.c arch/x86_64/ept.c arch/armv8/armv8.c arch/armv8/armv8_s2.c arch/riscv/riscv.c"

# name descriptor table-bytes arena-frames
formats="x86_64 pgt_arch_x86_64 4096 6
x86_64-la57 pgt_arch_x86_64_la57 4096 7
armv8-4k-48 pgt_arch_armv8_4k_48 4096 6
armv8-64k-42 pgt_arch_armv8_64k_42 65536 5
riscv-sv39 pgt_arch_riscv_sv39 4096 5"

# analyse dir desc frame frames main log: 0 when the property is shown.
analyse() {
	dir=$1 desc=$2 frame=$3 frames=$4 main=$5 log=$6
	unroll=$((frame / 8 + 8))
	(cd "$dir" && "$framac" -c11 -machdep gcc_x86_64 \
		-cpp-extra-args="-Iinclude -Ilib -include tests/proof/prelude.h -DPROOF_ARCH=$desc -DPROOF_FRAME=$frame -DPROOF_FRAMES=$frames" \
		$lib_sources tests/proof/harness.c \
		-eva -main "$main" -eva-no-alloc-returns-null -eva-precision 7 \
		-eva-auto-loop-unroll "$unroll" -eva-unroll-recursive-calls 8 -eva-split-return full \
		-eva-print-callstacks) >"$log" 2>&1
	grep -q "\[eva\] done for function $main" "$log" || return 1
	grep -q "failed_check_at_line" "$log" && return 1
	grep -q "User Error" "$log" && return 1
	grep -Eq "^  [1-9][0-9]* alarms? generated" "$log" && return 1
	grep -Eq "Assertions .* [1-9][0-9]* (unknown|invalid)" "$log" && return 1
	return 0
}

# The property checks of one line of the report: what failed, briefly.
why() {
	grep -E "alarms? generated|failed_check_at_line|User Error|Assertions" "$1" | head -4 | tr -s ' ' | tr '\n' ';'
}

failed=0
only() { # word list: whether the word is in the list, or the list is "all"
	[ "$2" = all ] || case " $2 " in *" $1 "*) return 0 ;; *) return 1 ;; esac
}
formats_run=${PROOF_FORMATS:-x86_64 x86_64-la57 armv8-4k-48 riscv-sv39}
mains_run=${PROOF_MAINS:-proof_safety}

while read -r name desc frame frames; do
	only "$name" "$formats_run" || continue
	for main in proof_safety proof_insert proof_range; do
		only "$main" "$mains_run" || continue
		log=$tmp/$name.$main.log
		start=$(date +%s)
		if analyse "$src" "$desc" "$frame" "$frames" "$main" "$log"; then
			echo "proof $name $main: ok ($(($(date +%s) - start)) s)"
		else
			echo "proof $name $main: FAILED ($(($(date +%s) - start)) s): $(why "$log")"
			cp "$log" "proof-$name-$main.log" 2>/dev/null && echo "  Eva's output: proof-$name-$main.log"
			failed=$((failed + 1))
		fi
	done
done <<EOF2
$formats
EOF2

# Each planted bug, in a copy of the sources: the harness that guards the
# property must fail on it. file, sed expression, harness, what it plants.
planted=0
plant() {
	[ "${PROOF_PLANTS:-yes}" = no ] && return
	only "$3" "$mains_run" || return
	file=$1 expr=$2 main=$3 what=$4
	rm -rf "$tmp/plant" && mkdir -p "$tmp/plant/tests" && cp -R "$src/include" "$src/lib" "$src/arch" "$tmp/plant/" &&
		cp -R "$src/tests/proof" "$tmp/plant/tests/" || return 1
	sed -i "$expr" "$tmp/plant/$file"
	if cmp -s "$src/$file" "$tmp/plant/$file"; then
		echo "planted bug ($what): FAILED: the edit no longer applies to $file"
		failed=$((failed + 1))
		return
	fi
	start=$(date +%s)
	if analyse "$tmp/plant" pgt_arch_x86_64 4096 6 "$main" "$tmp/plant.log"; then
		echo "planted bug ($what): FAILED: $main did not see it"
		failed=$((failed + 1))
	else
		echo "planted bug ($what): caught by $main ($(($(date +%s) - start)) s)"
		planted=$((planted + 1))
	fi
}

plant lib/table.c 's|pgt__list_free_all(sp, pool); /\* the one way back|(void)pool; /* the one way back|' \
	proof_insert "a failed allocation leaks the tables it took"
plant lib/walks_tpl.h 's|\.pte = at->p, \.level = l, \.page_shift = A->level\[l\]\.shift }|.pte = at->p, .level = l, .page_shift = A->level[l].shift + 1u }|' \
	proof_insert "insert answers a wrong page_shift"
plant lib/table.c 's|for (size_t i = 0; i < words; i++)|for (size_t i = 0; i <= words; i++)|' \
	proof_safety "an off-by-one index clears one entry past the table"

echo "check-proof: $failed failed; $planted planted bugs caught"
[ "$failed" = 0 ]
