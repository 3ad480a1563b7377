/* SPDX-License-Identifier: MIT */
/*
 * The engine's generic walk, for descriptors without compiled walks, and
 * the choice of a space's walks (see walks.h).
 */
#include "field.h"
#include "rights.h"
#include "tlb.h"
#include "walks.h"

/* --- the generic walk: shifts and masks from the descriptor ---------------------- */

static int generic_lookup(const pgt_space_t *sp, pgt_vaddr_t va, pgt_ref_t *out)
{
	if (!pgt__va_ok(sp, va))
		return PGT_ERANGE;
	pgt_pte_t *table = sp->pgt__root;
	/* One step per level: terminates after at most `levels` iterations. */
	for (unsigned l = pgt__root_level(sp);; l--) {
		const struct pgt_level *L = pgt__level(sp, l);
		pgt_pte_t *p = table + pgt__index(L, va);
		pgt_pte_t pte = pgt__pte_load(p);

		if (!pgt__is_table(L, l, pte)) {
			if (!pgt__is_mapped_leaf(L, pte))
				return PGT_ENOENT;
			if (out)
				*out = (pgt_ref_t){ .pte = p, .level = l, .page_shift = L->shift };
			return PGT_OK;
		}
		table = pgt__next_table(sp, L, pte);
		if (!table)
			return PGT_EHOOK;
	}
}

static int generic_walk_to(const pgt_space_t *sp, pgt_vaddr_t va, unsigned target, struct pgt__stop *at)
{
	if (!pgt__va_ok(sp, va))
		return PGT_ERANGE;
	pgt_pte_t *table = sp->pgt__root, *up = NULL;

	/* One step per level, from the root down: at most `levels` iterations. */
	for (unsigned l = pgt__root_level(sp);; l--) {
		const struct pgt_level *L = pgt__level(sp, l);
		pgt_pte_t *p = table + pgt__index(L, va);
		pgt_pte_t pte = pgt__pte_load(p);

		if (l == target || !pgt__is_table(L, l, pte)) {
			*at = (struct pgt__stop){ .pte = p, .up = up, .level = l };
			return PGT_OK;
		}
		up = p;
		table = pgt__next_table(sp, L, pte);
		if (!table)
			return PGT_EHOOK;
	}
}

/* A descriptor without compiled walks: translate takes the full walk, for addresses in range. */
static int generic_translate(const pgt_space_t *sp, pgt_vaddr_t va, unsigned access, pgt_paddr_t *pa,
			     struct pgt_fault *fault)
{
	return pgt__va_ok(sp, va) ? pgt__translate_full(sp, va, access, pa, fault) : PGT_ERANGE;
}

/** The hardware-valid leaf that maps @p va, by the generic walk (see pgt__leaf). */
static struct pgt__leaf generic_valid_leaf(const pgt_space_t *sp, pgt_vaddr_t va)
{
	pgt_ref_t ref;
	int rc = generic_lookup(sp, va, &ref);

	if (rc != PGT_OK)
		return (struct pgt__leaf){ .level = rc };
	return pgt__tlb_leaf_at(pgt__level(sp, ref.level), ref.level, ref.level < pgt__root_level(sp), ref.pte,
				pgt__pte_load(ref.pte), va);
}

static int generic_tlb_refill(pgt_tlb_t *tlb, pgt_vaddr_t va, pgt_paddr_t *pa, unsigned *prot)
{
	const pgt_space_t *sp = tlb->pgt__sp;
	const unsigned s = tlb->pgt__page_shift;
	struct pgt_tlb_entry *e0 = pgt__tlb_set(tlb, va, s);
	const struct pgt_tlb_entry *e = pgt__tlb_probe(tlb, sp->pgt__arch, e0, va, s);

	if (e)
		return pgt__tlb_answer(e, va, pa, prot);
	return pgt__tlb_put(tlb, e0, generic_valid_leaf(sp, va), va, pa, prot, s);
}

static int generic_set_field(pgt_space_t *sp, pgt_ref_t ref, enum pgt_field f, uint64_t val)
{
	if (ref.level >= sp->pgt__arch->levels)
		return PGT_EINVAL;
	return pgt__set_field_at(sp, sp->pgt__arch, ref, f, val, ref.level);
}

static const struct pgt__walk_ops generic_ops = {
	generic_lookup,   generic_walk_to,    PGT__TRANSLATE_ALL(generic_translate),
	pgt__insert_page, generic_tlb_refill, generic_set_field,
	pgt__map_general, pgt__unmap_general, pgt__protect_general
};

/* --- the choice ---------------------------------------------------------------------- */

/**
 * The walks compiled for the descriptor itself, or NULL: a copy of a
 * shipped descriptor (perhaps with other masks) points to walks compiled
 * for the original, which it must not use.
 */
static const struct pgt__walk_ops *compiled_ops(const struct pgt_arch *a, bool hook)
{
	const struct pgt_arch_walks *w = a->walks;

	return w && w->arch == a ? w->ops[hook ? 1 : 0] : NULL;
}

/** The lowest accepted (int64_t)va >> (va_bits - 1) of the space's range (see pgt__va_ok). */
static int64_t va_lo(const pgt_space_t *sp)
{
	if (sp->pgt__arch->canon == PGT_CANON_SIGN_EXTEND)
		return -1;
	return (sp->pgt__flags & PGT_SPACE_UPPER) ? -2 : 0;
}

/** The reserved leaf of every leaf level, so that insert needs no codec call. */
static void cache_reserved(pgt_space_t *sp)
{
	const struct pgt_arch *a = sp->pgt__arch;

	sp->pgt__rsv_ok = 0;
	for (unsigned l = 0; l < a->levels; l++) {
		sp->pgt__rsv[l] = 0;
		if (a->level[l].leaf_ok && a->prot_encode(l, 0, &sp->pgt__rsv[l]) == PGT_OK)
			sp->pgt__rsv_ok |= 1u << l;
	}
}

void pgt__walks_init(pgt_space_t *sp)
{
	const struct pgt__walk_ops *ops = compiled_ops(sp->pgt__arch, sp->pgt__mm.p2v != NULL);

	sp->pgt__ops = ops ? ops : &generic_ops;
#ifndef PGT_VERIFY /* the analysis build reads the lookup from pgt__ops (lib/walks.h) */
	sp->pgt__lookup = (void (*)(void))pgt__ops(sp)->lookup;
#endif
	sp->pgt__va_lo = va_lo(sp);
	sp->pgt__gen = 0;
	sp->pgt__tlbs = NULL;
	sp->pgt__tlb_live = 0;
	sp->pgt__enc_prot = PGT__ENC_NONE;
	cache_reserved(sp);
}
