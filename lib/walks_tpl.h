/* SPDX-License-Identifier: MIT */
/*
 * The walk templates (generic_pt style), instantiated by each shipped
 * format in arch/<format>/ with a static const copy of its own descriptor:
 * every shift, index mask, entry class test and rule of that descriptor is
 * then a compile-time constant, the level steps are unrolled, and an entry
 * costs a load, a mask, a compare and an add. This is the one header of
 * lib/ that arch/ may include (by its explicit path); everything here is
 * static, so a kernel that links one format links that format's walks only.
 *
 * Use: PGT__WALKS(name, &static_copy, &exported_descriptor) defines
 * `static const struct pgt_arch_walks name`, which the exported descriptor
 * points to (pgt_arch.walks).
 */
#ifndef PGT_LIB_WALKS_TPL_H
#define PGT_LIB_WALKS_TPL_H

#include "field.h"
#include "rights.h"
#include "table.h"
#include "tlb.h"
#include "walks.h"

#define PGT__ALWAYS_INLINE inline __attribute__((always_inline))

/* --- template pieces ---------------------------------------------------------- */

/**
 * What a walk reads from the space, copied into locals before the first
 * entry load: the acquire loads of entries would otherwise make the
 * compiler read every field again at every level.
 */
struct walk_ctx {
	uintptr_t offset; /**< p2v_offset */
	void *(*p2v)(void *ctx, pgt_paddr_t pa);
	void *mmctx;
};

static PGT__ALWAYS_INLINE struct walk_ctx walk_ctx(const pgt_space_t *sp, bool hook)
{
	return (struct walk_ctx){ .offset = hook ? 0 : sp->pgt__mm.p2v_offset,
				  .p2v = hook ? sp->pgt__mm.p2v : NULL,
				  .mmctx = hook ? sp->pgt__mm.ctx : NULL };
}

/**
 * Whether @p va is in the space's range: the bits from va_bits - 1 up, read
 * as a signed number, must be pgt__va_lo or one above (sign-extended: -1 or
 * 0; lower range: 0 or 1; upper range: -2 or -1). One constant shift.
 */
static PGT__ALWAYS_INLINE bool walk_va_ok(const pgt_space_t *sp, const struct pgt_arch *A, pgt_vaddr_t va)
{
	int64_t top = (int64_t)va >> (A->va_bits - 1);

	return (uint64_t)top - (uint64_t)sp->pgt__va_lo <= 1;
}

/** Byte offset of @p va's entry in a table of level @p l, plus @p offset. */
static PGT__ALWAYS_INLINE uintptr_t walk_ix(const struct pgt_arch *A, pgt_vaddr_t va, unsigned l, uintptr_t offset)
{
	return offset + (uintptr_t)pgt__index(&A->level[l], va) * sizeof(pgt_pte_t);
}

/**
 * The entry for @p va in the table the table entry @p pte of level @p l
 * links. With the p2v offset, @p ix is the offset plus the entry's byte
 * index, computed before the walk: the chain of dependent loads then costs
 * one mask per level, as a hand-written walk does. With the hook, NULL
 * when it has none.
 */
static PGT__ALWAYS_INLINE pgt_pte_t *walk_next(const struct walk_ctx *c, const struct pgt_level *L, pgt_pte_t pte,
					       uintptr_t ix, bool hook)
{
	pgt_paddr_t pa = pgt__table_pa(L, pte);

	if (hook) {
		char *t = c->p2v(c->mmctx, pa);
		return t ? (pgt_pte_t *)(void *)(t + ix) : NULL;
	}
	return (pgt_pte_t *)(uintptr_t)(pa + ix);
}

/** The root entry for @p va (the root may be wider than other tables). */
static PGT__ALWAYS_INLINE pgt_pte_t *walk_root_entry(const pgt_space_t *sp, const struct pgt_arch *A,
						     pgt_vaddr_t va)
{
	unsigned i = pgt__index(&A->level[A->levels - 1u], va);

	/*@ assert walk_root_index: i < 1u << A->level[A->levels - 1u].bits; */
	return sp->pgt__root + i;
}

/** The end of a lookup at level @p l: a mapped leaf there, or nothing. */
static PGT__ALWAYS_INLINE int walk_leaf(const struct pgt_arch *A, pgt_pte_t *p, pgt_pte_t pte, unsigned l,
					pgt_ref_t *out)
{
	const struct pgt_level *L = &A->level[l];

	if (!pgt__is_mapped_leaf(L, pte))
		return PGT_ENOENT;
	if (out)
		*out = (pgt_ref_t){ .pte = p, .level = l, .page_shift = L->shift };
	return PGT_OK;
}

/**
 * The bits of a table entry at level @p l whose rules could take away the
 * right @p access needs: with the access a constant (@p each) only the
 * rules that take that right, unless the descriptor's implied rule could
 * take it (that rule looks at the other rights too); otherwise every rule
 * bit. Derived from the rules, never given by the descriptor.
 */
static PGT__ALWAYS_INLINE pgt_pte_t walk_rule_bits(const struct pgt_arch *A, unsigned l, unsigned access, bool each)
{
	const struct pgt_level *T = &A->level[l];
	unsigned need = pgt__access_right(access);
	bool all = !each || (A->implied_if && (need & A->implied_removes));
	pgt_pte_t bits = 0;

#pragma GCC unroll 8
	for (unsigned i = 0; i < PGT_RULES; i++)
		if (T->table_rules[i].removes & (all ? PGT_RIGHTS_ALL : need))
			bits |= T->table_rules[i].mask;
	return bits;
}

/**
 * Non-zero when the table entry @p pte of level @p l makes the fast
 * translate path give way to the full walk: rule bits (walk_rule_bits)
 * that differ from what the library writes (table_attrs, which grants
 * everything: checked at pgt_space_init), must-be-zero bits, or a
 * malformed pattern.
 */
static PGT__ALWAYS_INLINE pgt_pte_t walk_odd(const struct pgt_arch *A, unsigned l, pgt_pte_t pte, unsigned access,
					     bool each)
{
	const struct pgt_level *T = &A->level[l];

	return ((pte ^ T->table_attrs) & walk_rule_bits(A, l, access, each)) |
	       (pgt_pte_t)pgt__table_malformed(T, pte);
}

/**
 * A walk on its way down: the entry to read next, and the odd bits of the
 * table entries above it; at the end of a translate whose leaf failed its
 * one-compare test, that leaf and its level.
 */
struct walk_pos {
	pgt_pte_t *p;
	pgt_pte_t *up;  /**< the table entry that links p's table; NULL at the root */
	pgt_pte_t *up2; /**< the table entry that links up's table; NULL at and below the root */
	pgt_pte_t odd;
	pgt_pte_t leaf;
	unsigned level;
};

/** What a step of a walk returns to go on one level down (never returned by a walk). */
#define WALK_GO_ON 3

/**
 * @p st, a status of the library's (PGT_OK or an error, never one of the
 * walks' own, which are positive), as a step returns a call's answer:
 * told so, the compiler drops the walk's tests of it and the call
 * becomes the function's last, a jump, with nothing kept across it.
 */
static PGT__ALWAYS_INLINE int walk_answer(int st)
{
	PGT_ASSERT(st <= 0);
	if (st > 0)
		__builtin_unreachable();
	return st;
}

/** Steps from the table entry @p pte at level @p l to the entry for @p va below it. */
static PGT__ALWAYS_INLINE int walk_descend(const struct pgt_arch *A, const struct walk_ctx *c, struct walk_pos *at,
					   pgt_pte_t pte, pgt_vaddr_t va, unsigned l, bool hook)
{
	uintptr_t ix = walk_ix(A, va, l - 1, c->offset);

	/*
	 * The entry read next lies inside its own table, whatever the table's
	 * neighbours in memory: the analysis (tests/proof/) proves these where
	 * the constant p2v offset leaves it only plain addresses to check.
	 */
	/*@ assert walk_table_aligned:
	      ((pte & A->level[l].table_oa) << A->level[l].oa_shift) % A->level[l - 1].table_size == 0; */
	/*@ assert walk_entry_in_table: ix - c->offset + sizeof(pgt_pte_t) <= A->level[l - 1].table_size; */
	at->up2 = at->up;
	at->up = at->p;
	at->p = walk_next(c, &A->level[l], pte, ix, hook);
	return hook && !at->p ? PGT_EHOOK : WALK_GO_ON;
}

_Static_assert(PGT_MAX_LEVELS == 6, "WALK_LEVELS steps through six levels at most");

/*
 * Runs STEP(l) from the root level down to level 0 for as long as it
 * returns WALK_GO_ON, leaving the last answer in @p st. Each step is its
 * own inlined copy with the level a constant: a loop, even unrolled, would
 * join the levels' exits and then read the masks of the level where the
 * walk stopped from memory.
 */
#define WALK_LEVELS(levels, st, STEP)                 \
	do {                                          \
		st = WALK_GO_ON;                      \
		if ((levels) > 5)                     \
			st = STEP(5);                 \
		if ((levels) > 4 && st == WALK_GO_ON) \
			st = STEP(4);                 \
		if ((levels) > 3 && st == WALK_GO_ON) \
			st = STEP(3);                 \
		if ((levels) > 2 && st == WALK_GO_ON) \
			st = STEP(2);                 \
		if ((levels) > 1 && st == WALK_GO_ON) \
			st = STEP(1);                 \
		if (st == WALK_GO_ON)                 \
			st = STEP(0);                 \
	} while (0)

/** Whether the walk goes on below the entry @p pte of level @p l. */
static PGT__ALWAYS_INLINE bool walk_is_table(const struct pgt_arch *A, unsigned l, pgt_pte_t pte)
{
	return l > 0 && l < PGT_MAX_LEVELS && pgt__is_table(&A->level[l], l, pte);
}

/* --- the templates -------------------------------------------------------------- */

static PGT__ALWAYS_INLINE int lookup_step(const struct pgt_arch *A, const struct walk_ctx *c, struct walk_pos *at,
					  pgt_vaddr_t va, pgt_ref_t *out, unsigned l, bool hook)
{
	pgt_pte_t pte = pgt__pte_load(at->p);

	if (!walk_is_table(A, l, pte))
		return walk_leaf(A, at->p, pte, l, out);
	return walk_descend(A, c, at, pte, va, l, hook);
}

static PGT__ALWAYS_INLINE int walk_lookup(const pgt_space_t *sp, const struct pgt_arch *A, pgt_vaddr_t va,
					  pgt_ref_t *out, bool hook)
{
	if (!walk_va_ok(sp, A, va))
		return PGT_ERANGE;
	const struct walk_ctx c = walk_ctx(sp, hook);
	struct walk_pos at = { .p = walk_root_entry(sp, A, va) };
	int st;
#define STEP(l) lookup_step(A, &c, &at, va, out, (l), hook)
	WALK_LEVELS(A->levels, st, STEP);
#undef STEP
	return st;
}

/** What a TLB needs of the entry @p pte at @p p, of level @p l for @p va, which links no table. */
static PGT__ALWAYS_INLINE struct pgt__leaf walk_leaf_of(const struct pgt_arch *A, unsigned l, const pgt_pte_t *p,
							pgt_pte_t pte, pgt_vaddr_t va)
{
	return pgt__tlb_leaf_at(&A->level[l], l, l + 1u < A->levels, p, pte, va);
}

/**
 * A step of a TLB's walk: at the entry that links no table, the leaf, and
 * the table it sits in remembered in @p keep (the TLB, or NULL), unless it
 * is the root, which the space holds already, so that the next misses in
 * the table's region read their entry straight from it (tlb_table_step).
 */
static PGT__ALWAYS_INLINE int valid_leaf_step(pgt_tlb_t *keep, const struct pgt_arch *A, const struct walk_ctx *c,
					      struct walk_pos *at, pgt_vaddr_t va, struct pgt__leaf *out,
					      unsigned l, bool hook)
{
	pgt_pte_t pte = pgt__pte_load(at->p);

	if (!walk_is_table(A, l, pte)) {
		*out = walk_leaf_of(A, l, at->p, pte, va);
		if (keep && l + 1u < A->levels)
			pgt__tlb_keep_table(keep, va, l, at->p - pgt__index(&A->level[l], va),
					    A->level[l + 1u].shift, 64u - A->level[0].shift);
		return PGT_OK;
	}
	return walk_descend(A, c, at, pte, va, l, hook);
}

/** The leaf for @p va by a walk from the root, for a miss of @p tlb (see valid_leaf_step). */
static PGT__ALWAYS_INLINE struct pgt__leaf walk_valid_leaf(pgt_tlb_t *tlb, const struct pgt_arch *A,
							   pgt_vaddr_t va, bool hook)
{
	const pgt_space_t *sp = tlb->pgt__sp;
	struct pgt__leaf leaf = { .level = PGT_ERANGE };

	if (!walk_va_ok(sp, A, va))
		return leaf;
	leaf.level = PGT_EHOOK; /* what it stays at when p2v fails */
	const struct walk_ctx c = walk_ctx(sp, hook);
	struct walk_pos at = { .p = walk_root_entry(sp, A, va) };
	/*
	 * Tables under a borrowed root entry (pgt_share) are the owner's, which
	 * frees them without telling this space's TLBs: none is remembered.
	 */
	pgt_tlb_t *keep = (pgt__pte_load(at.p) & A->level[A->levels - 1u].table_borrowed) ? NULL : tlb;
	int st;
#define STEP(l) valid_leaf_step(keep, A, &c, &at, va, &leaf, (l), hook)
	WALK_LEVELS(A->levels, st, STEP);
#undef STEP
	(void)st; /* PGT_OK with the leaf, or PGT_EHOOK (p2v failed) with leaf as it started */
	return leaf;
}

/** What the table a TLB remembers says of a miss (tlb_table_leaf). */
enum tlb_table_answer {
	TLB_NO_TABLE,  /**< the TLB remembers no table of that level for the address */
	TLB_LEAF,      /**< the entry read links no table: the leaf is the answer */
	TLB_FROM_ROOT  /**< the entry read links a table (a superpage became one): walk from the root */
};

/**
 * A TLB miss served from the table of level @p l (a constant) the TLB
 * remembers for @p va: one entry read instead of a walk from the root,
 * its leaf in @p leaf when it links no table. A remembered table is in
 * the tree, and its region's address bits are all in the tag, so @p va
 * is in the space's range too.
 */
static PGT__ALWAYS_INLINE enum tlb_table_answer tlb_table_leaf(const pgt_tlb_t *tlb, const struct pgt_arch *A,
								pgt_vaddr_t va, struct pgt__leaf *leaf,
								unsigned l)
{
	if (l + 1u >= A->levels || !(tlb->pgt__tlevels >> l & 1u))
		return TLB_NO_TABLE;
	const pgt_pte_t *tab = pgt__tlb_table_at(tlb, va, l, A->level[l + 1u].shift, 64u - A->level[0].shift);
	if (!tab)
		return TLB_NO_TABLE;
	const pgt_pte_t *p = tab + pgt__index(&A->level[l], va);
	pgt_pte_t pte = pgt__pte_load(p);
	if (walk_is_table(A, l, pte))
		return TLB_FROM_ROOT;
	*leaf = walk_leaf_of(A, l, p, pte, va);
	return TLB_LEAF;
}

_Static_assert(PGT_MAX_LEVELS == 6, "walk_tlb_upper looks at the tables of five levels at most");

/** A format's walk_tlb_walk or walk_tlb_upper with the descriptor folded in: name##_tlb_walk, name##_tlb_upper. */
typedef int (*walk_tlb_miss_fn)(pgt_tlb_t *tlb, struct pgt_tlb_entry *e0, pgt_vaddr_t va, pgt_paddr_t *pa,
				unsigned *prot);

/** A TLB miss by a walk from the root (no table the TLB remembers holds the leaf). */
static PGT__ALWAYS_INLINE int walk_tlb_walk(pgt_tlb_t *tlb, const struct pgt_arch *A, struct pgt_tlb_entry *e0,
					    pgt_vaddr_t va, pgt_paddr_t *pa, unsigned *prot, bool hook)
{
	return pgt__tlb_put(tlb, e0, walk_valid_leaf(tlb, A, va, hook), va, pa, prot, A->level[0].shift);
}

/**
 * A TLB miss served by the tables of levels 1 and up the TLB remembers
 * (those that hold superpages), the lowest level first, else by the walk
 * from the root, @p walk. Each level its own inlined step, as in
 * WALK_LEVELS.
 */
static PGT__ALWAYS_INLINE int walk_tlb_upper(pgt_tlb_t *tlb, const struct pgt_arch *A, struct pgt_tlb_entry *e0,
					     pgt_vaddr_t va, pgt_paddr_t *pa, unsigned *prot, walk_tlb_miss_fn walk)
{
	struct pgt__leaf leaf;
	enum tlb_table_answer found = tlb_table_leaf(tlb, A, va, &leaf, 1);

	if (found == TLB_NO_TABLE)
		found = tlb_table_leaf(tlb, A, va, &leaf, 2);
	if (found == TLB_NO_TABLE)
		found = tlb_table_leaf(tlb, A, va, &leaf, 3);
	if (found == TLB_NO_TABLE)
		found = tlb_table_leaf(tlb, A, va, &leaf, 4);
	if (found != TLB_LEAF)
		return walk(tlb, e0, va, pa, prot);
	return pgt__tlb_put(tlb, e0, leaf, va, pa, prot, A->level[0].shift);
}

/**
 * A TLB miss that found no entry of @p va's page (way 0 of the set @p e0
 * and the rest probed), counted: the table of smallest pages the TLB
 * remembers for @p va (the one a walk would end in), else those of the
 * levels above, @p upper, else the walk from the root, @p walk. The last
 * two are out of line and every put is the function's last call, a jump:
 * nothing is kept across a call and few values are live, so the common
 * miss, in a table of small pages, saves few registers.
 */
static PGT__ALWAYS_INLINE int walk_tlb_miss(pgt_tlb_t *tlb, const struct pgt_arch *A, struct pgt_tlb_entry *e0,
					    pgt_vaddr_t va, pgt_paddr_t *pa, unsigned *prot, walk_tlb_miss_fn upper,
					    walk_tlb_miss_fn walk)
{
	struct pgt__leaf leaf;
	enum tlb_table_answer found;

	tlb->pgt__fills++;
	found = tlb_table_leaf(tlb, A, va, &leaf, 0);
	if (found == TLB_LEAF)
		return pgt__tlb_put(tlb, e0, leaf, va, pa, prot, A->level[0].shift);
	if (found == TLB_NO_TABLE && (tlb->pgt__tlevels & ~1u))
		return upper(tlb, e0, va, pa, prot);
	return walk(tlb, e0, va, pa, prot);
}

static PGT__ALWAYS_INLINE int walk_to_step(const struct pgt_arch *A, const struct walk_ctx *c, struct walk_pos *at,
					   pgt_vaddr_t va, unsigned target, struct pgt__stop *stop, unsigned l,
					   bool hook)
{
	pgt_pte_t pte = pgt__pte_load(at->p);

	if (l == target || !walk_is_table(A, l, pte)) {
		*stop = (struct pgt__stop){ .pte = at->p, .up = at->up, .level = l };
		return PGT_OK;
	}
	return walk_descend(A, c, at, pte, va, l, hook);
}

static PGT__ALWAYS_INLINE int walk_walk_to(const pgt_space_t *sp, const struct pgt_arch *A, pgt_vaddr_t va,
					   unsigned target, struct pgt__stop *stop, bool hook)
{
	if (!walk_va_ok(sp, A, va))
		return PGT_ERANGE;
	const struct walk_ctx c = walk_ctx(sp, hook);
	struct walk_pos at = { .p = walk_root_entry(sp, A, va) };
	int st;
#define STEP(l) walk_to_step(A, &c, &at, va, target, stop, (l), hook)
	WALK_LEVELS(A->levels, st, STEP);
#undef STEP
	return st;
}

/** What a translate step returns to hand its leaf to pgt__translate_leaf_at (never returned by a walk). */
#define WALK_LEAF_DECIDES 6

/**
 * Whether a leaf that passed the one-compare test @p t matches a malformed
 * pattern of @p L: patterns the test contradicts (RISC-V's W without R,
 * for an access that needs R) are not tested again.
 */
static PGT__ALWAYS_INLINE bool walk_leaf_malformed(const struct pgt_level *L, struct pgt__leaf_pass t,
						   pgt_pte_t pte)
{
	bool bad = false;

#pragma GCC unroll 8
	for (unsigned i = 0; i < PGT_MALFORMED; i++) {
		const struct pgt_pattern *m = &L->malformed[i];
		bool contradicted = (t.mask & m->mask & (t.match ^ m->match)) != 0;
		bad |= m->mask && !contradicted && (pte & m->mask) == m->match;
	}
	return bad;
}

/**
 * The end of a fast translate at the leaf @p pte of level @p l. With the
 * access a constant (@p each), a leaf that passes its one-compare test
 * (pgt__leaf_pass, folded into two immediates) and matches no malformed
 * pattern completes the access at once; any other is kept in @p at for
 * the leaf decision, which names the fault, called after the steps (see
 * translate_step). Otherwise the leaf decision runs here.
 */
static PGT__ALWAYS_INLINE int walk_translate_leaf(const struct pgt_arch *A, struct walk_pos *at, unsigned l,
						  pgt_pte_t pte, pgt_vaddr_t va, unsigned access, pgt_paddr_t *pa,
						  struct pgt_fault *fault, bool each)
{
	if (!each)
		return pgt__translate_leaf(A, l, pte, va, access, pa, fault);
	struct pgt__leaf_pass t = pgt__leaf_pass_for(A, l, pgt__access_right(access));
	if ((pte & t.mask) != t.match || walk_leaf_malformed(&A->level[l], t, pte)) {
		at->leaf = pte;
		at->level = l;
		return WALK_LEAF_DECIDES;
	}
	if (pa)
		*pa = pgt__leaf_pa(&A->level[l], pte, va);
	return PGT_OK;
}

/** What an insert step returns to hand the insert to the general one (never returned by a walk). */
#define WALK_INSERT_GENERAL 5

static PGT__ALWAYS_INLINE int insert_step(const struct pgt_arch *A, const struct walk_ctx *c, struct walk_pos *at,
					  pgt_vaddr_t va, unsigned target, pgt_pte_t leaf, pgt_ref_t *out,
					  unsigned l, bool hook)
{
	pgt_pte_t pte = pgt__pte_load(at->p);

	if (l > target)
		return walk_is_table(A, l, pte) ? walk_descend(A, c, at, pte, va, l, hook) : WALK_INSERT_GENERAL;
	if (l < target || pgt__classify(&A->level[l], l, pte) != PGT__EMPTY)
		return WALK_INSERT_GENERAL;
	pgt__pte_store(at->p, leaf);
	if (l + 1u < A->levels)
		pgt__count_note(&A->level[l + 1u], at->up, 1, l + 2u == A->levels);
	if (out)
		*out = (pgt_ref_t){ .pte = at->p, .level = l, .page_shift = A->level[l].shift };
	return PGT_OK;
}

/**
 * The common insert, a page into the existing table of its level, walked
 * as a lookup is; anything else (tables to allocate, a conflict) is left
 * to the general insert, which walks again. A tail call, as translate's
 * full walk: the common case keeps no frame.
 */
static PGT__ALWAYS_INLINE int walk_insert(pgt_space_t *sp, const struct pgt_arch *A, pgt_vaddr_t va,
					  unsigned target, pgt_ref_t *out, bool hook)
{
	if (!walk_va_ok(sp, A, va))
		return PGT_ERANGE;
	const struct walk_ctx c = walk_ctx(sp, hook);
	struct walk_pos at = { .p = walk_root_entry(sp, A, va) };
	pgt_pte_t leaf = sp->pgt__rsv[target];
	int st;
#define STEP(l) insert_step(A, &c, &at, va, target, leaf, out, (l), hook)
	WALK_LEVELS(A->levels, st, STEP);
#undef STEP
	return st == WALK_INSERT_GENERAL ? pgt__insert_general(sp, va, target, out) : st;
}

/**
 * pgt_insert of a page of level @p target (a constant): its checks, then the
 * compiled walk when the level's reserved leaf is cached, else the general
 * insert.
 */
static PGT__ALWAYS_INLINE int walk_insert_at(pgt_space_t *sp, const struct pgt_arch *A, pgt_vaddr_t va,
					     unsigned target, pgt_ref_t *out, bool hook)
{
	if (!A->level[target].leaf_ok)
		return PGT_ESIZE; /* no page of that size in the format */
	if (va & ((1ull << A->level[target].shift) - 1))
		return PGT_EALIGN;
	if (!(sp->pgt__rsv_ok & (1u << target)))
		return pgt__insert_general(sp, va, target, out);
	return walk_insert(sp, A, va, target, out, hook);
}

/**
 * pgt_set_field after the space and pointer checks, with the ref's level
 * a constant in each case (lib/field.h).
 */
static PGT__ALWAYS_INLINE int walk_set_field(pgt_space_t *sp, const struct pgt_arch *A, pgt_ref_t ref,
					     enum pgt_field f, uint64_t val)
{
	_Static_assert(PGT_MAX_LEVELS == 6, "one case per level");
	switch (ref.level) {
#define CASE(l)                                                               \
	case l:                                                               \
		if ((l) < A->levels)                                          \
			return pgt__set_field_at(sp, A, ref, f, val, (l)); \
		break;
		CASE(0) CASE(1) CASE(2) CASE(3) CASE(4) CASE(5)
#undef CASE
	default: break;
	}
	return PGT_EINVAL;
}

/* --- one page: pgt_map, pgt_unmap, pgt_protect ----------------------------------- */

/** What a one-page step returns when the general function must decide (never returned by a walk). */
#define WALK_GENERAL 7
/** What a map step returns at an empty entry above the target: tables are missing (never returned by a walk). */
#define WALK_BRANCH 8

/**
 * Down to the entry of level @p target for @p va, through tables only: an
 * empty entry above the target stops the walk there (at->level), for a new
 * branch; a superpage on the way is the general map's.
 */
static PGT__ALWAYS_INLINE int map_step(const struct pgt_arch *A, const struct walk_ctx *c, struct walk_pos *at,
				       pgt_vaddr_t va, unsigned target, unsigned l, bool hook)
{
	pgt_pte_t pte = pgt__pte_load(at->p);

	if (l == target) /* any bit set: a conflict, or an entry to replace, for the passes to judge */
		return pte == 0 ? PGT_OK : WALK_GENERAL;
	if (walk_is_table(A, l, pte))
		return walk_descend(A, c, at, pte, va, l, hook);
	return pte == 0 ? WALK_BRANCH : WALK_GENERAL; /* after the table test: a walk through tables pays nothing */
}

/** A format's walk_map_branch with the descriptor folded in: name##_map_branch. */
typedef int (*walk_branch_fn)(pgt_space_t *sp, pgt_vaddr_t va, pgt_paddr_t pa, unsigned target);

/**
 * The one leaf @p leaf of level @p target (a constant) in a table kept by
 * the space (pgt_space_cache), linked into the empty entry @p stop one
 * level up: the table is zero, so this is one pop, two stores and the
 * count of the entry's table.
 */
static PGT__ALWAYS_INLINE void branch_from_cache(pgt_space_t *sp, const struct pgt_arch *A, pgt_vaddr_t va,
						 pgt_pte_t leaf, const struct pgt__stop *stop, unsigned target)
{
	const struct pgt_level *U = &A->level[target + 1u];
	pgt_paddr_t pa;
	pgt_pte_t *tab = pgt__cache_pop(&sp->pgt__cache[target], pgt__cache_offset_mask(&A->level[target]), &pa);

	tab[pgt__index(&A->level[target], va)] = leaf; /* unreachable until the next store */
	pgt__pte_store(stop->pte, pgt__table_entry(U, pa) | pgt__count_bits(U, 1));
	if (target + 2u < A->levels)
		pgt__count_note(&A->level[target + 2u], stop->up, 1, target + 3u == A->levels);
}

/**
 * The one page of level @p target (a constant) under new tables from the
 * empty entry where the map's walk stopped (WALK_BRANCH): nothing there can
 * conflict, and no TLB holds a translation under an empty entry. The walk
 * to that entry is made again: handing over the map walk's position would
 * keep it in registers, saved and restored on the common path. One
 * missing table that the space keeps is linked here; anything else is
 * pgt__branch_make's.
 */
static PGT__ALWAYS_INLINE int walk_map_branch(pgt_space_t *sp, const struct pgt_arch *A, pgt_vaddr_t va,
					      pgt_paddr_t pa, unsigned target, bool hook)
{
	struct pgt__stop stop;
	pgt_pte_t *made;
	int rc = walk_walk_to(sp, A, va, target, &stop, hook);

	if (rc != PGT_OK)
		return rc;
	PGT_ASSERT(stop.level > target && pgt__pte_load(stop.pte) == 0);
	pgt_pte_t leaf = pgt__leaf_make(&A->level[target], sp->pgt__enc[target], pa);
	if (stop.level == target + 1u && sp->pgt__cache[target].n) {
		branch_from_cache(sp, A, va, leaf, &stop, target);
		return PGT_OK;
	}
	return pgt__branch_make(sp, va, target, leaf, &stop, &made);
}

/**
 * pgt_map of the one page [va, va + its size) at level @p target (a
 * constant) into an empty slot of an existing table, as the passes would
 * store it: nothing there can conflict, and no TLB holds an empty slot.
 */
static PGT__ALWAYS_INLINE int walk_map_page(pgt_space_t *sp, const struct pgt_arch *A, pgt_vaddr_t va,
					    pgt_paddr_t pa, unsigned prot, unsigned flags, unsigned target,
					    bool hook, walk_branch_fn branch)
{
	const struct pgt_level *L = &A->level[target];
	uint64_t size = 1ull << L->shift;
	/* A larger page with NOSUPER, a bad flag, PGT_MAP_REPLACE: the general map's. */
	unsigned simple = target == 0 ? PGT_MAP_NOSUPER : 0;

	if ((flags & ~simple) || ((va | pa) & (size - 1)) || !walk_va_ok(sp, A, va) ||
	    (A->pa_bits < 64 && (pa >> A->pa_bits)) || !pgt__encoded(sp, prot))
		return pgt__map_general(sp, va, pa, size, prot, flags);
	const struct walk_ctx c = walk_ctx(sp, hook);
	struct walk_pos at = { .p = walk_root_entry(sp, A, va) };
	int st;
#define STEP(l) map_step(A, &c, &at, va, target, (l), hook)
	WALK_LEVELS(A->levels, st, STEP);
#undef STEP
	if (st == WALK_GENERAL)
		return pgt__map_general(sp, va, pa, size, prot, flags);
	if (st == WALK_BRANCH)
		return branch(sp, va, pa, target);
	if (st == PGT_OK) {
		pgt__pte_store(at.p, pgt__leaf_make(L, sp->pgt__enc[target], pa));
		if (target + 1u < A->levels)
			pgt__count_note(&A->level[target + 1u], at.up, 1, target + 2u == A->levels);
	}
	return st;
}

/** pgt_map: one page of the two smallest sizes by the compiled walk, anything else by the passes. */
static PGT__ALWAYS_INLINE int walk_map(pgt_space_t *sp, const struct pgt_arch *A, pgt_vaddr_t va, pgt_paddr_t pa,
				       uint64_t size, unsigned prot, unsigned flags, bool hook, walk_branch_fn branch)
{
	if (size == 1ull << A->level[0].shift)
		return walk_map_page(sp, A, va, pa, prot, flags, 0, hook, branch);
	if (A->levels > 1 && A->level[1].leaf_ok && size == 1ull << A->level[1].shift)
		return walk_map_page(sp, A, va, pa, prot, flags, 1, hook, branch);
	return pgt__map_general(sp, va, pa, size, prot, flags);
}

/** What the unmap of one leaf does with the table that holds it (see unmap_fate). */
enum unmap_fate {
	UNMAP_KEEP,   /**< the table keeps other entries: it stays */
	UNMAP_FREE,   /**< its last entry goes: unlinked and given back here */
	UNMAP_GENERAL /**< the general unmap's to decide (no count, or the table above empties too) */
};

/**
 * What unmapping the leaf at @p p (level @p l, a constant) does to its
 * table, which the entry @p up links (@p up2 links up's table): by the
 * count in @p up, which is all this reads of the tables; where no count is
 * kept, an entry in use nearby keeps the table. A table whose last entry
 * goes is freed here when the table above keeps other entries (its count
 * says so, or it is the root); else the general unmap frees them level by
 * level. The root always stays.
 */
static PGT__ALWAYS_INLINE enum unmap_fate unmap_fate(const struct pgt_arch *A, const pgt_pte_t *p, pgt_vaddr_t va,
						     const pgt_pte_t *up, const pgt_pte_t *up2, unsigned l)
{
	const struct pgt_level *L = &A->level[l];
	unsigned i = pgt__index(L, va);

	if (l + 1u >= A->levels)
		return UNMAP_KEEP;
	const struct pgt_level *U = &A->level[l + 1u];
	pgt_pte_t u = U->table_count ? pgt__pte_load(up) : 0;
	/* only a root entry can be shared, and keep no count (pgt_share) */
	if (!U->table_count || (l + 2u == A->levels && !pgt__counted(U, u)))
		return pgt__used_near(p - i, pgt__entries(L), i, i + 1) ? UNMAP_KEEP : UNMAP_GENERAL;
	unsigned n = pgt__count_of(U, u);
	if (n != 1)
		return n > 1 ? UNMAP_KEEP : UNMAP_GENERAL; /* 0: a count verify reports; the passes scan */
	if (l + 2u >= A->levels)
		return UNMAP_FREE;
	const struct pgt_level *G = &A->level[l + 2u];
	pgt_pte_t g = G->table_count ? pgt__pte_load(up2) : 0;
	if (!G->table_count || (l + 3u == A->levels && !pgt__counted(G, g)))
		return UNMAP_GENERAL;
	return pgt__count_of(G, g) > 1 ? UNMAP_FREE : UNMAP_GENERAL;
}

/**
 * Unlinks the table of level @p l that the entry @p up links, which just
 * lost its last entry, as the passes' reclaim does, and takes it from the
 * count in @p up2 (unmap_fate saw that table keep others); returns the
 * table's address, to give back after the flush.
 */
static PGT__ALWAYS_INLINE pgt_paddr_t unmap_unlink_table(pgt_space_t *sp, const struct pgt_arch *A, pgt_pte_t *up,
							 pgt_pte_t *up2, unsigned l)
{
	const struct pgt_level *U = &A->level[l + 1u];
	pgt_paddr_t pa = pgt__table_pa(U, pgt__pte_load(up));

	pgt__pte_store(up, 0);
	if (sp->pgt__flags & PGT_SPACE_LINKS)
		*pgt__link_word(U, up) = 0;
	if (l + 2u < A->levels)
		pgt__count_note(&A->level[l + 2u], up2, -1, l + 3u == A->levels);
	return pa;
}

/**
 * Takes the leaf @p pte at @p p, level @p L for @p va, out of the tree:
 * through the space's leaf_ad hook when there is one, which is told the
 * accessed and dirty bits the leaf had.
 */
static PGT__ALWAYS_INLINE void unmap_clear_leaf(pgt_space_t *sp, const struct pgt_level *L, pgt_pte_t *p,
						pgt_pte_t pte, pgt_vaddr_t va)
{
	if (sp->pgt__mm.leaf_ad) /* the entry goes: its bits matter only to the hook */
		pgt__report_ad(sp, L, va, pgt__leaf_update(L, p, pte, ~(pgt_pte_t)0, 0));
	else
		pgt__pte_store(p, 0);
	if (sp->pgt__flags & PGT_SPACE_LINKS)
		*pgt__link_word(L, p) = 0;
}

/**
 * The end of a one-page change of a leaf @p present before it (then
 * flushed), by the compiled walk: the hooks and TLBs told, out of line
 * when there is anything to tell, so that the common end makes no call.
 */
static PGT__ALWAYS_INLINE int change_done(pgt_space_t *sp, pgt_vaddr_t va, uint64_t size, bool present)
{
	if ((present && sp->pgt__mm.tlb_flush) || sp->pgt__tlb_live)
		return walk_answer(pgt__changed_notify(sp, va, size, present));
	pgt__space_gen_bump(sp);
	return PGT_OK;
}

/**
 * pgt_unmap of the leaf @p pte at @p p, level @p l (a constant), whose
 * table the entry @p up links (@p up2 up's table), with @p fate
 * (unmap_fate); as the passes' leaf loop and reclaim write it, with the
 * same hook calls. A table that empties is unlinked here, then flushed
 * and given back by pgt__table_unlinked, the last call, a jump.
 */
static PGT__ALWAYS_INLINE int unmap_leaf(pgt_space_t *sp, const struct pgt_arch *A, pgt_pte_t *p, pgt_pte_t pte,
					 pgt_pte_t *up, pgt_pte_t *up2, pgt_vaddr_t va, enum unmap_fate fate,
					 unsigned l)
{
	const struct pgt_level *L = &A->level[l];

	unmap_clear_leaf(sp, L, p, pte, va);
	if (__builtin_expect(fate == UNMAP_FREE, 0)) {
		pgt_paddr_t dead = unmap_unlink_table(sp, A, up, up2, l);
		return walk_answer(pgt__table_unlinked(sp, va, l, p - pgt__index(L, va), dead, p));
	}
	if (l + 1u < A->levels)
		pgt__count_note(&A->level[l + 1u], up, -1, l + 2u == A->levels);
	return change_done(sp, va, 1ull << L->shift, pgt__is_present(L, pte));
}

/**
 * unmap_leaf where the space has a leaf_ad hook, out of line (its calls
 * would have the common unmap save registers): the leaf read again, as
 * the hook must be told the accessed and dirty bits it has when it goes.
 */
static PGT__ALWAYS_INLINE int unmap_leaf_rest(pgt_space_t *sp, const struct pgt_arch *A, pgt_pte_t *p,
					      pgt_pte_t *up, pgt_pte_t *up2, pgt_vaddr_t va, enum unmap_fate fate,
					      unsigned l)
{
	if (l + 1u >= A->levels)
		fate = UNMAP_KEEP; /* the root stays (and then no level above it is read) */
	return unmap_leaf(sp, A, p, pgt__pte_load(p), up, up2, va, fate, l);
}

/** What unmap_leaf_rest is told: the leaf's level, and whether its table empties. */
#define UNMAP_HOW(l, fate) ((l) << 1 | ((fate) == UNMAP_FREE))

_Static_assert(PGT_MAX_LEVELS == 6, "name##_unmap_rest has a case for each of six levels");

/** A format's unmap_leaf_rest with the descriptor folded in, @p how an UNMAP_HOW: name##_unmap_rest. */
typedef int (*walk_unmap_rest_fn)(pgt_space_t *sp, pgt_pte_t *p, pgt_pte_t *up, pgt_pte_t *up2, pgt_vaddr_t va,
				  unsigned how);

/**
 * pgt_unmap (@p bits NULL; @p rest its rare cases) or pgt_protect (the
 * leaf bits of the new rights) of the leaf @p pte at @p p, level @p l (a
 * constant), whose table the entry @p up links (and @p up2 up's table),
 * when the range is exactly that leaf; as the passes' leaf loop and
 * reclaim write it, with the same hook calls (unmap_fate, unmap_leaf;
 * with a leaf_ad hook the unmap goes to @p rest, unmap_leaf_rest).
 * WALK_GENERAL, having written nothing, when the case does not apply.
 */
static PGT__ALWAYS_INLINE int change_leaf(pgt_space_t *sp, const struct pgt_arch *A, pgt_pte_t *p, pgt_pte_t pte,
					  pgt_pte_t *up, pgt_pte_t *up2, pgt_vaddr_t va, uint64_t size,
					  const pgt_pte_t *bits, walk_unmap_rest_fn rest, unsigned l)
{
	const struct pgt_level *L = &A->level[l];

	if (!L->leaf_ok || size != 1ull << L->shift || (va & (size - 1)) || !pgt__is_mapped_leaf(L, pte))
		return WALK_GENERAL;
	if (!bits) {
		enum unmap_fate fate = unmap_fate(A, p, va, up, up2, l);
		if (fate == UNMAP_GENERAL)
			return WALK_GENERAL;
		if (__builtin_expect(sp->pgt__mm.leaf_ad != NULL, 0))
			return walk_answer(rest(sp, p, up, up2, va, UNMAP_HOW(l, fate)));
		return unmap_leaf(sp, A, p, pte, up, up2, va, fate, l);
	}
	if (((pte & ~L->prot_mask) | bits[l]) != pte)
		pgt__report_ad(sp, L, va, pgt__leaf_update(L, p, pte, L->prot_mask, bits[l]));
	else
		pte = 0; /* the rights it has: nothing to flush */
	if (pgt__is_present(L, pte))
		pgt__tlb_flush_hook(sp, va, va + (size - 1));
	pgt__space_changed(sp);
	return PGT_OK;
}

static PGT__ALWAYS_INLINE int change_step(pgt_space_t *sp, const struct pgt_arch *A, const struct walk_ctx *c,
					  struct walk_pos *at, pgt_vaddr_t va, uint64_t size, const pgt_pte_t *bits,
					  walk_unmap_rest_fn rest, unsigned l, bool hook)
{
	pgt_pte_t pte = pgt__pte_load(at->p);

	if (!walk_is_table(A, l, pte))
		return change_leaf(sp, A, at->p, pte, at->up, at->up2, va, size, bits, rest, l);
	return walk_descend(A, c, at, pte, va, l, hook);
}

/** pgt_unmap or pgt_protect (see change_leaf) of one whole leaf by the compiled walk, or WALK_GENERAL. */
static PGT__ALWAYS_INLINE int walk_change(pgt_space_t *sp, const struct pgt_arch *A, pgt_vaddr_t va,
					  uint64_t size, const pgt_pte_t *bits, walk_unmap_rest_fn rest, bool hook)
{
	if (!walk_va_ok(sp, A, va))
		return WALK_GENERAL;
	const struct walk_ctx c = walk_ctx(sp, hook);
	struct walk_pos at = { .p = walk_root_entry(sp, A, va) };
	int st;
#define STEP(l) change_step(sp, A, &c, &at, va, size, bits, rest, (l), hook)
	WALK_LEVELS(A->levels, st, STEP);
#undef STEP
	return st;
}

static PGT__ALWAYS_INLINE int walk_unmap(pgt_space_t *sp, const struct pgt_arch *A, pgt_vaddr_t va, uint64_t size,
					 walk_unmap_rest_fn rest, bool hook)
{
	int st = walk_change(sp, A, va, size, NULL, rest, hook);

	return st == WALK_GENERAL ? pgt__unmap_general(sp, va, size) : st;
}

static PGT__ALWAYS_INLINE int walk_protect(pgt_space_t *sp, const struct pgt_arch *A, pgt_vaddr_t va,
					   uint64_t size, unsigned prot, bool hook)
{
	int st = pgt__encoded(sp, prot) ? walk_change(sp, A, va, size, sp->pgt__enc, NULL, hook) : WALK_GENERAL;

	return st == WALK_GENERAL ? pgt__protect_general(sp, va, size, prot) : st;
}

/** What a translate step returns to hand the access to the full walk (never returned by a walk). */
#define WALK_FULL 4

/*
 * With no odd table entry on the way, the leaf alone decides (its rules
 * and the descriptor's implied rule, all constants here); otherwise the
 * full walk does. Both are called after the steps, not from one: a call
 * whose answer the next step must test keeps a frame and saved registers
 * on every walk, a tail call at the end keeps none.
 */
static PGT__ALWAYS_INLINE int translate_step(const struct pgt_arch *A, const struct walk_ctx *c,
					     struct walk_pos *at, pgt_vaddr_t va, unsigned access, pgt_paddr_t *pa,
					     struct pgt_fault *fault, unsigned l, bool hook, bool each)
{
	pgt_pte_t pte = pgt__pte_load(at->p);

	if (!walk_is_table(A, l, pte))
		return at->odd ? WALK_FULL : walk_translate_leaf(A, at, l, pte, va, access, pa, fault, each);
	at->odd |= walk_odd(A, l, pte, access, each);
	return walk_descend(A, c, at, pte, va, l, hook);
}

static PGT__ALWAYS_INLINE int walk_translate(const pgt_space_t *sp, const struct pgt_arch *A, pgt_vaddr_t va,
					     unsigned access, pgt_paddr_t *pa, struct pgt_fault *fault, bool hook,
					     bool each)
{
	if (!walk_va_ok(sp, A, va))
		return PGT_ERANGE;
	const struct walk_ctx c = walk_ctx(sp, hook);
	struct walk_pos at = { .p = walk_root_entry(sp, A, va) };
	int st;
#define STEP(l) translate_step(A, &c, &at, va, access, pa, fault, (l), hook, each)
	WALK_LEVELS(A->levels, st, STEP);
#undef STEP
	if (st == WALK_LEAF_DECIDES)
		return pgt__translate_leaf_at(A, at.level, at.leaf, va, access, pa, fault);
	return st == WALK_FULL ? pgt__translate_full(sp, va, access, pa, fault) : st;
}

/*
 * One set of functions per (descriptor, p2v kind). A is the address of a
 * static const copy of a format's descriptor, which the compiler folds
 * into immediates.
 */
#define PGT__WALK_FNS(name, A, hook)                                                                   \
	static int name##_lookup(const pgt_space_t *sp, pgt_vaddr_t va, pgt_ref_t *out)                \
	{                                                                                              \
		return walk_lookup(sp, (A), va, out, hook);                                            \
	}                                                                                              \
	static int name##_walk_to(const pgt_space_t *sp, pgt_vaddr_t va, unsigned target,              \
				  struct pgt__stop *at)                                                \
	{                                                                                              \
		return walk_walk_to(sp, (A), va, target, at, hook);                                    \
	}                                                                                              \
	static int name##_insert(pgt_space_t *sp, pgt_vaddr_t va, unsigned page_shift, pgt_ref_t *out) \
	{ /* each of the three smallest leaf sizes with its level a constant */                        \
		if (page_shift == (A)->level[0].shift)                                                 \
			return walk_insert_at(sp, (A), va, 0, out, hook);                              \
		if ((A)->levels > 1 && page_shift == (A)->level[1].shift)                              \
			return walk_insert_at(sp, (A), va, 1, out, hook);                              \
		if ((A)->levels > 2 && page_shift == (A)->level[2].shift)                              \
			return walk_insert_at(sp, (A), va, 2, out, hook);                              \
		return pgt__insert_page(sp, va, page_shift, out);                                      \
	}                                                                                              \
	static __attribute__((noinline)) int name##_tlb_walk(pgt_tlb_t *tlb, struct pgt_tlb_entry *e0, \
							     pgt_vaddr_t va, pgt_paddr_t *pa,         \
							     unsigned *prot)                          \
	{                                                                                              \
		return walk_tlb_walk(tlb, (A), e0, va, pa, prot, hook);                                \
	}                                                                                              \
	static __attribute__((noinline)) int name##_tlb_upper(pgt_tlb_t *tlb, struct pgt_tlb_entry *e0, \
							      pgt_vaddr_t va, pgt_paddr_t *pa,        \
							      unsigned *prot)                         \
	{                                                                                              \
		return walk_tlb_upper(tlb, (A), e0, va, pa, prot, name##_tlb_walk);                    \
	}                                                                                              \
	static __attribute__((noinline)) int name##_tlb_super(pgt_tlb_t *tlb, struct pgt_tlb_entry *e0, \
							      pgt_vaddr_t va, pgt_paddr_t *pa,        \
							      unsigned *prot)                         \
	{ /* the rest of pgt__tlb_probe, where the TLB holds superpages of another kind */            \
		const struct pgt_tlb_entry *e = pgt__tlb_find_super(tlb, (A), va);                     \
		if (e)                                                                                 \
			return pgt__tlb_answer(e, va, pa, prot);                                       \
		return walk_tlb_miss(tlb, (A), e0, va, pa, prot, name##_tlb_upper, name##_tlb_walk);   \
	}                                                                                              \
	static int name##_tlb_refill(pgt_tlb_t *tlb, pgt_vaddr_t va, pgt_paddr_t *pa, unsigned *prot)  \
	{ /* way 1, the superpages, a cached table, else the walk: pgt__tlb_probe, its rare */        \
	  /* part out of line, so that a miss of a small page keeps few values in registers */        \
		const unsigned s = (A)->level[0].shift;                                                \
		struct pgt_tlb_entry *e0 = pgt__tlb_set(tlb, va, s);                                   \
		const struct pgt_tlb_entry *e = pgt__tlb_from_way1(tlb, e0, va >> s);                  \
		if (e)                                                                                 \
			return pgt__tlb_answer(e, va, pa, prot);                                       \
		if (pgt__tlb_more_supers(tlb))                                                         \
			return name##_tlb_super(tlb, e0, va, pa, prot);                                \
		return walk_tlb_miss(tlb, (A), e0, va, pa, prot, name##_tlb_upper, name##_tlb_walk);   \
	}                                                                                              \
	static int name##_set_field(pgt_space_t *sp, pgt_ref_t ref, enum pgt_field f, uint64_t val)   \
	{                                                                                              \
		return walk_set_field(sp, (A), ref, f, val);                                           \
	}                                                                                              \
	static __attribute__((noinline)) int name##_map_branch(pgt_space_t *sp, pgt_vaddr_t va,       \
							       pgt_paddr_t pa, unsigned target)       \
	{ /* the two levels walk_map takes, each with its level a constant */                          \
		return target ? walk_map_branch(sp, (A), va, pa, 1, hook)                              \
			      : walk_map_branch(sp, (A), va, pa, 0, hook);                             \
	}                                                                                              \
	static int name##_map(pgt_space_t *sp, pgt_vaddr_t va, pgt_paddr_t pa, uint64_t size,         \
			      unsigned prot, unsigned flags)                                           \
	{                                                                                              \
		return walk_map(sp, (A), va, pa, size, prot, flags, hook, name##_map_branch);          \
	}                                                                                              \
	static __attribute__((noinline)) int name##_unmap_rest(pgt_space_t *sp, pgt_pte_t *p,          \
							       pgt_pte_t *up, pgt_pte_t *up2,         \
							       pgt_vaddr_t va, unsigned how)          \
	{ /* each level that may hold leaves with its level a constant */                              \
		enum unmap_fate fate = (how & 1u) ? UNMAP_FREE : UNMAP_KEEP;                           \
		switch (how >> 1) {                                                                    \
		case 0:                                                                                \
			return unmap_leaf_rest(sp, (A), p, up, up2, va, fate, 0);                      \
		case 1:                                                                                \
			return unmap_leaf_rest(sp, (A), p, up, up2, va, fate, 1);                      \
		case 2:                                                                                \
			return unmap_leaf_rest(sp, (A), p, up, up2, va, fate, 2);                      \
		case 3:                                                                                \
			return unmap_leaf_rest(sp, (A), p, up, up2, va, fate, 3);                      \
		case 4:                                                                                \
			return unmap_leaf_rest(sp, (A), p, up, up2, va, fate, 4);                      \
		default:                                                                               \
			return unmap_leaf_rest(sp, (A), p, up, up2, va, fate, 5);                      \
		}                                                                                      \
	}                                                                                              \
	static int name##_unmap(pgt_space_t *sp, pgt_vaddr_t va, uint64_t size)                        \
	{                                                                                              \
		return walk_unmap(sp, (A), va, size, name##_unmap_rest, hook);                         \
	}                                                                                              \
	static int name##_protect(pgt_space_t *sp, pgt_vaddr_t va, uint64_t size, unsigned prot)       \
	{                                                                                              \
		return walk_protect(sp, (A), va, size, prot, hook);                                    \
	}

/** A translate for access @p acc (`access` for any); @p each as in walk_translate_leaf. */
#define PGT__WALK_TRANSLATE(name, A, acc, hook, each)                                            \
	static int name(const pgt_space_t *sp, pgt_vaddr_t va, unsigned access, pgt_paddr_t *pa, \
			struct pgt_fault *fault)                                                 \
	{                                                                                        \
		(void)access;                                                                    \
		return walk_translate(sp, (A), va, (acc), pa, fault, hook, each);                \
	}

/** The walks of one p2v kind with one translate for every access: name##_ops. */
#define PGT__WALKS_ANY(name, A, hook)                                                                 \
	PGT__WALK_FNS(name, A, hook)                                                                  \
	PGT__WALK_TRANSLATE(name##_translate, A, access, hook, false)                                 \
	static const struct pgt__walk_ops name##_ops = { name##_lookup, name##_walk_to,               \
							 PGT__TRANSLATE_ALL(name##_translate), name##_insert, \
							 name##_tlb_refill, name##_set_field, name##_map,     \
							 name##_unmap, name##_protect };

/** The translate of access @p acc with the rules of its right folded in: name##_tr_##sfx. */
#define PGT__WALK_TR(name, sfx, A, acc, hook) PGT__WALK_TRANSLATE(name##_tr_##sfx, A, acc, hook, true)

/** The walks of one p2v kind with a translate compiled for each access: name##_ops. */
#define PGT__WALKS_EACH(name, A, hook)                                                                 \
	PGT__WALK_FNS(name, A, hook)                                                                   \
	PGT__WALK_TR(name, r, A, PGT_ACC_READ, hook)                                                   \
	PGT__WALK_TR(name, w, A, PGT_ACC_WRITE, hook)                                                  \
	PGT__WALK_TR(name, x, A, PGT_ACC_EXEC, hook)                                                   \
	PGT__WALK_TR(name, ur, A, PGT_ACC_READ | PGT_ACC_USER, hook)                                   \
	PGT__WALK_TR(name, uw, A, PGT_ACC_WRITE | PGT_ACC_USER, hook)                                  \
	PGT__WALK_TR(name, ux, A, PGT_ACC_EXEC | PGT_ACC_USER, hook)                                   \
	static const struct pgt__walk_ops name##_ops = {                                               \
		name##_lookup,                                                                         \
		name##_walk_to,                                                                        \
		PGT__TRANSLATE_EACH(name##_tr_r, name##_tr_w, name##_tr_x, name##_tr_ur, name##_tr_uw, \
				    name##_tr_ux),                                                     \
		name##_insert,                                                                         \
		name##_tlb_refill,                                                                     \
		name##_set_field,                                                                      \
		name##_map,                                                                            \
		name##_unmap,                                                                          \
		name##_protect,                                                                        \
	};

/**
 * A format's compiled walks: `static const struct pgt_arch_walks name`, for
 * the descriptor @p exported, with the masks of its static copy @p A as
 * constants. The p2v offset kind, the one simulators use, gets a translate
 * per access; the hook kind, for kernels, one for all, to keep kernels small.
 */
/* tests/analyze.sh may stand in its own PGT__WALKS (tests/analyze_walks.h). */
#ifndef PGT__WALKS
#define PGT__WALKS(name, A, exported)                                                       \
	PGT__WALKS_EACH(name##_off, A, false)                                               \
	PGT__WALKS_ANY(name##_hook, A, true)                                                \
	static const struct pgt_arch_walks name = { (exported), { &name##_off_ops, &name##_hook_ops } };
#endif

#endif /* PGT_LIB_WALKS_TPL_H */
