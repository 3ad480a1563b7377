/* SPDX-License-Identifier: MIT */
/**
 * @file tlb.h
 * @brief pgt_tlb: a software translation cache for simulators.
 *
 * A TLB remembers the physical page and the rights of hardware-valid
 * leaves, one entry per leaf, as hardware TLBs do: a superpage (a leaf
 * above the smallest level, such as a 2 MiB or 1 GiB page) takes one entry
 * that covers it whole, so the TLB's reach is its number of entries times
 * the sizes of the pages they hold. Eight superpages of one level below
 * the root that fill an aligned group of eight entries of their table and
 * map contiguous memory with the same attributes (a run) take one entry
 * between them, as TLBs that coalesce contiguous translations do: eight
 * times the reach for memory mapped in order. It is attached to one space,
 * lives in memory the caller provides (direct-mapped or 2-way
 * set-associative, any power-of-two number of entries) and is kept
 * coherent by the library: every call that removes, moves or changes a
 * valid translation of the space (pgt_unmap, pgt_protect, pgt_map with
 * PGT_MAP_REPLACE, pgt_set_field on a valid leaf) bumps the space's
 * generation and makes every TLB attached to it miss, and the next miss
 * empties the TLB. pgt_space_destroy detaches its TLBs: they answer
 * PGT_EINVAL from then on.
 *
 * A hit is the inline pgt_tlb_lookup, with no call: one entry and one tag
 * compare for a small page, as in a TLB that never held a superpage; then,
 * only while the TLB holds superpages, a second entry and compare for a
 * superpage of the size filled last (or a run of them). Anything else
 * calls the space's miss, compiled with its format's walk (through
 * pgt__miss): it looks at the other way of the small page's set and at the
 * superpages of the other sizes the TLB holds, else reads the leaf from a
 * table it remembers, else walks the tables. As a hardware
 * paging-structure cache does, the TLB remembers the table each walk ended
 * in, in one of its own entries (a table entry, chosen by the region the
 * table covers and never in the set of the page being filled), so that the
 * next miss in that region reads one entry instead of walking from the
 * root: table entries take entries the translations would otherwise have.
 *
 * Not thread-safe: a TLB belongs to one thread (one simulated CPU), and
 * changes to its space must not run concurrently with its lookups.
 * Changes made through another space that shares tables with this one
 * (pgt_share) are not seen: call pgt_tlb_flush after them. Tables reached
 * through a borrowed entry are never remembered.
 */
#ifndef PGTABLE_TLB_H
#define PGTABLE_TLB_H

#include <pgtable/pgtable.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One cached translation. The caller provides an array of them; contents are private. */
struct pgt_tlb_entry {
	uint64_t pgt__vpn;   /**< private: virtual page number (smallest pages); all ones when empty */
	uint64_t pgt__delta; /**< private: physical minus virtual page address | PGT_PROT_* rights */
};

/** 64-bit words a pgt_tlb_t takes in every version of the library: its private state grows into them. */
#define PGT_TLB_WORDS 24

/**
 * A TLB. The caller owns the storage; every field is private, and a TLB is
 * not copied (the space links the TLBs attached to it). Its size is the
 * same in every version (PGT_TLB_WORDS); the fields the inline hit reads
 * (the first three) keep their places.
 *
 * An entry caches one leaf whole. A small page (the smallest size) is
 * tagged by its page number and goes to way 0 of the set that number
 * picks; way 0 holds the most recently filled small page and is the only
 * entry the inline hit compares; way 1 (2-way TLBs) lives in the second
 * half of the entries. A superpage is tagged by its own page number and its
 * level, and is direct-mapped over all the entries. What the inline hit
 * does not find, the miss (pgt__miss) looks for in way 1 and among the
 * superpages before it walks.
 */
typedef struct pgt_tlb {
	union {
		struct {
			/** private: the entries a hit reads: the caller's, or an empty one while stale */
			const struct pgt_tlb_entry *pgt__e;
			/** private: (number of sets - 1) << 6 | log2 of the smallest page size, or a stale
			 * value */
			uint64_t pgt__index;
			/** private: what a lookup that finds no small page in way 0 calls: the space's
			 * compiled miss, or, stale or detached, the one that revives or refuses the TLB */
			int (*pgt__miss)(struct pgt_tlb *tlb, pgt_vaddr_t va, pgt_paddr_t *pa,
					 unsigned *prot);
			/** private: the entries the superpage probe reads (as pgt__e) */
			const struct pgt_tlb_entry *pgt__se;
			/** private: (number of entries - 1) << 6 | log2 of the page size of the superpage
			 * level the inline probe looks at; 63 (a shift that leaves no set) when none */
			uint64_t pgt__sindex;
			/** private: that level's tag bits (pgt__tlb_super_tag); a level no entry has when
			 * none */
			uint64_t pgt__smark;
			struct pgt_tlb_entry
				*pgt__mem;         /**< private: the caller's entries; way 0, then way 1 */
			uint64_t pgt__live_index;  /**< private: pgt__index while not stale */
			uint64_t pgt__live_sindex; /**< private: pgt__sindex while not stale */
			uint64_t pgt__gen;         /**< private: space generation the entries belong to */
			const uint64_t *pgt__space_gen; /**< private: the space's generation counter */
			struct pgt_space *pgt__sp;      /**< private: NULL once detached */
			struct pgt_tlb *pgt__next;      /**< private: the next TLB attached to the space */
			uint64_t pgt__fills;            /**< private: lookups that walked the tables */
			uint64_t pgt__prot_key;   /**< private: the small-page leaf bits (prot_mask) last
						     decoded */
			unsigned pgt__prot;       /**< private: what they decoded to */
			unsigned pgt__page_shift; /**< private: log2 of the smallest page size */
			uint64_t pgt__set_mask;   /**< private: number of sets - 1 */
			uint64_t pgt__way1;     /**< private: way 1's offset from way 0; 0 if direct-mapped */
			uint64_t pgt__all_mask; /**< private: number of entries - 1 (superpages use all) */
			unsigned pgt__magic;    /**< private: set while initialised */
			/** private: bit l set while superpages of level l (> 0) may be cached; bit
			 * l + 16 while runs of them may */
			unsigned pgt__levels;
			/** private: the level pgt__sindex is of (plus 16 for runs); 0 when none */
			unsigned pgt__slevel;
			/** private: bit l set while tables of level l may be cached (table entries) */
			unsigned pgt__tlevels;
			uint64_t pgt__sprot_key;   /**< private: the superpage leaf bits last decoded */
			unsigned pgt__sprot_level; /**< private: their level; PGT_MAX_LEVELS when none */
			unsigned pgt__sprot;       /**< private: what they decoded to */
			/** private: log2 of the page size of each level (PGT_MAX_LEVELS of them) */
			unsigned char pgt__shift[6];
			/** private: where a superpage entry's tag keeps its level: 64 - pgt__page_shift */
			unsigned char pgt__tag_shift;
		};
		uint64_t pgt__room[PGT_TLB_WORDS]; /**< private: the size of every version's state */
	};
} pgt_tlb_t;

/** private: a branch the compiler should lay out away from the hit (a plain test elsewhere). */
#if defined(__GNUC__) || defined(__clang__)
#define PGT__TLB_UNLIKELY(c) __builtin_expect(!!(c), 0)
#else
#define PGT__TLB_UNLIKELY(c) (c)
#endif

/** Low bits of an entry's delta word that hold the rights. */
#define PGT__TLB_PROT_BITS 255u

/**
 * Attaches an empty TLB to a space.
 * @param tlb      storage for the TLB: new, detached (pgt_tlb_fini, or its
 *                 space destroyed), or attached to @p sp (it is re-attached)
 * @param sp       an initialised space; the TLB stays attached to it until
 *                 pgt_tlb_fini or pgt_space_destroy
 * @param entries  @p n entries of caller memory (contents may be anything)
 * @param n        number of entries: a power of two, at least @p ways. Small
 *                 pages and superpages share them: the reach is up to @p n
 *                 times the largest page size in use
 * @param ways     1 (direct-mapped) or 2 (two-way set-associative) for small
 *                 pages; superpages are direct-mapped over all @p n entries
 * @return PGT_OK; PGT_EINVAL for NULL arguments or an uninitialised space;
 *         PGT_ESIZE for @p ways other than 1 or 2, or @p n not a power of
 *         two or below @p ways; PGT_ENOTSUP for a space whose smallest page
 *         is below 256 bytes (an entry keeps the rights below the page
 *         address). On failure (with @p tlb not NULL) the TLB
 *         is left in a state where every lookup returns PGT_EINVAL; a TLB
 *         that never went through pgt_tlb_init must not be used.
 */
PGT_API int pgt_tlb_init(pgt_tlb_t *tlb, pgt_space_t *sp, struct pgt_tlb_entry *entries, size_t n,
			 unsigned ways);

/**
 * Detaches a TLB from its space; call it before the TLB's storage or entries
 * are reused while the space lives. Lookups answer PGT_EINVAL afterwards.
 * @param tlb  the TLB; NULL, a TLB whose init failed and a TLB already
 *             detached are ignored
 */
PGT_API void pgt_tlb_fini(pgt_tlb_t *tlb);

/**
 * pgt_tlb_lookup as a function (what callers compiled with an earlier
 * header call on a mismatch): looks at both ways of the small page's set
 * and at the entry of each superpage size the TLB holds, else walks the
 * space's tables and caches the translation of @p va when a hardware-valid
 * leaf maps it: one entry for the whole leaf, a superpage too. Same
 * contract as pgt_tlb_lookup; NULL @p tlb answers PGT_EINVAL.
 * @param tlb   an initialised TLB
 * @param va    the address to translate
 * @param pa    receives the physical address, page offset included; may be NULL
 * @param prot  receives the leaf's own PGT_PROT_* rights, as pgt_get_field
 *              PGT_FIELD_PROT reads them (not narrowed by table entries
 *              above, which the library makes granting everything); may be NULL
 * @return as pgt_tlb_lookup
 */
PGT_API int pgt_tlb_fill(pgt_tlb_t *tlb, pgt_vaddr_t va, pgt_paddr_t *pa, unsigned *prot);

/**
 * Drops every cached translation, superpages included (for changes the
 * library cannot see).
 * @param tlb  the TLB; NULL and detached TLBs are ignored
 */
PGT_API void pgt_tlb_flush(pgt_tlb_t *tlb);

/**
 * Misses since init: the lookups that found no entry covering the address
 * and read the tables (one entry of a remembered table, or a walk). A
 * page served from way 1, and any address of a cached superpage, is a
 * hit: a superpage, or a run of eight, costs one miss until it is
 * evicted or invalidated.
 * @param tlb  the TLB
 * @return the count, or 0 for NULL or a TLB whose init failed
 */
PGT_API uint64_t pgt_tlb_misses(const pgt_tlb_t *tlb);

/**
 * Translates @p va through the TLB: what pgt_lookup and the leaf's fields
 * say, served from the cache when it can be. Inline: a small page in way 0
 * of its set, or a superpage of the size filled last, is answered without
 * a call; anything else calls the space's compiled miss (pgt__miss).
 * @param tlb   a TLB that went through pgt_tlb_init
 * @param va    the address to translate
 * @param pa    receives the physical address, page offset included; may be NULL
 * @param prot  receives the leaf's own PGT_PROT_* rights, as pgt_get_field
 *              PGT_FIELD_PROT reads them (not narrowed by table entries
 *              above, which the library makes granting everything); may be NULL
 * @return PGT_OK for an address a hardware-valid leaf maps; PGT_ENOENT when
 *         nothing is mapped or the leaf is reserved (no right yet);
 *         PGT_EINVAL for a TLB whose init failed or that is detached;
 *         PGT_ERANGE for an address outside the space; PGT_EHOOK for a p2v
 *         hook returning NULL.
 */
static inline int pgt_tlb_lookup(pgt_tlb_t *tlb, pgt_vaddr_t va, pgt_paddr_t *pa, unsigned *prot)
{
	uint64_t index = tlb->pgt__index;
	uint64_t vpn = va >> (index & 63u);
	const struct pgt_tlb_entry *e = tlb->pgt__e + (vpn & (index >> 6));

	if (PGT__TLB_UNLIKELY(e->pgt__vpn != vpn)) { /* not a small page in way 0: a superpage? */
		uint64_t sindex = tlb->pgt__sindex;
		if (sindex == 63u) /* no superpage level to look at (or stale) */
			return tlb->pgt__miss(tlb, va, pa, prot);
		uint64_t n = va >> (sindex & 63u);
		e = tlb->pgt__se + (n & (sindex >> 6));
		if (e->pgt__vpn != (n | tlb->pgt__smark))
			return tlb->pgt__miss(tlb, va, pa, prot);
	}
	if (pa)
		*pa = va + (e->pgt__delta & ~(uint64_t)PGT__TLB_PROT_BITS);
	if (prot)
		*prot = (unsigned)(e->pgt__delta & PGT__TLB_PROT_BITS);
	return PGT_OK;
}

#ifdef __cplusplus
}
#endif

#endif /* PGTABLE_TLB_H */
