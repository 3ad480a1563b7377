/* SPDX-License-Identifier: MIT */
/*
 * Table memory (see table.h): frames from the caller's allocator, checked
 * before use; lists and pools of tables out of the tree; the branch that
 * insert and map build off-tree.
 */
#include "table.h"
#include "tlb.h"

/**
 * Whether the root frame at @p pa is one the format can reach. No entry
 * links the root (a register does: PAE's CR3 holds bits 31:5 of a 32-byte
 * PDPT), so its alignment is its own size, which pgt__table_alloc checks
 * for every level; but the register is no wider than the root level's
 * address field (CR3, TTBRn, satp), so no bit above that field's top.
 */
static bool root_pa_fits(const struct pgt_level *R, pgt_paddr_t pa)
{
	pgt_pte_t field = R->table_oa ? R->table_oa : R->leaf_oa; /* a 1-level format links no table */

	return ((pa >> R->oa_shift) & ~(field | (field - 1))) == 0;
}

/** Whether what links a table at @p level (an entry; a register for the root) can hold its address @p pa. */
static bool table_pa_fits(const pgt_space_t *sp, unsigned level, pgt_paddr_t pa)
{
	if (level == pgt__root_level(sp))
		return root_pa_fits(pgt__level(sp, level), pa);
	return pgt__table_pa_fits(pgt__level(sp, level + 1), pa);
}

int pgt__table_alloc(const pgt_space_t *sp, unsigned level, pgt_paddr_t *pa, pgt_pte_t **table)
{
	size_t size = pgt__table_bytes(sp, level);
	pgt_paddr_t got = sp->pgt__mm.alloc_table(sp->pgt__mm.ctx, size, level);

	if (got == PGT_PADDR_NONE)
		return PGT_ENOMEM;
	/* A frame the entries cannot point at, or that p2v cannot reach, is a hook bug. */
	if ((got & (size - 1)) || !table_pa_fits(sp, level, got) || (*table = pgt__p2v(sp, got)) == NULL) {
		sp->pgt__mm.free_table(sp->pgt__mm.ctx, got, size, level);
		return PGT_EHOOK;
	}
	*pa = got;
	return PGT_OK;
}

void pgt__table_free(const pgt_space_t *sp, unsigned level, pgt_paddr_t pa)
{
	sp->pgt__mm.free_table(sp->pgt__mm.ctx, pa, pgt__table_bytes(sp, level), level);
}

/* --- the cache of empty tables (pgt_space_cache) ------------------------- */

/**
 * The space's cache at @p level. Calls that take the space as const (the
 * owner in pgt_share) still take and give back tables there: the cache is
 * memory the space holds, not part of the translations it answers.
 */
static struct pgt__table_list *cache_of(const pgt_space_t *sp, unsigned level)
{
	// NOLINTNEXTLINE(performance-no-int-to-ptr)
	return (struct pgt__table_list *)(uintptr_t)&sp->pgt__cache[level];
}

/**
 * Keeps @p tab, a table of @p level that holds nothing, for reuse when the
 * space's cache has room there: whether it did.
 */
static bool cache_put(const pgt_space_t *sp, unsigned level, pgt_pte_t *tab, pgt_paddr_t pa, size_t slot)
{
	struct pgt__table_list *c = cache_of(sp, level);

	if (level >= pgt__root_level(sp) || c->n >= sp->pgt__cache_max)
		return false;
	pgt__cache_push(c, tab, pa, slot);
	return true;
}

/** Whether the space's cache holds a table of @p level. */
static bool cache_has(const pgt_space_t *sp, unsigned level)
{
	return level < pgt__root_level(sp) && sp->pgt__cache[level].n > 0;
}

/** Moves the top table of the cache at @p level onto @p list, still known to be zero. */
static void cache_move(const pgt_space_t *sp, unsigned level, struct pgt__table_list *list)
{
	pgt_paddr_t pa;
	pgt_pte_t *tab =
		pgt__cache_pop(cache_of(sp, level), pgt__cache_offset_mask(pgt__level(sp, level)), &pa);

	pgt__list_push_as(list, pgt__list_at(sp, level), tab, pa, true);
}

size_t pgt__cache_drain(pgt_space_t *sp, size_t keep)
{
	size_t freed = 0;

	for (unsigned l = 0; l < pgt__root_level(sp); l++) {
		while (sp->pgt__cache[l].n > keep) {
			pgt_paddr_t pa;
			(void)pgt__cache_pop(&sp->pgt__cache[l], pgt__cache_offset_mask(pgt__level(sp, l)),
					     &pa);
			pgt__table_free(sp, l, pa);
			freed++;
		}
	}
	return freed;
}

/**
 * Gives back one table off the tree: to the cache when it is zero and there
 * is room (its list words at @p slot), else to free_table.
 */
static void give_back(const pgt_space_t *sp, unsigned level, pgt_pte_t *tab, pgt_paddr_t pa, bool zero,
		      size_t slot)
{
	if (!(zero && cache_put(sp, level, tab, pa, slot)))
		pgt__table_free(sp, level, pa);
}

void pgt__table_retire(const pgt_space_t *sp, unsigned level, pgt_pte_t *tab, pgt_paddr_t pa,
		       const pgt_pte_t *last)
{
	if (sp->pgt__mm.defer_free)
		sp->pgt__mm.defer_free(sp->pgt__mm.ctx, pa, pgt__table_bytes(sp, level), level);
	else
		give_back(sp, level, tab, pa, true, pgt__cache_slot((size_t)(last - tab)));
}

/** pgt__table_unlinked with a tlb_flush hook to call or TLBs to tell: its calls kept off the common path. */
static __attribute__((noinline)) int table_unlinked_told(pgt_space_t *sp, pgt_vaddr_t va, unsigned level,
							 pgt_pte_t *tab, pgt_paddr_t pa, const pgt_pte_t *last)
{
	/* the TLBs told before the table goes: none remembers it while it is free */
	pgt__changed_notify(sp, va, 1ull << pgt__level(sp, level)->shift, true);
	pgt__table_retire(sp, level, tab, pa, last);
	return PGT_OK;
}

int pgt__table_unlinked(pgt_space_t *sp, pgt_vaddr_t va, unsigned level, pgt_pte_t *tab, pgt_paddr_t pa,
			const pgt_pte_t *last)
{
	if (sp->pgt__mm.tlb_flush || sp->pgt__tlb_live)
		return table_unlinked_told(sp, va, level, tab, pa, last);
	pgt__space_gen_bump(sp);
	pgt__table_retire(sp, level, tab, pa, last);
	return PGT_OK;
}

void pgt__list_free_all(const pgt_space_t *sp, struct pgt__table_list lists[])
{
	for (unsigned l = 0; l < sp->pgt__arch->levels; l++) {
		while (lists[l].n) {
			pgt_paddr_t pa;
			bool zero;
			pgt_pte_t *tab = pgt__list_pop_as(&lists[l], pgt__list_at(sp, l), &pa, &zero);
			if (zero) /* zero again, as the cache keeps its tables */
				pgt__list_clear_words(tab);
			give_back(sp, l, tab, pa, zero, pgt__cache_slot(0)); /* the list words' line */
		}
	}
}

void pgt__list_retire_all(const pgt_space_t *sp, struct pgt__table_list lists[])
{
	if (!sp->pgt__mm.defer_free) {
		pgt__list_free_all(sp, lists);
		return;
	}
	for (unsigned l = 0; l < sp->pgt__arch->levels; l++) {
		while (lists[l].n) {
			pgt_paddr_t pa;
			pgt__list_pop(&lists[l], pgt__list_at(sp, l), &pa);
			sp->pgt__mm.defer_free(sp->pgt__mm.ctx, pa, pgt__table_bytes(sp, l), l);
		}
	}
}

/** Clears entries and link words: the allocator's memory holds anything. */
void pgt__table_clear(const pgt_space_t *sp, unsigned level, pgt_pte_t *table)
{
	size_t words = pgt__table_bytes(sp, level) / sizeof(pgt_pte_t);

	for (size_t i = 0; i < words; i++)
		table[i] = 0;
}

pgt_pte_t *pgt__list_take_cleared(const pgt_space_t *sp, struct pgt__table_list *l, unsigned level,
				  pgt_paddr_t *pa)
{
	bool zero;
	pgt_pte_t *tab = pgt__list_pop_as(l, pgt__list_at(sp, level), pa, &zero);

	if (!zero)
		pgt__table_clear(sp, level, tab);
	else /* the list words are all it holds */
		pgt__list_clear_words(tab);
	return tab;
}

int pgt__pool_fill(const pgt_space_t *sp, struct pgt__table_list pool[], const size_t need[])
{
	for (unsigned l = 0; l < sp->pgt__arch->levels; l++) {
		while (pool[l].n < need[l] && cache_has(sp, l))
			cache_move(sp, l, &pool[l]);
		while (pool[l].n < need[l]) {
			pgt_paddr_t pa;
			pgt_pte_t *tab;
			int rc = pgt__table_alloc(sp, l, &pa, &tab);
			if (rc != PGT_OK) {
				pgt__list_free_all(sp, pool); /* the one way back: nothing was linked */
				return rc;
			}
			pgt__list_push(&pool[l], pgt__list_at(sp, l), tab, pa);
		}
	}
	return PGT_OK;
}

/**
 * One table of a new branch at @p level, cleared: a kept one (*kept set)
 * when the cache has one, else the allocator's.
 */
static int branch_table(const pgt_space_t *sp, unsigned level, struct pgt__branch *b, bool *kept)
{
	*kept = cache_has(sp, level);
	if (*kept) {
		b->tab[level] = pgt__cache_pop(cache_of(sp, level),
					       pgt__cache_offset_mask(pgt__level(sp, level)), &b->pa[level]);
		return PGT_OK;
	}
	int rc = pgt__table_alloc(sp, level, &b->pa[level], &b->tab[level]);
	if (rc == PGT_OK)
		pgt__table_clear(sp, level, b->tab[level]);
	return rc;
}

int pgt__branch_alloc(const pgt_space_t *sp, unsigned target, unsigned top, struct pgt__branch *b)
{
	bool kept[PGT_MAX_LEVELS];

	for (unsigned l = target; l < top; l++) {
		int rc = branch_table(sp, l, b, &kept[l]);
		if (rc != PGT_OK) { /* each table goes back where it came from */
			while (l-- > target)
				if (!kept[l] || !cache_put(sp, l, b->tab[l], b->pa[l], pgt__cache_slot(0)))
					pgt__table_free(sp, l, b->pa[l]);
			return rc;
		}
	}
	return PGT_OK;
}

void pgt__branch_commit(const pgt_space_t *sp, pgt_vaddr_t va, unsigned target, unsigned top,
			const struct pgt__branch *b, pgt_pte_t leaf, size_t n, pgt_pte_t *slot)
{
	const struct pgt_level *T = pgt__level(sp, target);

	/* The walk stopped above the target (else no branch is needed): b holds [target, top). */
	PGT_ASSERT(target < top);
	pgt__store_leaves(b->tab[target] + pgt__index(T, va), n, leaf, pgt__leaf_step(T));
	/* Each link counts what its table holds: the n leaves, or the one link below. */
	for (unsigned l = target + 1; l <= top; l++) {
		const struct pgt_level *L = pgt__level(sp, l);
		pgt_pte_t link =
			pgt__table_entry(L, b->pa[l - 1]) | pgt__count_bits(L, l == target + 1 ? n : 1);
		if (l < top)
			b->tab[l][pgt__index(L, va)] = link;
		else /* the branch is complete before this store makes it reachable */
			pgt__pte_store(slot, link);
	}
}
