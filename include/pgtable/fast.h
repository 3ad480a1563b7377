/* SPDX-License-Identifier: MIT */
/**
 * @file fast.h
 * @brief Inline walks: pgt_lookup and pgt_translate compiled into the caller.
 *
 * pgt_fast_init copies out of a space what a walk needs (the root's
 * address, the p2v offset, each level's index shift and mask, the masks
 * that classify an entry and extract its address) into a struct pgt_fast.
 * pgt_fast_lookup and pgt_fast_translate then walk the tables inline, in
 * the caller's loop, with no call for the common case: a loop over the
 * levels that costs a few masks, a compare and a load per level.
 *
 * They give the same answers as pgt_lookup and pgt_translate (same status,
 * same pgt_ref_t, same physical address) for every space pgt_fast_init
 * accepts. What the inline walk leaves out, it hands to those calls:
 * pgt_fast_translate calls pgt_translate for a fault, a table entry that
 * restricts rights or is malformed, a leaf one compare cannot decide
 * (ARMv8's privileged execute, which depends on the other rights; RISC-V
 * execute-only pages; EPT pages of uncached or write-combining memory), an
 * access with PGT_ACC_SET_AD and a bad access. Fault details stay with
 * pgt_translate: call it again for them.
 *
 * A struct pgt_fast stays valid as long as its space: it keeps the space's
 * address and root, which never change between pgt_space_init (or
 * pgt_space_view) and pgt_space_destroy. Destroying the space, initialising
 * it again or moving its pgt_space_t elsewhere invalidates it; mappings may
 * change freely. Readers in other threads follow the rules of
 * pgt_lookup (struct pgt_mm's defer_free); the struct itself is only read.
 *
 * The header needs no C library: it may be used with the freestanding
 * archive.
 */
#ifndef PGTABLE_FAST_H
#define PGTABLE_FAST_H

#include <stdint.h>

#include <pgtable/pgtable.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Levels a struct pgt_fast describes at most (PGT_MAX_LEVELS of pgtable/arch.h). */
#define PGT_FAST_LEVELS 6

/** Accesses a level keeps a leaf test for: read, write, execute; privileged, then user. */
#define PGT_FAST_ACCESSES 6

/** 64-bit words a struct pgt_fast takes in every version: what later versions add grows into them. */
#define PGT_FAST_WORDS 192

/**
 * A test of an entry: it passes when (pte & mask) == match. A test no entry
 * passes has a bit in match that mask lacks.
 */
struct pgt_fast_test {
	uint64_t mask;  /**< the bits the test looks at */
	uint64_t match; /**< their value in an entry that passes */
};

/**
 * A range test of an entry: it passes when (pte & mask) - lo <= span, in
 * unsigned arithmetic. One compare tells "of this type and present" when
 * the present bits are any of a run from bit 0 (EPT's R, W, X) as well as
 * when the type's own bits say it (span 0). Passes nothing when lo is 1
 * and mask and span are 0.
 */
struct pgt_fast_range {
	uint64_t mask; /**< the bits the test looks at */
	uint64_t lo;   /**< the least value they may have */
	uint64_t span; /**< how far above lo they may be */
};

/** What a walk needs of one level. Filled by pgt_fast_init; read-only to callers. */
struct pgt_fast_level {
	struct pgt_fast_range table; /**< a table entry, present */
	/**
	 * For pgt_fast_translate: a present table entry that takes no right
	 * from what lies below it and is well formed. Any other table entry
	 * sends the access to pgt_translate.
	 */
	struct pgt_fast_range table_plain;
	/** A valid leaf: passes this test and has a bit of leaf_any set. */
	struct pgt_fast_test leaf;
	uint64_t leaf_any; /**< see leaf */
	uint64_t present;  /**< an entry with none of these bits set is not present */
	/** A reserved leaf: not present, with a bit of this set (0: no leaves here). */
	uint64_t reserved;
	uint64_t next_oa;    /**< a table entry's next-table address field, before oa_shift */
	uint64_t leaf_oa;    /**< a leaf's output-address field, before oa_shift */
	uint64_t index_mask; /**< a table index is (va >> shift) & index_mask */
	uint8_t shift;       /**< lowest address bit this level indexes: log2 of a leaf's size */
	uint8_t oa_shift;    /**< an address field holds pa >> oa_shift */
	uint8_t pad[6];      /**< zero */
	uint64_t pgt__room;  /**< zero: keeps the struct 128 bytes, a shift to index */
};

/**
 * What the inline walks of one space need, filled by pgt_fast_init. Its
 * layout is part of the ABI; callers only pass it to pgt_fast_lookup and
 * pgt_fast_translate.
 */
struct pgt_fast {
	const pgt_space_t *space; /**< the space: the walks fall back to its calls */
	uintptr_t root;           /**< the root table's virtual address */
	uintptr_t offset;         /**< a table's virtual address is its physical address plus this */
	int64_t va_lo;  /**< an address is in range when (int64_t)va >> va_shift is va_lo or va_lo + 1 */
	uint8_t levels;   /**< levels of the format; the root is level levels - 1 */
	uint8_t va_shift; /**< see va_lo */
	uint8_t pad[6];   /**< zero */
	struct pgt_fast_level level[PGT_FAST_LEVELS]; /**< indexed by level number; level 0 has the smallest pages */
	/**
	 * For pgt_fast_translate, by level and access (pgt_fast_access_index):
	 * a leaf that passes completes the access at once (valid, well formed,
	 * accessed where the format faults without, granting the right).
	 */
	struct pgt_fast_test pass[PGT_FAST_LEVELS][PGT_FAST_ACCESSES];
	/** Zero: room for what later versions add, so that the struct keeps its size. */
	uint64_t pgt__room[PGT_FAST_WORDS - 5 - PGT_FAST_LEVELS * (16 + 2 * PGT_FAST_ACCESSES)];
};

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(struct pgt_fast_level) == 16 * sizeof(uint64_t), "struct pgt_fast_level changed: an ABI break");
_Static_assert(sizeof(struct pgt_fast) == PGT_FAST_WORDS * sizeof(uint64_t), "struct pgt_fast changed: an ABI break");
#endif

/**
 * Fills @p f with what the inline walks need of the space @p sp. Nothing
 * is allocated; @p f holds @p sp's address and stays valid until @p sp is
 * destroyed or initialised again.
 *
 * @param f   the struct to fill
 * @param sp  an initialised space or view (pgt_space_view) that reaches its
 *            tables by p2v_offset
 * @return PGT_OK; PGT_EINVAL for NULL pointers or an uninitialised space;
 *         PGT_ENOTSUP for a space with a p2v hook or a descriptor the inline
 *         walk cannot express (more than PGT_FAST_LEVELS levels, a leaf
 *         that is told from a non-present entry by a bit outside `valid`).
 *         On failure @p f is left unchanged.
 */
PGT_API int pgt_fast_init(struct pgt_fast *f, const pgt_space_t *sp);

/**
 * Whether an entry passes a test (see struct pgt_fast_test).
 * @param t    the test
 * @param pte  the entry
 * @return non-zero when it passes
 */
static inline int pgt_fast_passes(const struct pgt_fast_test *t, uint64_t pte)
{
	return (pte & t->mask) == t->match;
}

/**
 * Whether an entry passes a range test (see struct pgt_fast_range).
 * @param r    the test
 * @param pte  the entry
 * @return non-zero when it passes
 */
static inline int pgt_fast_in_range(const struct pgt_fast_range *r, uint64_t pte)
{
	return (pte & r->mask) - r->lo <= r->span;
}

/**
 * Whether an address lies in the range of the space.
 * @param f   filled by pgt_fast_init
 * @param va  the address
 * @return non-zero when it does
 */
static inline int pgt_fast_va_ok(const struct pgt_fast *f, pgt_vaddr_t va)
{
	return (uint64_t)((int64_t)va >> f->va_shift) - (uint64_t)f->va_lo <= 1;
}

/**
 * Where the entry for an address lies in a table.
 * @param L      the table's level
 * @param table  the table's virtual address
 * @param va     the address
 * @return the entry's address
 */
static inline const pgt_pte_t *pgt_fast_entry(const struct pgt_fast_level *L, uintptr_t table, pgt_vaddr_t va)
{
	return (const pgt_pte_t *)(table + (uintptr_t)((va >> L->shift) & L->index_mask) * sizeof(pgt_pte_t));
}

/**
 * The table a table entry links.
 * @param f    filled by pgt_fast_init
 * @param L    the entry's level
 * @param pte  the table entry
 * @return the linked table's virtual address
 */
static inline uintptr_t pgt_fast_next(const struct pgt_fast *f, const struct pgt_fast_level *L, pgt_pte_t pte)
{
	return (uintptr_t)((pte & L->next_oa) << L->oa_shift) + f->offset;
}

/**
 * Whether an entry links a next-level table.
 * @param L    the entry's level
 * @param pte  the entry
 * @return non-zero when it does
 */
static inline int pgt_fast_is_table(const struct pgt_fast_level *L, pgt_pte_t pte)
{
	return pgt_fast_in_range(&L->table, pte);
}

/**
 * Whether an entry that links no table is a leaf pgt_lookup finds: valid, or reserved.
 * @param L    the entry's level
 * @param pte  the entry
 * @return non-zero when it is
 */
static inline int pgt_fast_is_mapped(const struct pgt_fast_level *L, pgt_pte_t pte)
{
	if (pgt_fast_passes(&L->leaf, pte) && (pte & L->leaf_any))
		return 1;
	return !(pte & L->present) && (pte & L->reserved);
}

/**
 * pgt_lookup, inline: the leaf (valid or reserved) that maps @p va.
 * @param f    filled by pgt_fast_init
 * @param va   the address
 * @param out  receives the leaf's ref when not NULL
 * @return PGT_OK; PGT_ENOENT when nothing is mapped; PGT_ERANGE for a @p va
 *         outside the space. The same answer, and the same ref, as pgt_lookup.
 */
static inline int pgt_fast_lookup(const struct pgt_fast *f, pgt_vaddr_t va, pgt_ref_t *out)
{
	const struct pgt_fast_level *L = &f->level[f->levels - 1u];
	const pgt_pte_t *p = pgt_fast_entry(L, f->root, va);
	pgt_pte_t pte;

	if (!pgt_fast_va_ok(f, va))
		return PGT_ERANGE;
	/* From the root down, a pointer per level: no level number to scale on the way. */
	while (pte = __atomic_load_n(p, __ATOMIC_ACQUIRE), pgt_fast_is_table(L, pte)) {
		p = pgt_fast_entry(L - 1, pgt_fast_next(f, L, pte), va);
		L--; /* level 0's table test passes nothing: the walk ends there */
	}
	if (!pgt_fast_is_mapped(L, pte))
		return PGT_ENOENT;
	if (out)
		*out = (pgt_ref_t){ .pte = (pgt_pte_t *)(uintptr_t)p, .level = (unsigned)(L - f->level), .page_shift = L->shift };
	return PGT_OK;
}

/**
 * Where an access's leaf tests are in struct pgt_fast's pass.
 * @param access  enum pgt_access bits
 * @return the index; -1 for an access the inline walk leaves to
 *         pgt_translate (PGT_ACC_SET_AD, or not exactly one of read, write
 *         and execute)
 */
static inline int pgt_fast_access_index(unsigned access)
{
	/* Bit n of 0x1616 is set for n in {READ, WRITE, EXEC}, with or without USER. */
	if (access >= 16 || !((0x1616u >> access) & 1u))
		return -1;
	return (int)(((access & 7u) >> 1) + ((access & PGT_ACC_USER) ? 3u : 0u));
}

/**
 * pgt_translate, inline, without fault details: what the MMU does for one
 * access to @p va.
 * @param f       filled by pgt_fast_init
 * @param va      the address
 * @param access  enum pgt_access bits, as pgt_translate takes them
 * @param pa      receives the physical address when not NULL
 * @return the status pgt_translate gives (PGT_OK, PGT_EFAULT, PGT_ERANGE,
 *         PGT_EFLAGS, PGT_EINVAL) and the same *pa; call pgt_translate for
 *         the details of a fault.
 */
static inline int pgt_fast_translate(const struct pgt_fast *f, pgt_vaddr_t va, unsigned access, pgt_paddr_t *pa)
{
	int acc = pgt_fast_access_index(access);

	if (acc < 0)
		return pgt_translate(f->space, va, access, pa, NULL);
	if (!pgt_fast_va_ok(f, va))
		return PGT_ERANGE;
	const struct pgt_fast_level *L = &f->level[f->levels - 1u];
	uintptr_t table = f->root;
	pgt_pte_t pte;

	while (pte = __atomic_load_n(pgt_fast_entry(L, table, va), __ATOMIC_ACQUIRE),
	       pgt_fast_in_range(&L->table_plain, pte)) {
		table = pgt_fast_next(f, L, pte);
		L--; /* level 0's test passes nothing */
	}
	if (pgt_fast_passes(&f->pass[L - f->level][acc], pte)) {
		if (pa)
			*pa = ((pte & L->leaf_oa) << L->oa_shift) | (va & ((UINT64_C(1) << L->shift) - 1));
		return PGT_OK;
	}
	/* A fault, a table entry that takes rights, a leaf that needs the rules. */
	return pgt_translate(f->space, va, access, pa, NULL);
}

#ifdef __cplusplus
}
#endif

#endif /* PGTABLE_FAST_H */
