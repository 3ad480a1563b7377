/* SPDX-License-Identifier: MIT */
/*
 * An executable abstract model of what a space maps, for the range
 * operations: a sorted set of disjoint extents (virtual range, physical
 * start, rights). It knows nothing of page sizes or tables, which is the
 * point: the library must agree with it whatever leaves it chose.
 */
#ifndef PGT_TESTS_EXTENTS_H
#define PGT_TESTS_EXTENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pgtable/arch.h>
#include <pgtable/pgtable.h>

#include "harness.h"

/** Memory mapped with one set of rights; `last` is the last byte. */
struct ext {
	pgt_vaddr_t va, last;
	pgt_paddr_t pa;
	unsigned prot;
};

/** The model of one space. */
struct extents {
	struct ext *v; /**< sorted by va, disjoint */
	size_t n, cap;
};

void ext_init(struct extents *m);
void ext_fini(struct extents *m);
/** Does anything in [va, last] overlap a mapping? */
bool ext_overlaps(const struct extents *m, pgt_vaddr_t va, pgt_vaddr_t last);
/** The extent containing @p va, or NULL. */
const struct ext *ext_find(const struct extents *m, pgt_vaddr_t va);
/** pgt_map (after any conflict check): [va, last] -> pa with prot, replacing what was there. */
void ext_map(struct extents *m, pgt_vaddr_t va, pgt_vaddr_t last, pgt_paddr_t pa, unsigned prot);
/** pgt_unmap. */
void ext_unmap(struct extents *m, pgt_vaddr_t va, pgt_vaddr_t last);
/** pgt_protect: the mapped parts of [va, last] get prot. */
void ext_protect(struct extents *m, pgt_vaddr_t va, pgt_vaddr_t last, unsigned prot);

/**
 * Compares a tree with the model: every leaf lies in one extent with the
 * extent's output address and rights (as the descriptor's codec keeps them)
 * and the leaves cover exactly the model's bytes. On a mismatch writes a
 * description to @p why and returns false.
 */
bool ext_matches_tree(const struct extents *m, const pgt_space_t *sp, const struct pgt_arch *a,
		      const struct test_mm *t, unsigned flags, char *why, size_t whylen);

#endif /* PGT_TESTS_EXTENTS_H */
