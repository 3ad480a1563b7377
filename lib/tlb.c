/* SPDX-License-Identifier: MIT */
/*
 * pgt_tlb: a software translation cache (include/pgtable/tlb.h).
 *
 * Entries are tagged by the virtual page number of the smallest page, so a
 * superpage is cached one small page at a time and a tag is one compare.
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
		       offsetof(struct pgt_tlb_entry, pgt__vpn) == 0 && sizeof(struct pgt_tlb_entry) == 16,
	       "the fields the inline TLB hit reads moved: an ABI break");

/** pgt_tlb_t.pgt__magic while the TLB is initialised. */
#define PGT__TLB_MAGIC 0x706c7462u

/** No virtual page number is all ones (pages are at least 2 bytes). */
#define EMPTY_VPN (~(uint64_t)0)

/*
 * What a stale, detached or failed TLB reads on a hit: the lookup shifts
 * the address by 63 and masks the set to 0, so it reads this one empty
 * entry, whose page number no shifted address has, and misses into
 * pgt_tlb_fill. Never written.
 */
static const struct pgt_tlb_entry stale_entry = { EMPTY_VPN, 0 };
#define STALE_INDEX 63u

static void tlb_make_stale(pgt_tlb_t *tlb)
{
	tlb->pgt__e = &stale_entry;
	tlb->pgt__index = STALE_INDEX;
}

/** Not attached to any space: every lookup answers PGT_EINVAL. */
static void tlb_make_dead(pgt_tlb_t *tlb)
{
	*tlb = (pgt_tlb_t){ .pgt__e = &stale_entry, .pgt__index = STALE_INDEX };
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

int pgt__tlb_put_decoded(pgt_tlb_t *tlb, struct pgt_tlb_entry *e0, const struct pgt_arch *a, pgt_pte_t pte,
			 unsigned level, pgt_vaddr_t va, pgt_paddr_t *pa, unsigned *prot)
{
	const struct pgt_level *L = &a->level[level];

	tlb->pgt__prot_key = pte & L->prot_mask;
	tlb->pgt__prot_level = level;
	tlb->pgt__prot = a->prot_decode(level, pte) & PGT__TLB_PROT_BITS;
	return pgt__tlb_write(tlb, e0, va, pgt__leaf_pa(L, pte, va), tlb->pgt__prot, pa, prot,
			      tlb->pgt__page_shift);
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
}

/** The answer from way 0 of a set, after a fill or a swap put it there. */
static int tlb_answer(const struct pgt_tlb_entry *e, pgt_vaddr_t va, pgt_paddr_t *pa, unsigned *prot)
{
	if (pa)
		*pa = va + (e->pgt__delta & ~(uint64_t)PGT__TLB_PROT_BITS);
	if (prot)
		*prot = (unsigned)(e->pgt__delta & PGT__TLB_PROT_BITS);
	return PGT_OK;
}

/**
 * Makes way 1 of the set the most recent, when it holds @p vpn; way 0 does
 * not (in a direct-mapped TLB way 1 is way 0).
 */
static bool tlb_from_way1(const pgt_tlb_t *tlb, struct pgt_tlb_entry *e0, uint64_t vpn)
{
	struct pgt_tlb_entry *e1 = e0 + tlb->pgt__way1;

	if (e1->pgt__vpn != vpn)
		return false;
	struct pgt_tlb_entry t = *e1;
	*e1 = *e0;
	*e0 = t;
	return true;
}

/**
 * pgt_tlb_fill of a TLB that reads the stale entry: failed, detached, or
 * stale. The first two answer PGT_EINVAL; a stale one is synchronised with
 * its space and filled. A tail call out of the fill, so that its hit and
 * miss paths save no register for this one.
 */
static __attribute__((noinline, cold)) int tlb_revive_and_fill(pgt_tlb_t *tlb, pgt_vaddr_t va, pgt_paddr_t *pa,
							      unsigned *prot)
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
		return tlb_answer(e0, va, pa, prot);
	/* Else a miss: the space's walk, with the rest of it. */
	tlb->pgt__fills++;
	return pgt__ops(tlb->pgt__sp)->tlb_refill(tlb, e0, va, pa, prot);
}
