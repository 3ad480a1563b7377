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
# By default: proof_safety on x86_64, x86_64-la57, armv8-4k-48, riscv-sv39
# and armv8-64k-42 (any table contents, see below); proof_offset,
# proof_insert and proof_range on x86_64; proof_offset, proof_range and
# proof_destroy on armv8-64k-42-wide; six planted bugs. PROOF_FORMATS=all
# PROOF_MAINS=all adds the other formats' offset, insert and range proofs
# and armv8-64k-42-wide's insert; PROOF_PLANTS=all five more planted bugs
# (times: doc/RELIABILITY.md).
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
# unroll to keep each entry apart (mode exact); free_subtree recurses once
# per level. Unrolling 8192 entries costs Eva more than quadratic time, so
# ARMv8 64K unrolls no table loop: in mode any (PROOF_ANY_TABLES) for
# proof_safety, in mode wide (PROOF_WIDE_TABLES) for proof_offset,
# proof_insert, proof_range and proof_destroy (destroy's exactly-once
# freeing, which mode any cannot show; proof_offset's walks, which with
# frames that start zeroed follow only entries the library wrote):
# harness.c says what each proves.
lib_sources="lib/field.c lib/insert.c lib/lookup.c lib/range.c lib/space.c lib/table.c lib/tlb.c
	lib/translate.c lib/walks.c lib/walk.c lib/strerror.c lib/share.c arch/registry.c
	arch/x86_64/x86_64.c arch/x86_64/ept.c arch/armv8/armv8.c arch/armv8/armv8_s2.c arch/riscv/riscv.c"

# name descriptor table-bytes arena-frames mode default-entry-points (- for none)
formats="x86_64 pgt_arch_x86_64 4096 6 exact proof_safety,proof_offset,proof_insert,proof_range
x86_64-la57 pgt_arch_x86_64_la57 4096 7 exact proof_safety
armv8-4k-48 pgt_arch_armv8_4k_48 4096 6 exact proof_safety
armv8-64k-42 pgt_arch_armv8_64k_42 65536 5 any proof_safety
armv8-64k-42-wide pgt_arch_armv8_64k_42 65536 5 wide proof_offset,proof_range,proof_destroy
riscv-sv39 pgt_arch_riscv_sv39 4096 5 exact proof_safety"

# parse dir desc frame frames mode save: one format's sources, parsed once
# into the session file save, which each entry point's analysis loads.
parse() {
	any=
	[ "$5" = any ] && any=-DPROOF_ANY_TABLES
	[ "$5" = wide ] && any=-DPROOF_WIDE_TABLES
	(cd "$1" && "$framac" -c11 -machdep gcc_x86_64 \
		-cpp-extra-args="-Iinclude -Ilib -include tests/proof/prelude.h -DPROOF_ARCH=$2 -DPROOF_FRAME=$3 -DPROOF_FRAMES=$4 $any" \
		$lib_sources tests/proof/harness.c -save "$6") >"$6.log" 2>&1
}

# analyse save frame frames mode main log: 0 when the property is shown.
# proof_offset reaches tables at their physical addresses: the arena's
# (harness.c's ARENA_BASE, 16 frames up) is valid absolute memory there.
analyse() {
	save=$1 frame=$2 frames=$3 mode=$4 main=$5 log=$6
	unroll=$((frame / 8 + 8))
	[ "$mode" = exact ] || unroll=16 # the level loops, not the tables'
	absolute=
	[ "$main" = proof_offset ] && absolute="-absolute-valid-range $((frame * 16))-$((frame * (16 + frames) - 1))"
	"$framac" -load "$save" $absolute \
		-eva -main "$main" -eva-no-alloc-returns-null -eva-precision 7 \
		-eva-auto-loop-unroll "$unroll" -eva-unroll-recursive-calls 8 -eva-split-return full \
		-eva-print-callstacks >"$log" 2>&1
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

only() { # word list: whether the word is in the list, or the list is "all"
	[ "$2" = all ] || case " $2 " in *" $1 "*) return 0 ;; *) return 1 ;; esac
}
formats_run=${PROOF_FORMATS:-default}
mains_run=${PROOF_MAINS:-default}

# The formats' proofs, one lane; the planted bugs (below) the other.
formats_lane() {
	while read -r name desc frame frames mode defaults; do
		if [ "$formats_run" = default ]; then
			[ "$defaults" = - ] && continue
		else
			only "$name" "$formats_run" || continue
		fi
		mains=$mains_run
		[ "$mains" = default ] && mains=$(echo "$defaults" | tr , ' ')
		[ "$mains" = all ] && mains="proof_safety proof_offset proof_insert proof_range proof_destroy"
		# What a mode can show: its entry points, of those asked for.
		case "$mode" in
		any) can="proof_safety" ;;
		wide) can="proof_offset proof_insert proof_range proof_destroy" ;;
		*) can="proof_safety proof_offset proof_insert proof_range" ;;
		esac
		asked=$mains mains=
		for main in $can; do
			only "$main" "$asked" && mains="$mains $main"
		done
		[ -n "$mains" ] || continue
		start=$(date +%s)
		if ! parse "$src" "$desc" "$frame" "$frames" "$mode" "$tmp/$name.sav"; then
			echo "proof $name: FAILED: the sources do not parse"
			cp "$tmp/$name.sav.log" "proof-$name-parse.log" 2>/dev/null && echo "  Frama-C's output: proof-$name-parse.log"
			continue
		fi
		echo "proof $name: parsed ($(($(date +%s) - start)) s)"
		for main in $mains; do
			log=$tmp/$name.$main.log
			start=$(date +%s)
			if analyse "$tmp/$name.sav" "$frame" "$frames" "$mode" "$main" "$log"; then
				echo "proof $name $main: ok ($(($(date +%s) - start)) s)"
			else
				echo "proof $name $main: FAILED ($(($(date +%s) - start)) s): $(why "$log")"
				cp "$log" "proof-$name-$main.log" 2>/dev/null && echo "  Eva's output: proof-$name-$main.log"
			fi
		done
	done <<EOF2
$formats
EOF2
}

# Each planted bug, in a copy of the sources, on x86-64 unless a format
# row (desc frame frames mode) follows: the harness that guards the
# property must fail on it, having run to its end. A ninth argument "all":
# run with PROOF_PLANTS=all only (the default run's time).
plant() {
	[ "${PROOF_PLANTS:-yes}" = no ] && return
	file=$1 expr=$2 main=$3 what=$4
	pdesc=${5:-pgt_arch_x86_64} pframe=${6:-4096} pframes=${7:-6} pmode=${8:-exact}
	[ "${9:-default}" = default ] || [ "${PROOF_PLANTS:-yes}" = all ] || return 0
	rm -rf "$tmp/plant" && mkdir -p "$tmp/plant/tests" && cp -R "$src/include" "$src/lib" "$src/arch" "$tmp/plant/" &&
		cp -R "$src/tests/proof" "$tmp/plant/tests/" || return 1
	sed -i "$expr" "$tmp/plant/$file"
	if cmp -s "$src/$file" "$tmp/plant/$file"; then
		echo "planted bug ($what): FAILED: the edit no longer applies to $file"
		return
	fi
	start=$(date +%s)
	if ! parse "$tmp/plant" "$pdesc" "$pframe" "$pframes" "$pmode" "$tmp/plant.sav"; then
		echo "planted bug ($what): FAILED: the planted sources do not parse"
	elif analyse "$tmp/plant.sav" "$pframe" "$pframes" "$pmode" "$main" "$tmp/plant.log"; then
		echo "planted bug ($what): FAILED: $main did not see it"
	elif ! grep -q "\[eva\] done for function $main" "$tmp/plant.log"; then
		echo "planted bug ($what): FAILED: $main did not run to its end"
	else
		echo "planted bug ($what): caught by $main ($(($(date +%s) - start)) s): $(why "$tmp/plant.log")"
	fi
}

# Edits planted on two formats each: insert's wrong page_shift, the clear one
# entry past a table, and the walk reading the level-0 entry after its own.
wrong_shift='s|\.pte = at->p, \.level = l, \.page_shift = A->level\[l\]\.shift }|.pte = at->p, .level = l, .page_shift = A->level[l].shift + 1u }|'
clear_past_end='s|for (size_t i = 0; i < words; i++)|for (size_t i = 0; i <= words; i++)|'
walk_next_entry='s|return offset + (uintptr_t)pgt__index(&A->level\[l\], va) \* sizeof(pgt_pte_t);|return offset + ((uintptr_t)pgt__index(\&A->level[l], va) + (l == 0)) * sizeof(pgt_pte_t);|'

plants_lane() {
	# The leak is planted in both ways back of a failed allocation there may
	# be: the pool's (map) and, where insert has its own, the branch's.
	plant lib/table.c 's|pgt__list_free_all(sp, pool); /\* the one way back|(void)pool; /* the one way back|;s|\(\t*\)pgt__table_free(sp, l, b->pa\[l\]);|\1(void)b;|' \
		proof_safety "a failed allocation leaks the tables it took"
	# A wrong page_shift from insert: caught in 15 s on ARMv8 64K (mode wide,
	# the same harness), in a minute on x86-64 (with PROOF_PLANTS=all).
	plant lib/walks_tpl.h "$wrong_shift" \
		proof_insert "64K: insert answers a wrong page_shift" pgt_arch_armv8_64k_42 65536 5 wide default
	plant lib/walks_tpl.h "$wrong_shift" \
		proof_insert "insert answers a wrong page_shift" pgt_arch_x86_64 4096 6 exact all
	plant lib/table.c "$clear_past_end" \
		proof_safety "an off-by-one index clears one entry past the table"
	# The off-by-one clear, where the table loops are not unrolled (ARMv8 64K).
	plant lib/table.c "$clear_past_end" \
		proof_safety "64K: an off-by-one index clears one entry past the table" pgt_arch_armv8_64k_42 65536 5 any all
	# A walk reading the level-0 entry after the one it means: from the last
	# entry of a table into the next frame, inside the absolute range that
	# proof_offset declares valid, so no alarm; without the walks' assertions
	# (lib/walks_tpl.h) the analysis passes.
	plant lib/walks_tpl.h "$walk_next_entry" \
		proof_offset "a walk reads the level-0 entry after the one it means"
	# The same on ARMv8 64K (mode wide): walk_entry_in_table left unknown.
	plant lib/walks_tpl.h "$walk_next_entry" \
		proof_offset "64K: a walk reads the level-0 entry after the one it means" pgt_arch_armv8_64k_42 65536 5 wide default

	# ARMv8 64K (mode wide). A frame that p2v cannot reach kept, not given
	# back: every operation's failed allocation on p2v's failure leaks it.
	plant lib/table.c 's|sp->pgt__mm.free_table(sp->pgt__mm.ctx, got, size, level);|(void)0;|' \
		proof_range "64K: a failed map leaks the table p2v could not reach" pgt_arch_armv8_64k_42 65536 5 wide default
	# The empty entry a new branch will link written before its allocation:
	# a failed map leaves a leaf there.
	plant lib/range.c 's|int rc = pgt__branch_alloc(sp, l, at.level, &b);|pgt__pte_store(at.pte, leaf);\n\tint rc = pgt__branch_alloc(sp, l, at.level, \&b);|' \
		proof_range "64K: a map writes the entry before its table is allocated" pgt_arch_armv8_64k_42 65536 5 wide all
	# Destroy freeing each table below the root twice (by its own call, then by
	# its parent's loop), and destroy leaking every level-0 table.
	plant lib/space.c 's|free_subtree(sp, level - 1, pgt__table_pa(L, pte), pgt__next_table(sp, L, pte));|free_subtree(sp, level - 1, pgt__table_pa(L, pte), pgt__next_table(sp, L, pte)), pgt__table_free(sp, level - 1, pgt__table_pa(L, pte));|' \
		proof_destroy "64K: destroy frees a table twice" pgt_arch_armv8_64k_42 65536 5 wide all
	plant lib/space.c 's|^\tpgt__table_free(sp, level, pa);|\tif (level > 0)\n\t\tpgt__table_free(sp, level, pa);|' \
		proof_destroy "64K: destroy leaks the level-0 tables" pgt_arch_armv8_64k_42 65536 5 wide all
}

# Two lanes at once (Frama-C uses one processor): each prints when it ends.
formats_lane >"$tmp/lane_formats.txt" 2>&1 &
formats_pid=$!
plants_lane >"$tmp/lane_plants.txt" 2>&1
wait "$formats_pid"
cat "$tmp/lane_formats.txt" "$tmp/lane_plants.txt"
failed=$(cat "$tmp/lane_formats.txt" "$tmp/lane_plants.txt" | grep -c ': FAILED')
planted=$(grep -c '^planted bug .*: caught by ' "$tmp/lane_plants.txt")
echo "check-proof: $failed failed; $planted planted bugs caught"
[ "$failed" = 0 ]
