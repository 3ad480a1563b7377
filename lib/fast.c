/* SPDX-License-Identifier: MIT */
/*
 * pgt_fast_init: the layout of a space's format, worked out of its
 * descriptor by the same entry rules the engine's walks use (internal.h,
 * rights.h), then found among the kinds <pgtable/fast.h> compiles walks
 * for. Every test worked out is sound: an entry that passes is what the
 * test claims; anything else goes to the out-of-line calls. A kind is
 * given only when its layout equals the worked-out one in every field the
 * walks read, so that its constant walks answer as the engine does; no
 * format is known here by name.
 */
#include <pgtable/fast.h>

#include "rights.h"

_Static_assert(PGT_FAST_LEVELS == PGT_MAX_LEVELS, "one struct pgt_fast_level per level a descriptor may have");

/** A test no entry passes: match has a bit mask lacks. */
static const struct pgt_fast_test never = { 0, 1 };

/** A range test no entry passes: 0 - 1 is above every span but the largest. */
static const struct pgt_fast_range never_in_range = { 0, 1, 0 };

/**
 * The range test for "passes @p t and is present (has a bit of @p valid)":
 * span 0 when @p t asks a valid bit itself; else, when the valid bits are a
 * run from bit 0 that @p t does not look at, the values of @p t's match
 * plus one of them. False when neither holds.
 */
static bool range_of(struct pgt_fast_test t, pgt_pte_t valid, struct pgt_fast_range *r)
{
	if (t.match & ~t.mask)
		*r = never_in_range;
	else if (t.match & valid)
		*r = (struct pgt_fast_range){ t.mask, t.match, 0 };
	else if ((valid & (valid + 1)) == 0 && !(t.mask & valid) && (t.match & valid) == 0)
		*r = (struct pgt_fast_range){ t.mask | valid, t.match + 1, valid - 1 };
	else
		return false;
	return true;
}

/**
 * Adds "bits @p bits of the entry read @p want" to @p t; false, with @p t
 * unchanged, when @p t already asks another value of one of them.
 */
static bool test_add(struct pgt_fast_test *t, pgt_pte_t bits, pgt_pte_t want)
{
	if (t->mask & bits & (t->match ^ want))
		return false;
	t->mask |= bits;
	t->match |= want & bits;
	return true;
}

/** Whether no entry that passes @p t can match the pattern @p m. */
static bool test_excludes(const struct pgt_fast_test *t, const struct pgt_pattern *m)
{
	return !m->mask || (t->mask & m->mask & (t->match ^ m->match)) != 0;
}

/**
 * Narrows @p t so that no entry passing it matches @p m, keeping @p ref (a
 * well-formed leaf the codec writes) passing: one bit where @p ref differs
 * from the pattern is required to read as in @p ref. False when no such
 * bit is left.
 */
static bool test_exclude(struct pgt_fast_test *t, const struct pgt_pattern *m, pgt_pte_t ref)
{
	pgt_pte_t differ = m->mask & ~t->mask & (ref ^ m->match);
	pgt_pte_t bit = differ & -differ;

	if (test_excludes(t, m))
		return true;
	return bit && test_add(t, bit, ref & bit);
}

/**
 * The table test of level @p l: what pgt__is_table says (of the table type,
 * no bit of leaf_any, present), as the test before "present".
 */
static struct pgt_fast_test table_test(const struct pgt_level *L, unsigned l)
{
	if (l == 0)
		return never;
	return (struct pgt_fast_test){ L->type_mask | L->leaf_any, L->table_type };
}

/** Every bit of a table entry at @p L that a hierarchical rule looks at. */
static pgt_pte_t rule_bits(const struct pgt_level *L)
{
	pgt_pte_t bits = 0;

	for (unsigned i = 0; i < PGT_RULES; i++)
		if (L->table_rules[i].removes)
			bits |= L->table_rules[i].mask;
	return bits;
}

/**
 * The translate table test of level @p l, before "present": a table entry whose rule bits
 * are the library's own (table_attrs, which grant everything), with no
 * must-be-zero bit and matching no malformed pattern, as walk_odd of the
 * compiled walks says. A format whose own table entries fail it gets a test
 * nothing passes: every translate then goes to pgt_translate.
 */
static struct pgt_fast_test table_plain_test(const struct pgt_level *L, unsigned l)
{
	struct pgt_fast_test t = table_test(L, l);

	if (l == 0 || !test_add(&t, rule_bits(L), L->table_attrs) || !test_add(&t, L->table_mbz, 0))
		return never;
	for (unsigned i = 0; i < PGT_MALFORMED; i++) {
		const struct pgt_pattern *m = &L->malformed[i];
		if (!pgt__table_pattern(L, i) || test_excludes(&t, m))
			continue;
		/* Ask the library's own value of the pattern's bits, unless that matches it. */
		if ((L->table_attrs & m->mask) == m->match || !test_add(&t, m->mask, L->table_attrs))
			return never;
	}
	return t;
}

/**
 * A leaf the codec writes at level @p l for an access of kind @p kind
 * (user when @p user): readable and writable for data, readable and
 * executable for code, or whatever of those the format can encode; 0 when
 * it encodes none of them.
 */
static pgt_pte_t reference_leaf(const struct pgt_arch *a, unsigned l, unsigned kind, bool user)
{
	const unsigned u = user ? PGT_PROT_USER : 0u, data = PGT_PROT_READ | PGT_PROT_WRITE;
	const unsigned prots[] = { (kind == PGT_ACC_EXEC ? PGT_PROT_READ | PGT_PROT_EXEC : data) | u,
				   PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC | u, PGT_PROT_READ | u };
	pgt_pte_t bits;

	for (unsigned i = 0; i < sizeof prots / sizeof prots[0]; i++)
		if (a->prot_encode(l, prots[i], &bits) == PGT_OK)
			return bits;
	return 0;
}

/**
 * The one-compare test of the compiled walks for @p access at level @p l,
 * narrowed so that no leaf that passes is malformed.
 */
static struct pgt_fast_test leaf_pass(const struct pgt_arch *a, unsigned l, unsigned access)
{
	const struct pgt_level *L = &a->level[l];
	struct pgt__leaf_pass p = pgt__leaf_pass_for(a, l, pgt__access_right(access));
	struct pgt_fast_test t = { p.mask, p.match };
	pgt_pte_t ref;

	if (t.match & ~t.mask)
		return never; /* narrowing it below could make it pass something */
	ref = reference_leaf(a, l, access & PGT__ACC_KIND, (access & PGT_ACC_USER) != 0);

	for (unsigned i = 0; i < PGT_MALFORMED; i++)
		if (!test_exclude(&t, &L->malformed[i], ref))
			return never;
	return t;
}

/** The leaf tests of level @p l: pgt__is_mapped_leaf for lookup, leaf_pass for each access. */
static void fill_leaf(struct pgt_fast_layout *f, const struct pgt_arch *a, unsigned l)
{
	const struct pgt_level *L = &a->level[l];
	struct pgt_fast_level *F = &f->level[l];

	F->present = L->valid;
	F->reserved = L->leaf_ok ? L->reserved : 0;
	F->leaf = L->leaf_ok ? (struct pgt_fast_test){ L->type_mask, L->leaf_type } : never;
	F->leaf_any = L->leaf_any ? L->leaf_any : L->valid;
	for (unsigned acc = 0; acc < PGT_FAST_ACCESSES; acc++)
		f->pass[l][acc] = leaf_pass(a, l, (1u << (acc % 3)) | (acc >= 3 ? PGT_ACC_USER : 0u));
}

/**
 * Whether the leaf test of @p L can be the descriptor's: a leaf type
 * without a valid bit and leaf_any bits outside `valid` would need a
 * third test (present and one of leaf_any).
 */
static bool leaf_expressible(const struct pgt_level *L)
{
	return !L->leaf_ok || !L->leaf_any || (L->leaf_type & L->valid) || !(L->leaf_any & ~L->valid);
}

/** Fills level @p l of @p f; false when its table test has no range form. */
static bool fill_level(struct pgt_fast_layout *f, const struct pgt_arch *a, unsigned l)
{
	const struct pgt_level *L = &a->level[l];
	struct pgt_fast_level *F = &f->level[l];

	*F = (struct pgt_fast_level){ .next_oa = L->table_oa,
				      .leaf_oa = L->leaf_oa,
				      .index_mask = (1ull << L->bits) - 1u,
				      .shift = L->shift,
				      .oa_shift = L->oa_shift };
	if (!range_of(table_test(L, l), L->valid, &F->table))
		return false;
	/* A plain table entry with no range form is left to pgt_translate. */
	if (!range_of(table_plain_test(L, l), L->valid, &F->table_plain))
		F->table_plain = never_in_range;
	fill_leaf(f, a, l);
	return true;
}

/** The layout of @p a; false when it has none (a test without a one-compare form). */
static bool layout_of(const struct pgt_arch *a, struct pgt_fast_layout *k)
{
	if (a->levels > PGT_FAST_LEVELS)
		return false;
	for (unsigned l = 0; l < a->levels; l++)
		if (!leaf_expressible(&a->level[l]))
			return false;
	*k = (struct pgt_fast_layout){ .levels = (uint8_t)a->levels, .va_bits = (uint8_t)a->va_bits };
	for (unsigned l = 0; l < a->levels; l++)
		if (!fill_level(k, a, l))
			return false;
	return true;
}

static bool same_test(struct pgt_fast_test x, struct pgt_fast_test y)
{
	return x.mask == y.mask && x.match == y.match;
}

static bool same_range(struct pgt_fast_range x, struct pgt_fast_range y)
{
	return x.mask == y.mask && x.lo == y.lo && x.span == y.span;
}

/** Whether two levels agree in every field the walks read. */
static bool same_level(const struct pgt_fast_level *x, const struct pgt_fast_level *y)
{
	return same_range(x->table, y->table) && same_range(x->table_plain, y->table_plain) &&
	       same_test(x->leaf, y->leaf) && x->leaf_any == y->leaf_any && x->present == y->present &&
	       x->reserved == y->reserved && x->next_oa == y->next_oa && x->leaf_oa == y->leaf_oa &&
	       x->index_mask == y->index_mask && x->shift == y->shift && x->oa_shift == y->oa_shift;
}

/** Whether two layouts agree in every field the walks read: their levels, and each level's tests. */
static bool same_layout(const struct pgt_fast_layout *x, const struct pgt_fast_layout *y)
{
	if (x->levels != y->levels || x->va_bits != y->va_bits)
		return false;
	for (unsigned l = 0; l < x->levels; l++) {
		if (!same_level(&x->level[l], &y->level[l]))
			return false;
		for (unsigned acc = 0; acc < PGT_FAST_ACCESSES; acc++)
			if (!same_test(x->pass[l][acc], y->pass[l][acc]))
				return false;
	}
	return true;
}

/** The kind whose layout is @p k, or PGT_FAST_NONE. */
static unsigned kind_of(const struct pgt_fast_layout *k)
{
	for (unsigned kind = PGT_FAST_NONE + 1; kind < PGT_FAST_KINDS; kind++)
		if (same_layout(k, &pgt_fast_layouts[kind]))
			return kind;
	return PGT_FAST_NONE;
}

int pgt_fast_init(struct pgt_fast *f, const pgt_space_t *sp)
{
	struct pgt_fast_layout k;
	unsigned kind;

	if (!f || !pgt__space_ok(sp))
		return PGT_EINVAL;
	if (sp->pgt__mm.p2v)
		return PGT_ENOTSUP; /* the inline walk adds an offset; it calls no hook */
	if (!layout_of(sp->pgt__arch, &k) || (kind = kind_of(&k)) == PGT_FAST_NONE)
		return PGT_ENOTSUP;
	*f = (struct pgt_fast){ .space = sp,
				.root = (uintptr_t)sp->pgt__root,
				.offset = sp->pgt__mm.p2v_offset,
				.va_lo = sp->pgt__va_lo,
				.kind = (uint16_t)kind,
				.flags = sp->pgt__mm.p2v_offset ? 0u : PGT_FAST_IDENTITY };
	return PGT_OK;
}
