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
 * Coherence: whenever a valid translation is removed, moved or changed the
 * engine calls pgt__space_changed, which bumps the space's generation and
 * points every attached TLB at an empty entry, so that its next lookup
 * misses; the miss sees the new generation and empties the TLB. A hit
 * therefore checks its tag and nothing else.
 */
#include <stddef.h>

#include <pgtable/tlb.h>

#include "rights.h"
#include "tlb.h"
#include "walks.h"

_Static_assert(sizeof(pgt_tlb_t) == PGT_TLB_WORDS * sizeof(uint64_t),
	       "the TLB's private state outgrew the room every version keeps for it: an ABI break");
/* Callers' code has the inline hit compiled in: what it reads stays where it is. */
_Static_assert(offsetof(pgt_tlb_t, pgt__e) == 0 && offsetof(pgt_tlb_t, pgt__index) == sizeof(void *) &&
		       offsetof(pgt_tlb_t, pgt__sindex) == sizeof(void *) + 8 &&
		       offsetof(pgt_tlb_t, pgt__smark) == sizeof(void *) + 16 &&
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
 * entry, whose page number no shifted address has, and misses into
 * pgt_tlb_fill. Never written.
 */
static const struct pgt_tlb_entry stale_entry = { EMPTY_VPN, 0 };
#define STALE_INDEX 63u

/*
 * The superpage index and tag bits while no superpage is cached: the hit's
 * second probe reads entry 0 and compares it with a level no entry has.
 */
#define NO_SUPER_INDEX 63u
#define NO_SUPER_LEVEL 7u
_Static_assert(NO_SUPER_LEVEL >= PGT_MAX_LEVELS, "a level entries have");

static void tlb_make_stale(pgt_tlb_t *tlb)
{
	tlb->pgt__e = &stale_entry;
	tlb->pgt__index = STALE_INDEX;
	tlb->pgt__sindex = STALE_INDEX;
}

/** Not attached to any space: every lookup answers PGT_EINVAL. */
static void tlb_make_dead(pgt_tlb_t *tlb)
{
	*tlb = (pgt_tlb_t){ .pgt__e = &stale_entry,
			    .pgt__index = STALE_INDEX,
			    .pgt__sindex = STALE_INDEX,
			    .pgt__smark = NO_SUPER_LEVEL };
}

static bool is_pow2(size_t n)
{
	return n && !(n & (n - 1));
}

static void tlb_clear(pgt_tlb_t *tlb)
{
	size_t n = (size_t)(tlb->pgt__set_mask + 1 + tlb->pgt__way1);

	for (size_t i = 0; i < n; i++)
		tlb->pgt__mem[i] = (struct pgt_tlb_entry){ EMPTY_VPN, 0 };
	tlb->pgt__levels = 0;
	tlb->pgt__sindex = tlb->pgt__live_sindex = NO_SUPER_INDEX; /* stale or not, 63 */
	tlb->pgt__smark = pgt__tlb_super_tag(tlb, 0, NO_SUPER_LEVEL);
}

/** Remembers the page size of every level, for the superpage probes of a miss. */
static void tlb_set_shifts(pgt_tlb_t *tlb, const struct pgt_arch *a)
{
	for (unsigned l = 0; l < a->levels; l++)
		tlb->pgt__shift[l] = (unsigned char)a->level[l].shift;
	tlb->pgt__tag_shift = (unsigned char)(64 - a->level[0].shift);
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
		.pgt__e = entries,
		.pgt__index = ((sets - 1) << 6) | shift,
		.pgt__mem = entries,
		.pgt__live_index = ((sets - 1) << 6) | shift,
		.pgt__gen = __atomic_load_n(&sp->pgt__gen, __ATOMIC_ACQUIRE),
		.pgt__space_gen = &sp->pgt__gen,
		.pgt__sp = sp,
		.pgt__next = sp->pgt__tlbs,
		.pgt__set_mask = sets - 1,
		.pgt__way1 = ways == 2 ? sets : 0,
		.pgt__page_shift = shift,
		.pgt__prot_level = PGT_MAX_LEVELS, /* nothing decoded yet */
		.pgt__magic = PGT__TLB_MAGIC,
	};
	tlb_set_shifts(tlb, sp->pgt__arch);
	tlb_clear(tlb);
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

void pgt__tlb_stale_all(pgt_space_t *sp)
{
	for (pgt_tlb_t *t = sp->pgt__tlbs; t; t = t->pgt__next)
		tlb_make_stale(t);
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

/** The rights of @p pte, a leaf at @p level: decoded unless they are the ones decoded last. */
static unsigned tlb_rights(pgt_tlb_t *tlb, const struct pgt_arch *a, pgt_pte_t pte, unsigned level)
{
	pgt_pte_t key = pte & a->level[level].prot_mask;

	if (key != tlb->pgt__prot_key || level != tlb->pgt__prot_level) {
		tlb->pgt__prot_key = key;
		tlb->pgt__prot_level = level;
		tlb->pgt__prot = a->prot_decode(level, pte) & PGT__TLB_PROT_BITS;
	}
	return tlb->pgt__prot;
}

int pgt__tlb_put_decoded(pgt_tlb_t *tlb, struct pgt_tlb_entry *e0, const struct pgt_arch *a, pgt_pte_t pte,
			 unsigned level, pgt_vaddr_t va, pgt_paddr_t *pa, unsigned *prot)
{
	const struct pgt_level *L = &a->level[level];
	unsigned rights = tlb_rights(tlb, a, pte, level);

	return pgt__tlb_write_small(tlb, e0, va, pgt__leaf_pa(L, pte, va), rights, pa, prot, L->shift);
}

int pgt__tlb_put_super(pgt_tlb_t *tlb, const struct pgt_arch *a, pgt_pte_t pte, unsigned level,
		       pgt_vaddr_t va, pgt_paddr_t *pa, unsigned *prot)
{
	const struct pgt_level *L = &a->level[level];
	unsigned rights = tlb_rights(tlb, a, pte, level);

	return pgt__tlb_write_super(tlb, va, pgt__leaf_pa(L, pte, va), rights, pa, prot, level, L->shift);
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
	tlb->pgt__e = tlb->pgt__mem;
	tlb->pgt__index = tlb->pgt__live_index;
	tlb->pgt__sindex = tlb->pgt__live_sindex;
}

/**
 * Makes way 1 of the set the most recent, when it holds @p tag; way 0 does
 * not (in a direct-mapped TLB way 1 is way 0).
 */
static bool tlb_from_way1(const pgt_tlb_t *tlb, struct pgt_tlb_entry *e0, uint64_t tag)
{
	struct pgt_tlb_entry *e1 = e0 + tlb->pgt__way1;

	if (e1->pgt__vpn != tag)
		return false;
	struct pgt_tlb_entry t = *e1;
	*e1 = *e0;
	*e0 = t;
	return true;
}

/**
 * The cached superpage that covers @p va, or NULL: one entry per level the
 * TLB holds superpages of.
 */
static const struct pgt_tlb_entry *tlb_find_super(const pgt_tlb_t *tlb, pgt_vaddr_t va)
{
	uint64_t all = pgt__tlb_all_mask(tlb), levels = tlb->pgt__levels;

	/* a loop, not a count of trailing zeros: freestanding targets may lack the instruction and libgcc */
	for (unsigned l = 1; levels >> l; l++) {
		if (!(levels >> l & 1))
			continue;
		uint64_t n = va >> tlb->pgt__shift[l];
		const struct pgt_tlb_entry *e = tlb->pgt__mem + (n & all);
		if (e->pgt__vpn == pgt__tlb_super_tag(tlb, n, l))
			return e;
	}
	return NULL;
}

/** A miss: the space's walk, with the rest of it. */
static inline __attribute__((always_inline)) int tlb_walk(pgt_tlb_t *tlb, struct pgt_tlb_entry *e0,
							  pgt_vaddr_t va, pgt_paddr_t *pa, unsigned *prot)
{
	tlb->pgt__fills++;
	return pgt__ops(tlb->pgt__sp)->tlb_refill(tlb, e0, va, pa, prot);
}

/**
 * The end of pgt_tlb_fill when the TLB holds superpages: the one that
 * covers @p va, else the walk. Out of line, so that a TLB of small pages
 * alone saves no register for the search on its misses.
 */
static __attribute__((noinline)) int tlb_fill_super(pgt_tlb_t *tlb, struct pgt_tlb_entry *e0, pgt_vaddr_t va,
						    pgt_paddr_t *pa, unsigned *prot)
{
	const struct pgt_tlb_entry *e = tlb_find_super(tlb, va);

	if (e)
		return pgt__tlb_answer(e, va, pa, prot);
	return tlb_walk(tlb, e0, va, pa, prot);
}

/**
 * pgt_tlb_fill of a TLB that reads the stale entry: failed, detached, or
 * stale. The first two answer PGT_EINVAL; a stale one is synchronised with
 * its space and filled. A tail call out of the fill, so that its hit and
 * miss paths save no register for this one.
 */
static __attribute__((noinline, cold)) int tlb_revive_and_fill(pgt_tlb_t *tlb, pgt_vaddr_t va,
							       pgt_paddr_t *pa, unsigned *prot)
{
	if (!tlb_attached(tlb) || !pgt__space_ok(tlb->pgt__sp))
		return PGT_EINVAL;
	tlb_sync(tlb);
	return pgt_tlb_fill(tlb, va, pa, prot); /* in step now: not back here */
}

int pgt_tlb_fill(pgt_tlb_t *tlb, pgt_vaddr_t va, pgt_paddr_t *pa, unsigned *prot)
{
	if (!tlb)
		return PGT_EINVAL;
	/*
	 * A TLB reads its own entries only while attached to a live space and
	 * in step with it: init and tlb_sync alone point it there, and every
	 * detach, failure and change of the space points it at the stale entry.
	 */
	if (tlb->pgt__e != tlb->pgt__mem)
		return tlb_revive_and_fill(tlb, va, pa, prot);
	uint64_t vpn = va >> tlb->pgt__page_shift;
	struct pgt_tlb_entry *e0 = tlb->pgt__mem + (vpn & tlb->pgt__set_mask);
	/* A direct call for a page way 0 has already answers from it. */
	if (e0->pgt__vpn == vpn || tlb_from_way1(tlb, e0, vpn))
		return pgt__tlb_answer(e0, va, pa, prot);
	if (tlb->pgt__levels)
		return tlb_fill_super(tlb, e0, va, pa, prot);
	return tlb_walk(tlb, e0, va, pa, prot);
}
