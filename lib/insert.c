/* SPDX-License-Identifier: MIT */
/*
 * Insert (the L4 ADT's insert, seed 001 section 4.1, following its prose):
 * reserve a leaf for a page when nothing in that page is mapped.
 *
 * Two phases, as in Hafnium: find where the tree ends and allocate every
 * table the insert needs (may fail, changes nothing), then build the new
 * branch off-tree and link it with one release store (cannot fail).
 */
#include "table.h"
#include "walks.h"

static void set_ref(pgt_ref_t *out, const pgt_space_t *sp, pgt_pte_t *p, unsigned level)
{
	if (out)
		*out = (pgt_ref_t){ .pte = p, .level = level, .page_shift = pgt__level(sp, level)->shift };
}

/** The reserved leaf for @p level: cached at init, else what the codec says. */
static int reserved_leaf(const pgt_space_t *sp, unsigned level, pgt_pte_t *leaf)
{
	if (sp->pgt__rsv_ok & (1u << level)) {
		*leaf = sp->pgt__rsv[level];
		return PGT_OK;
	}
	return sp->pgt__arch->prot_encode(level, 0, leaf);
}

/** The ADT's answer when something is already mapped at @p at. */
static int conflict_result(const pgt_space_t *sp, const struct pgt__stop *at, pgt_ref_t *out)
{
	const struct pgt_level *L = pgt__level(sp, at->level);

	/* A leaf on the path contains va and is at least as large as the request. */
	if (pgt__is_mapped_leaf(L, pgt__pte_load(at->pte))) {
		set_ref(out, sp, at->pte, at->level);
		return PGT_EXISTS;
	}
	return PGT_ECONFLICT; /* a table of smaller mappings, or a malformed entry */
}

int pgt__branch_make(pgt_space_t *sp, pgt_vaddr_t va, unsigned target, pgt_pte_t leaf, const struct pgt__stop *at,
		     pgt_pte_t **made)
{
	struct pgt__branch b;
	int rc = pgt__branch_alloc(sp, target, at->level, &b);

	if (rc != PGT_OK)
		return rc;
	pgt__branch_commit(sp, va, target, at->level, &b, leaf, 1, at->pte);
	pgt__stop_count_note(sp, at, 1);
	*made = b.tab[target] + pgt__index(pgt__level(sp, target), va);
	return PGT_OK;
}

/**
 * Everything but the common case: something is mapped where the walk
 * stopped (the ADT's conflict answers), or tables are missing below it.
 * Kept out of line so that the common case needs no stack for the branch.
 */
static __attribute__((noinline)) int insert_slow(pgt_space_t *sp, pgt_vaddr_t va, unsigned target,
						 pgt_pte_t leaf, struct pgt__stop at, pgt_ref_t *out)
{
	if (pgt__classify(pgt__level(sp, at.level), at.level, pgt__pte_load(at.pte)) != PGT__EMPTY)
		return conflict_result(sp, &at, out);

	pgt_pte_t *made;
	int rc = pgt__branch_make(sp, va, target, leaf, &at, &made);
	if (rc == PGT_OK)
		set_ref(out, sp, made, target);
	return rc;
}

int pgt__insert_general(pgt_space_t *sp, pgt_vaddr_t va, unsigned target, pgt_ref_t *out)
{
	pgt_pte_t leaf;
	int rc = reserved_leaf(sp, target, &leaf);
	if (rc != PGT_OK)
		return rc;
	struct pgt__stop at;
	rc = pgt__ops(sp)->walk_to(sp, va, target, &at); /* checks va */
	if (rc != PGT_OK)
		return rc;
	/* The tables exist and the slot is empty. */
	if (at.level != target ||
	    pgt__classify(pgt__level(sp, at.level), at.level, pgt__pte_load(at.pte)) != PGT__EMPTY)
		return insert_slow(sp, va, target, leaf, at, out);
	pgt__pte_store(at.pte, leaf);
	pgt__stop_count_note(sp, &at, 1);
	set_ref(out, sp, at.pte, target);
	return PGT_OK;
}

int pgt__insert_page(pgt_space_t *sp, pgt_vaddr_t va, unsigned page_shift, pgt_ref_t *out)
{
	int target = pgt__page_level(sp, page_shift);

	if (target < 0)
		return PGT_ESIZE; /* no page of that size in the format */
	if (va & ((1ull << page_shift) - 1))
		return PGT_EALIGN;
	return pgt__insert_general(sp, va, (unsigned)target, out);
}

int pgt_insert(pgt_space_t *sp, pgt_vaddr_t va, unsigned page_shift, pgt_ref_t *out)
{
	if (!pgt__space_writable(sp))
		return PGT_EINVAL;
	return pgt__ops(sp)->insert(sp, va, page_shift, out); /* the space's walk */
}
