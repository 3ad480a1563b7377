/* SPDX-License-Identifier: MIT */
/*
 * Table memory (see table.h): frames from the caller's allocator, checked
 * before use; lists and pools of tables out of the tree; the branch that
 * insert and map build off-tree.
 */
#include "table.h"

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

void pgt__table_retire(const pgt_space_t *sp, unsigned level, pgt_paddr_t pa)
{
	if (sp->pgt__mm.defer_free)
		sp->pgt__mm.defer_free(sp->pgt__mm.ctx, pa, pgt__table_bytes(sp, level), level);
	else
		pgt__table_free(sp, level, pa);
}

void pgt__list_free_all(const pgt_space_t *sp, struct pgt__table_list lists[])
{
	for (unsigned l = 0; l < sp->pgt__arch->levels; l++) {
		while (lists[l].n) {
			pgt_paddr_t pa;
			pgt__list_pop(&lists[l], pgt__level(sp, l), &pa);
			pgt__table_free(sp, l, pa);
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
			pgt__list_pop(&lists[l], pgt__level(sp, l), &pa);
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

int pgt__pool_fill(const pgt_space_t *sp, struct pgt__table_list pool[], const size_t need[])
{
	for (unsigned l = 0; l < sp->pgt__arch->levels; l++) {
		while (pool[l].n < need[l]) {
			pgt_paddr_t pa;
			pgt_pte_t *tab;
			int rc = pgt__table_alloc(sp, l, &pa, &tab);
			if (rc != PGT_OK) {
				pgt__list_free_all(sp, pool); /* the one way back: nothing was linked */
				return rc;
			}
			pgt__list_push(&pool[l], pgt__level(sp, l), tab, pa);
		}
	}
	return PGT_OK;
}

int pgt__branch_alloc(const pgt_space_t *sp, unsigned target, unsigned top, struct pgt__branch *b)
{
	struct pgt__table_list pool[PGT_MAX_LEVELS] = { 0 };
	size_t need[PGT_MAX_LEVELS] = { 0 };

	for (unsigned l = target; l < top; l++)
		need[l] = 1;
	int rc = pgt__pool_fill(sp, pool, need);
	if (rc != PGT_OK)
		return rc;
	for (unsigned l = target; l < top; l++)
		b->tab[l] = pgt__list_pop(&pool[l], pgt__level(sp, l), &b->pa[l]);
	return PGT_OK;
}

void pgt__branch_commit(const pgt_space_t *sp, pgt_vaddr_t va, unsigned target, unsigned top,
			const struct pgt__branch *b, pgt_pte_t leaf, size_t n, pgt_pte_t *slot)
{
	const struct pgt_level *T = pgt__level(sp, target);

	/* The walk stopped above the target (else no branch is needed): b holds [target, top). */
	PGT_ASSERT(target < top);
	for (unsigned l = target; l < top; l++)
		pgt__table_clear(sp, l, b->tab[l]);
	pgt__store_leaves(b->tab[target] + pgt__index(T, va), n, leaf, pgt__leaf_step(T));
	/* Each link counts what its table holds: the n leaves, or the one link below. */
	for (unsigned l = target + 1; l <= top; l++) {
		const struct pgt_level *L = pgt__level(sp, l);
		pgt_pte_t link = pgt__table_entry(L, b->pa[l - 1]) | pgt__count_bits(L, l == target + 1 ? n : 1);
		if (l < top)
			b->tab[l][pgt__index(L, va)] = link;
		else /* the branch is complete before this store makes it reachable */
			pgt__pte_store(slot, link);
	}
}
