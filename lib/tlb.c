/* SPDX-License-Identifier: MIT */
/*
 * pgt_tlb: a software translation cache (include/pgtable/tlb.h).
 *
 * An entry caches one leaf whole, as hardware TLBs do: a small page in the
 * set of its page number, tagged by that number, which is all the inline
 * hit compares; a superpage in the set of its own page number (the address
 * shifted by its size), tagged by that number and its level, looked at on
 * a miss for the levels the TLB holds entries of. Every size shares the
 * caller's entries, so the TLB's reach is its entries times their sizes.
 * An entry keeps the difference between the physical and the virtual page
 * address, so a hit adds it to the address and masks nothing else.
 * A miss that finds no entry reads the leaf from a table the TLB remembers
 * when it can (a table entry: tagged as a superpage of the table's level
 * moved up by PGT__TLB_TABLE_MARK, the table's address in its delta word,
 * one per table the walks ended in), else walks from the root; the walk
 * remembers the table it ended in. Table entries share the caller's
 * entries with the translations, so a TLB of n entries remembers up to n
 * tables, and no memory of its own holds them.
 * Coherence: whenever a valid translation is removed, moved or changed the
 * engine calls pgt__space_changed, which bumps the space's generation and
 * points every attached TLB at an empty entry, so that its next lookup
 * misses; the miss sees the new generation and empties the TLB. A hit
 * therefore checks its tag and nothing else. A table leaves the tree only
 * in calls that do so too (pgt_unmap, pgt_map with PGT_MAP_REPLACE, or any
 * map that retires a table), so remembered tables go with the entries.
 */
#include <stddef.h>

#include <pgtable/tlb.h>

#include "rights.h"
#include "table.h"
#include "tlb.h"
#include "walks.h"

_Static_assert(sizeof(pgt_tlb_t) == PGT_TLB_WORDS * sizeof(uint64_t),
	       "the TLB's private state outgrew the room every version keeps for it: an ABI break");
/* Callers' code has the inline hit compiled in: what it reads stays where it is. */
_Static_assert(offsetof(pgt_tlb_t, pgt__e) == 0 && offsetof(pgt_tlb_t, pgt__index) == sizeof(void *) &&
		       offsetof(pgt_tlb_t, pgt__miss) == sizeof(void *) + 8 &&
		       offsetof(pgt_tlb_t, pgt__se) == 2 * sizeof(void *) + 8 &&
		       offsetof(pgt_tlb_t, pgt__sindex) == 3 * sizeof(void *) + 8 &&
		       offsetof(pgt_tlb_t, pgt__smark) == 3 * sizeof(void *) + 16 &&
		       offsetof(struct pgt_tlb_entry, pgt__vpn) == 0 && sizeof(struct pgt_tlb_entry) == 16,
	       "the fields the inline TLB hit reads moved: an ABI break");

/** pgt_tlb_t.pgt__magic while the TLB is initialised. */
#define PGT__TLB_MAGIC 0x706c7462u

/** No virtual page number is all ones (pages are at least 2 bytes), nor is any superpage tag. */
#define EMPTY_VPN (~(uint64_t)0)

/*
 * The smallest page a TLB caches: an entry keeps the rights below the page
 * address (PGT__TLB_PROT_BITS) and a superpage's tag its level above the
 * small page numbers (pgt__tlb_super_tag), both in bits the page size frees.
 */
#define MIN_PAGE_SHIFT 8u
_Static_assert(PGT__TLB_PROT_BITS < 1u << MIN_PAGE_SHIFT && PGT_MAX_LEVELS < (1u << MIN_PAGE_SHIFT) - 1,
	       "a TLB entry's rights or a superpage's level would not fit below the page size");

/*
 * What a stale, detached or failed TLB reads on a hit: the lookup shifts
 * the address by 63 and masks the set to 0, so it reads this one empty
 * entry, whose page number no shifted address has, and calls pgt__miss,
 * which is then tlb_revive. Never written.
 */
static const struct pgt_tlb_entry stale_entry = { EMPTY_VPN, 0 };
#define STALE_INDEX 63u

/*
 * The superpage probe while no superpage level is chosen: it reads entry 0
 * and compares it with a level no entry has.
 */
#define NO_SUPER_INDEX 63u
#define NO_SUPER_LEVEL 7u
_Static_assert(NO_SUPER_LEVEL >= PGT_MAX_LEVELS, "a level entries have");
/* A table entry's tag (pgt__tlb_table_tag) is no superpage's, no empty probe's and no empty entry's. */
_Static_assert(PGT__TLB_TABLE_MARK > NO_SUPER_LEVEL &&
		       PGT__TLB_TABLE_MARK + PGT_MAX_LEVELS < (1u << MIN_PAGE_SHIFT) - 1,
	       "a table entry's tag would be taken for another entry's");
/* A run entry's tag is no table entry's either, and its kind has a bit in pgt__levels. */
_Static_assert(PGT__TLB_RUN_MARK >= PGT__TLB_TABLE_MARK + PGT_MAX_LEVELS &&
		       PGT__TLB_RUN_MARK + PGT_MAX_LEVELS < 32u,
	       "a run entry's tag would be taken for another entry's");

static int tlb_revive(pgt_tlb_t *tlb, pgt_vaddr_t va, pgt_paddr_t *pa, unsigned *prot);

static void tlb_make_stale(pgt_tlb_t *tlb)
{
	tlb->pgt__e = &stale_entry;
	tlb->pgt__index = STALE_INDEX;
	tlb->pgt__se = &stale_entry;
	tlb->pgt__sindex = STALE_INDEX;
	tlb->pgt__miss = tlb_revive;
}

/** Not attached to any space: every lookup answers PGT_EINVAL. */
static void tlb_make_dead(pgt_tlb_t *tlb)
{
	*tlb = (pgt_tlb_t){ .pgt__sprot_level = PGT_MAX_LEVELS };
	tlb_make_stale(tlb);
}

/** Lookups read the caller's entries again, and miss into the space's compiled miss. */
static void tlb_make_live(pgt_tlb_t *tlb)
{
	tlb->pgt__e = tlb->pgt__mem;
	tlb->pgt__index = tlb->pgt__live_index;
	tlb->pgt__se = tlb->pgt__mem;
	tlb->pgt__sindex = tlb->pgt__live_sindex;
	tlb->pgt__miss = pgt__ops(tlb->pgt__sp)->tlb_refill;
	tlb->pgt__sp->pgt__tlb_live = 1;
}

static bool is_pow2(size_t n)
{
	return n && !(n & (n - 1));
}

static void tlb_clear(pgt_tlb_t *tlb)
{
	size_t n = (size_t)tlb->pgt__all_mask + 1;

	for (size_t i = 0; i < n; i++)
		tlb->pgt__mem[i] = (struct pgt_tlb_entry){ EMPTY_VPN, 0 };
	tlb->pgt__levels = 0;
	tlb->pgt__tlevels = 0;
	tlb->pgt__slevel = 0;
	tlb->pgt__sindex = tlb->pgt__live_sindex = NO_SUPER_INDEX; /* stale or not, 63 */
	tlb->pgt__smark = pgt__tlb_super_tag(0, NO_SUPER_LEVEL, tlb->pgt__tag_shift);
}

/**
 * Remembers the page size of every level, for the superpage probes of the
 * generic miss, and primes the small pages' remembered rights with those
 * of a leaf whose codec bits are all clear (exact: the codec reads no
 * other bits), so that a key needs no flag saying it is set.
 */
static void tlb_set_format(pgt_tlb_t *tlb, const struct pgt_arch *a)
{
	for (unsigned l = 0; l < a->levels; l++)
		tlb->pgt__shift[l] = (unsigned char)a->level[l].shift;
	tlb->pgt__tag_shift = (unsigned char)(64 - a->level[0].shift);
	tlb->pgt__prot_key = 0;
	tlb->pgt__prot = a->prot_decode(0, 0) & PGT__TLB_PROT_BITS;
}

/** Takes @p tlb out of the list of @p sp when it is there; the list is short (one TLB per CPU). */
static void tlb_unlink(pgt_space_t *sp, pgt_tlb_t *tlb)
{
	for (pgt_tlb_t **p = &sp->pgt__tlbs; *p; p = &(*p)->pgt__next)
		if (*p == tlb) {
			*p = tlb->pgt__next;
			return;
		}
}

int pgt_tlb_init(pgt_tlb_t *tlb, pgt_space_t *sp, struct pgt_tlb_entry *entries, size_t n, unsigned ways)
{
	if (!tlb)
		return PGT_EINVAL;
	if (pgt__space_ok(sp))
		tlb_unlink(sp, tlb); /* initialised again for the same space: attached once */
	tlb_make_dead(tlb);
	if (!pgt__space_ok(sp) || !entries)
		return PGT_EINVAL;
	if ((ways != 1 && ways != 2) || !is_pow2(n) || n < ways)
		return PGT_ESIZE;
	unsigned shift = pgt__level(sp, 0)->shift;
	if (shift < MIN_PAGE_SHIFT)
		return PGT_ENOTSUP;
	uint64_t sets = n / ways;
	*tlb = (pgt_tlb_t){
		.pgt__mem = entries,
		.pgt__live_index = ((sets - 1) << 6) | shift,
		.pgt__gen = __atomic_load_n(&sp->pgt__gen, __ATOMIC_ACQUIRE),
		.pgt__space_gen = &sp->pgt__gen,
		.pgt__sp = sp,
		.pgt__next = sp->pgt__tlbs,
		.pgt__set_mask = sets - 1,
		.pgt__way1 = ways == 2 ? sets : 0,
		.pgt__all_mask = n - 1,
		.pgt__page_shift = shift,
		.pgt__sprot_level = PGT_MAX_LEVELS, /* nothing decoded yet */
		.pgt__magic = PGT__TLB_MAGIC,
	};
	tlb_set_format(tlb, sp->pgt__arch);
	tlb_clear(tlb);
	tlb_make_live(tlb);
	sp->pgt__tlbs = tlb;
	return PGT_OK;
}

static bool tlb_attached(const pgt_tlb_t *tlb)
{
	return tlb && tlb->pgt__magic == PGT__TLB_MAGIC && tlb->pgt__sp;
}

void pgt_tlb_fini(pgt_tlb_t *tlb)
{
	if (!tlb_attached(tlb))
		return;
	tlb_unlink(tlb->pgt__sp, tlb);
	uint64_t fills = tlb->pgt__fills;
	tlb_make_dead(tlb);
	tlb->pgt__magic = PGT__TLB_MAGIC; /* misses stay readable */
	tlb->pgt__fills = fills;
}

int pgt__changed_notify(pgt_space_t *sp, pgt_vaddr_t va, uint64_t size, bool flush)
{
	if (flush)
		pgt__tlb_flush_hook(sp, va, va + (size - 1));
	pgt__space_changed(sp);
	return PGT_OK;
}

void pgt__tlb_stale_all(pgt_space_t *sp)
{
	for (pgt_tlb_t *t = sp->pgt__tlbs; t; t = t->pgt__next)
		tlb_make_stale(t);
	sp->pgt__tlb_live = 0; /* until one revives (tlb_make_live) */
}

void pgt__tlb_detach_all(pgt_space_t *sp)
{
	pgt_tlb_t *t = sp->pgt__tlbs;

	while (t) {
		pgt_tlb_t *next = t->pgt__next;
		tlb_make_stale(t);
		t->pgt__sp = NULL;
		t->pgt__next = NULL;
		t = next;
	}
	sp->pgt__tlbs = NULL;
	sp->pgt__tlb_live = 0;
}

void pgt_tlb_flush(pgt_tlb_t *tlb)
{
	if (tlb_attached(tlb))
		tlb_clear(tlb);
}

uint64_t pgt_tlb_misses(const pgt_tlb_t *tlb)
{
	return (tlb && tlb->pgt__magic == PGT__TLB_MAGIC) ? tlb->pgt__fills : 0;
}

int pgt__tlb_put_decoded(pgt_tlb_t *tlb, struct pgt_tlb_entry *e0, pgt_pte_t pte, pgt_vaddr_t va,
			 pgt_paddr_t *pa, unsigned *prot)
{
	const struct pgt_arch *a = tlb->pgt__sp->pgt__arch;
	const struct pgt_level *L = &a->level[0];

	tlb->pgt__prot_key = pte & L->prot_mask;
	tlb->pgt__prot = a->prot_decode(0, pte) & PGT__TLB_PROT_BITS;
	return pgt__tlb_write_small(tlb, e0, va, pgt__leaf_pa(L, pte, va), tlb->pgt__prot, pa, prot,
				    L->shift);
}

/** The level of a superpage entry of @p kind (pgt__tlb_put_super). */
static unsigned kind_level(unsigned kind)
{
	return kind % PGT__TLB_RUN_MARK;
}

/** log2 of the bytes an entry of @p kind covers: its level's page size, eight of them for a run. */
static unsigned kind_shift(const pgt_tlb_t *tlb, unsigned kind)
{
	return tlb->pgt__shift[kind_level(kind)] + (kind >= PGT__TLB_RUN_MARK ? PGT__TLB_RUN_SHIFT : 0u);
}

/**
 * Makes superpage entries of @p kind the ones the inline hit looks at; the
 * TLB may hold entries of that kind from then on.
 */
static void tlb_probe_level(pgt_tlb_t *tlb, unsigned kind)
{
	uint64_t sindex = tlb->pgt__all_mask << 6 | kind_shift(tlb, kind);

	tlb->pgt__levels |= 1u << kind;
	tlb->pgt__slevel = kind;
	tlb->pgt__sindex = tlb->pgt__live_sindex = sindex; /* a miss: the TLB is in step */
	tlb->pgt__smark = pgt__tlb_super_tag(0, kind, tlb->pgt__tag_shift);
}

/*
 * The inline hit's superpage fields are stored only when the level
 * changes: the next lookups read them, and a store on every fill would
 * make each wait for the fill before.
 */
int pgt__tlb_put_super(pgt_tlb_t *tlb, unsigned kind, pgt_paddr_t leaf_pa, pgt_vaddr_t va, pgt_paddr_t *pa,
		       unsigned *prot)
{
	uint64_t n = va >> kind_shift(tlb, kind);
	unsigned rights = tlb->pgt__sprot;

	if (tlb->pgt__slevel != kind)
		tlb_probe_level(tlb, kind);
	/* a run's pages all lie at the leaf's distance from their virtual addresses */
	tlb->pgt__mem[n & tlb->pgt__all_mask] =
		(struct pgt_tlb_entry){ .pgt__vpn = pgt__tlb_super_tag(n, kind, tlb->pgt__tag_shift),
					.pgt__delta = (leaf_pa - va) | rights };
	return pgt__tlb_answer_new(leaf_pa, rights, pa, prot);
}

int pgt__tlb_put_super_decoded(pgt_tlb_t *tlb, pgt_pte_t pte, unsigned kind, pgt_vaddr_t va, pgt_paddr_t *pa,
			       unsigned *prot)
{
	const struct pgt_arch *a = tlb->pgt__sp->pgt__arch;
	unsigned level = kind_level(kind);
	const struct pgt_level *L = &a->level[level];

	tlb->pgt__sprot_key = pte & L->prot_mask;
	tlb->pgt__sprot_level = level;
	tlb->pgt__sprot = a->prot_decode(level, pte) & PGT__TLB_PROT_BITS;
	return pgt__tlb_put_super(tlb, kind, pgt__leaf_pa(L, pte, va), va, pa, prot);
}

/**
 * Empties the TLB when its space changed since the entries were filled, and
 * makes hits possible again after pgt__tlb_stale_all.
 */
static void tlb_sync(pgt_tlb_t *tlb)
{
	uint64_t gen = __atomic_load_n(tlb->pgt__space_gen, __ATOMIC_ACQUIRE);

	if (gen != tlb->pgt__gen) {
		tlb_clear(tlb);
		tlb->pgt__gen = gen;
	}
	tlb_make_live(tlb);
}

/**
 * pgt__miss of a TLB that reads the stale entry: failed, detached, or
 * stale. The first two answer PGT_EINVAL; a stale one is synchronised with
 * its space and looked up again (in step now: not back here).
 */
static __attribute__((noinline, cold)) int tlb_revive(pgt_tlb_t *tlb, pgt_vaddr_t va, pgt_paddr_t *pa,
						      unsigned *prot)
{
	if (!tlb_attached(tlb) || !pgt__space_ok(tlb->pgt__sp))
		return PGT_EINVAL;
	tlb_sync(tlb);
	return pgt_tlb_fill(tlb, va, pa, prot);
}

int pgt_tlb_fill(pgt_tlb_t *tlb, pgt_vaddr_t va, pgt_paddr_t *pa, unsigned *prot)
{
	if (!tlb)
		return PGT_EINVAL;
	/* the inline probes first, for a direct call of a page they hold */
	return pgt_tlb_lookup(tlb, va, pa, prot);
}
