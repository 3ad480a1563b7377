/*
 * The walks of each tree shape, and the choice of one per space (see shape.h).
 *
 * The templates below are always inlined into small instantiation functions
 * whose shape arguments are constants; the compiler then folds every shift
 * and index mask and unrolls the level loop (bounded by the level count).
 */
#include "shape.h"

#define PGT__ALWAYS_INLINE inline __attribute__((always_inline))

/* --- template pieces ---------------------------------------------------------- */

/**
 * What a walk reads from the space, copied into locals before the first
 * entry load: the acquire loads of entries would otherwise make the
 * compiler read every field again at every level.
 */
struct shape_ctx {
	pgt_pte_t tmask, ttype, toa; /**< table entries above level 0 (uniform, checked at init) */
	uintptr_t offset;            /**< p2v_offset */
	void *(*p2v)(void *ctx, pgt_paddr_t pa);
	void *mmctx;
};

static PGT__ALWAYS_INLINE struct shape_ctx shape_ctx(const pgt_space_t *sp, bool hook)
{
	return (struct shape_ctx){ .tmask = sp->pgt__tmask, .ttype = sp->pgt__ttype, .toa = sp->pgt__toa,
				   .offset = hook ? 0 : sp->pgt__mm.p2v_offset,
				   .p2v = hook ? sp->pgt__mm.p2v : NULL, .mmctx = hook ? sp->pgt__mm.ctx : NULL };
}

/**
 * Whether @p va is in the space's range: the bits from va_bits - 1 up, read
 * as a signed number, must be pgt__va_lo or one above (sign-extended: -1 or
 * 0; lower range: 0 or 1; upper range: -2 or -1). One constant shift.
 */
static PGT__ALWAYS_INLINE bool shape_va_ok(const pgt_space_t *sp, pgt_vaddr_t va, unsigned va_bits)
{
	int64_t top = (int64_t)va >> (va_bits - 1);

	return (uint64_t)top - (uint64_t)sp->pgt__va_lo <= 1;
}

/**
 * The entry for @p va in the table a table entry @p pte points to. With the
 * p2v offset, @p ix is the offset plus the entry's byte index, computed
 * before the walk: the chain of dependent loads then costs one mask per
 * level, as a hand-written walk does. With the hook, NULL when it has none.
 */
static PGT__ALWAYS_INLINE pgt_pte_t *shape_next(const struct shape_ctx *c, pgt_pte_t pte, uintptr_t ix,
						 bool hook)
{
	pgt_paddr_t pa = pte & c->toa;

	if (hook) {
		char *t = c->p2v(c->mmctx, pa);
		return t ? (pgt_pte_t *)(void *)(t + ix) : NULL;
	}
	return (pgt_pte_t *)(uintptr_t)(pa + ix);
}

/** Byte offset of @p va's entry at level @p l of a shape, plus @p offset. */
static PGT__ALWAYS_INLINE uintptr_t shape_ix(pgt_vaddr_t va, unsigned l, unsigned bits, unsigned base,
					      uintptr_t offset)
{
	return offset + (uintptr_t)((va >> (base + l * bits)) & ((1u << bits) - 1u)) * sizeof(pgt_pte_t);
}

/** The root entry for @p va. */
static PGT__ALWAYS_INLINE pgt_pte_t *shape_root_entry(const pgt_space_t *sp, pgt_vaddr_t va, unsigned levels,
						       unsigned bits, unsigned base)
{
	return sp->pgt__root + ((va >> (base + (levels - 1) * bits)) & ((1u << bits) - 1u));
}

/** Whether a table entry, at a level above 0. */
static PGT__ALWAYS_INLINE bool shape_is_table(const struct shape_ctx *c, pgt_pte_t pte)
{
	return (pte & c->tmask) == c->ttype;
}

/**
 * pgt__is_mapped_leaf with the level a constant: valid leaves are tested
 * first (the common answer), and level 0 always holds leaves (arch_ok).
 */
static PGT__ALWAYS_INLINE bool shape_is_leaf(const struct pgt_level *L, unsigned l, pgt_pte_t pte)
{
	if (l > 0 && !L->leaf_ok)
		return false;
	return (pte & L->type_mask) == L->leaf_type || (!(pte & L->valid) && (pte & L->reserved));
}

/** The end of a lookup at level @p l: a mapped leaf there, or nothing. */
static PGT__ALWAYS_INLINE int shape_leaf(const pgt_space_t *sp, pgt_pte_t *p, pgt_pte_t pte, unsigned l,
					 unsigned shift, pgt_ref_t *out)
{
	if (!shape_is_leaf(pgt__level(sp, l), l, pte))
		return PGT_ENOENT;
	if (out)
		*out = (pgt_ref_t){ .pte = p, .level = l, .page_shift = shift };
	return PGT_OK;
}

/* --- the templates -------------------------------------------------------------- */

static PGT__ALWAYS_INLINE int shape_lookup(const pgt_space_t *sp, pgt_vaddr_t va, pgt_ref_t *out,
					   unsigned levels, unsigned bits, unsigned base, bool hook)
{
	if (!shape_va_ok(sp, va, base + levels * bits))
		return PGT_EINVAL;
	const struct shape_ctx c = shape_ctx(sp, hook);
	pgt_pte_t *p = shape_root_entry(sp, va, levels, bits, base);
#pragma GCC unroll 8
	for (unsigned i = 0; i < levels; i++) {
		const unsigned l = levels - 1 - i;
		pgt_pte_t pte = pgt__pte_load(p);

		if (l == 0 || !shape_is_table(&c, pte))
			return shape_leaf(sp, p, pte, l, base + l * bits, out);
		p = shape_next(&c, pte, shape_ix(va, l - 1, bits, base, c.offset), hook);
		if (hook && !p)
			return PGT_EINVAL;
	}
	return PGT_ENOENT; /* not reached: level 0 always returns */
}

static PGT__ALWAYS_INLINE int shape_walk_to(const pgt_space_t *sp, pgt_vaddr_t va, unsigned target,
					    struct pgt__stop *at, unsigned levels, unsigned bits,
					    unsigned base, bool hook)
{
	const struct shape_ctx c = shape_ctx(sp, hook);
	pgt_pte_t *p = shape_root_entry(sp, va, levels, bits, base);
#pragma GCC unroll 8
	for (unsigned i = 0; i < levels; i++) {
		const unsigned l = levels - 1 - i;
		pgt_pte_t pte = pgt__pte_load(p);

		if (l == target || l == 0 || !shape_is_table(&c, pte)) {
			*at = (struct pgt__stop){ .pte = p, .level = l };
			return PGT_OK;
		}
		p = shape_next(&c, pte, shape_ix(va, l - 1, bits, base, c.offset), hook);
		if (hook && !p)
			return PGT_EINVAL;
	}
	return PGT_EINVAL; /* not reached: level 0 always returns */
}

/* --- the generic walk: shifts and masks from the descriptor ---------------------- */

static int generic_lookup(const pgt_space_t *sp, pgt_vaddr_t va, pgt_ref_t *out)
{
	if (!pgt__va_ok(sp, va))
		return PGT_EINVAL;
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
			return PGT_EINVAL;
	}
}

static int generic_walk_to(const pgt_space_t *sp, pgt_vaddr_t va, unsigned target, struct pgt__stop *at)
{
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
			return PGT_EINVAL;
	}
}

static const struct pgt__shape_ops generic_ops = { generic_lookup, generic_walk_to };

/* --- instantiations ---------------------------------------------------------------- */

/* One pair of functions per (levels, bits, base shift, p2v kind). */
#define SHAPE_FUNCS(name, levels, bits, base, hook)                                                      \
	static int name##_lookup(const pgt_space_t *sp, pgt_vaddr_t va, pgt_ref_t *out)                  \
	{                                                                                                \
		return shape_lookup(sp, va, out, levels, bits, base, hook);                              \
	}                                                                                                \
	static int name##_walk_to(const pgt_space_t *sp, pgt_vaddr_t va, unsigned target,                \
				  struct pgt__stop *at)                                                  \
	{                                                                                                \
		return shape_walk_to(sp, va, target, at, levels, bits, base, hook);                      \
	}                                                                                                \
	static const struct pgt__shape_ops name##_ops = { name##_lookup, name##_walk_to };

#define SHAPE(name, levels, bits, base)                                                                  \
	SHAPE_FUNCS(name##_off, levels, bits, base, false)                                               \
	SHAPE_FUNCS(name##_hook, levels, bits, base, true)

/* The shapes of the shipped descriptors: x86-64 and ARMv8 4K (48-bit), LA57,
 * ARMv8 4K (39-bit), 16K and 64K granules. */
SHAPE(s4x9, 4, 9, 12)
SHAPE(s5x9, 5, 9, 12)
SHAPE(s3x9, 3, 9, 12)
SHAPE(s3x11, 3, 11, 14)
SHAPE(s2x13, 2, 13, 16)

struct shape_entry {
	uint8_t levels, bits, base;
	const struct pgt__shape_ops *off, *hook;
};

static const struct shape_entry shapes[] = {
	{ 4, 9, 12, &s4x9_off_ops, &s4x9_hook_ops },     { 5, 9, 12, &s5x9_off_ops, &s5x9_hook_ops },
	{ 3, 9, 12, &s3x9_off_ops, &s3x9_hook_ops },     { 3, 11, 14, &s3x11_off_ops, &s3x11_hook_ops },
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
			      L->table_oa != T->table_oa))
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

void pgt__shape_init(pgt_space_t *sp)
{
	const struct pgt_arch *a = sp->pgt__arch;
	const struct pgt_level *T = &a->level[a->levels > 1 ? 1 : 0];
	const struct pgt__shape_ops *ops = shape_ops(a, sp->pgt__mm.p2v != NULL);

	sp->pgt__ops = ops ? ops : &generic_ops;
	sp->pgt__va_lo = va_lo(sp);
	sp->pgt__tmask = T->type_mask;
	sp->pgt__ttype = T->table_type;
	sp->pgt__toa = T->table_oa;
	sp->pgt__gen = 0;
}
