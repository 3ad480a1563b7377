/* SPDX-License-Identifier: MIT */
/*
 * The life of a space: descriptor checks, table memory, init and destroy.
 */
#include "rights.h"
#include "table.h"
#include "tlb.h"
#include "walks.h"

_Static_assert(sizeof(pgt_space_t) == PGT_SPACE_WORDS * sizeof(uint64_t),
	       "pgt_space_t's private state outgrew the room every version keeps (PGT_SPACE_WORDS)");

/** Checks the parts of one level that the walk relies on. */
static bool level_ok(const struct pgt_arch *a, unsigned l)
{
	const struct pgt_level *L = &a->level[l];

	if (L->bits == 0 || L->bits > 16 || L->table_size != (8u << L->bits) || L->oa_shift > 16)
		return false;
	if (l > 0 && L->shift != a->level[l - 1].shift + a->level[l - 1].bits)
		return false;
	/* An entry must be told apart from an empty one by its valid bits. */
	if (L->valid == 0 || (L->leaf_ok && (L->reserved == 0 || (L->reserved & L->valid))))
		return false;
	/* ...and a table-aligned address must read as not present (see arch.h). */
	if (L->valid & ~(((pgt_pte_t)L->table_size - 1) >> L->oa_shift))
		return false;
	/*
	 * Tables out of the tree carry a list link in their first entries
	 * (table.h). A root never goes on a list: pools and branches hold
	 * tables for the level below an entry (lib/table.c, insert.c, range.c,
	 * share.c, mdb.c count need[] below the root), only a table unlinked
	 * from an entry is retired, and pgt_space_destroy frees the root
	 * directly. Level 0 needs the link even as a 1-level root: range.c
	 * takes its memo chunks from level 0.
	 */
	bool listed = l + 1u < a->levels || l == 0;
	if (listed && (pgt__entries(L) < PGT__LIST_WORDS || pgt__list_window(L) == 64))
		return false;
	return !L->leaf_ok || (L->leaf_oa & pgt__oa_bits_below(L, L->shift)) == 0;
}

/**
 * Checks the table entries the library writes at level @p l (l > 0): they
 * are table entries, well formed, and take no right away, which the walks
 * rely on when they skip the rules of an entry equal to table_attrs on the
 * rule bits (lib/walks_tpl.h); and a leaf here is never taken for a table.
 */
static bool table_entry_ok(const struct pgt_arch *a, unsigned l)
{
	const struct pgt_level *L = &a->level[l];
	pgt_pte_t own = pgt__table_entry(L, 0);

	if (!pgt__is_table(L, l, own) || pgt__table_malformed(L, own) || pgt__rules_remove(L->table_rules, own))
		return false;
	if (L->table_type & L->leaf_any)
		return false; /* pgt__is_table tests both in one compare */
	return !L->leaf_ok || ((L->leaf_type ^ L->table_type) & L->type_mask) || L->leaf_any;
}

/**
 * Checks the count field of table entries at level @p l (pgt_level.table_count):
 * none, or at most PGT__COUNT_RUNS runs of bits that together hold 0 to
 * the number of entries of a table of the level below and share no bit
 * with what a table entry uses otherwise. Level 0 has no table entries,
 * so no count.
 */
static bool table_count_ok(const struct pgt_arch *a, unsigned l)
{
	const struct pgt_level *L = &a->level[l];
	pgt_pte_t m = L->table_count, used = L->valid | L->type_mask | L->table_type | L->leaf_any | L->table_oa |
					       L->table_attrs | L->table_mbz | L->table_accessed |
					       L->table_borrowed | L->table_pinned;

	if (m == 0)
		return true;
	if (l == 0)
		return false;
	uint64_t last = pgt__runs_of(m).run[PGT__COUNT_RUNS - 1];
	if (last != pgt__low_run(last))
		return false; /* more runs than PGT__COUNT_RUNS */
	if (pgt__field_get(m, m) < pgt__entries(&a->level[l - 1]))
		return false; /* too narrow for a full table */
	for (unsigned i = 0; i < PGT_RULES; i++)
		used |= L->table_rules[i].mask;
	for (unsigned i = 0; i < PGT_MALFORMED; i++)
		used |= L->malformed[i].mask;
	return (m & used) == 0;
}

/** A descriptor the engine can walk without going out of bounds. */
static bool arch_ok(const struct pgt_arch *a)
{
	if (a->levels == 0 || a->levels > PGT_MAX_LEVELS)
		return false;
	if (a->va_bits == 0 || a->va_bits >= 64 || a->pa_bits == 0 || a->pa_bits > 64)
		return false;
	if (a->canon != PGT_CANON_SIGN_EXTEND && a->canon != PGT_CANON_SPLIT)
		return false;
	if (!a->prot_encode || !a->prot_decode || !a->level[0].leaf_ok || a->stage > 2)
		return false;
	for (unsigned i = 0; i < sizeof a->pgt__room / sizeof a->pgt__room[0]; i++)
		if (a->pgt__room[i])
			return false;
	for (unsigned l = 0; l < a->levels; l++)
		if (!level_ok(a, l) || (l > 0 && !table_entry_ok(a, l)) || !table_count_ok(a, l))
			return false;
	const struct pgt_level *root = &a->level[a->levels - 1];
	return root->shift + root->bits == a->va_bits;
}

/**
 * PGT_SPACE_UPPER only where there is an upper range: a split first-stage
 * format (a second stage's input addresses start at 0).
 */
static bool upper_ok(const struct pgt_arch *a, unsigned flags)
{
	return !(flags & PGT_SPACE_UPPER) || (a->canon == PGT_CANON_SPLIT && a->stage != 2);
}

int pgt__encode_again(pgt_space_t *sp, unsigned prot)
{
	const struct pgt_arch *a = sp->pgt__arch;

	if (!pgt__prot_ok(prot))
		return PGT_EFLAGS;
	sp->pgt__enc_prot = PGT__ENC_NONE; /* pgt__enc is rewritten below */
	for (unsigned l = 0; l < a->levels; l++) {
		sp->pgt__enc[l] = 0;
		if (!a->level[l].leaf_ok)
			continue;
		int rc = a->prot_encode(l, prot, &sp->pgt__enc[l]);
		if (rc != PGT_OK)
			return rc;
	}
	sp->pgt__enc_prot = prot;
	return PGT_OK;
}

int pgt__page_level(const pgt_space_t *sp, unsigned page_shift)
{
	for (unsigned l = 0; l < sp->pgt__arch->levels; l++) {
		const struct pgt_level *L = pgt__level(sp, l);
		if (L->shift == page_shift && L->leaf_ok)
			return (int)l;
	}
	return -1;
}


int pgt_space_init(pgt_space_t *sp, const struct pgt_arch *arch, const struct pgt_mm *mm, unsigned flags)
{
	if (!sp || !arch || !mm || !arch_ok(arch))
		return PGT_EINVAL;
	if (!mm->alloc_table || !mm->free_table)
		return PGT_ENOHOOK;
	if ((flags & ~PGT__SPACE_FLAGS) || !upper_ok(arch, flags))
		return PGT_EFLAGS;

	pgt_space_t s = { .pgt__arch = arch, .pgt__mm = *mm, .pgt__flags = flags };
	unsigned root = arch->levels - 1u;
	int rc = pgt__table_alloc(&s, root, &s.pgt__root_pa, &s.pgt__root);
	if (rc != PGT_OK)
		return rc;
	pgt__table_clear(&s, root, s.pgt__root);
	for (unsigned l = 0; l < arch->levels; l++)
		s.pgt__list_bit[l] = (uint8_t)pgt__list_window(pgt__level(&s, l));
	pgt__walks_init(&s); /* fast paths: lib/walks.c */
	s.pgt__magic = PGT__MAGIC;
	*sp = s;
	return PGT_OK;
}

bool pgt__is_view(const pgt_space_t *sp)
{
	return sp->pgt__magic == PGT__MAGIC_VIEW;
}

/** Whether a view's root @p root is aligned to its size and within the format's physical addresses. */
static int view_root_check(const struct pgt_arch *a, pgt_paddr_t root)
{
	const struct pgt_level *R = &a->level[a->levels - 1u];

	if (root & (R->table_size - 1u))
		return PGT_EALIGN;
	if (root == PGT_PADDR_NONE || (a->pa_bits < 64 && (root >> a->pa_bits)))
		return PGT_ERANGE;
	return PGT_OK;
}

int pgt_space_view(pgt_space_t *sp, const struct pgt_arch *arch, const struct pgt_mm *mm, pgt_paddr_t root,
		   unsigned flags)
{
	if (!sp || !arch || !mm || !arch_ok(arch))
		return PGT_EINVAL;
	if ((flags & ~PGT_SPACE_UPPER) || !upper_ok(arch, flags))
		return PGT_EFLAGS;
	int rc = view_root_check(arch, root);
	if (rc != PGT_OK)
		return rc;

	/* Only the read side of the hooks: nothing is allocated, freed or flushed. */
	pgt_space_t s = { .pgt__arch = arch, .pgt__flags = flags, .pgt__root_pa = root };
	s.pgt__mm.p2v = mm->p2v;
	s.pgt__mm.p2v_offset = mm->p2v_offset;
	s.pgt__mm.ctx = mm->ctx;
	s.pgt__root = pgt__p2v(&s, root);
	if (!s.pgt__root || ((uintptr_t)s.pgt__root & (sizeof(pgt_pte_t) - 1)))
		return PGT_EHOOK;
	pgt__walks_init(&s);
	s.pgt__magic = PGT__MAGIC_VIEW;
	*sp = s;
	return PGT_OK;
}

/**
 * Frees a table and everything below it; recursion depth is bounded by the
 * level count. The entry count is read before the loop, so that an
 * analyser (tests/proof/) sees the loop's bound and keeps entries apart.
 */
static void free_subtree(const pgt_space_t *sp, unsigned level, pgt_paddr_t pa, const pgt_pte_t *table)
{
	const struct pgt_level *L = pgt__level(sp, level);
	unsigned n = level > 0 && table ? pgt__entries(L) : 0;

	for (unsigned i = 0; i < n; i++) {
		pgt_pte_t pte = table[i];
		/* Tables borrowed through pgt_share belong to their owner. */
		if (pgt__is_table(L, level, pte) && !(pte & L->table_borrowed))
			free_subtree(sp, level - 1, pgt__table_pa(L, pte), pgt__next_table(sp, L, pte));
	}
	pgt__table_free(sp, level, pa);
}

void pgt_space_destroy(pgt_space_t *sp)
{
	if (!pgt__space_ok(sp))
		return;
	if (pgt__space_writable(sp)) { /* a view's tables are not the library's */
		free_subtree(sp, pgt__root_level(sp), sp->pgt__root_pa, sp->pgt__root);
		(void)pgt__cache_drain(sp, 0);
	}
	pgt__tlb_detach_all(sp); /* its TLBs stop answering */
	sp->pgt__magic = 0;
	sp->pgt__root = NULL;
	sp->pgt__root_pa = PGT_PADDR_NONE;
}

int pgt_space_cache(pgt_space_t *sp, size_t tables)
{
	if (!pgt__space_writable(sp))
		return PGT_EINVAL;
	if (tables > 0 && sp->pgt__mm.defer_free)
		return PGT_ENOTSUP;
	sp->pgt__cache_max = tables;
	(void)pgt__cache_drain(sp, tables);
	return PGT_OK;
}

size_t pgt_space_trim(pgt_space_t *sp)
{
	return pgt__space_writable(sp) ? pgt__cache_drain(sp, 0) : 0;
}

pgt_paddr_t pgt_space_root(const pgt_space_t *sp)
{
	return pgt__space_ok(sp) ? sp->pgt__root_pa : PGT_PADDR_NONE;
}
