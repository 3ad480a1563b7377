/* SPDX-License-Identifier: MIT */
/*
 * The walk templates of lib/shape.c, for instantiation with constant shapes
 * (generic_pt style): by the engine with the space's masks read at run time,
 * and by a format in arch/ with its own masks as constants. Include it in
 * one .c file per instantiating unit; everything here is static.
 */
#ifndef PGT_LIB_SHAPE_TPL_H
#define PGT_LIB_SHAPE_TPL_H

#include "rights.h"
#include "shape.h"
#include "tlb_fill.h"

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

/**
 * The table entry bits whose rules could take away the right @p access
 * needs. With the access a constant (@p each) only the rules that take
 * that right, unless the descriptor's implied rule could take it (that
 * rule looks at the other rights too); otherwise every rule bit.
 */
static PGT__ALWAYS_INLINE pgt_pte_t shape_rule_bits(const struct pgt_level *T, const struct pgt_arch *A,
						    unsigned access, bool each)
{
	unsigned need = pgt__access_right(access);
	pgt_pte_t bits = 0;

	if (!each || (A->implied_if && (need & A->implied_removes)))
		return T->table_rule_bits;
#pragma GCC unroll 4
	for (unsigned i = 0; i < PGT_RULES; i++)
		if (T->table_rules[i].removes & need)
			bits |= T->table_rules[i].mask;
	return bits;
}

/**
 * A table entry's bits that make the fast translate path give way to the
 * full walk: rule bits (shape_rule_bits) that differ from what the library
 * writes, or must-be-zero bits. A descriptor without rule_bits always
 * gives way.
 */
static PGT__ALWAYS_INLINE pgt_pte_t shape_odd(const struct pgt_arch *A, pgt_pte_t pte, unsigned access,
					      bool each)
{
	const struct pgt_level *T = &A->level[1]; /* table masks are uniform (shape.c) */
	pgt_pte_t always = T->table_rule_bits ? 0 : 1;

	return ((pte ^ T->table_attrs) & shape_rule_bits(T, A, access, each)) | (pte & T->table_mbz) | always;
}

/**
 * A walk on its way down: the entry to read next, and the odd bits of the
 * table entries above it; at the end of a translate whose leaf failed its
 * one-compare test, that leaf and its level.
 */
struct shape_pos {
	pgt_pte_t *p;
	pgt_pte_t odd;
	pgt_pte_t leaf;
	unsigned level;
};

/** What a step of a walk returns to go on one level down (never returned by a walk). */
#define SHAPE_GO_ON 3

/** Steps from the table entry @p pte at level @p l to the entry for @p va below it. */
static PGT__ALWAYS_INLINE int shape_descend(const struct shape_ctx *c, struct shape_pos *at, pgt_pte_t pte,
					    pgt_vaddr_t va, unsigned l, unsigned bits, unsigned base,
					    bool hook)
{
	at->p = shape_next(c, pte, shape_ix(va, l - 1, bits, base, c->offset), hook);
	return hook && !at->p ? PGT_EHOOK : SHAPE_GO_ON;
}

_Static_assert(PGT_MAX_LEVELS == 6, "SHAPE_LEVELS steps through six levels at most");

/*
 * Runs STEP(l) from the root level down to level 0 for as long as it
 * returns SHAPE_GO_ON, leaving the last answer in @p st. Each step is its
 * own inlined copy with the level a constant: a loop, even unrolled, would
 * join the levels' exits and then read the masks of the level where the
 * walk stopped from memory.
 */
#define SHAPE_LEVELS(levels, st, STEP)                 \
	do {                                           \
		st = SHAPE_GO_ON;                      \
		if ((levels) > 5)                      \
			st = STEP(5);                  \
		if ((levels) > 4 && st == SHAPE_GO_ON) \
			st = STEP(4);                  \
		if ((levels) > 3 && st == SHAPE_GO_ON) \
			st = STEP(3);                  \
		if ((levels) > 2 && st == SHAPE_GO_ON) \
			st = STEP(2);                  \
		if ((levels) > 1 && st == SHAPE_GO_ON) \
			st = STEP(1);                  \
		if (st == SHAPE_GO_ON)                 \
			st = STEP(0);                  \
	} while (0)

/* --- the templates -------------------------------------------------------------- */

static PGT__ALWAYS_INLINE int lookup_step(const struct pgt_arch *A, const struct shape_ctx *c,
					  struct shape_pos *at, pgt_vaddr_t va, pgt_ref_t *out, unsigned l,
					  unsigned bits, unsigned base, bool hook)
{
	pgt_pte_t pte = pgt__pte_load(at->p);

	if (l == 0 || !shape_is_table(c, pte))
		return shape_leaf(A, at->p, pte, l, base + l * bits, out);
	return shape_descend(c, at, pte, va, l, bits, base, hook);
}

static PGT__ALWAYS_INLINE int shape_lookup(const pgt_space_t *sp, const struct pgt_arch *A, pgt_vaddr_t va,
					   pgt_ref_t *out, unsigned levels, unsigned bits, unsigned base,
					   bool hook)
{
	if (!shape_va_ok(sp, va, base + levels * bits))
		return PGT_ERANGE;
	const struct shape_ctx c = shape_ctx(sp, A, hook);
	struct shape_pos at = { .p = shape_root_entry(sp, va, levels, bits, base) };
	int st;
#define STEP(l) lookup_step(A, &c, &at, va, out, (l), bits, base, hook)
	SHAPE_LEVELS(levels, st, STEP);
#undef STEP
	return st;
}

static PGT__ALWAYS_INLINE int valid_leaf_step(const struct pgt_arch *A, const struct shape_ctx *c,
					      struct shape_pos *at, pgt_vaddr_t va, struct pgt__leaf *out,
					      unsigned l, unsigned bits, unsigned base, bool hook)
{
	pgt_pte_t pte = pgt__pte_load(at->p);

	if (l == 0 || !shape_is_table(c, pte)) {
		const struct pgt_level *L = &A->level[l];
		*out = (struct pgt__leaf){ .pte = pte,
					   .level = pgt__is_valid_leaf(L, pte) ? (int)l : PGT_ENOENT,
					   .pa = pgt__leaf_pa(L, pte, va),
					   .key = pte & L->prot_mask };
		return PGT_OK;
	}
	return shape_descend(c, at, pte, va, l, bits, base, hook);
}

static PGT__ALWAYS_INLINE struct pgt__leaf shape_valid_leaf(const pgt_space_t *sp, const struct pgt_arch *A,
							    pgt_vaddr_t va, unsigned levels, unsigned bits,
							    unsigned base, bool hook)
{
	struct pgt__leaf leaf = { .level = PGT_ERANGE };

	if (!shape_va_ok(sp, va, base + levels * bits))
		return leaf;
	leaf.level = PGT_EHOOK; /* what it stays at when p2v fails */
	const struct shape_ctx c = shape_ctx(sp, A, hook);
	struct shape_pos at = { .p = shape_root_entry(sp, va, levels, bits, base) };
	int st;
#define STEP(l) valid_leaf_step(A, &c, &at, va, &leaf, (l), bits, base, hook)
	SHAPE_LEVELS(levels, st, STEP);
#undef STEP
	(void)st; /* PGT_OK with the leaf, or PGT_EHOOK (p2v failed) with leaf as it started */
	return leaf;
}

static PGT__ALWAYS_INLINE int walk_to_step(const struct shape_ctx *c, struct shape_pos *at, pgt_vaddr_t va,
					   unsigned target, struct pgt__stop *stop, unsigned l, unsigned bits,
					   unsigned base, bool hook)
{
	pgt_pte_t pte = pgt__pte_load(at->p);

	if (l == target || l == 0 || !shape_is_table(c, pte)) {
		*stop = (struct pgt__stop){ .pte = at->p, .level = l };
		return PGT_OK;
	}
	return shape_descend(c, at, pte, va, l, bits, base, hook);
}

static PGT__ALWAYS_INLINE int shape_walk_to(const pgt_space_t *sp, const struct pgt_arch *A, pgt_vaddr_t va,
					    unsigned target, struct pgt__stop *stop, unsigned levels,
					    unsigned bits, unsigned base, bool hook)
{
	if (!shape_va_ok(sp, va, base + levels * bits))
		return PGT_ERANGE;
	const struct shape_ctx c = shape_ctx(sp, A, hook);
	struct shape_pos at = { .p = shape_root_entry(sp, va, levels, bits, base) };
	int st;
#define STEP(l) walk_to_step(&c, &at, va, target, stop, (l), bits, base, hook)
	SHAPE_LEVELS(levels, st, STEP);
#undef STEP
	return st;
}

/** What a translate step returns to hand its leaf to pgt__translate_leaf_at (never returned by a walk). */
#define SHAPE_LEAF_DECIDES 6

/**
 * The end of a fast translate at the leaf @p pte of level @p l. With the
 * descriptor and the access constants (@p each), a leaf that passes its
 * one-compare test (pgt__leaf_pass, folded into two immediates) completes
 * the access at once; any other is kept in @p at for the leaf decision,
 * which names the fault, called after the steps (see translate_step).
 * Otherwise the leaf decision runs here, with the descriptor's rules.
 */
static PGT__ALWAYS_INLINE int shape_translate_leaf(const struct pgt_arch *A, struct shape_pos *at, unsigned l,
						   pgt_pte_t pte, pgt_vaddr_t va, unsigned access,
						   pgt_paddr_t *pa, struct pgt_fault *fault, bool each)
{
	if (!each)
		return pgt__translate_leaf(A, l, pte, va, access, pa, fault);
	struct pgt__leaf_pass t = pgt__leaf_pass_for(A, l, pgt__access_right(access));
	if ((pte & t.mask) != t.match) {
		at->leaf = pte;
		at->level = l;
		return SHAPE_LEAF_DECIDES;
	}
	if (pa)
		*pa = pgt__leaf_pa(&A->level[l], pte, va);
	return PGT_OK;
}

/** What an insert step returns to hand the insert to the general one (never returned by a walk). */
#define SHAPE_INSERT_GENERAL 5

static PGT__ALWAYS_INLINE int insert_step(const struct pgt_arch *A, const struct shape_ctx *c,
					  struct shape_pos *at, pgt_vaddr_t va, unsigned target,
					  pgt_pte_t leaf, pgt_ref_t *out, unsigned l, unsigned bits,
					  unsigned base, bool hook)
{
	pgt_pte_t pte = pgt__pte_load(at->p);

	if (l > target)
		return shape_is_table(c, pte) ? shape_descend(c, at, pte, va, l, bits, base, hook)
					      : SHAPE_INSERT_GENERAL;
	if (l < target || pgt__classify(&A->level[l], l, pte) != PGT__EMPTY)
		return SHAPE_INSERT_GENERAL;
	pgt__pte_store(at->p, leaf);
	if (out)
		*out = (pgt_ref_t){ .pte = at->p, .level = l, .page_shift = base + l * bits };
	return PGT_OK;
}

/**
 * The common insert, a page into the existing table of its level, walked
 * as a lookup is; anything else (tables to allocate, a conflict) is left
 * to the general insert, which walks again. A tail call, as translate's
 * full walk: the common case keeps no frame.
 */
static PGT__ALWAYS_INLINE int shape_insert(pgt_space_t *sp, const struct pgt_arch *A, pgt_vaddr_t va,
					   unsigned target, pgt_ref_t *out, unsigned levels, unsigned bits,
					   unsigned base, bool hook)
{
	if (!shape_va_ok(sp, va, base + levels * bits))
		return PGT_ERANGE;
	const struct shape_ctx c = shape_ctx(sp, A, hook);
	struct shape_pos at = { .p = shape_root_entry(sp, va, levels, bits, base) };
	pgt_pte_t leaf = sp->pgt__rsv[target];
	int st;
#define STEP(l) insert_step(A, &c, &at, va, target, leaf, out, (l), bits, base, hook)
	SHAPE_LEVELS(levels, st, STEP);
#undef STEP
	return st == SHAPE_INSERT_GENERAL ? pgt__insert_general(sp, va, target, out) : st;
}

/**
 * pgt_insert of a page of level @p target (a constant): its checks, then the
 * compiled walk when the level's reserved leaf is cached, else the general
 * insert.
 */
static PGT__ALWAYS_INLINE int shape_insert_at(pgt_space_t *sp, const struct pgt_arch *A, pgt_vaddr_t va,
					      unsigned target, pgt_ref_t *out, unsigned levels, unsigned bits,
					      unsigned base, bool hook)
{
	if (!A->level[target].leaf_ok)
		return PGT_ESIZE; /* no page of that size in the format */
	if (va & ((1ull << (base + target * bits)) - 1))
		return PGT_EALIGN;
	if (!(sp->pgt__rsv_ok & (1u << target)))
		return pgt__insert_general(sp, va, target, out);
	return shape_insert(sp, A, va, target, out, levels, bits, base, hook);
}

/** What a translate step returns to hand the access to the full walk (never returned by a walk). */
#define SHAPE_FULL_WALK 4

/*
 * With no odd table entry on the way, the leaf alone decides (its rules
 * and the descriptor's implied rule, all constants here); otherwise the
 * full walk does. Both are called after the steps, not from one: a call
 * whose answer the next step must test keeps a frame and saved registers
 * on every walk, a tail call at the end keeps none.
 */
static PGT__ALWAYS_INLINE int translate_step(const struct pgt_arch *A, const struct shape_ctx *c,
					     struct shape_pos *at, pgt_vaddr_t va, unsigned access,
					     pgt_paddr_t *pa, struct pgt_fault *fault, unsigned l,
					     unsigned bits, unsigned base, bool hook, bool each)
{
	pgt_pte_t pte = pgt__pte_load(at->p);

	if (l == 0 || !shape_is_table(c, pte))
		return at->odd ? SHAPE_FULL_WALK
			       : shape_translate_leaf(A, at, l, pte, va, access, pa, fault, each);
	at->odd |= shape_odd(A, pte, access, each);
	return shape_descend(c, at, pte, va, l, bits, base, hook);
}

static PGT__ALWAYS_INLINE int shape_translate(const pgt_space_t *sp, const struct pgt_arch *A, pgt_vaddr_t va,
					      unsigned access, pgt_paddr_t *pa, struct pgt_fault *fault,
					      unsigned levels, unsigned bits, unsigned base, bool hook,
					      bool each)
{
	if (!shape_va_ok(sp, va, base + levels * bits))
		return PGT_ERANGE;
	const struct shape_ctx c = shape_ctx(sp, A, hook);
	struct shape_pos at = { .p = shape_root_entry(sp, va, levels, bits, base) };
	int st;
#define STEP(l) translate_step(A, &c, &at, va, access, pa, fault, (l), bits, base, hook, each)
	SHAPE_LEVELS(levels, st, STEP);
#undef STEP
	if (st == SHAPE_LEAF_DECIDES)
		return pgt__translate_leaf_at(A, at.level, at.leaf, va, access, pa, fault);
	return st == SHAPE_FULL_WALK ? pgt__translate_full(sp, va, access, pa, fault) : st;
}

/*
 * One set of functions per (masks, levels, bits, base shift, p2v kind).
 * A is an expression for the descriptor whose masks the walk uses: the
 * space's own (sp->pgt__arch, read at run time) or a static const copy of
 * a format's levels, which the compiler folds into immediates.
 */
#define PGT__SHAPE_WALKS(name, A, levels, bits, base, hook)                                            \
	static int name##_lookup(const pgt_space_t *sp, pgt_vaddr_t va, pgt_ref_t *out)                \
	{                                                                                              \
		return shape_lookup(sp, (A), va, out, levels, bits, base, hook);                       \
	}                                                                                              \
	static int name##_walk_to(const pgt_space_t *sp, pgt_vaddr_t va, unsigned target,              \
				  struct pgt__stop *at)                                                \
	{                                                                                              \
		return shape_walk_to(sp, (A), va, target, at, levels, bits, base, hook);               \
	}                                                                                              \
	static int name##_insert(pgt_space_t *sp, pgt_vaddr_t va, unsigned page_shift, pgt_ref_t *out) \
	{ /* each leaf size with its level a constant: no test of it on the way down */                \
		if (page_shift == (base))                                                              \
			return shape_insert_at(sp, (A), va, 0, out, levels, bits, base, hook);         \
		if ((levels) > 1 && page_shift == (base) + (bits))                                     \
			return shape_insert_at(sp, (A), va, 1, out, levels, bits, base, hook);         \
		if ((levels) > 2 && page_shift == (base) + 2 * (bits))                                 \
			return shape_insert_at(sp, (A), va, 2, out, levels, bits, base, hook);         \
		return pgt__insert_page(sp, va, page_shift, out);                                      \
	}                                                                                              \
	static int name##_tlb_refill(pgt_tlb_t *tlb, struct pgt_tlb_entry *e0, pgt_vaddr_t va,         \
				     pgt_paddr_t *pa, unsigned *prot)                                  \
	{ /* sp: the space, for (A) and the walk */                                                    \
		const pgt_space_t *sp = tlb->pgt__sp;                                                  \
		struct pgt__leaf leaf = shape_valid_leaf(sp, (A), va, levels, bits, base, hook);       \
		return pgt__tlb_put(tlb, e0, (A), leaf, va, pa, prot, base);                           \
	}

/** A translate for access @p acc (`access` for any); @p each as in shape_translate_leaf. */
#define PGT__SHAPE_TRANSLATE(name, A, acc, levels, bits, base, hook, each)                             \
	static int name(const pgt_space_t *sp, pgt_vaddr_t va, unsigned access, pgt_paddr_t *pa,       \
			struct pgt_fault *fault)                                                       \
	{                                                                                              \
		(void)access;                                                                          \
		return shape_translate(sp, (A), va, (acc), pa, fault, levels, bits, base, hook, each); \
	}

/** The walks of a shape with one translate for every access: name##_ops. */
#define PGT__SHAPE_ANY(name, A, levels, bits, base, hook)                                       \
	PGT__SHAPE_WALKS(name, A, levels, bits, base, hook)                                     \
	PGT__SHAPE_TRANSLATE(name##_translate, A, access, levels, bits, base, hook, false)      \
	static const struct pgt__shape_ops name##_ops = { name##_lookup, name##_walk_to,        \
							  PGT__TRANSLATE_ALL(name##_translate), \
							  name##_insert, name##_tlb_refill };

/** The translate of access @p acc compiled with the descriptor a constant: name##_tr_##sfx. */
#define PGT__SHAPE_TR(name, sfx, A, acc, levels, bits, base, hook) \
	PGT__SHAPE_TRANSLATE(name##_tr_##sfx, A, acc, levels, bits, base, hook, true)

/**
 * The walks of a shape with a constant descriptor @p A and a translate
 * compiled for each access, the rules of its right folded in: name##_ops.
 */
#define PGT__SHAPE_EACH(name, A, levels, bits, base, hook)                                             \
	PGT__SHAPE_WALKS(name, A, levels, bits, base, hook)                                            \
	PGT__SHAPE_TR(name, r, A, PGT_ACC_READ, levels, bits, base, hook)                              \
	PGT__SHAPE_TR(name, w, A, PGT_ACC_WRITE, levels, bits, base, hook)                             \
	PGT__SHAPE_TR(name, x, A, PGT_ACC_EXEC, levels, bits, base, hook)                              \
	PGT__SHAPE_TR(name, ur, A, PGT_ACC_READ | PGT_ACC_USER, levels, bits, base, hook)              \
	PGT__SHAPE_TR(name, uw, A, PGT_ACC_WRITE | PGT_ACC_USER, levels, bits, base, hook)             \
	PGT__SHAPE_TR(name, ux, A, PGT_ACC_EXEC | PGT_ACC_USER, levels, bits, base, hook)              \
	static const struct pgt__shape_ops name##_ops = {                                              \
		name##_lookup,                                                                         \
		name##_walk_to,                                                                        \
		PGT__TRANSLATE_EACH(name##_tr_r, name##_tr_w, name##_tr_x, name##_tr_ur, name##_tr_uw, \
				    name##_tr_ux),                                                     \
		name##_insert,                                                                         \
		name##_tlb_refill,                                                                     \
	};

/**
 * Both p2v kinds of one shape: name##_off_ops and name##_hook_ops. With a
 * constant descriptor (@p folded) the p2v offset kind, the one simulators
 * use, gets a translate per access; the hook kind, for kernels, one for
 * all, to keep the library small.
 */
#define PGT__SHAPE(name, A, levels, bits, base, folded)            \
	PGT__SHAPE_OFF_##folded(name##_off, A, levels, bits, base) \
		PGT__SHAPE_ANY(name##_hook, A, levels, bits, base, true)
#define PGT__SHAPE_OFF_true(name, A, levels, bits, base)  PGT__SHAPE_EACH(name, A, levels, bits, base, false)
#define PGT__SHAPE_OFF_false(name, A, levels, bits, base) PGT__SHAPE_ANY(name, A, levels, bits, base, false)

#endif /* PGT_LIB_SHAPE_TPL_H */
