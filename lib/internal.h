/* SPDX-License-Identifier: MIT */
/*
 * Private to the engine: entry classification, indexing, address checks and
 * table memory, all inline so the walks compile to masks and shifts.
 * Nothing here names an architecture.
 */
#ifndef PGT_LIB_INTERNAL_H
#define PGT_LIB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <pgtable/arch.h>
#include <pgtable/pgtable.h>

/**
 * Internal invariant check, off by default. Built with
 * -DPGT_ASSERT_PANIC=name, a broken invariant calls the caller's
 * `void name(const char *cond, const char *file, int line)` (a kernel's
 * panic); a definition of PGT_ASSERT itself replaces all of this.
 */
#ifndef PGT_ASSERT
#ifdef PGT_ASSERT_PANIC
void PGT_ASSERT_PANIC(const char *cond, const char *file, int line);
#define PGT_ASSERT(cond) ((cond) ? (void)0 : PGT_ASSERT_PANIC(#cond, __FILE__, __LINE__))
#else
#define PGT_ASSERT(cond) ((void)0)
#endif
#endif

/* Entries are single 64-bit words, read and written whole (see pgt__pte_store). */
_Static_assert(sizeof(pgt_pte_t) == 8, "entries are 64-bit");
_Static_assert(sizeof(pgt_ref_t) == sizeof(void *) + 2 * sizeof(unsigned) ||
		       sizeof(pgt_ref_t) == 2 * sizeof(void *),
	       "pgt_ref_t stays two words: it is passed by value");

/* Public structs callers fill or read are the ABI: their layout stays (see also abi/). */
_Static_assert(sizeof(struct pgt_mapping) == 32 && offsetof(struct pgt_mapping, prot) == 24 &&
		       offsetof(struct pgt_mapping, level) == 28,
	       "struct pgt_mapping changed: an ABI break");
_Static_assert(sizeof(struct pgt_fault) == 32 && offsetof(struct pgt_fault, stage) == 16 &&
		       offsetof(struct pgt_fault, ipa) == 24,
	       "struct pgt_fault changed: an ABI break");
_Static_assert(sizeof(pgt_space_t) == PGT_SPACE_WORDS * sizeof(uint64_t),
	       "the space's private state outgrew the room every version keeps for it: an ABI break");
_Static_assert(sizeof(((pgt_space_t *)0)->pgt__rsv) == PGT_MAX_LEVELS * sizeof(pgt_pte_t),
	       "one cached reserved leaf per level");
_Static_assert(sizeof(((pgt_space_t *)0)->pgt__enc) == PGT_MAX_LEVELS * sizeof(pgt_pte_t),
	       "one remembered leaf encoding per level");

/** pgt_space_t.pgt__enc_prot when no encoding is remembered: no prot has every bit. */
#define PGT__ENC_NONE (~0u)

/** pgt_space_t.pgt__magic while the space is initialised. */
#define PGT__MAGIC 0x70677431u

/** pgt_space_t.pgt__magic of a view over foreign tables (pgt_space_view). */
#define PGT__MAGIC_VIEW 0x76696577u

/** Flags pgt_space_init accepts. */
#define PGT__SPACE_FLAGS (PGT_SPACE_LINKS | PGT_SPACE_UPPER)

/** What an entry is, by the descriptor's masks (see arch.h). */
enum pgt__kind { PGT__EMPTY, PGT__TABLE, PGT__LEAF, PGT__RESERVED, PGT__BAD };

static inline const struct pgt_level *pgt__level(const pgt_space_t *sp, unsigned level)
{
	return &sp->pgt__arch->level[level];
}

static inline unsigned pgt__root_level(const pgt_space_t *sp)
{
	return sp->pgt__arch->levels - 1u;
}

/** Whether @p sp is an initialised view (lib/space.c): out of line, off the path of every query on a space. */
bool pgt__is_view(const pgt_space_t *sp) __attribute__((cold));

/**
 * An initialised space or view: one that queries may read. A space costs
 * the one compare it did before views existed.
 */
static inline bool pgt__space_ok(const pgt_space_t *sp)
{
	if (sp == NULL)
		return false;
	return __builtin_expect(sp->pgt__magic == PGT__MAGIC, 1) || pgt__is_view(sp);
}

/**
 * An initialised space whose tables the library may write: not a view
 * (pgt_space_view), so that every mutating call refuses a view with the
 * one compare it made before views existed.
 */
static inline bool pgt__space_writable(const pgt_space_t *sp)
{
	return sp != NULL && sp->pgt__magic == PGT__MAGIC;
}

/*
 * The atomics every entry access goes through. An analysis build
 * (PGT_VERIFY, tests/proof/) defines them as the plain accesses of its
 * single-threaded model: an analyser that does not know the builtins
 * then reads the same code.
 */
#ifndef PGT__ATOMIC_LOAD
#define PGT__ATOMIC_LOAD(p, order) __atomic_load_n(p, order)
#define PGT__ATOMIC_STORE(p, v, order) __atomic_store_n(p, v, order)
#endif

/*
 * Whether pointer @p p is not @p align-aligned. An analysis build defines
 * it from the pointer's offset in its object (tests/proof/prelude.h): the
 * analyser knows offsets, not the addresses of objects.
 */
#ifndef PGT__MISALIGNED
#define PGT__MISALIGNED(p, align) (((uintptr_t)(p) & ((align) - 1)) != 0)
#endif

/*
 * Entries are read and written whole with single aligned 64-bit accesses,
 * so a hardware walker or a concurrent reader never sees a torn entry.
 * The release store orders a new table's initialisation before its link.
 */
static inline __attribute__((always_inline)) pgt_pte_t pgt__pte_load(const pgt_pte_t *p)
{
	return PGT__ATOMIC_LOAD(p, __ATOMIC_ACQUIRE);
}

static inline __attribute__((always_inline)) void pgt__pte_store(pgt_pte_t *p, pgt_pte_t v)
{
	PGT__ATOMIC_STORE(p, v, __ATOMIC_RELEASE);
}

/*
 * Entry accessors: the one place that knows where an entry keeps its
 * addresses and what kind of entry it is. No other code masks an entry for
 * them (seL4's rule), so a format with another layout is a descriptor and
 * nothing else. With a constant descriptor every test here folds to the
 * one or two masks the format needs.
 */

/** Whether the hardware walks @p pte: any bit of `valid` set (a table entry or a valid leaf). */
static inline __attribute__((always_inline)) bool pgt__is_present(const struct pgt_level *L, pgt_pte_t pte)
{
	return (pte & L->valid) != 0;
}

/**
 * Whether @p pte is present and of @p type by type_mask. A type (within
 * type_mask) that has a valid bit implies presence; else the entry's own
 * valid bits must say so.
 */
static inline __attribute__((always_inline)) bool pgt__has_type(const struct pgt_level *L, pgt_pte_t pte, pgt_pte_t type)
{
	return (pte & L->type_mask) == type && ((type & L->valid) || pgt__is_present(L, pte));
}

/**
 * Whether @p pte at @p level links a next-level table: of the table type
 * and without a bit of leaf_any (one compare: table_type has none of them,
 * which pgt_space_init checks), and present.
 */
static inline __attribute__((always_inline)) bool pgt__is_table(const struct pgt_level *L, unsigned level, pgt_pte_t pte)
{
	return level > 0 && (pte & (L->type_mask | L->leaf_any)) == L->table_type &&
	       ((L->table_type & L->valid) || pgt__is_present(L, pte));
}

/** Whether @p pte has the form of a valid leaf, whether or not its level allows leaves. */
static inline __attribute__((always_inline)) bool pgt__has_leaf_form(const struct pgt_level *L, pgt_pte_t pte)
{
	return pgt__has_type(L, pte, L->leaf_type) && (!L->leaf_any || (pte & L->leaf_any));
}

/** Whether @p pte is a leaf valid in hardware (not reserved, not a table). */
static inline __attribute__((always_inline)) bool pgt__is_valid_leaf(const struct pgt_level *L, pgt_pte_t pte)
{
	return L->leaf_ok && pgt__has_leaf_form(L, pte);
}

/** Whether @p pte is a leaf the library keeps: valid, or reserved (not present, marked). */
static inline __attribute__((always_inline)) bool pgt__is_mapped_leaf(const struct pgt_level *L, pgt_pte_t pte)
{
	if (pgt__is_valid_leaf(L, pte))
		return true;
	return L->leaf_ok && !pgt__is_present(L, pte) && (pte & L->reserved);
}

/** Whether the present entry @p pte matches one of its level's malformed patterns. */
static inline bool pgt__matches_malformed(const struct pgt_level *L, pgt_pte_t pte)
{
	bool bad = false;

#pragma GCC unroll 8
	for (unsigned i = 0; i < PGT_MALFORMED; i++)
		bad |= L->malformed[i].mask && (pte & L->malformed[i].mask) == L->malformed[i].match;
	return bad;
}

/**
 * Whether malformed pattern @p i of @p L can match a table entry that has
 * no must-be-zero bit set: not when it asks for a bit of leaf_any (table
 * entries have none) or for a must-be-zero bit. With a constant
 * descriptor the others fold away (RISC-V's tests nothing in tables).
 */
static inline bool pgt__table_pattern(const struct pgt_level *L, unsigned i)
{
	const struct pgt_pattern *m = &L->malformed[i];

	return m->mask && !(m->match & m->mask & (L->leaf_any | L->table_mbz));
}

/** Whether the MMU rejects the table entry @p pte: must-be-zero bits, or a malformed pattern. */
static inline bool pgt__table_malformed(const struct pgt_level *L, pgt_pte_t pte)
{
	bool bad = (pte & L->table_mbz) != 0;

#pragma GCC unroll 8
	for (unsigned i = 0; i < PGT_MALFORMED; i++)
		bad |= pgt__table_pattern(L, i) && (pte & L->malformed[i].mask) == L->malformed[i].match;
	return bad;
}

/** Whether the MMU rejects the valid leaf @p pte: must-be-zero bits, or a malformed pattern. */
static inline bool pgt__leaf_malformed(const struct pgt_level *L, pgt_pte_t pte)
{
	return (pte & L->leaf_mbz) || pgt__matches_malformed(L, pte);
}

/** The physical address of the table that the table entry @p pte at @p L links. */
static inline pgt_paddr_t pgt__table_pa(const struct pgt_level *L, pgt_pte_t pte)
{
	return (pte & L->table_oa) << L->oa_shift;
}

/** The table entry at @p L linking the table at @p pa; it grants everything, so the leaves decide. */
static inline pgt_pte_t pgt__table_entry(const struct pgt_level *L, pgt_paddr_t pa)
{
	return ((pa >> L->oa_shift) & L->table_oa) | L->table_attrs | L->table_type;
}

/*
 * Occupancy counts (pgt_level.table_count): the number of used (non-zero)
 * entries of a table, kept in the ignored bits of the table entry that
 * links it. Every write that turns an entry of such a table from 0 to
 * something or back adds its +1 or -1 there, so that unmap knows a table
 * emptied without reading it. Readers and the MMU ignore the bits.
 *
 * The field is one run of bits or a few (PGT__COUNT_RUNS): where no run of
 * ignored bits is wide enough (ARMv8's 16K and 64K granules), the count's
 * low bits go to the lowest run and the rest, in order, to the runs above.
 * With a shipped descriptor the masks are constants and every helper
 * below folds to a few shifts.
 */

/** Whether the table entry @p pte at @p L keeps its table's count: room for one, and not shared (pgt_share). */
static inline __attribute__((always_inline)) bool pgt__counted(const struct pgt_level *L, pgt_pte_t pte)
{
	return L->table_count && !(pte & (L->table_borrowed | L->table_pinned));
}

/**
 * The number of the lowest set bit of @p m (not 0), by a de Bruijn
 * multiply: __builtin_ctzll is a libgcc call on targets without such an
 * instruction, which a freestanding build may not link. With a constant
 * @p m it folds to a constant.
 */
static inline __attribute__((always_inline)) unsigned pgt__lowest_bit(uint64_t m)
{
	static const unsigned char pos[64] = {
		0,  1,  48, 2,  57, 49, 28, 3,  61, 58, 50, 42, 38, 29, 17, 4,  62, 55, 59, 36, 53, 51,
		43, 22, 45, 39, 33, 30, 24, 18, 12, 5,  63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21,
		44, 32, 23, 11, 46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19, 9,  13, 8,  7,  6,
	};

	return pos[((m & -m) * 0x03f79d71b4cb0a89ull) >> 58];
}

/** The most runs of bits a count field may have (pgt_level.table_count). */
#define PGT__COUNT_RUNS 3

/** The lowest run of set bits of @p m: adding its lowest bit carries through the run and clears it. */
static inline __attribute__((always_inline)) uint64_t pgt__low_run(uint64_t m)
{
	return m & ~(m + (m & -m));
}

/**
 * A field's runs of set bits, lowest first: 0 where it has fewer. The last
 * holds every bit left, so a field of more runs has more than one run there.
 */
struct pgt__runs {
	uint64_t run[PGT__COUNT_RUNS];
};

static inline __attribute__((always_inline)) struct pgt__runs pgt__runs_of(uint64_t field)
{
	uint64_t r0 = pgt__low_run(field), r1 = pgt__low_run(field & ~r0);

	return (struct pgt__runs){ { r0, r1, field & ~r0 & ~r1 } };
}

/** The bits of @p pte in @p run (a run of set bits, or 0), moved to the bottom. */
static inline __attribute__((always_inline)) uint64_t pgt__run_get(uint64_t run, pgt_pte_t pte)
{
	return (pte & run) >> pgt__lowest_bit(run);
}

/** The number of bits of @p run, a run of set bits that ends below bit 63 (one past it is a bit). */
static inline __attribute__((always_inline)) unsigned pgt__run_width(uint64_t run)
{
	return pgt__lowest_bit(run + (run & -run)) - pgt__lowest_bit(run);
}

/**
 * The number read from the bits @p field (at most PGT__COUNT_RUNS runs) of
 * @p pte: the lowest run holds the number's low bits. With @p pte equal to
 * @p field, the largest number the field holds.
 */
static inline __attribute__((always_inline)) uint64_t pgt__field_get(uint64_t field, pgt_pte_t pte)
{
	struct pgt__runs r = pgt__runs_of(field);
	uint64_t n = pgt__run_get(r.run[0], pte);

	if (!r.run[1])
		return n;
	n |= pgt__run_get(r.run[1], pte) << pgt__run_width(r.run[0]);
	if (r.run[2])
		n |= pgt__run_get(r.run[2], pte) << (pgt__run_width(r.run[0]) + pgt__run_width(r.run[1]));
	return n;
}

/** @p n in the bits @p field, as pgt__field_get reads it back; what the field cannot hold is dropped. */
static inline __attribute__((always_inline)) pgt_pte_t pgt__field_put(uint64_t field, uint64_t n)
{
	struct pgt__runs r = pgt__runs_of(field);
	pgt_pte_t bits = (n << pgt__lowest_bit(r.run[0])) & r.run[0];

	if (!r.run[1])
		return bits;
	bits |= ((n >> pgt__run_width(r.run[0])) << pgt__lowest_bit(r.run[1])) & r.run[1];
	if (r.run[2])
		bits |= ((n >> (pgt__run_width(r.run[0]) + pgt__run_width(r.run[1]))) << pgt__lowest_bit(r.run[2])) &
			r.run[2];
	return bits;
}

/** The count the table entry @p pte at @p L holds (0 where it keeps none). */
static inline __attribute__((always_inline)) unsigned pgt__count_of(const struct pgt_level *L, pgt_pte_t pte)
{
	return L->table_count ? (unsigned)pgt__field_get(L->table_count, pte) : 0u;
}

/** @p n in the count field of @p L (nothing where there is none). */
static inline __attribute__((always_inline)) pgt_pte_t pgt__count_bits(const struct pgt_level *L, uint64_t n)
{
	return L->table_count ? pgt__field_put(L->table_count, n) : 0;
}

/**
 * The bits between the lowest and the highest bit of @p field that are not
 * in it: where a count split in runs passes a carry or a borrow on.
 */
static inline __attribute__((always_inline)) uint64_t pgt__field_gaps(uint64_t field)
{
	struct pgt__runs r = pgt__runs_of(field);

	if (!r.run[1])
		return 0;
	uint64_t top = r.run[2] ? r.run[2] : r.run[1]; /* the highest run */

	return (top | (top - 1)) & ~field & ~((field & -field) - 1);
}

/**
 * @p old with @p delta added to its count in the field of @p L, in one
 * addition or subtraction even when the field is split by the bits @p gaps:
 * a carry passes gaps set to 1, a borrow gaps set to 0; the gaps keep their
 * bits of @p old. The amount is spread over the runs as a count is.
 */
static inline __attribute__((always_inline)) pgt_pte_t pgt__count_step(const struct pgt_level *L, pgt_pte_t old,
								       pgt_pte_t gaps, int delta)
{
	uint64_t amount = delta < 0 ? -(uint64_t)(int64_t)delta : (uint64_t)delta;
	pgt_pte_t step = pgt__field_put(L->table_count, amount);
	pgt_pte_t sum = delta < 0 ? (old & ~gaps) - step : (old | gaps) + step;

	return (sum & ~gaps) | (old & gaps);
}

/**
 * Whether the MMU may write a table entry of @p L the library wrote: it
 * sets the accessed bit (table_accessed) only where the bit is clear, so
 * not where the library writes table entries with it set (table_attrs).
 */
static inline __attribute__((always_inline)) bool pgt__mmu_writes_table(const struct pgt_level *L)
{
	return (L->table_accessed & ~L->table_attrs) != 0;
}

/**
 * Adds @p delta to the count in the table entry at @p p of @p L and
 * returns the new count; the caller knows the entry keeps one
 * (pgt__counted) and that the count stays within 0 and the table's size.
 * Where the MMU may set an accessed bit in the entry (pgt__mmu_writes_table),
 * it may do so at any moment: one atomic add keeps that bit, or for a split
 * count a compare-and-swap. Elsewhere the space's one writer is alone on
 * the entry: a load and a store (a locked add costs several times a plain
 * one on some x86-64 cores).
 */
static inline __attribute__((always_inline)) unsigned pgt__count_add(const struct pgt_level *L, pgt_pte_t *p, int delta)
{
	pgt_pte_t gaps = pgt__field_gaps(L->table_count), old, now;

	if (pgt__mmu_writes_table(L) && !gaps) /* one run: the step from 0 is the amount to add, modulo 2^64 */
		return pgt__count_of(L, __atomic_add_fetch(p, pgt__count_step(L, 0, 0, delta), __ATOMIC_RELAXED));
	old = __atomic_load_n(p, __ATOMIC_RELAXED);
	if (!pgt__mmu_writes_table(L)) {
		now = pgt__count_step(L, old, gaps, delta);
		__atomic_store_n(p, now, __ATOMIC_RELAXED);
		return pgt__count_of(L, now);
	}
	do
		now = pgt__count_step(L, old, gaps, delta);
	while (!__atomic_compare_exchange_n(p, &old, now, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return pgt__count_of(L, now);
}

/**
 * Adds @p delta to the count of the table the entry at @p up (of @p L)
 * links, when the entry keeps one (no count: nothing). Only a root entry
 * (@p root_entry) can be shared (pgt_share shares at the root): only there
 * is the entry read for its marks. The caller has walked through @p up:
 * never NULL (the root, which no entry links, keeps no count).
 */
static inline __attribute__((always_inline)) void pgt__count_note(const struct pgt_level *L, pgt_pte_t *up,
								  int delta, bool root_entry)
{
	if (!L->table_count || !delta)
		return;
	if (root_entry && !pgt__counted(L, __atomic_load_n(up, __ATOMIC_RELAXED)))
		return;
	(void)pgt__count_add(L, up, delta);
}

/** Whether a table entry at @p L can link a table at @p pa. */
static inline bool pgt__table_pa_fits(const struct pgt_level *L, pgt_paddr_t pa)
{
	return pgt__table_pa(L, pgt__table_entry(L, pa)) == pa;
}

/** The output address of the leaf @p pte at @p L: the first byte of its page. */
static inline pgt_paddr_t pgt__leaf_oa(const struct pgt_level *L, pgt_pte_t pte)
{
	return (pte & L->leaf_oa) << L->oa_shift;
}

/** Whether a leaf at @p L can hold the output address @p pa (aligned to its page, within the width). */
static inline bool pgt__leaf_oa_fits(const struct pgt_level *L, pgt_paddr_t pa)
{
	pgt_paddr_t field = pa >> L->oa_shift;

	return (field << L->oa_shift) == pa && (field & ~L->leaf_oa) == 0;
}

/** @p leaf with its output address replaced by @p pa (which pgt__leaf_oa_fits). */
static inline pgt_pte_t pgt__leaf_with_oa(const struct pgt_level *L, pgt_pte_t leaf, pgt_paddr_t pa)
{
	return (leaf & ~L->leaf_oa) | (pa >> L->oa_shift);
}

/** A new leaf at @p L: the codec's @p bits (no address in them) and the output address @p pa. */
static inline pgt_pte_t pgt__leaf_make(const struct pgt_level *L, pgt_pte_t bits, pgt_paddr_t pa)
{
	return bits | (pa >> L->oa_shift);
}

/** What a leaf at @p L adds to an entry to map the next page: its size in the address field. */
static inline uint64_t pgt__leaf_step(const struct pgt_level *L)
{
	return (1ull << L->shift) >> L->oa_shift;
}

/** Entry bits that hold output-address bits below @p shift (below a page of that size). */
static inline pgt_pte_t pgt__oa_bits_below(const struct pgt_level *L, unsigned shift)
{
	return ((1ull << shift) - 1) >> L->oa_shift;
}

/**
 * Replaces the leaf at @p p, read as @p seen, by (leaf & ~clear) | set,
 * where leaf is what the entry holds at the instant of the store, and
 * returns that leaf. While the leaf is valid, the MMU of another CPU (or a
 * pgt_translate with PGT_ACC_SET_AD in another thread) may set its
 * accessed and dirty bits at any moment, and the store must not undo them
 * (Linux's ptep_get_and_clear and ptep_set_wrprotect do the same). Those
 * bits only ever go from 0 to 1: in an invalid leaf, or once both are
 * set, nothing can change under us and a plain store is exact.
 */
static inline __attribute__((always_inline)) pgt_pte_t pgt__leaf_update(const struct pgt_level *L, pgt_pte_t *p, pgt_pte_t seen,
					 pgt_pte_t clear, pgt_pte_t set)
{
	pgt_pte_t hw = L->accessed | L->dirty;

	if (!pgt__is_present(L, seen) || (seen & hw) == hw) {
		pgt__pte_store(p, (seen & ~clear) | set);
		return seen;
	}
	if (clear == ~(pgt_pte_t)0)
		return __atomic_exchange_n(p, set, __ATOMIC_ACQ_REL);
	while (!__atomic_compare_exchange_n(p, &seen, (seen & ~clear) | set, false, __ATOMIC_ACQ_REL,
					    __ATOMIC_ACQUIRE))
		;
	return seen;
}

/**
 * Tells the caller's leaf_ad hook, if any, that the valid leaf @p old of
 * @p L at @p va left the tree or changed, when the MMU had marked it
 * accessed or dirty.
 */
static inline void pgt__report_ad(const pgt_space_t *sp, const struct pgt_level *L, pgt_vaddr_t va,
				  pgt_pte_t old)
{
	if (!sp->pgt__mm.leaf_ad || !pgt__is_present(L, old))
		return; /* the common case first: no hook */
	unsigned ad = ((old & L->accessed) ? PGT_AD_ACCESSED : 0u) | ((old & L->dirty) ? PGT_AD_DIRTY : 0u);
	if (ad)
		sp->pgt__mm.leaf_ad(sp->pgt__mm.ctx, va, pgt__leaf_oa(L, old), 1ull << L->shift, ad);
}

/** What @p pte at @p level is (see arch.h). */
static inline enum pgt__kind pgt__classify(const struct pgt_level *L, unsigned level, pgt_pte_t pte)
{
	if (pgt__is_table(L, level, pte))
		return PGT__TABLE;
	if (pgt__is_valid_leaf(L, pte))
		return PGT__LEAF;
	if (!pgt__is_present(L, pte))
		return (L->leaf_ok && (pte & L->reserved)) ? PGT__RESERVED : PGT__EMPTY;
	return PGT__BAD;
}

static inline __attribute__((always_inline)) unsigned pgt__index(const struct pgt_level *L, pgt_vaddr_t va)
{
	return (unsigned)(va >> L->shift) & ((1u << L->bits) - 1u);
}

/** Number of entries in a table at this level. */
static inline unsigned pgt__entries(const struct pgt_level *L)
{
	return 1u << L->bits;
}

/** Bytes allocated for a table at @p level: doubled when link words ride along. */
static inline size_t pgt__table_bytes(const pgt_space_t *sp, unsigned level)
{
	size_t size = pgt__level(sp, level)->table_size;
	return (sp->pgt__flags & PGT_SPACE_LINKS) ? 2 * size : size;
}

/** The link word of an entry sits one table size after it (L4Ka::Pistachio's layout). */
static inline uint64_t *pgt__link_word(const struct pgt_level *L, pgt_pte_t *pte)
{
	return (uint64_t *)(void *)((char *)pte + L->table_size);
}

/** A table's pointer; NULL when the caller's p2v hook has none. */
static inline pgt_pte_t *pgt__p2v(const pgt_space_t *sp, pgt_paddr_t pa)
{
	if (sp->pgt__mm.p2v)
		return (pgt_pte_t *)sp->pgt__mm.p2v(sp->pgt__mm.ctx, pa);
	return (pgt_pte_t *)(uintptr_t)(pa + sp->pgt__mm.p2v_offset);
}

/** The table a table entry at @p L points to. */
static inline pgt_pte_t *pgt__next_table(const pgt_space_t *sp, const struct pgt_level *L, pgt_pte_t pte)
{
	return pgt__p2v(sp, pgt__table_pa(L, pte));
}

/** Whether @p prot has only defined PGT_PROT_* bits and at most one memory type. */
static inline bool pgt__prot_ok(unsigned prot)
{
	unsigned memtype = prot & PGT_PROT_MEMTYPE;

	return !(prot & ~PGT_PROT_ALL) && !(memtype & (memtype - 1));
}

/** pgt__encode_all when the space remembers another encoding (lib/space.c). */
int pgt__encode_again(pgt_space_t *sp, unsigned prot);

/** Whether the space's remembered encoding (pgt__enc) is that of @p prot, a valid prot. */
static inline bool pgt__encoded(const pgt_space_t *sp, unsigned prot)
{
	return prot == sp->pgt__enc_prot && !(prot & ~PGT_PROT_ALL); /* PGT__ENC_NONE is not a prot */
}

/**
 * The leaf bits for @p prot (PGT_PROT_*) at every level that allows leaves,
 * in *bits (pointing into the space): PGT_OK, PGT_EFLAGS for bits outside
 * PGT_PROT_ALL or two memory types, or the codec's refusal at any level. Calls in a row mostly
 * ask for the same rights, so the space remembers the last encoding that
 * succeeded and the codec runs only for others.
 */
static inline int pgt__encode_all(pgt_space_t *sp, unsigned prot, const pgt_pte_t **bits)
{
	*bits = sp->pgt__enc;
	if (prot & ~PGT_PROT_ALL)
		return PGT_EFLAGS; /* first: PGT__ENC_NONE is not a prot */
	return prot == sp->pgt__enc_prot ? PGT_OK : pgt__encode_again(sp, prot);
}

/* ------------------------------------------------------------------------------ */

/**
 * Whether @p va is in the space's range: its bits from va_bits - 1 up, read
 * as a signed number, are pgt__va_lo or one above (see lib/walks.c).
 */
static inline bool pgt__va_ok(const pgt_space_t *sp, pgt_vaddr_t va)
{
	int64_t top = (int64_t)va >> (sp->pgt__arch->va_bits - 1);

	return (uint64_t)top - (uint64_t)sp->pgt__va_lo <= 1;
}
/**
 * Checks a range of the space for a call that works in units of @p unit
 * bytes (a power of two): PGT_OK; PGT_ESIZE when it is empty; PGT_EALIGN
 * when va or size is not a multiple of the unit; PGT_EWRAP when it runs
 * past the top of the address space; PGT_ERANGE when an end lies outside
 * the space or the range crosses the x86-64 hole.
 */
static inline __attribute__((always_inline)) int pgt__range_check(const pgt_space_t *sp, pgt_vaddr_t va,
								  uint64_t size, uint64_t unit)
{
	pgt_vaddr_t last = va + size - 1;

	if (size == 0)
		return PGT_ESIZE;
	if ((va | size) & (unit - 1))
		return PGT_EALIGN;
	if (last < va)
		return PGT_EWRAP;
	if (!pgt__va_ok(sp, va) || !pgt__va_ok(sp, last))
		return PGT_ERANGE;
	/* Both ends canonical but in different halves: the range crosses the hole. */
	if (((va ^ last) >> (sp->pgt__arch->va_bits - 1)) && sp->pgt__arch->canon != PGT_CANON_SPLIT)
		return PGT_ERANGE;
	return PGT_OK;
}

/*
 * Offsets into a space: off = va mod 2^va_bits. Monotonic over the space's
 * canonical addresses for every descriptor (x86-64: lower half, then upper
 * half; ARMv8 upper spaces: va - (2^64 - 2^va_bits)), and table index order
 * is offset order, so range walks can work on offsets.
 */
static inline uint64_t pgt__space_span(const pgt_space_t *sp)
{
	return 1ull << sp->pgt__arch->va_bits;
}

static inline uint64_t pgt__va_offset(const pgt_space_t *sp, pgt_vaddr_t va)
{
	return va & (pgt__space_span(sp) - 1);
}

/** The canonical address at an offset. */
static inline pgt_vaddr_t pgt__offset_va(const pgt_space_t *sp, uint64_t off)
{
	const struct pgt_arch *a = sp->pgt__arch;
	bool high = a->canon == PGT_CANON_SIGN_EXTEND ? (off >> (a->va_bits - 1)) != 0
						      : (sp->pgt__flags & PGT_SPACE_UPPER) != 0;

	return high ? off | ~(pgt__space_span(sp) - 1) : off;
}

/**
 * The rights (enum pgt_rights) the MMU grants at @p va, an address of the
 * space: the valid leaf's, less what the tables above it take; 0 when no
 * valid leaf maps it. Accessed flags are not looked at. (lib/translate.c)
 */
unsigned pgt__rights(const pgt_space_t *sp, pgt_vaddr_t va);
int pgt__page_level(const pgt_space_t *sp, unsigned page_shift);
#endif /* PGT_LIB_INTERNAL_H */
