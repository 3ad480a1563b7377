/* SPDX-License-Identifier: MIT */
/**
 * @file fast.h
 * @brief Inline walks: pgt_lookup and pgt_translate compiled into the caller.
 *
 * pgt_fast_init recognises a space's format by its layout (its levels and
 * the masks that classify and decode its entries, never its name) as one
 * of the kinds below, and copies into a small struct pgt_fast what a walk
 * needs at run time: the root, the p2v offset, the kind. For each kind,
 * pgt_fast_lookup_as and pgt_fast_translate_as walk the tables with the
 * format's masks, shifts and level count as compile-time constants
 * (pgt_fast_layouts, written with the bits of <pgtable/x86_64.h>,
 * <pgtable/ept.h>, <pgtable/armv8.h> and <pgtable/riscv.h>): a few
 * instructions and a load per level, as a hand-written walk. pgt_fast_lookup
 * and pgt_fast_translate switch on the kind to them; a loop that calls them
 * many times pays that switch on every call, unless the compiler takes it
 * out of the loop (it may when the struct is a local copy and the loop
 * calls nothing else). To pay it once, switch on f->kind around the loop
 * and call the _as walk with the constant kind in each case. Where the
 * space's tables sit at their physical addresses (p2v_offset 0),
 * pgt_fast_init sets PGT_FAST_IDENTITY in f->flags; a loop that tests it
 * too and calls pgt_fast_lookup_with or pgt_fast_translate_with with the
 * flag adds no offset on its way down. The struct is best a local copy
 * in such a loop: its fields then stay in registers, and what the walks
 * work out of them is worked out once, before the loop.
 *
 * They give the same answers as pgt_lookup and pgt_translate (same status,
 * same pgt_ref_t, same physical address) for every space pgt_fast_init
 * accepts. What the inline walk leaves out, it hands to those calls:
 * pgt_fast_translate calls pgt_translate for a fault, a table entry that
 * restricts rights or is malformed, a leaf one compare cannot decide
 * (ARMv8's privileged execute, which depends on the other rights; RISC-V
 * execute-only pages; EPT pages of uncached or write-combining memory), an
 * access with PGT_ACC_SET_AD and a bad access. Fault details stay with
 * pgt_translate: call it again for them. A table entry gives the walk only
 * its address field: its other bits (software bits, counts) are not read.
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

/** Levels a layout describes at most (PGT_MAX_LEVELS of pgtable/arch.h). */
#define PGT_FAST_LEVELS 6

/** Accesses a level keeps a leaf test for: read, write, execute; privileged, then user. */
#define PGT_FAST_ACCESSES 6

/** 64-bit words a struct pgt_fast takes in every version: what later versions add grows into them. */
#define PGT_FAST_WORDS 8

/**
 * The formats the inline walks are compiled for, by layout. pgt_fast_init
 * gives a space the kind whose layout (pgt_fast_layouts) equals what it
 * works out of the space's descriptor, whatever the descriptor's name: a
 * copy of a shipped descriptor, or a descriptor of one's own with the same
 * entries, gets the same kind. The numbers are stable.
 */
enum pgt_fast_kind {
	PGT_FAST_NONE = 0,         /**< no layout: never given by pgt_fast_init */
	PGT_FAST_X86_64_4 = 1,     /**< x86-64 4-level paging (pgt_arch_x86_64) */
	PGT_FAST_X86_64_5 = 2,     /**< x86-64 5-level paging (pgt_arch_x86_64_la57) */
	PGT_FAST_EPT_4 = 3,        /**< Intel EPT, 4 levels (pgt_arch_x86_64_ept) */
	PGT_FAST_EPT_5 = 4,        /**< Intel EPT, 5 levels (pgt_arch_x86_64_ept5) */
	PGT_FAST_ARMV8_4K_L0 = 5,  /**< ARMv8 stage 1, 4K granule, 48 bits from level 0 */
	PGT_FAST_ARMV8_4K_L1 = 6,  /**< ARMv8 stage 1, 4K granule, 39 bits from level 1 */
	PGT_FAST_ARMV8_16K_L1 = 7, /**< ARMv8 stage 1, 16K granule, 47 bits from level 1 */
	PGT_FAST_ARMV8_64K_L2 = 8, /**< ARMv8 stage 1, 64K granule, 42 bits from level 2 */
	PGT_FAST_ARMV8_S2_4K_L0 = 9,   /**< ARMv8 stage 2, 4K granule, 48 bits from level 0 */
	PGT_FAST_ARMV8_S2_4K_L1 = 10,  /**< ARMv8 stage 2, 4K granule, 40 bits from level 1 (2 tables concatenated) */
	PGT_FAST_ARMV8_S2_16K_L2 = 11, /**< ARMv8 stage 2, 16K granule, 40 bits from level 2 (16 tables concatenated) */
	PGT_FAST_ARMV8_S2_64K_L2 = 12, /**< ARMv8 stage 2, 64K granule, 42 bits from level 2 */
	PGT_FAST_RISCV_SV39 = 13,   /**< RISC-V Sv39 */
	PGT_FAST_RISCV_SV48 = 14,   /**< RISC-V Sv48 */
	PGT_FAST_RISCV_SV57 = 15,   /**< RISC-V Sv57 */
	PGT_FAST_RISCV_SV39X4 = 16, /**< RISC-V G-stage Sv39x4 */
	PGT_FAST_RISCV_SV48X4 = 17, /**< RISC-V G-stage Sv48x4 */
	PGT_FAST_RISCV_SV57X4 = 18, /**< RISC-V G-stage Sv57x4 */
	PGT_FAST_KINDS = 19         /**< one above the highest kind */
};

/**
 * Every kind, for a switch over them: X(kind) once for each. The inline
 * walks' dispatch is made of it.
 */
#define PGT_FAST_FOR_EACH_KIND(X)                                                                             \
	X(PGT_FAST_X86_64_4)                                                                                  \
	X(PGT_FAST_X86_64_5) X(PGT_FAST_EPT_4) X(PGT_FAST_EPT_5) X(PGT_FAST_ARMV8_4K_L0) X(PGT_FAST_ARMV8_4K_L1) \
		X(PGT_FAST_ARMV8_16K_L1) X(PGT_FAST_ARMV8_64K_L2) X(PGT_FAST_ARMV8_S2_4K_L0)                  \
			X(PGT_FAST_ARMV8_S2_4K_L1) X(PGT_FAST_ARMV8_S2_16K_L2) X(PGT_FAST_ARMV8_S2_64K_L2)    \
				X(PGT_FAST_RISCV_SV39) X(PGT_FAST_RISCV_SV48) X(PGT_FAST_RISCV_SV57)          \
					X(PGT_FAST_RISCV_SV39X4) X(PGT_FAST_RISCV_SV48X4)                     \
						X(PGT_FAST_RISCV_SV57X4)

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

/** What a walk needs of one level of a layout. */
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
};

/** A format's layout: what the inline walks of one kind fold into constants. */
struct pgt_fast_layout {
	uint8_t levels;  /**< levels of the format; the root is level levels - 1 */
	uint8_t va_bits; /**< address bits the root covers */
	uint8_t pad[6];  /**< zero */
	struct pgt_fast_level level[PGT_FAST_LEVELS]; /**< indexed by level number; level 0 has the smallest pages */
	/**
	 * By level and access (pgt__fast_access_index): a leaf that passes
	 * completes the access at once (valid, well formed, accessed where
	 * the format faults without, granting the right).
	 */
	struct pgt_fast_test pass[PGT_FAST_LEVELS][PGT_FAST_ACCESSES];
};

/**
 * What the inline walks of one space need, filled by pgt_fast_init. Its
 * layout is part of the ABI; callers read kind (to choose a walk) and
 * otherwise only pass it to the walks.
 */
struct pgt_fast {
	/* Each pointer-sized field takes 64 bits, so that the layout is the same for 32-bit callers. */
	union {
		const pgt_space_t *space; /**< the space: the walks fall back to its calls */
		uint64_t pgt__space_bits; /**< private: the field's room */
	};
	union {
		uintptr_t root;          /**< the root table's virtual address */
		uint64_t pgt__root_bits; /**< private: the field's room */
	};
	union {
		uintptr_t offset;          /**< a table's virtual address is its physical address plus this */
		uint64_t pgt__offset_bits; /**< private: the field's room */
	};
	/** An address is in range when (int64_t)va >> (va_bits - 1) is va_lo or va_lo + 1. */
	int64_t va_lo;
	uint16_t kind;   /**< enum pgt_fast_kind: the layout of the space's format */
	uint16_t flags;  /**< PGT_FAST_IDENTITY: what else pgt_fast_init found that a walk may use */
	uint16_t pad[2]; /**< zero */
	/** Zero: room for what later versions add, so that the struct keeps its size. */
	uint64_t pgt__room[PGT_FAST_WORDS - 5];
};

/**
 * A bit of struct pgt_fast's flags: the space reaches its tables at their
 * physical addresses (p2v_offset 0), so that a walk need not add the
 * offset. pgt_fast_init sets it from the space; a walk is told it by
 * pgt_fast_lookup_with's and pgt_fast_translate_with's flags. A struct
 * filled by a version without the flag has it clear, which every walk
 * handles.
 */
#define PGT_FAST_IDENTITY 1u

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(struct pgt_fast) == PGT_FAST_WORDS * sizeof(uint64_t), "struct pgt_fast changed: an ABI break");
#endif

/** A test no entry passes. */
#define PGT_FAST_NEVER { 0, 1 }
/** The test {@p m, @p v} when @p c, else PGT_FAST_NEVER. */
#define PGT_FAST_TEST_IF(c, m, v) { (c) ? (uint64_t)(m) : 0u, (c) ? (uint64_t)(v) : 1u }
/** The range test {@p m, @p lo, @p span} when @p c, else one no entry passes. */
#define PGT_FAST_RANGE_IF(c, m, lo, span) { (c) ? (uint64_t)(m) : 0u, (c) ? (uint64_t)(lo) : 1u, (c) ? (uint64_t)(span) : 0u }
/**
 * The index mask of level @p l of @p n over @p vb address bits, with pages
 * of 2^@p g bytes and @p b index bits a table: the root indexes what is
 * left above it (several tables concatenated, as ARMv8 and RISC-V stage 2
 * allow).
 */
#define PGT_FAST_INDEX_MASK(l, n, vb, g, b) \
	((l) == (n)-1 ? ((uint64_t)1 << ((vb) - (g) - (b) * (l))) - 1 : ((uint64_t)1 << (b)) - 1)

#ifdef __cplusplus
}
#endif

#include <pgtable/armv8.h>
#include <pgtable/ept.h>
#include <pgtable/riscv.h>
#include <pgtable/x86_64.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A layout of 2 levels over @p vb address bits: LEVEL(l, n, vb) and PASS(l) for each level. */
#define PGT_FAST__LAYOUT2(LEVEL, PASS, vb) \
	{ .levels = 2, .va_bits = vb, .level = { LEVEL(0, 2, vb), LEVEL(1, 2, vb) }, .pass = { PASS(0), PASS(1) } }
/** A layout of 3 levels (see PGT_FAST__LAYOUT2). */
#define PGT_FAST__LAYOUT3(LEVEL, PASS, vb)                                                     \
	{ .levels = 3, .va_bits = vb, .level = { LEVEL(0, 3, vb), LEVEL(1, 3, vb), LEVEL(2, 3, vb) }, \
	  .pass = { PASS(0), PASS(1), PASS(2) } }
/** A layout of 4 levels (see PGT_FAST__LAYOUT2). */
#define PGT_FAST__LAYOUT4(LEVEL, PASS, vb)                                                                      \
	{ .levels = 4, .va_bits = vb, .level = { LEVEL(0, 4, vb), LEVEL(1, 4, vb), LEVEL(2, 4, vb), LEVEL(3, 4, vb) }, \
	  .pass = { PASS(0), PASS(1), PASS(2), PASS(3) } }
/** A layout of 5 levels (see PGT_FAST__LAYOUT2). */
#define PGT_FAST__LAYOUT5(LEVEL, PASS, vb)                                                               \
	{ .levels = 5, .va_bits = vb,                                                                    \
	  .level = { LEVEL(0, 5, vb), LEVEL(1, 5, vb), LEVEL(2, 5, vb), LEVEL(3, 5, vb), LEVEL(4, 5, vb) }, \
	  .pass = { PASS(0), PASS(1), PASS(2), PASS(3), PASS(4) } }

/** ARMv8 stage 1, 4K granule: level @p l of @p n over @p vb bits. */
#define PGT_FAST__ARM4K(l, n, vb)      PGT_ARMV8_FAST_LEVEL(12, 1, l, n, vb)
/** ARMv8 stage 1, 16K granule: level @p l of @p n over @p vb bits. */
#define PGT_FAST__ARM16K(l, n, vb)     PGT_ARMV8_FAST_LEVEL(14, 1, l, n, vb)
/** ARMv8 stage 1, 64K granule: level @p l of @p n over @p vb bits. */
#define PGT_FAST__ARM64K(l, n, vb)     PGT_ARMV8_FAST_LEVEL(16, 1, l, n, vb)
/** ARMv8 stage 2, 4K granule: level @p l of @p n over @p vb bits. */
#define PGT_FAST__ARM4K_S2(l, n, vb)   PGT_ARMV8_FAST_LEVEL(12, 0, l, n, vb)
/** ARMv8 stage 2, 16K granule: level @p l of @p n over @p vb bits. */
#define PGT_FAST__ARM16K_S2(l, n, vb)  PGT_ARMV8_FAST_LEVEL(14, 0, l, n, vb)
/** ARMv8 stage 2, 64K granule: level @p l of @p n over @p vb bits. */
#define PGT_FAST__ARM64K_S2(l, n, vb)  PGT_ARMV8_FAST_LEVEL(16, 0, l, n, vb)
/** ARMv8 stage 1, 4K granule: the leaf tests of level @p l. */
#define PGT_FAST__ARM4K_PASS(l)        PGT_ARMV8_FAST_PASS(12, l)
/** ARMv8 stage 1, 16K granule: the leaf tests of level @p l. */
#define PGT_FAST__ARM16K_PASS(l)       PGT_ARMV8_FAST_PASS(14, l)
/** ARMv8 stage 1, 64K granule: the leaf tests of level @p l. */
#define PGT_FAST__ARM64K_PASS(l)       PGT_ARMV8_FAST_PASS(16, l)
/** ARMv8 stage 2, 4K granule: the leaf tests of level @p l. */
#define PGT_FAST__ARM4K_S2_PASS(l)     PGT_ARMV8_S2_FAST_PASS(12, l)
/** ARMv8 stage 2, 16K granule: the leaf tests of level @p l. */
#define PGT_FAST__ARM16K_S2_PASS(l)    PGT_ARMV8_S2_FAST_PASS(14, l)
/** ARMv8 stage 2, 64K granule: the leaf tests of level @p l. */
#define PGT_FAST__ARM64K_S2_PASS(l)    PGT_ARMV8_S2_FAST_PASS(16, l)
/** RISC-V: the leaf tests of level @p l. */
#define PGT_FAST__RISCV_PASS(l)        PGT_RISCV_FAST_PASS(0, l)
/** RISC-V G-stage: the leaf tests of level @p l. */
#define PGT_FAST__RISCV_G_PASS(l)      PGT_RISCV_FAST_PASS(1, l)

/**
 * The layout of each kind, indexed by enum pgt_fast_kind. The inline walks
 * read it with a constant kind, so that the compiler folds every field; a
 * program that reads it with a variable kind gets its own copy.
 */
static const struct pgt_fast_layout pgt_fast_layouts[PGT_FAST_KINDS] = {
	[PGT_FAST_X86_64_4] = PGT_FAST__LAYOUT4(PGT_X86_FAST_LEVEL, PGT_X86_FAST_PASS, 48),
	[PGT_FAST_X86_64_5] = PGT_FAST__LAYOUT5(PGT_X86_FAST_LEVEL, PGT_X86_FAST_PASS, 57),
	[PGT_FAST_EPT_4] = PGT_FAST__LAYOUT4(PGT_EPT_FAST_LEVEL, PGT_EPT_FAST_PASS, 48),
	[PGT_FAST_EPT_5] = PGT_FAST__LAYOUT5(PGT_EPT_FAST_LEVEL, PGT_EPT_FAST_PASS, 57),
	[PGT_FAST_ARMV8_4K_L0] = PGT_FAST__LAYOUT4(PGT_FAST__ARM4K, PGT_FAST__ARM4K_PASS, 48),
	[PGT_FAST_ARMV8_4K_L1] = PGT_FAST__LAYOUT3(PGT_FAST__ARM4K, PGT_FAST__ARM4K_PASS, 39),
	[PGT_FAST_ARMV8_16K_L1] = PGT_FAST__LAYOUT3(PGT_FAST__ARM16K, PGT_FAST__ARM16K_PASS, 47),
	[PGT_FAST_ARMV8_64K_L2] = PGT_FAST__LAYOUT2(PGT_FAST__ARM64K, PGT_FAST__ARM64K_PASS, 42),
	[PGT_FAST_ARMV8_S2_4K_L0] = PGT_FAST__LAYOUT4(PGT_FAST__ARM4K_S2, PGT_FAST__ARM4K_S2_PASS, 48),
	[PGT_FAST_ARMV8_S2_4K_L1] = PGT_FAST__LAYOUT3(PGT_FAST__ARM4K_S2, PGT_FAST__ARM4K_S2_PASS, 40),
	[PGT_FAST_ARMV8_S2_16K_L2] = PGT_FAST__LAYOUT2(PGT_FAST__ARM16K_S2, PGT_FAST__ARM16K_S2_PASS, 40),
	[PGT_FAST_ARMV8_S2_64K_L2] = PGT_FAST__LAYOUT2(PGT_FAST__ARM64K_S2, PGT_FAST__ARM64K_S2_PASS, 42),
	[PGT_FAST_RISCV_SV39] = PGT_FAST__LAYOUT3(PGT_RISCV_FAST_LEVEL, PGT_FAST__RISCV_PASS, 39),
	[PGT_FAST_RISCV_SV48] = PGT_FAST__LAYOUT4(PGT_RISCV_FAST_LEVEL, PGT_FAST__RISCV_PASS, 48),
	[PGT_FAST_RISCV_SV57] = PGT_FAST__LAYOUT5(PGT_RISCV_FAST_LEVEL, PGT_FAST__RISCV_PASS, 57),
	[PGT_FAST_RISCV_SV39X4] = PGT_FAST__LAYOUT3(PGT_RISCV_FAST_LEVEL, PGT_FAST__RISCV_G_PASS, 41),
	[PGT_FAST_RISCV_SV48X4] = PGT_FAST__LAYOUT4(PGT_RISCV_FAST_LEVEL, PGT_FAST__RISCV_G_PASS, 50),
	[PGT_FAST_RISCV_SV57X4] = PGT_FAST__LAYOUT5(PGT_RISCV_FAST_LEVEL, PGT_FAST__RISCV_G_PASS, 59),
};

/**
 * Fills @p f with what the inline walks need of the space @p sp. Nothing
 * is allocated; @p f holds @p sp's address and stays valid until @p sp is
 * destroyed or initialised again.
 *
 * @param f   the struct to fill
 * @param sp  an initialised space or view (pgt_space_view) that reaches its
 *            tables by p2v_offset
 * @return PGT_OK; PGT_EINVAL for NULL pointers or an uninitialised space;
 *         PGT_ENOTSUP for a space with a p2v hook or a format whose layout
 *         is none of enum pgt_fast_kind's. On failure @p f is left
 *         unchanged.
 */
PGT_API int pgt_fast_init(struct pgt_fast *f, const pgt_space_t *sp);

/** Always inlined: the walks' constants fold only in the caller's code. */
#define PGT_FAST_INLINE static inline __attribute__((always_inline))

/**
 * Whether an entry passes a test (see struct pgt_fast_test).
 * @param t    the test
 * @param pte  the entry
 * @return non-zero when it passes
 */
PGT_FAST_INLINE int pgt__fast_passes(const struct pgt_fast_test *t, uint64_t pte)
{
	/*
	 * A match of one bit inside the mask: that bit set and the others
	 * clear, two bit tests that each fuse with their branch, where the
	 * compare needs a copy, an and and a compare (the constants fold this
	 * choice away).
	 */
	if (t->match && !(t->match & (t->match - 1)) && (t->match & t->mask))
		return (pte & t->match) && !(pte & (t->mask & ~t->match));
	return (pte & t->mask) == t->match;
}

/**
 * Whether an entry passes a range test (see struct pgt_fast_range).
 * @param r    the test
 * @param pte  the entry
 * @return non-zero when it passes
 */
PGT_FAST_INLINE int pgt__fast_in_range(const struct pgt_fast_range *r, uint64_t pte)
{
	/* With span 0, the test of pgt__fast_passes, in its cheaper form. */
	if (r->span == 0) {
		const struct pgt_fast_test t = { r->mask, r->lo };
		return pgt__fast_passes(&t, pte);
	}
	return (pte & r->mask) - r->lo <= r->span;
}

/**
 * Where the entry for an address lies in a table.
 * @param L      the table's level
 * @param table  the table's virtual address
 * @param va     the address
 * @return the entry's address
 */
PGT_FAST_INLINE const pgt_pte_t *pgt__fast_entry(const struct pgt_fast_level *L, uintptr_t table, pgt_vaddr_t va)
{
	return (const pgt_pte_t *)(table + (uintptr_t)((va >> L->shift) & L->index_mask) * sizeof(pgt_pte_t));
}

/**
 * The index of an address's entry in the root table, and whether the
 * address lies in the range of the space, worked out of one shift: the
 * root indexes every address bit above its shift (its index mask is
 * 2^(va_bits - shift) - 1), so that (int64_t)va >> (va_bits - 1) is va_lo
 * or va_lo + 1 exactly when top, (int64_t)va >> shift, lies in the index
 * mask + 1 values from va_lo << (va_bits - shift - 1). The index is top's
 * low bits; the range check a subtraction and a compare beside it, off the
 * path from the address to the root's entry (and, in a loop over a local
 * struct pgt_fast, va_lo's shift worked out once).
 * @param f   filled by pgt_fast_init
 * @param K   its layout
 * @param va  the address
 * @param i   receives the index
 * @return non-zero when @p va is in range
 */
PGT_FAST_INLINE int pgt__fast_root_index(const struct pgt_fast *f, const struct pgt_fast_layout *K, pgt_vaddr_t va,
					 uint64_t *i)
{
	const struct pgt_fast_level *L = &K->level[K->levels - 1u];
	const uint64_t top = (uint64_t)((int64_t)va >> L->shift);

	*i = top & L->index_mask;
	return top - ((uint64_t)f->va_lo << (K->va_bits - L->shift - 1u)) <= L->index_mask;
}

/**
 * The root entry of an address.
 * @param f  filled by pgt_fast_init
 * @param i  pgt__fast_root_index of the address, no more than the root's index mask
 * @return the entry's address
 */
PGT_FAST_INLINE const pgt_pte_t *pgt__fast_root_entry(const struct pgt_fast *f, uint64_t i)
{
	return (const pgt_pte_t *)(f->root + (uintptr_t)i * sizeof(pgt_pte_t));
}

/**
 * The table a table entry links: its address field alone (mask, then
 * shift), whatever its other bits hold.
 * @param f      filled by pgt_fast_init
 * @param flags  the walk's flags: with PGT_FAST_IDENTITY no offset is added
 * @param L      the entry's level
 * @param pte    the table entry
 * @return the linked table's virtual address
 */
PGT_FAST_INLINE uintptr_t pgt__fast_next(const struct pgt_fast *f, unsigned flags, const struct pgt_fast_level *L,
					 pgt_pte_t pte)
{
	const uintptr_t pa = (uintptr_t)((pte & L->next_oa) << L->oa_shift);

	return (flags & PGT_FAST_IDENTITY) ? pa : pa + f->offset;
}

/**
 * Whether an entry that failed the table test of its level passes the leaf
 * test. When the two tests look at the same bits and want values one bit
 * apart (x86-64's PS, ARMv8's bit 1), that bit is all that told them apart:
 * having failed the table test, the entry passes the leaf test exactly when
 * the other bits read as both want, one bit test fewer (the constants fold
 * this choice away).
 * @param L    the entry's level
 * @param pte  the entry, no table entry of @p L
 * @return non-zero when it passes
 */
PGT_FAST_INLINE int pgt__fast_leaf_not_table(const struct pgt_fast_level *L, pgt_pte_t pte)
{
	const uint64_t apart = L->leaf.match ^ L->table.lo;

	if (L->table.span == 0 && L->table.mask == L->leaf.mask && !(L->table.lo & ~L->table.mask) &&
	    !(L->leaf.match & ~L->leaf.mask) && apart && !(apart & (apart - 1))) {
		const struct pgt_fast_test rest = { L->leaf.mask & ~apart, L->leaf.match & ~apart };
		return pgt__fast_passes(&rest, pte);
	}
	return pgt__fast_passes(&L->leaf, pte);
}

/**
 * Whether an entry that links no table is a leaf pgt_lookup finds: valid, or reserved.
 * @param L    the entry's level
 * @param pte  the entry, no table entry of @p L
 * @return non-zero when it is
 */
PGT_FAST_INLINE int pgt__fast_is_mapped(const struct pgt_fast_level *L, pgt_pte_t pte)
{
	/* A leaf test whose match has a bit of leaf_any says "one of leaf_any" itself. */
	if (pgt__fast_leaf_not_table(L, pte) && ((L->leaf.match & L->leaf_any) || (pte & L->leaf_any)))
		return 1;
	return !(pte & L->present) && (pte & L->reserved);
}

/**
 * The end of a lookup at a non-table entry: its answer and ref.
 * @param L    the entry's level
 * @param l    its level number
 * @param p    the entry's address
 * @param pte  the entry
 * @param out  receives the ref when not NULL
 * @return PGT_OK or PGT_ENOENT
 */
PGT_FAST_INLINE int pgt__fast_found(const struct pgt_fast_level *L, unsigned l, const pgt_pte_t *p, pgt_pte_t pte,
				   pgt_ref_t *out)
{
	if (!pgt__fast_is_mapped(L, pte))
		return PGT_ENOENT;
	if (out)
		*out = (pgt_ref_t){ .pte = (pgt_pte_t *)(uintptr_t)p, .level = l, .page_shift = L->shift };
	return PGT_OK;
}

/**
 * One level @p l of a lookup, unrolled: @p l is a constant, so is every
 * test. The root's entry is found before the first step.
 */
#define PGT_FAST__LOOKUP_STEP(l)                                         \
	if ((l) < K->levels) {                                           \
		const struct pgt_fast_level *L = &K->level[l];           \
		if ((l) < K->levels - 1u)                                \
			p = pgt__fast_entry(L, table, va);                \
		pte = __atomic_load_n(p, __ATOMIC_ACQUIRE);              \
		if (!pgt__fast_in_range(&L->table, pte))                  \
			return pgt__fast_found(L, (l), p, pte, out);      \
		table = pgt__fast_next(f, flags, L, pte);                 \
	}

/** Level 0 of a lookup: no entry there links a table, so the walk ends. */
#define PGT_FAST__LOOKUP_LAST                                        \
	{                                                            \
		const struct pgt_fast_level *L = &K->level[0];       \
		p = pgt__fast_entry(L, table, va);                    \
		pte = __atomic_load_n(p, __ATOMIC_ACQUIRE);          \
		return pgt__fast_found(L, 0, p, pte, out);            \
	}

/**
 * pgt_fast_lookup for the layout @p kind and the flags @p flags, which
 * should be constants: every mask, shift and the level count fold into the
 * code, and each flag takes its work out. A loop chooses both once:
 * switch on f->kind, and within each case test f->flags.
 * @param f      filled by pgt_fast_init, with f->kind == @p kind
 * @param kind   enum pgt_fast_kind
 * @param flags  0, or bits (PGT_FAST_IDENTITY) that f->flags has: a walk
 *               told a flag the struct lacks gives wrong answers
 * @param va     the address
 * @param out    receives the leaf's ref when not NULL
 * @return as pgt_fast_lookup
 */
PGT_FAST_INLINE int pgt_fast_lookup_with(const struct pgt_fast *f, unsigned kind, unsigned flags, pgt_vaddr_t va,
					 pgt_ref_t *out)
{
	const struct pgt_fast_layout *K = &pgt_fast_layouts[kind];
	const pgt_pte_t *p;
	uint64_t root;
	uintptr_t table = 0; /* the root's step sets it before a step reads it; some compilers cannot tell */
	pgt_pte_t pte;

	if (!pgt__fast_root_index(f, K, va, &root))
		return PGT_ERANGE;
	p = pgt__fast_root_entry(f, root);
	PGT_FAST__LOOKUP_STEP(5)
	PGT_FAST__LOOKUP_STEP(4)
	PGT_FAST__LOOKUP_STEP(3)
	PGT_FAST__LOOKUP_STEP(2)
	PGT_FAST__LOOKUP_STEP(1)
	PGT_FAST__LOOKUP_LAST
}

/**
 * pgt_fast_lookup for the layout @p kind, which should be a constant:
 * every mask, shift and the level count fold into the code.
 * pgt_fast_lookup_with with no flags.
 * @param f     filled by pgt_fast_init, with f->kind == @p kind
 * @param kind  enum pgt_fast_kind
 * @param va    the address
 * @param out   receives the leaf's ref when not NULL
 * @return as pgt_fast_lookup
 */
PGT_FAST_INLINE int pgt_fast_lookup_as(const struct pgt_fast *f, unsigned kind, pgt_vaddr_t va, pgt_ref_t *out)
{
	return pgt_fast_lookup_with(f, kind, 0, va, out);
}

/** The case of kind @p k: its constant walk. */
#define PGT_FAST__LOOKUP_CASE(k) \
	case k:                  \
		return pgt_fast_lookup_as(f, k, va, out);

/**
 * pgt_lookup, inline: the leaf (valid or reserved) that maps @p va.
 * @param f    filled by pgt_fast_init
 * @param va   the address
 * @param out  receives the leaf's ref when not NULL
 * @return PGT_OK; PGT_ENOENT when nothing is mapped; PGT_ERANGE for a @p va
 *         outside the space. The same answer, and the same ref, as pgt_lookup.
 */
PGT_FAST_INLINE int pgt_fast_lookup(const struct pgt_fast *f, pgt_vaddr_t va, pgt_ref_t *out)
{
	switch (f->kind) {
		PGT_FAST_FOR_EACH_KIND(PGT_FAST__LOOKUP_CASE)
	}
	return pgt_lookup(f->space, va, out); /* not reached for a struct pgt_fast_init filled */
}

/**
 * Where an access's leaf tests are in a layout's pass.
 * @param access  enum pgt_access bits
 * @return the index; -1 for an access the inline walk leaves to
 *         pgt_translate (PGT_ACC_SET_AD, or not exactly one of read, write
 *         and execute)
 */
PGT_FAST_INLINE int pgt__fast_access_index(unsigned access)
{
	/* Bit n of 0x1616 is set for n in {READ, WRITE, EXEC}, with or without USER. */
	if (access >= 16 || !((0x1616u >> access) & 1u))
		return -1;
	return (int)(((access & 7u) >> 1) + ((access & PGT_ACC_USER) ? 3u : 0u));
}

/**
 * The end of a translate at an entry that is no plain table: the leaf's
 * address when one compare grants the access, else pgt_translate's answer.
 * @param f       filled by pgt_fast_init
 * @param K       its layout
 * @param l       the entry's level
 * @param acc     pgt__fast_access_index(@p access)
 * @param pte     the entry
 * @param va      the address
 * @param access  the access
 * @param pa      receives the physical address when not NULL
 * @return as pgt_fast_translate
 */
PGT_FAST_INLINE int pgt__fast_leaf(const struct pgt_fast *f, const struct pgt_fast_layout *K, unsigned l, int acc,
				  pgt_pte_t pte, pgt_vaddr_t va, unsigned access, pgt_paddr_t *pa)
{
	const struct pgt_fast_level *L = &K->level[l];

	if (pgt__fast_passes(&K->pass[l][acc], pte)) {
		if (pa)
			*pa = ((pte & L->leaf_oa) << L->oa_shift) | (va & ((UINT64_C(1) << L->shift) - 1));
		return PGT_OK;
	}
	/* A fault, a table entry that takes rights, a leaf that needs the rules. */
	return pgt_translate(f->space, va, access, pa, NULL);
}

/** One level @p l of a translate, unrolled as the lookup's. */
#define PGT_FAST__TRANSLATE_STEP(l)                                                     \
	if ((l) < K->levels) {                                                          \
		const struct pgt_fast_level *L = &K->level[l];                          \
		if ((l) < K->levels - 1u)                                               \
			p = pgt__fast_entry(L, table, va);                               \
		pte = __atomic_load_n(p, __ATOMIC_ACQUIRE);                             \
		if (!pgt__fast_in_range(&L->table_plain, pte))                           \
			return pgt__fast_leaf(f, K, (l), acc, pte, va, access, pa);      \
		table = pgt__fast_next(f, flags, L, pte);                                \
	}

/** Level 0 of a translate: the walk ends there, as the lookup's. */
#define PGT_FAST__TRANSLATE_LAST                                                          \
	{                                                                                 \
		const struct pgt_fast_level *L = &K->level[0];                            \
		pte = __atomic_load_n(pgt__fast_entry(L, table, va), __ATOMIC_ACQUIRE);    \
		return pgt__fast_leaf(f, K, 0, acc, pte, va, access, pa);                  \
	}

/**
 * pgt_fast_translate for the layout @p kind and the flags @p flags, which
 * should be constants (see pgt_fast_lookup_with).
 * @param f       filled by pgt_fast_init, with f->kind == @p kind
 * @param kind    enum pgt_fast_kind
 * @param flags   0, or bits (PGT_FAST_IDENTITY) that f->flags has: a walk
 *                told a flag the struct lacks gives wrong answers
 * @param va      the address
 * @param access  enum pgt_access bits
 * @param pa      receives the physical address when not NULL
 * @return as pgt_fast_translate
 */
PGT_FAST_INLINE int pgt_fast_translate_with(const struct pgt_fast *f, unsigned kind, unsigned flags, pgt_vaddr_t va,
					    unsigned access, pgt_paddr_t *pa)
{
	const struct pgt_fast_layout *K = &pgt_fast_layouts[kind];
	int acc = pgt__fast_access_index(access);
	const pgt_pte_t *p;
	uint64_t root;
	uintptr_t table = 0; /* the root's step sets it before a step reads it; some compilers cannot tell */
	pgt_pte_t pte;

	if (acc < 0)
		return pgt_translate(f->space, va, access, pa, NULL);
	if (!pgt__fast_root_index(f, K, va, &root))
		return PGT_ERANGE;
	p = pgt__fast_root_entry(f, root);
	PGT_FAST__TRANSLATE_STEP(5)
	PGT_FAST__TRANSLATE_STEP(4)
	PGT_FAST__TRANSLATE_STEP(3)
	PGT_FAST__TRANSLATE_STEP(2)
	PGT_FAST__TRANSLATE_STEP(1)
	PGT_FAST__TRANSLATE_LAST
}

/**
 * pgt_fast_translate for the layout @p kind, which should be a constant:
 * pgt_fast_translate_with with no flags.
 * @param f       filled by pgt_fast_init, with f->kind == @p kind
 * @param kind    enum pgt_fast_kind
 * @param va      the address
 * @param access  enum pgt_access bits
 * @param pa      receives the physical address when not NULL
 * @return as pgt_fast_translate
 */
PGT_FAST_INLINE int pgt_fast_translate_as(const struct pgt_fast *f, unsigned kind, pgt_vaddr_t va, unsigned access,
					  pgt_paddr_t *pa)
{
	return pgt_fast_translate_with(f, kind, 0, va, access, pa);
}

/** The case of kind @p k: its constant walk. */
#define PGT_FAST__TRANSLATE_CASE(k) \
	case k:                  \
		return pgt_fast_translate_as(f, k, va, access, pa);

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
PGT_FAST_INLINE int pgt_fast_translate(const struct pgt_fast *f, pgt_vaddr_t va, unsigned access, pgt_paddr_t *pa)
{
	switch (f->kind) {
		PGT_FAST_FOR_EACH_KIND(PGT_FAST__TRANSLATE_CASE)
	}
	return pgt_translate(f->space, va, access, pa, NULL); /* not reached for a struct pgt_fast_init filled */
}

#ifdef __cplusplus
}
#endif

#endif /* PGTABLE_FAST_H */
