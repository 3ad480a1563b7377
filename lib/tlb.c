/*
 * pgt_tlb: a software translation cache (include/pgtable/tlb.h).
 *
 * Entries are tagged by the page-aligned virtual address of the smallest
 * page, so a superpage is cached one small page at a time and every tag is
 * one compare. Coherence is by generation: the engine bumps the space's
 * counter (pgt__space_changed) whenever a valid translation is removed,
 * moved or changed; a TLB whose generation differs is emptied on its next
 * miss, and its hits are refused until then.
 */
#include <pgtable/tlb.h>

#include "internal.h"

/** pgt_tlb_t.pgt__magic while the TLB is initialised. */
#define PGT__TLB_MAGIC 0x706c7462u

/*
 * What a TLB that failed to initialise points at: one empty entry and a
 * generation no TLB holds, so every lookup misses into pgt_tlb_fill, which
 * refuses it. Never written.
 */
static const struct pgt_tlb_entry dead_entry = { 0, 0 };
static const uint64_t dead_gen = 1;

static void tlb_make_dead(pgt_tlb_t *tlb)
{
	*tlb = (pgt_tlb_t){ .pgt__e = (struct pgt_tlb_entry *)(uintptr_t)&dead_entry,
			    .pgt__space_gen = &dead_gen };
}

static bool is_pow2(size_t n)
{
	return n && !(n & (n - 1));
}

static unsigned log2_of(size_t n)
{
	unsigned k = 0;

	while (((size_t)1 << k) < n)
		k++;
	return k;
}

static void tlb_clear(pgt_tlb_t *tlb)
{
	size_t n = (size_t)(tlb->pgt__set_mask + 1) << tlb->pgt__way_shift;

	for (size_t i = 0; i < n; i++)
		tlb->pgt__e[i] = (struct pgt_tlb_entry){ 0, 0 };
}

int pgt_tlb_init(pgt_tlb_t *tlb, const pgt_space_t *sp, struct pgt_tlb_entry *entries, size_t n, unsigned ways)
{
	if (!tlb)
		return PGT_EINVAL;
	tlb_make_dead(tlb);
	if (!pgt__space_ok(sp) || !entries || (ways != 1 && ways != 2) || !is_pow2(n) || n < ways)
		return PGT_EINVAL;
	unsigned shift = pgt__level(sp, 0)->shift;
	*tlb = (pgt_tlb_t){
		.pgt__e = entries,
		.pgt__page_mask = ~((1ull << shift) - 1),
		.pgt__set_mask = (n / ways) - 1,
		.pgt__gen = __atomic_load_n(&sp->pgt__gen, __ATOMIC_ACQUIRE),
		.pgt__space_gen = &sp->pgt__gen,
		.pgt__sp = sp,
		.pgt__page_shift = shift,
		.pgt__way_shift = log2_of(ways),
		.pgt__magic = PGT__TLB_MAGIC,
	};
	tlb_clear(tlb);
	return PGT_OK;
}

void pgt_tlb_flush(pgt_tlb_t *tlb)
{
	if (tlb && tlb->pgt__magic == PGT__TLB_MAGIC)
		tlb_clear(tlb);
}

uint64_t pgt_tlb_misses(const pgt_tlb_t *tlb)
{
	return (tlb && tlb->pgt__magic == PGT__TLB_MAGIC) ? tlb->pgt__fills : 0;
}

/** What a fill found: the small page's physical address and the rights. */
struct tlb_translation {
	pgt_paddr_t page; /**< physical address of the smallest page holding va */
	unsigned prot;    /**< PGT_PROT_* */
};

/** Walks the tables for @p va: PGT_OK for a hardware-valid leaf, else why not. */
static int tlb_walk(const pgt_space_t *sp, pgt_vaddr_t va, uint64_t page_mask, struct tlb_translation *t)
{
	pgt_ref_t ref;
	int rc = pgt__lookup_fast(sp, va, &ref);

	if (rc != PGT_OK)
		return rc;
	const struct pgt_level *L = pgt__level(sp, ref.level);
	pgt_pte_t pte = pgt__pte_load(ref.pte);
	if (!pgt__is_valid_leaf(L, pte))
		return PGT_ENOENT; /* a reserved leaf: no translation yet */
	uint64_t in_page = va & ((1ull << ref.page_shift) - 1);
	t->page = ((pte & L->leaf_oa) | in_page) & page_mask;
	t->prot = sp->pgt__arch->prot_decode(ref.level, pte) & PGT__TLB_PROT_BITS;
	return PGT_OK;
}

/** Stores a translation in @p va's set: the most recent first, the older one moves down. */
static void tlb_insert(pgt_tlb_t *tlb, pgt_vaddr_t va, const struct tlb_translation *t)
{
	uint64_t set = (va >> tlb->pgt__page_shift) & tlb->pgt__set_mask;
	struct pgt_tlb_entry *e = tlb->pgt__e + (set << tlb->pgt__way_shift);

	if (tlb->pgt__way_shift)
		e[1] = e[0];
	e[0] = (struct pgt_tlb_entry){ .pgt__tag = (va & tlb->pgt__page_mask) | 1u,
				       .pgt__pa = t->page | t->prot };
}

/** Empties the TLB when its space changed since the entries were filled. */
static void tlb_sync(pgt_tlb_t *tlb)
{
	uint64_t gen = __atomic_load_n(tlb->pgt__space_gen, __ATOMIC_ACQUIRE);

	if (gen != tlb->pgt__gen) {
		tlb_clear(tlb);
		tlb->pgt__gen = gen;
	}
}

int pgt_tlb_fill(pgt_tlb_t *tlb, pgt_vaddr_t va, pgt_paddr_t *pa, unsigned *prot)
{
	if (!tlb || tlb->pgt__magic != PGT__TLB_MAGIC || !pgt__space_ok(tlb->pgt__sp))
		return PGT_EINVAL;
	tlb_sync(tlb);
	tlb->pgt__fills++;

	struct tlb_translation t;
	int rc = tlb_walk(tlb->pgt__sp, va, tlb->pgt__page_mask, &t);
	if (rc != PGT_OK)
		return rc;
	tlb_insert(tlb, va, &t);
	if (pa)
		*pa = t.page | (va & ~tlb->pgt__page_mask);
	if (prot)
		*prot = t.prot;
	return PGT_OK;
}
