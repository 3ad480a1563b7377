/* SPDX-License-Identifier: MIT */
/*
 * pgt_share: the kernel half that every address space sees (seed 000,
 * section 2.1). The borrower's root entries link the owner's tables.
 *
 * Sharing is done at the root level only: the marks that keep shared
 * tables alive (table_pinned in the owner, table_borrowed in the borrower)
 * then sit in root tables, which no operation ever frees, so no range
 * operation can orphan a shared table.
 */
#include "table.h"
#include "tlb.h"

/** Two spaces that can share tables: same format, same memory hooks. */
static bool spaces_compatible(const pgt_space_t *dst, const pgt_space_t *src)
{
	const struct pgt_mm *a = &dst->pgt__mm, *b = &src->pgt__mm;

	if (dst == src || dst->pgt__arch != src->pgt__arch || dst->pgt__flags != src->pgt__flags)
		return false;
	/* Either space may free tables the other made: one allocator for both. */
	return a->alloc_table == b->alloc_table && a->free_table == b->free_table && a->ctx == b->ctx &&
	       a->p2v == b->p2v && a->p2v_offset == b->p2v_offset;
}

/** Root entries covering [va, va+size): all of them, whole, inside the space (else why not). */
static int share_range(const pgt_space_t *sp, pgt_vaddr_t va, uint64_t size, unsigned *first, unsigned *n)
{
	const struct pgt_level *R = pgt__level(sp, pgt__root_level(sp));
	int rc = pgt__range_check(sp, va, size, 1ull << R->shift);

	if (rc != PGT_OK)
		return rc;
	*first = pgt__index(R, va);
	*n = pgt__index(R, va + size - 1) - *first + 1;
	return PGT_OK;
}

/**
 * Checks one root slot of both spaces. Sets *missing when the owner has no
 * table there yet, *done when dst already borrows that very table.
 */
static int check_slot(const pgt_space_t *dst, const pgt_space_t *src, unsigned i, bool *missing, bool *done)
{
	unsigned root = pgt__root_level(src);
	const struct pgt_level *R = pgt__level(src, root);
	pgt_pte_t s = pgt__pte_load(&src->pgt__root[i]), d = pgt__pte_load(&dst->pgt__root[i]);
	enum pgt__kind sk = pgt__classify(R, root, s), dk = pgt__classify(R, root, d);

	*missing = sk == PGT__EMPTY;
	*done = false;
	if (sk != PGT__EMPTY && sk != PGT__TABLE)
		return PGT_ECONFLICT; /* a leaf cannot be linked from another space */
	if (dk == PGT__EMPTY)
		return PGT_OK;
	*done = dk == PGT__TABLE && sk == PGT__TABLE && (d & R->table_borrowed) &&
		pgt__table_pa(R, d) == pgt__table_pa(R, s);
	return *done ? PGT_OK : PGT_ECONFLICT;
}

/**
 * Marks the live table entry at @p p (read as @p seen) of @p R pinned, in
 * one atomic step, so that an accessed bit the MMU sets meanwhile stays.
 * Its table is shared from now on: written by both spaces, so neither
 * keeps a count of it (pgt__counted), and the count bits go. Returns the
 * entry as it is now.
 */
static pgt_pte_t pin_entry(const struct pgt_level *R, pgt_pte_t *p, pgt_pte_t seen)
{
	pgt_pte_t next;

	do
		next = (seen & ~R->table_count) | R->table_pinned;
	while (!__atomic_compare_exchange_n(p, &seen, next, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	return next;
}

/** Links root slot @p i of dst to the owner's table there (made now if missing). */
static void share_slot(pgt_space_t *dst, const pgt_space_t *src, unsigned i, struct pgt__table_list *pool)
{
	unsigned root = pgt__root_level(src);
	const struct pgt_level *R = pgt__level(src, root);
	pgt_pte_t s = pgt__pte_load(&src->pgt__root[i]);

	if (pgt__classify(R, root, s) == PGT__EMPTY) {
		pgt_paddr_t pa;
		(void)pgt__list_take_cleared(src, pool, root - 1, &pa);
		s = pgt__table_entry(R, pa);
		pgt__pte_store(&src->pgt__root[i], s | R->table_pinned);
	} else {
		s = pin_entry(R, &src->pgt__root[i], s);
	}
	pgt__pte_store(&dst->pgt__root[i], (s & ~R->table_pinned) | R->table_borrowed);
}

int pgt_share(pgt_space_t *dst, const pgt_space_t *src, pgt_vaddr_t va, uint64_t size)
{
	unsigned first, n, missing = 0;
	bool miss, done;

	if (!pgt__space_writable(dst) || !pgt__space_writable(src) || !spaces_compatible(dst, src))
		return PGT_EINVAL;
	unsigned root = pgt__root_level(src);
	const struct pgt_level *R = pgt__level(src, root);
	if (root == 0 || !R->table_borrowed || !R->table_pinned)
		return PGT_ENOTSUP;
	int rc = share_range(src, va, size, &first, &n);
	if (rc != PGT_OK)
		return rc;
	for (unsigned i = first; i < first + n; i++) {
		rc = check_slot(dst, src, i, &miss, &done);
		if (rc != PGT_OK)
			return rc;
		missing += miss;
	}

	struct pgt__table_list pool[PGT_MAX_LEVELS] = { 0 };
	size_t need[PGT_MAX_LEVELS] = { 0 };
	need[root - 1] = missing;
	rc = pgt__pool_fill(src, pool, need);
	if (rc != PGT_OK)
		return rc;
	for (unsigned i = first; i < first + n; i++) {
		check_slot(dst, src, i, &miss, &done);
		if (!done)
			share_slot(dst, src, i, &pool[root - 1]);
	}
	return PGT_OK;
}
