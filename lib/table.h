/* SPDX-License-Identifier: MIT */
/*
 * Table memory: tables from the caller's allocator, lists of tables out of
 * the tree (new ones waiting to be linked, unlinked ones waiting for a TLB
 * flush), pools filled all or nothing, and the new branch insert and map
 * link with one store (lib/table.c).
 */
#ifndef PGT_LIB_TABLE_H
#define PGT_LIB_TABLE_H

#include "internal.h"

/*
 * struct pgt__table_list (declared in pgtable.h, where the space's table
 * cache holds some): a stack of tables that are not in the tree (new ones
 * waiting to be linked, unlinked ones waiting for a TLB flush and for
 * readers to leave; the cache's own, below, is linked otherwise),
 * threaded through the tables themselves: the next table's pointer and
 * physical address, 16 bits per entry in entries 0 to 7. Each 16-bit
 * piece sits in a window of bits that holds neither the valid bit nor the
 * reserved mark, so a hardware walker or a concurrent reader still inside
 * a dead table reads only empty entries, never a mapping that was not
 * made. Table addresses
 * are aligned to at least 8 bytes, so bit 0 of the address word is free:
 * it says the table itself holds nothing but its list words (PGT__LIST_ZERO).
 */

/**
 * Entries a table needs to carry a list link: space.c checks every level
 * that can go on a list has them (all but a root above level 0).
 */
#define PGT__LIST_WORDS 8u

/** The lowest bit of a 16-bit window free of the entry bits readers test; 64 if none. */
static inline unsigned pgt__list_window(const struct pgt_level *L)
{
	pgt_pte_t avoid = L->valid | L->reserved;
	unsigned p = 0;

	while (p <= 48 && ((0xffffull << p) & avoid))
		p++;
	return p <= 48 ? p : 64;
}

/** The window of @p level's tables in @p sp, worked out once by pgt_space_init. */
static inline unsigned pgt__list_at(const pgt_space_t *sp, unsigned level)
{
	return sp->pgt__list_bit[level];
}

/** Stores @p v as four 16-bit pieces in @p w[0..3], each at bit @p p. */
static inline void pgt__list_put(pgt_pte_t *w, uint64_t v, unsigned p)
{
	for (unsigned i = 0; i < 4; i++)
		__atomic_store_n(&w[i], ((v >> (16 * i)) & 0xffff) << p, __ATOMIC_RELEASE);
}

/**
 * Reads back what pgt__list_put stored. Relaxed atomic loads: a reader of
 * the space still inside a dead table may try a compare-and-swap on its
 * entries (pgt_translate with PGT_ACC_SET_AD), which fails but is an
 * atomic access all the same.
 */
static inline uint64_t pgt__list_get(const pgt_pte_t *w, unsigned p)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 4; i++)
		v |= ((__atomic_load_n(&w[i], __ATOMIC_RELAXED) >> p) & 0xffff) << (16 * i);
	return v;
}

/** Bit 0 of a table's stored address word: the table is zero but for its list words. */
#define PGT__LIST_ZERO 1u

/** Clears the list words of a table taken off a list. */
static inline void pgt__list_clear_words(pgt_pte_t *tab)
{
	for (unsigned i = 0; i < PGT__LIST_WORDS; i++)
		tab[i] = 0;
}

/** Pushes @p tab (at @p pa); @p zero: it holds nothing but the list words this writes. */
static inline void pgt__list_push_as(struct pgt__table_list *l, unsigned p, pgt_pte_t *tab, pgt_paddr_t pa,
				     bool zero)
{
	pgt__list_put(&tab[0], (uint64_t)(uintptr_t)l->head, p);
	pgt__list_put(&tab[4], l->head_pa | (zero ? PGT__LIST_ZERO : 0), p);
	l->head = tab;
	l->head_pa = pa;
	l->n++;
}

/** Pushes @p tab (at @p pa), whatever it holds. */
static inline void pgt__list_push(struct pgt__table_list *l, unsigned p, pgt_pte_t *tab, pgt_paddr_t pa)
{
	pgt__list_push_as(l, p, tab, pa, false);
}

/** Pops the top table: its address in *pa, and in *zero whether it was pushed as zero. */
static inline pgt_pte_t *pgt__list_pop_as(struct pgt__table_list *l, unsigned p, pgt_paddr_t *pa, bool *zero)
{
	pgt_pte_t *tab = l->head;
	uint64_t next_pa = pgt__list_get(&tab[4], p);

	PGT_ASSERT(l->n > 0);
	*pa = l->head_pa;
	*zero = (next_pa & PGT__LIST_ZERO) != 0;
	l->head = (pgt_pte_t *)(uintptr_t)pgt__list_get(&tab[0], p);
	l->head_pa = next_pa & ~(uint64_t)PGT__LIST_ZERO;
	l->n--;
	return tab;
}

static inline pgt_pte_t *pgt__list_pop(struct pgt__table_list *l, unsigned p, pgt_paddr_t *pa)
{
	bool zero;

	return pgt__list_pop_as(l, p, pa, &zero);
}

/*
 * The space's cache (pgt_space_cache) is a list of its own, linked through
 * two plain words of each kept table: the next table's pointer, then its
 * physical address plus the byte offset of its own two words. A table is
 * kept only after it was unlinked and the tlb_flush hook was told, and never
 * in a space with readers (defer_free): no walker can be inside it, so the
 * windows the other lists need are not needed here, and a take clears two
 * words. The two words are those next to the entry the caller wrote last
 * (an unmap's: the one it cleared), so that keeping a table writes a cache
 * line the caller just had, not the table's first, which may be anywhere
 * by then. Kept tables are aligned to their size, so an offset below it
 * fits under the address.
 */
#define PGT__CACHE_WORDS 2u

/**
 * The bits of a kept table's address word below its address: its entries'
 * bytes less one, a constant in a compiled walk. A table is aligned to the
 * bytes it takes, its link words included, and its list words lie among
 * its entries.
 */
static inline pgt_paddr_t pgt__cache_offset_mask(const struct pgt_level *L)
{
	return (pgt_paddr_t)L->table_size - 1;
}

/** The byte offset in a table of the two cache words next to entry @p i. */
static inline size_t pgt__cache_slot(size_t i)
{
	return (i & ~(size_t)1) * sizeof(pgt_pte_t);
}

/** The cache words of the kept table @p tab, whose stored address word is @p at. */
static inline pgt_pte_t *pgt__cache_words(const pgt_pte_t *tab, pgt_paddr_t at, pgt_paddr_t offset_mask)
{
	// NOLINTNEXTLINE(performance-no-int-to-ptr): the table's pointer plus an offset inside it
	return (pgt_pte_t *)((uintptr_t)tab + (uintptr_t)(at & offset_mask));
}

/**
 * Keeps @p tab (at @p pa), which holds nothing, on the cache list @p c, its
 * list words at byte offset @p slot (pgt__cache_slot).
 */
static inline void pgt__cache_push(struct pgt__table_list *c, pgt_pte_t *tab, pgt_paddr_t pa, size_t slot)
{
	pgt_pte_t *w = pgt__cache_words(tab, slot, ~(pgt_paddr_t)0);

	w[0] = (pgt_pte_t)(uintptr_t)c->head;
	w[1] = c->head_pa;
	c->head = tab;
	c->head_pa = pa | slot;
	c->n++;
}

/**
 * The table after @p tab (stored address word @p at) on a cache list of
 * tables of @p offset_mask + 1 bytes, and its address word in *next_at.
 */
static inline pgt_pte_t *pgt__cache_next(const pgt_pte_t *tab, pgt_paddr_t at, pgt_paddr_t offset_mask,
					 pgt_paddr_t *next_at)
{
	const pgt_pte_t *w = pgt__cache_words(tab, at, offset_mask);

	*next_at = w[1];
	// NOLINTNEXTLINE(performance-no-int-to-ptr): the list keeps the pointer as an integer
	return (pgt_pte_t *)(uintptr_t)w[0];
}

/**
 * Takes the top table of the cache list @p c, whose tables take
 * @p offset_mask + 1 bytes, zero again: its address in *pa.
 */
static inline pgt_pte_t *pgt__cache_pop(struct pgt__table_list *c, pgt_paddr_t offset_mask, pgt_paddr_t *pa)
{
	pgt_pte_t *tab = c->head;
	pgt_pte_t *w = pgt__cache_words(tab, c->head_pa, offset_mask);

	PGT_ASSERT(c->n > 0);
	*pa = c->head_pa & ~offset_mask;
	c->head = pgt__cache_next(tab, c->head_pa, offset_mask, &c->head_pa);
	c->n--;
	for (unsigned i = 0; i < PGT__CACHE_WORDS; i++)
		w[i] = 0;
	return tab;
}

/**
 * Pops the top table of @p l (level @p level) and makes it zero: its list
 * words only when it was pushed as zero, else the whole table.
 */
pgt_pte_t *pgt__list_take_cleared(const pgt_space_t *sp, struct pgt__table_list *l, unsigned level,
				  pgt_paddr_t *pa);

/**
 * Gives back every table of the per-level lists that was never linked (or
 * that no reader can reach): those pushed as zero to the space's cache
 * while it has room, the others to the allocator.
 */
void pgt__list_free_all(const pgt_space_t *sp, struct pgt__table_list lists[]);
/**
 * Gives back tables unlinked from a live tree: to the defer_free hook when
 * there is one (concurrent readers may still walk them, so none is
 * reused), else as above.
 */
void pgt__list_retire_all(const pgt_space_t *sp, struct pgt__table_list lists[]);

/**
 * Fills @p pool until level l holds @p need[l] tables, at every level:
 * from the space's cache first, then the allocator. All or nothing (on
 * failure every table of the pool goes back where it came from and the
 * allocator's status is returned).
 */
int pgt__pool_fill(const pgt_space_t *sp, struct pgt__table_list pool[], const size_t need[]);

/**
 * Gives back @p tab (at @p pa), a table unlinked from a live tree because
 * it emptied, after the flush: what pgt__list_retire_all does for a list,
 * without one (the one-page unmap), the cache included. @p last: the entry
 * of @p tab the caller cleared last, whose line the cache's words take.
 */
void pgt__table_retire(const pgt_space_t *sp, unsigned level, pgt_pte_t *tab, pgt_paddr_t pa,
		       const pgt_pte_t *last);

/**
 * The end of a one-page unmap at @p va that emptied the table @p tab (at
 * @p pa) of @p level, which the caller unlinked: the page flushed (an
 * unlinked table may sit in the MMU's paging-structure caches too), the
 * space's TLBs told, the table given back (pgt__table_retire, @p last as
 * there). Out of line, so that the compiled unmap ends in a jump here:
 * PGT_OK.
 */
int pgt__table_unlinked(pgt_space_t *sp, pgt_vaddr_t va, unsigned level, pgt_pte_t *tab, pgt_paddr_t pa,
			const pgt_pte_t *last);

int pgt__table_alloc(const pgt_space_t *sp, unsigned level, pgt_paddr_t *pa, pgt_pte_t **table);
void pgt__table_free(const pgt_space_t *sp, unsigned level, pgt_paddr_t pa);
void pgt__table_clear(const pgt_space_t *sp, unsigned level, pgt_pte_t *table);
/** Gives every table of the space's cache back to the allocator; how many. */
size_t pgt__cache_drain(pgt_space_t *sp, size_t keep);

/**
 * Stores @p n leaves from @p p: @p first, then the same with the output
 * address @p step further each time. Single 64-bit stores, four to an
 * iteration: the loop's own count and branch cost as much as a store.
 */
static inline void pgt__store_leaves(pgt_pte_t *p, size_t n, pgt_pte_t first, uint64_t step)
{
	size_t i = 0;

	for (; i + 4 <= n; i += 4, first += 4 * step) {
		pgt__pte_store(&p[i], first);
		pgt__pte_store(&p[i + 1], first + step);
		pgt__pte_store(&p[i + 2], first + 2 * step);
		pgt__pte_store(&p[i + 3], first + 3 * step);
	}
	for (; i < n; i++, first += step)
		pgt__pte_store(&p[i], first);
}

/** Tells the caller's tlb_flush hook, if any, that [lo, last] changed. */
static inline __attribute__((always_inline)) void pgt__tlb_flush_hook(const pgt_space_t *sp, pgt_vaddr_t lo,
								      pgt_vaddr_t last)
{
	if (sp->pgt__mm.tlb_flush)
		sp->pgt__mm.tlb_flush(sp->pgt__mm.ctx, lo, last - lo + 1);
}

/**
 * An entry for a test of emptiness: a relaxed load, which needs no order
 * (the caller is the space's one writer; the MMU, or a pgt_translate with
 * PGT_ACC_SET_AD in another thread, sets accessed and dirty bits only in
 * valid entries, which are not 0 before nor after), but is still an atomic
 * access, as the other thread's compare-and-swap is: no data race.
 */
static inline __attribute__((always_inline)) pgt_pte_t pgt__entry_bits(const pgt_pte_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/** Whether one of the @p n entries from @p p is not empty (not 0), eight at a time. */
static inline __attribute__((always_inline)) bool pgt__any_entry(const pgt_pte_t *p, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8)
		if (pgt__entry_bits(&p[i]) | pgt__entry_bits(&p[i + 1]) | pgt__entry_bits(&p[i + 2]) |
		    pgt__entry_bits(&p[i + 3]) | pgt__entry_bits(&p[i + 4]) | pgt__entry_bits(&p[i + 5]) |
		    pgt__entry_bits(&p[i + 6]) | pgt__entry_bits(&p[i + 7]))
			return true;
	for (; i < n; i++)
		if (pgt__entry_bits(&p[i]))
			return true;
	return false;
}

/** How far on each side of an unmapped range unmap looks for an entry in use. */
#define PGT__NEAR_ENTRIES 16u

/**
 * Whether an entry of the table @p tab (of @p entries) within PGT__NEAR_ENTRIES
 * of [first, end) is not empty. A table in use mostly has one that near;
 * when none is, the table may be left empty, and whoever frees it looks at
 * the whole table.
 */
static inline __attribute__((always_inline)) bool pgt__used_near(const pgt_pte_t *tab, unsigned entries,
								 unsigned first, unsigned end)
{
	unsigned before = first < PGT__NEAR_ENTRIES ? first : PGT__NEAR_ENTRIES;
	unsigned after = entries - end < PGT__NEAR_ENTRIES ? entries - end : PGT__NEAR_ENTRIES;

	/* after first: pages are mostly unmapped in ascending order */
	return pgt__any_entry(tab + end, after) || pgt__any_entry(tab + first - before, before);
}

/**
 * A new branch: the tables of levels [target, top) that insert and map
 * build off-tree and link with one store (lib/table.c, as in Hafnium).
 */
struct pgt__branch {
	pgt_paddr_t pa[PGT_MAX_LEVELS];
	pgt_pte_t *tab[PGT_MAX_LEVELS];
};

/**
 * Takes the branch's tables, lowest level first, cleared: all or none
 * (the allocator's status).
 */
int pgt__branch_alloc(const pgt_space_t *sp, unsigned target, unsigned top, struct pgt__branch *b);

/**
 * Stores @p n leaves for the pages from @p va
 * in the table of level @p target (@p leaf, then its output address one
 * page further each time), links each table from the one above it, and
 * then the branch from @p slot, the empty entry of level @p top on the
 * path to @p va, with one release store; each link holds its table's
 * count (pgt_level.table_count). The count of the table that holds
 * @p slot is the caller's. Cannot fail.
 */
void pgt__branch_commit(const pgt_space_t *sp, pgt_vaddr_t va, unsigned target, unsigned top,
			const struct pgt__branch *b, pgt_pte_t leaf, size_t n, pgt_pte_t *slot);

#endif /* PGT_LIB_TABLE_H */
