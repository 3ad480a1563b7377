/* SPDX-License-Identifier: MIT */
/*
 * Verify: a consistency check of a live tree, by the descriptor's masks.
 *
 * No memory can be allocated, so "a table reachable twice" is found by
 * re-walking: for each table entry, a scan of the tables with table entries
 * (those above level 0) looks for an earlier entry linking the same table.
 * That is O(T * N) for T table entries and N entries in tables above level
 * 0; a corrupt tree with many duplicated links costs more, as the scan
 * follows every link it meets (its depth is still bounded by the level count).
 */
#include "table.h"

/** A verification in progress. */
struct verify {
	const pgt_space_t *sp;
	void (*report)(void *arg, const char *problem, pgt_vaddr_t va, unsigned level);
	void *arg;
	int problems;
};

static void problem(struct verify *v, const char *what, uint64_t off, unsigned level)
{
	v->problems++;
	if (v->report)
		v->report(v->arg, what, pgt__offset_va(v->sp, off), level);
}

/**
 * The entry bits that hold physical address bits from 12 up to @p shift - 1:
 * set in an address that must be aligned to 2^shift, it is misaligned. The
 * flag bits below the address field are not among them.
 */
static pgt_pte_t misaligned_bits(const struct pgt_level *L, unsigned shift)
{
	return pgt__oa_bits_below(L, shift) & ~pgt__oa_bits_below(L, 12);
}

/** Whether the caller's allocator disowns the table at @p pa (no hook: it never does). */
static bool disowned(const pgt_space_t *sp, pgt_paddr_t pa, unsigned level)
{
	const struct pgt_mm *mm = &sp->pgt__mm;

	return mm->owns_table && !mm->owns_table(mm->ctx, pa, pgt__table_bytes(sp, level), level);
}

/**
 * Whether verify reads the table a table entry links: not when the entry has
 * must-be-zero bits set (the MMU would fault there) or, in an owned subtree,
 * when the allocator disowns the frame (it may not be memory at all).
 */
static bool link_followable(const pgt_space_t *sp, unsigned level, pgt_pte_t pte, bool owned)
{
	const struct pgt_level *L = pgt__level(sp, level);

	return !pgt__table_malformed(L, pte) && !(owned && disowned(sp, pgt__table_pa(L, pte), level - 1));
}

/** Ownership below a link: a borrowed table belongs to another space. */
static bool owned_below(const struct pgt_level *L, pgt_pte_t pte, bool owned)
{
	return owned && !(L->table_borrowed && (pte & L->table_borrowed));
}

/* ------------------------------------------------------------------------ */
/* Tables reachable twice                                                    */

/** A search for an entry linking `pa` that comes before `target` in walk order. */
struct dup_scan {
	const pgt_space_t *sp;
	const pgt_pte_t *target;
	pgt_paddr_t pa;
	bool found, reached;
};

/**
 * Scans the table entries under @p table in walk order until the target
 * entry. Tables at level 0 hold no table entries and are not read. Depth is
 * bounded by the level count. The target is at level 1 or above, so it is
 * never inside a level-0 table.
 */
static void dup_scan_table(struct dup_scan *d, unsigned level, const pgt_pte_t *table, bool owned)
{
	const struct pgt_level *L = pgt__level(d->sp, level);

	for (unsigned i = 0; level > 0 && i < pgt__entries(L) && !d->found && !d->reached; i++) {
		pgt_pte_t pte = pgt__pte_load(&table[i]);

		if (&table[i] == d->target) {
			d->reached = true;
		} else if (pte && pgt__is_table(L, level, pte)) { /* 0 is empty in every format */
			if (pgt__table_pa(L, pte) == d->pa) {
				d->found = true;
			} else if (level > 1 && link_followable(d->sp, level, pte, owned)) {
				/* only what verify itself reads; level-0 tables hold no links */
				const pgt_pte_t *next = pgt__next_table(d->sp, L, pte);
				if (next)
					dup_scan_table(d, level - 1, next, owned_below(L, pte, owned));
			}
		}
	}
}

/** Whether the table at @p pa is the root or linked by an entry before @p slot. */
static bool linked_before(const pgt_space_t *sp, const pgt_pte_t *slot, pgt_paddr_t pa)
{
	struct dup_scan d = { .sp = sp, .target = slot, .pa = pa };

	if (pa == sp->pgt__root_pa)
		return true;
	dup_scan_table(&d, pgt__root_level(sp), sp->pgt__root, true);
	return d.found;
}

/* ------------------------------------------------------------------------ */
/* Entries                                                                   */

static void verify_table(struct verify *v, unsigned level, const pgt_pte_t *table, uint64_t base, bool owned);

/**
 * Checks the count the table entry @p pte at @p level keeps of its table
 * @p next (pgt_level.table_count): the number of its entries that are not
 * 0; an entry that keeps none (shared through pgt_share) has the bits
 * clear. Not in a view: foreign tables were written by another program.
 */
static void verify_count(struct verify *v, unsigned level, pgt_pte_t pte, const pgt_pte_t *next, uint64_t off)
{
	const struct pgt_level *L = pgt__level(v->sp, level);
	unsigned used = 0, n = pgt__entries(pgt__level(v->sp, level - 1));

	if (!L->table_count || !pgt__space_writable(v->sp))
		return;
	if (!pgt__counted(L, pte)) {
		if (pte & L->table_count)
			problem(v, "count bits set in a shared table entry", off, level);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		used += pgt__pte_load(&next[i]) != 0;
	if (pgt__count_of(L, pte) != used)
		problem(v, "table count differs from the table's used entries", off, level);
}

/**
 * Checks a table entry, then the table it links unless the entry is
 * malformed, the allocator disowns the table (it may not be a table at all)
 * or the table was already reached. Ownership is asked before anything is
 * read through the link, so a stray pointer is reported, not followed.
 * Tables below a borrowed link belong to another space: not checked for ownership.
 */
static void verify_link(struct verify *v, unsigned level, const pgt_pte_t *slot, uint64_t off, bool owned)
{
	const struct pgt_level *L = pgt__level(v->sp, level);
	pgt_pte_t pte = pgt__pte_load(slot);
	pgt_paddr_t pa = pgt__table_pa(L, pte);
	pgt_pte_t misaligned = misaligned_bits(L, pgt__level(v->sp, level - 1)->bits + 3u);

	if (pte & L->table_mbz & misaligned)
		problem(v, "misaligned table address", off, level);
	if (pte & L->table_mbz & ~misaligned)
		problem(v, "reserved bits set in a table entry", off, level);
	if (pgt__matches_malformed(L, pte))
		problem(v, "reserved encoding in a table entry", off, level);
	if (pgt__table_malformed(L, pte))
		return; /* the MMU faults here: what it points at need not be a table */
	owned = owned_below(L, pte, owned);
	if (pa == v->sp->pgt__root_pa) {
		problem(v, "table reachable twice", off, level); /* the root, linked from below */
		return;
	}
	if (owned && disowned(v->sp, pa, level - 1)) {
		problem(v, "table not a frame of the allocator", off, level);
		return;
	}
	if (linked_before(v->sp, slot, pa)) {
		problem(v, "table reachable twice", off, level);
		return;
	}
	const pgt_pte_t *next = pgt__next_table(v->sp, L, pte);
	if (!next) {
		problem(v, "table not reachable through p2v", off, level);
		return;
	}
	verify_count(v, level, pte, next, off);
	verify_table(v, level - 1, next, off, owned);
}

/** Checks a valid leaf's must-be-zero bits and output address. */
static void verify_leaf(struct verify *v, const struct pgt_level *L, unsigned level, pgt_pte_t pte,
			uint64_t off)
{
	unsigned pa_bits = v->sp->pgt__arch->pa_bits;
	pgt_pte_t misaligned = misaligned_bits(L, L->shift);

	if (pte & L->leaf_mbz & misaligned)
		problem(v, "misaligned output address", off, level);
	if (pte & L->leaf_mbz & ~misaligned)
		problem(v, "reserved bits set in a leaf", off, level);
	if (pgt__matches_malformed(L, pte))
		problem(v, "reserved encoding in a leaf", off, level);
	if (pa_bits < 64 && (pgt__leaf_oa(L, pte) >> pa_bits))
		problem(v, "output address beyond the physical width", off, level);
}

/** Checks one entry that is not a table entry. */
static void verify_entry(struct verify *v, unsigned level, pgt_pte_t pte, uint64_t off)
{
	const struct pgt_level *L = pgt__level(v->sp, level);
	bool leaf_form = pgt__has_leaf_form(L, pte);

	if (leaf_form && L->leaf_ok)
		verify_leaf(v, L, level, pte, off);
	else if (leaf_form || (!pgt__is_present(L, pte) && (pte & L->reserved) && !L->leaf_ok))
		problem(v, "leaf at a level that allows none", off, level); /* valid or reserved */
	else if (pgt__is_present(L, pte))
		problem(v, "malformed entry", off, level);
}

/** Checks every entry of a table at @p level covering offsets from @p base. Depth: the level count. */
static void verify_table(struct verify *v, unsigned level, const pgt_pte_t *table, uint64_t base, bool owned)
{
	const struct pgt_level *L = pgt__level(v->sp, level);

	for (unsigned i = 0; i < pgt__entries(L); i++) {
		uint64_t off = base + ((uint64_t)i << L->shift);
		pgt_pte_t pte = pgt__pte_load(&table[i]);

		if (pte == 0)
			continue; /* empty in every format (no valid bit): nothing to check */
		if (pgt__is_table(L, level, pte))
			verify_link(v, level, &table[i], off, owned);
		else
			verify_entry(v, level, pte, off);
	}
}

/* ------------------------------------------------------------------------ */
/* Tables kept for reuse (pgt_space_cache)                                   */

/**
 * Whether a kept table holds nothing but its two list words, which start at
 * byte offset @p slot (entries, link words and all).
 */
static bool kept_table_empty(const pgt_space_t *sp, unsigned level, const pgt_pte_t *tab, size_t slot)
{
	size_t words = pgt__table_bytes(sp, level) / sizeof(pgt_pte_t), first = slot / sizeof(pgt_pte_t);

	for (size_t i = 0; i < words; i++)
		if ((i < first || i >= first + PGT__CACHE_WORDS) && pgt__pte_load(&tab[i]))
			return false;
	return true;
}

/**
 * Checks one kept table (@p tab) whose stored address word is @p at: the
 * allocator's, where p2v puts it, in no other use (not in the tree), its
 * list words where a pair of entries is, and empty. Whether the list may be
 * followed through it.
 */
static bool verify_kept(struct verify *v, unsigned level, const pgt_pte_t *tab, pgt_paddr_t at)
{
	pgt_paddr_t offset_mask = pgt__cache_offset_mask(pgt__level(v->sp, level)), pa = at & ~offset_mask;
	size_t slot = (size_t)(at & offset_mask);

	if (disowned(v->sp, pa, level) || pgt__p2v(v->sp, pa) != tab) {
		problem(v, "table kept for reuse not a frame of the allocator", 0, level);
		return false;
	}
	if (slot % (PGT__CACHE_WORDS * sizeof(pgt_pte_t))) {
		problem(v, "table kept for reuse links the list from between two entries", 0, level);
		return false;
	}
	if (linked_before(v->sp, NULL, pa))
		problem(v, "table kept for reuse still in the tree", 0, level);
	if (!kept_table_empty(v->sp, level, tab, slot))
		problem(v, "table kept for reuse not empty", 0, level);
	return true;
}

/** Checks the space's cache of empty tables, level by level. */
static void verify_cache(struct verify *v)
{
	for (unsigned l = 0; l < pgt__root_level(v->sp); l++) {
		const struct pgt__table_list *c = &v->sp->pgt__cache[l];
		const pgt_pte_t *tab = c->head;
		pgt_paddr_t at = c->head_pa, offset_mask = pgt__cache_offset_mask(pgt__level(v->sp, l));

		if (c->n > v->sp->pgt__cache_max)
			problem(v, "more tables kept for reuse than the bound", 0, l);
		for (size_t k = 0; k < c->n && verify_kept(v, l, tab, at); k++)
			tab = pgt__cache_next(tab, at, offset_mask, &at);
	}
}

int pgt_verify(const pgt_space_t *sp,
	       void (*report)(void *arg, const char *problem, pgt_vaddr_t va, unsigned level), void *arg)
{
	struct verify v = { .sp = sp, .report = report, .arg = arg };

	if (!pgt__space_ok(sp))
		return PGT_EINVAL;
	unsigned root = pgt__root_level(sp);
	if (disowned(sp, sp->pgt__root_pa, root)) {
		problem(&v, "root table not a frame of the allocator", 0, root);
		return v.problems;
	}
	verify_table(&v, root, sp->pgt__root, 0, true);
	if (pgt__space_writable(sp)) /* a view keeps no tables */
		verify_cache(&v);
	return v.problems;
}
