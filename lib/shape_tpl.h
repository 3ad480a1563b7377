/*
 * The walk templates of lib/shape.c, for instantiation with constant shapes
 * (generic_pt style): by the engine with the space's masks read at run time,
 * and by a format in arch/ with its own masks as constants. Include it in
 * one .c file per instantiating unit; everything here is static.
 */
#ifndef PGT_LIB_SHAPE_TPL_H
#define PGT_LIB_SHAPE_TPL_H

#include "shape.h"

#define PGT__ALWAYS_INLINE inline __attribute__((always_inline))

/* --- template pieces ---------------------------------------------------------- */

/**
 * What a walk reads from the space, copied into locals before the first
 * entry load: the acquire loads of entries would otherwise make the
 * compiler read every field again at every level.
 */
struct shape_ctx {
	pgt_pte_t tmask, ttype, toa; /**< table entries above level 0 (uniform: level 1's) */
	uintptr_t offset;            /**< p2v_offset */
	void *(*p2v)(void *ctx, pgt_paddr_t pa);
	void *mmctx;
};

static PGT__ALWAYS_INLINE struct shape_ctx shape_ctx(const pgt_space_t *sp, const struct pgt_arch *A,
						     bool hook)
{
	const struct pgt_level *T = &A->level[1];

	return (struct shape_ctx){ .tmask = T->type_mask,
				   .ttype = T->table_type,
				   .toa = T->table_oa,
				   .offset = hook ? 0 : sp->pgt__mm.p2v_offset,
				   .p2v = hook ? sp->pgt__mm.p2v : NULL,
				   .mmctx = hook ? sp->pgt__mm.ctx : NULL };
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
static PGT__ALWAYS_INLINE int shape_leaf(const struct pgt_arch *A, pgt_pte_t *p, pgt_pte_t pte, unsigned l,
					 unsigned shift, pgt_ref_t *out)
{
	if (!shape_is_leaf(&A->level[l], l, pte))
		return PGT_ENOENT;
	if (out)
		*out = (pgt_ref_t){ .pte = p, .level = l, .page_shift = shift };
	return PGT_OK;
}

/* --- the templates -------------------------------------------------------------- */

static PGT__ALWAYS_INLINE int shape_lookup(const pgt_space_t *sp, const struct pgt_arch *A, pgt_vaddr_t va,
					   pgt_ref_t *out, unsigned levels, unsigned bits, unsigned base,
					   bool hook)
{
	if (!shape_va_ok(sp, va, base + levels * bits))
		return PGT_EINVAL;
	const struct shape_ctx c = shape_ctx(sp, A, hook);
	pgt_pte_t *p = shape_root_entry(sp, va, levels, bits, base);
#pragma GCC unroll 8
	for (unsigned i = 0; i < levels; i++) {
		const unsigned l = levels - 1 - i;
		pgt_pte_t pte = pgt__pte_load(p);

		if (l == 0 || !shape_is_table(&c, pte))
			return shape_leaf(A, p, pte, l, base + l * bits, out);
		p = shape_next(&c, pte, shape_ix(va, l - 1, bits, base, c.offset), hook);
		if (hook && !p)
			return PGT_EINVAL;
	}
	return PGT_ENOENT; /* not reached: level 0 always returns */
}

static PGT__ALWAYS_INLINE int shape_walk_to(const pgt_space_t *sp, const struct pgt_arch *A, pgt_vaddr_t va,
					    unsigned target, struct pgt__stop *at, unsigned levels,
					    unsigned bits, unsigned base, bool hook)
{
	if (!shape_va_ok(sp, va, base + levels * bits))
		return PGT_EINVAL;
	const struct shape_ctx c = shape_ctx(sp, A, hook);
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

/**
 * A table entry's bits that make the fast translate path give way to the
 * full walk: rule bits that differ from what the library writes, or
 * must-be-zero bits. A descriptor without rule_bits always gives way.
 */
static PGT__ALWAYS_INLINE pgt_pte_t shape_odd(const struct pgt_level *T, pgt_pte_t pte)
{
	pgt_pte_t always = T->table_rule_bits ? 0 : 1;

	return ((pte ^ T->table_attrs) & T->table_rule_bits) | (pte & T->table_mbz) | always;
}

static PGT__ALWAYS_INLINE int shape_leaf_walk(const pgt_space_t *sp, const struct pgt_arch *A, pgt_vaddr_t va,
					      struct pgt__stop *at, pgt_pte_t *val, pgt_pte_t *odd,
					      unsigned levels, unsigned bits, unsigned base, bool hook)
{
	if (!shape_va_ok(sp, va, base + levels * bits))
		return PGT_EINVAL;
	const struct shape_ctx c = shape_ctx(sp, A, hook);
	const struct pgt_level *T = &A->level[1]; /* table masks are uniform (shape.c) */
	pgt_pte_t *p = shape_root_entry(sp, va, levels, bits, base), seen = 0;
#pragma GCC unroll 8
	for (unsigned i = 0; i < levels; i++) {
		const unsigned l = levels - 1 - i;
		pgt_pte_t pte = pgt__pte_load(p);

		if (l == 0 || !shape_is_table(&c, pte)) {
			*at = (struct pgt__stop){ .pte = p, .level = l };
			*val = pte;
			*odd = seen;
			return PGT_OK;
		}
		seen |= shape_odd(T, pte);
		p = shape_next(&c, pte, shape_ix(va, l - 1, bits, base, c.offset), hook);
		if (hook && !p)
			return PGT_EINVAL;
	}
	return PGT_EINVAL; /* not reached: level 0 always returns */
}

/*
 * One set of functions per (masks, levels, bits, base shift, p2v kind).
 * A is an expression for the descriptor whose masks the walk uses: the
 * space's own (sp->pgt__arch, read at run time) or a static const copy of
 * a format's levels, which the compiler folds into immediates.
 */
#define PGT__SHAPE_FUNCS(name, A, levels, bits, base, hook)                               \
	static int name##_lookup(const pgt_space_t *sp, pgt_vaddr_t va, pgt_ref_t *out)   \
	{                                                                                 \
		return shape_lookup(sp, (A), va, out, levels, bits, base, hook);          \
	}                                                                                 \
	static int name##_walk_to(const pgt_space_t *sp, pgt_vaddr_t va, unsigned target, \
				  struct pgt__stop *at)                                   \
	{                                                                                 \
		return shape_walk_to(sp, (A), va, target, at, levels, bits, base, hook);  \
	}                                                                                 \
	static int name##_leaf_walk(const pgt_space_t *sp, pgt_vaddr_t va, struct pgt__stop *at, \
				    pgt_pte_t *val, pgt_pte_t *odd)                       \
	{                                                                                 \
		return shape_leaf_walk(sp, (A), va, at, val, odd, levels, bits, base, hook); \
	}                                                                                 \
	static const struct pgt__shape_ops name##_ops = { name##_lookup, name##_walk_to,  \
							  name##_leaf_walk };

/** Both p2v kinds of one shape: name##_off_ops and name##_hook_ops. */
#define PGT__SHAPE(name, A, levels, bits, base)                    \
	PGT__SHAPE_FUNCS(name##_off, A, levels, bits, base, false) \
	PGT__SHAPE_FUNCS(name##_hook, A, levels, bits, base, true)

#endif /* PGT_LIB_SHAPE_TPL_H */
