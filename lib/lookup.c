/*
 * Lookup (the L4 ADT's lookup): a walk by the descriptor's masks alone.
 */
#include "internal.h"

int pgt_lookup(const pgt_space_t *sp, pgt_vaddr_t va, pgt_ref_t *out)
{
	if (!pgt__space_ok(sp) || !pgt__va_ok(sp, va))
		return PGT_EINVAL;

	pgt_pte_t *table = sp->pgt__root;
	/* One step per level: terminates after at most `levels` iterations. */
	for (unsigned l = pgt__root_level(sp);; l--) {
		const struct pgt_level *L = pgt__level(sp, l);
		pgt_pte_t *p = table + pgt__index(L, va);
		pgt_pte_t pte = pgt__pte_load(p);

		if (pgt__is_table(L, l, pte)) {
			table = pgt__next_table(sp, L, pte);
			if (!table)
				return PGT_EINVAL;
			continue;
		}
		if (!pgt__is_mapped_leaf(L, pte))
			return PGT_ENOENT;
		if (out)
			*out = (pgt_ref_t){ .pte = p, .level = l, .page_shift = L->shift };
		return PGT_OK;
	}
}
