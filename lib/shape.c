/* SPDX-License-Identifier: MIT */
/*
 * The walks of each tree shape, and the choice of one per space (see shape.h).
 *
 * The templates below are always inlined into small instantiation functions
 * whose shape arguments are constants; the compiler then folds every shift
 * and index mask and unrolls the level loop (bounded by the level count).
 */
#include "shape_tpl.h"

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
	pgt_pte_t *table = sp->pgt__root;

	/* One step per level, from the root down: at most `levels` iterations. */
	for (unsigned l = pgt__root_level(sp);; l--) {
		const struct pgt_level *L = pgt__level(sp, l);
		pgt_pte_t *p = table + pgt__index(L, va);
		pgt_pte_t pte = pgt__pte_load(p);

		if (l == target || !pgt__is_table(L, l, pte)) {
			*at = (struct pgt__stop){ .pte = p, .level = l };
			return PGT_OK;
		}
		table = pgt__next_table(sp, L, pte);
		if (!table)
			return PGT_EHOOK;
	}
}

/* A descriptor of no known shape: translate takes the full walk, for addresses in range. */
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
	const struct pgt_level *L = pgt__level(sp, ref.level);
	pgt_pte_t pte = pgt__pte_load(ref.pte);
	return (struct pgt__leaf){ .pte = pte,
				   .level = pgt__is_valid_leaf(L, pte) ? (int)ref.level : PGT_ENOENT,
				   .pa = pgt__leaf_pa(L, pte, va),
				   .key = pte & L->prot_mask };
}

static int generic_tlb_refill(pgt_tlb_t *tlb, struct pgt_tlb_entry *e0, pgt_vaddr_t va, pgt_paddr_t *pa,
			      unsigned *prot)
{
	const pgt_space_t *sp = tlb->pgt__sp;

	return pgt__tlb_put(tlb, e0, sp->pgt__arch, generic_valid_leaf(sp, va), va, pa, prot,
			    tlb->pgt__page_shift);
}

static const struct pgt__shape_ops generic_ops = { generic_lookup, generic_walk_to,
						   PGT__TRANSLATE_ALL(generic_translate), pgt__insert_page,
						   generic_tlb_refill };

/* --- instantiations ---------------------------------------------------------------- */

/* The shapes of the shipped descriptors: x86-64 and ARMv8 4K (48-bit), LA57,
 * ARMv8 4K (39-bit), 16K and 64K granules. */
PGT__SHAPE(s4x9, sp->pgt__arch, 4, 9, 12, false)
PGT__SHAPE(s5x9, sp->pgt__arch, 5, 9, 12, false)
PGT__SHAPE(s3x9, sp->pgt__arch, 3, 9, 12, false)
PGT__SHAPE(s3x11, sp->pgt__arch, 3, 11, 14, false)
PGT__SHAPE(s2x13, sp->pgt__arch, 2, 13, 16, false)

struct shape_entry {
	uint8_t levels, bits, base;
	const struct pgt__shape_ops *off, *hook;
};

static const struct shape_entry shapes[] = {
	{ 4, 9, 12, &s4x9_off_ops, &s4x9_hook_ops },    { 5, 9, 12, &s5x9_off_ops, &s5x9_hook_ops },
	{ 3, 9, 12, &s3x9_off_ops, &s3x9_hook_ops },    { 3, 11, 14, &s3x11_off_ops, &s3x11_hook_ops },
	{ 2, 13, 16, &s2x13_off_ops, &s2x13_hook_ops },
};

/* --- the choice ---------------------------------------------------------------------- */

/** Whether every level has @p bits index bits and the table masks of level 1. */
static bool uniform(const struct pgt_arch *a, unsigned bits)
{
	for (unsigned l = 0; l < a->levels; l++) {
		const struct pgt_level *L = &a->level[l];
		const struct pgt_level *T = &a->level[a->levels > 1 ? 1 : 0];
		if (L->bits != bits)
			return false;
		if (l > 0 && (L->type_mask != T->type_mask || L->table_type != T->table_type ||
			      L->table_oa != T->table_oa || L->table_attrs != T->table_attrs ||
			      L->table_rule_bits != T->table_rule_bits || L->table_mbz != T->table_mbz))
			return false;
	}
	return true;
}

/** The compiled walks for the descriptor's shape, or NULL when none fits. */
static const struct pgt__shape_ops *shape_ops(const struct pgt_arch *a, bool hook)
{
	for (unsigned i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		const struct shape_entry *s = &shapes[i];
		if (a->levels == s->levels && a->level[0].shift == s->base && uniform(a, s->bits))
			return hook ? s->hook : s->off;
	}
	return NULL;
}

/** The lowest accepted (int64_t)va >> (va_bits - 1) of the space's range (see shape_va_ok). */
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

void pgt__shape_init(pgt_space_t *sp)
{
	const struct pgt_arch *a = sp->pgt__arch;
	bool hook = sp->pgt__mm.p2v != NULL;
	const struct pgt__shape_ops *ops = NULL;

	/* A format's own walks (constant masks) only for its own descriptor, and only
	 * when the descriptor is of a shape whose walks the engine trusts. */
	if (shape_ops(a, hook))
		ops = pgt__arch_walks(a, hook);
	if (!ops)
		ops = shape_ops(a, hook);
	sp->pgt__ops = ops ? ops : &generic_ops;
	sp->pgt__lookup = (void (*)(void))pgt__ops(sp)->lookup;
	sp->pgt__va_lo = va_lo(sp);
	sp->pgt__gen = 0;
	sp->pgt__tlbs = NULL;
	sp->pgt__enc_prot = PGT__ENC_NONE;
	cache_reserved(sp);
}
