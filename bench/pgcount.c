/* SPDX-License-Identifier: MIT */
/*
 * pgcount: each common call of the library made COUNT times in a function
 * of its own (op_*), for counting the instructions one call costs with
 * callgrind (bench/pgcount.sh). Instruction counts repeat exactly for the
 * same binary and inputs, whatever else the machine does, so they show
 * changes that pgbench's timings, which move by 10-30% on shared machines,
 * cannot.
 *
 * Every call is made on a small tree in the state a long-running program
 * has: tables present, so the calls take their common paths. Every answer
 * is checked; a wrong one ends the run with status 1.
 *
 * The pages are the descriptor's two smallest sizes: 4K and 2M for the
 * 4K-granule formats, 16K and 32M, 64K and 512M for the others (the *_2m
 * operations use the larger one).
 *
 * Usage: pgcount [ARCH]   (a descriptor name; default x86_64)
 *        pgcount --list   (every shipped descriptor's name, one a line)
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pgtable/arch.h>
#include <pgtable/armv8.h>
#include <pgtable/fast.h>
#include <pgtable/pgtable.h>
#include <pgtable/tlb.h>
#include <pgtable/x86_64.h>

#define COUNT    512u /* calls per operation: at most one leaf table of small pages */
#define RW       (PGT_PROT_READ | PGT_PROT_WRITE)
#define PA       ((pgt_paddr_t)1 << 32) /* physical base of every mapping */
#define NOINLINE __attribute__((noinline))

/*
 * Set by use_page_sizes: the small and the big page, and the regions of
 * COUNT pages each. A region spans COUNT big pages (1 GiB for 4K formats),
 * so that the four never overlap.
 */
static unsigned page_shift, big_shift;
static uint64_t page, big;
static pgt_vaddr_t small_va;   /* COUNT small pages */
static pgt_vaddr_t map_va;     /* COUNT small pages by pgt_map */
static pgt_vaddr_t big_va;     /* COUNT big pages */
static pgt_vaddr_t big_map_va; /* COUNT big pages by pgt_map */
static pgt_vaddr_t sparse_va;  /* COUNT small pages, one per big page: one per leaf table */

/* Every descriptor the library ships, for --list. */
static const struct pgt_arch *const shipped[] = {
#define PGT_FORMAT(desc, name, what) &desc,
#include <pgtable/formats.h>
#undef PGT_FORMAT
};

static pgt_space_t sp;
static pgt_ref_t refs[COUNT];
static struct pgt_tlb_entry tlb_mem[1];
static pgt_tlb_t tlb; /* one entry: every lookup of another page misses */
/* pgbench's shape (4096 entries, 2-way): room for a table entry beside the pages, each page new */
static struct pgt_tlb_entry tlb_wide_mem[4096];
static pgt_tlb_t tlb_wide;
static struct pgt_fast fast; /* the inline walks' view of sp */
static unsigned bad;

static pgt_paddr_t alloc_table(void *ctx, size_t size, unsigned level)
{
	void *p = aligned_alloc(size, size);

	(void)ctx;
	(void)level;
	return p ? (pgt_paddr_t)(uintptr_t)p : PGT_PADDR_NONE;
}

static void free_table(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	(void)ctx;
	(void)size;
	(void)level;
	free((void *)(uintptr_t)pa);
}

static void expect(int rc, int want)
{
	bad += rc != want;
}

/* --- the calls ------------------------------------------------------------- */

/*
 * Each loop copies the sizes and regions it uses into locals first: the
 * calls it makes could change globals, so reading those would cost a load
 * per iteration that the loops with constant sizes never paid.
 */
NOINLINE static void op_insert(void)
{
	const unsigned l_page_shift = page_shift;
	const uint64_t l_page = page;
	const pgt_vaddr_t l_small_va = small_va;

	for (unsigned i = 1; i < COUNT; i++)
		expect(pgt_insert(&sp, l_small_va + i * l_page, l_page_shift, &refs[i]), PGT_OK);
}

NOINLINE static void op_insert_2m(void)
{
	const unsigned l_big_shift = big_shift;
	const uint64_t l_big = big;
	const pgt_vaddr_t l_big_va = big_va;

	for (unsigned i = 1; i < COUNT; i++)
		expect(pgt_insert(&sp, l_big_va + i * l_big, l_big_shift, NULL), PGT_OK);
}

NOINLINE static void op_set_paddr(void)
{
	const uint64_t l_page = page;

	for (unsigned i = 1; i < COUNT; i++)
		expect(pgt_set_field(&sp, refs[i], PGT_FIELD_PADDR, PA + i * l_page), PGT_OK);
}

NOINLINE static void op_set_prot(void)
{
	for (unsigned i = 1; i < COUNT; i++)
		expect(pgt_set_field(&sp, refs[i], PGT_FIELD_PROT, RW), PGT_OK);
}

NOINLINE static void op_map(void)
{
	const uint64_t l_page = page;
	const pgt_vaddr_t l_map_va = map_va;

	for (unsigned i = 1; i < COUNT; i++)
		expect(pgt_map(&sp, l_map_va + i * l_page, PA + i * l_page, l_page, RW, 0), PGT_OK);
}

NOINLINE static void op_map_2m(void)
{
	const uint64_t l_big = big;
	const pgt_vaddr_t l_big_map_va = big_map_va;

	for (unsigned i = 1; i < COUNT; i++)
		expect(pgt_map(&sp, l_big_map_va + i * l_big, PA + i * l_big, l_big, RW, 0), PGT_OK);
}

NOINLINE static void op_lookup(void)
{
	const unsigned l_page_shift = page_shift;
	const uint64_t l_page = page;
	const pgt_vaddr_t l_small_va = small_va;

	for (unsigned i = 0; i < COUNT; i++) {
		pgt_ref_t ref;
		expect(pgt_lookup(&sp, l_small_va + i * l_page, &ref), PGT_OK);
		bad += ref.page_shift != l_page_shift;
	}
}

/*
 * The inline walks of <pgtable/fast.h>, twice: through pgt_fast_lookup and
 * pgt_fast_translate, which switch on the kind at every call, and with the
 * switch taken once around the loop (the _as walks with a constant kind:
 * the *_once ops). Each works on a local copy of the struct, as a caller's
 * loop would, so that its fields stay in registers.
 */
NOINLINE static void op_fast_lookup(void)
{
	const struct pgt_fast l_fast = fast;
	const unsigned l_page_shift = page_shift;
	const uint64_t l_page = page;
	const pgt_vaddr_t l_small_va = small_va;

	for (unsigned i = 0; i < COUNT; i++) {
		pgt_ref_t ref = { .page_shift = 0 }; /* read even on failure, unlike a call's, the compiler sees */
		expect(pgt_fast_lookup(&l_fast, l_small_va + i * l_page, &ref), PGT_OK);
		bad += ref.page_shift != l_page_shift;
	}
}

NOINLINE static void op_fast_translate(void)
{
	const struct pgt_fast l_fast = fast;
	const uint64_t l_page = page;
	const pgt_vaddr_t l_small_va = small_va;

	for (unsigned i = 0; i < COUNT; i++) {
		pgt_paddr_t pa = 0;
		expect(pgt_fast_translate(&l_fast, l_small_va + i * l_page + 8, PGT_ACC_READ, &pa), PGT_OK);
		bad += pa != PA + i * l_page + 8;
	}
}

/*
 * pgt_fast_lookup in the limit walk's loop (LIMIT_OP below): the entry
 * found compared with the one pgt_insert gave, so that fast_walk / limit
 * compares the walks alone.
 */
NOINLINE static void op_fast_walk(void)
{
	const struct pgt_fast l_fast = fast;
	const uint64_t l_page = page;
	const pgt_vaddr_t l_small_va = small_va;

	for (unsigned i = 0; i < COUNT; i++) {
		pgt_ref_t ref;
		const pgt_pte_t *p = pgt_fast_lookup(&l_fast, l_small_va + i * l_page, &ref) == PGT_OK ? ref.pte : NULL;
		bad += p != refs[i].pte;
	}
}

/** The loop of op_fast_lookup_once for the constant @p kind. */
PGT_FAST_INLINE void fast_lookup_loop(const struct pgt_fast *f, unsigned kind)
{
	const unsigned l_page_shift = page_shift;
	const uint64_t l_page = page;
	const pgt_vaddr_t l_small_va = small_va;

	for (unsigned i = 0; i < COUNT; i++) {
		pgt_ref_t ref = { .page_shift = 0 };
		expect(pgt_fast_lookup_as(f, kind, l_small_va + i * l_page, &ref), PGT_OK);
		bad += ref.page_shift != l_page_shift;
	}
}

/** The loop of op_fast_translate_once for the constant @p kind. */
PGT_FAST_INLINE void fast_translate_loop(const struct pgt_fast *f, unsigned kind)
{
	const uint64_t l_page = page;
	const pgt_vaddr_t l_small_va = small_va;

	for (unsigned i = 0; i < COUNT; i++) {
		pgt_paddr_t pa = 0;
		expect(pgt_fast_translate_as(f, kind, l_small_va + i * l_page + 8, PGT_ACC_READ, &pa), PGT_OK);
		bad += pa != PA + i * l_page + 8;
	}
}

NOINLINE static void op_fast_lookup_once(void)
{
	const struct pgt_fast l_fast = fast;

	switch (l_fast.kind) {
#define LOOKUP_LOOP(k)                        \
	case k:                               \
		fast_lookup_loop(&l_fast, k); \
		break;
		PGT_FAST_FOR_EACH_KIND(LOOKUP_LOOP)
#undef LOOKUP_LOOP
	}
}

NOINLINE static void op_fast_translate_once(void)
{
	const struct pgt_fast l_fast = fast;

	switch (l_fast.kind) {
#define TRANSLATE_LOOP(k)                        \
	case k:                                  \
		fast_translate_loop(&l_fast, k); \
		break;
		PGT_FAST_FOR_EACH_KIND(TRANSLATE_LOOP)
#undef TRANSLATE_LOOP
	}
}

/*
 * The _with walks, the kind and the flags pgt_fast_init gave chosen once
 * around the loop, as pgbench's fast column calls them: fast_lookup_with
 * and fast_translate_with in the loops of the *_once ops, fast_walk_with
 * in the limit's (fast_walk_with / limit is what the inline walk costs
 * over the hand-written one).
 */
/** The loop of op_fast_lookup_with for the constant @p kind and @p flags. */
PGT_FAST_INLINE void fast_lookup_with_loop(const struct pgt_fast *f, unsigned kind, unsigned flags)
{
	const unsigned l_page_shift = page_shift;
	const uint64_t l_page = page;
	const pgt_vaddr_t l_small_va = small_va;

	for (unsigned i = 0; i < COUNT; i++) {
		pgt_ref_t ref = { .page_shift = 0 };
		expect(pgt_fast_lookup_with(f, kind, flags, l_small_va + i * l_page, &ref), PGT_OK);
		bad += ref.page_shift != l_page_shift;
	}
}

/** The loop of op_fast_translate_with for the constant @p kind and @p flags. */
PGT_FAST_INLINE void fast_translate_with_loop(const struct pgt_fast *f, unsigned kind, unsigned flags)
{
	const uint64_t l_page = page;
	const pgt_vaddr_t l_small_va = small_va;

	for (unsigned i = 0; i < COUNT; i++) {
		pgt_paddr_t pa = 0;
		expect(pgt_fast_translate_with(f, kind, flags, l_small_va + i * l_page + 8, PGT_ACC_READ, &pa),
		       PGT_OK);
		bad += pa != PA + i * l_page + 8;
	}
}

/** The loop of op_fast_walk_with (LIMIT_OP's) for the constant @p kind and @p flags. */
PGT_FAST_INLINE void fast_walk_with_loop(const struct pgt_fast *f, unsigned kind, unsigned flags)
{
	const uint64_t l_page = page;
	const pgt_vaddr_t l_small_va = small_va;

	for (unsigned i = 0; i < COUNT; i++) {
		pgt_ref_t ref;
		const pgt_pte_t *p =
			pgt_fast_lookup_with(f, kind, flags, l_small_va + i * l_page, &ref) == PGT_OK ? ref.pte : NULL;
		bad += p != refs[i].pte;
	}
}

/** The case of kind @p k for the loop @p loop: the walk with the flags f->flags has. */
#define WITH_CASE(loop, k)                                    \
	case k:                                               \
		if (l_fast.flags & PGT_FAST_IDENTITY)         \
			loop(&l_fast, k, PGT_FAST_IDENTITY); \
		else                                          \
			loop(&l_fast, k, 0);                  \
		break;

NOINLINE static void op_fast_lookup_with(void)
{
	const struct pgt_fast l_fast = fast;

	switch (l_fast.kind) {
#define LOOKUP_WITH(k) WITH_CASE(fast_lookup_with_loop, k)
		PGT_FAST_FOR_EACH_KIND(LOOKUP_WITH)
#undef LOOKUP_WITH
	}
}

NOINLINE static void op_fast_translate_with(void)
{
	const struct pgt_fast l_fast = fast;

	switch (l_fast.kind) {
#define TRANSLATE_WITH(k) WITH_CASE(fast_translate_with_loop, k)
		PGT_FAST_FOR_EACH_KIND(TRANSLATE_WITH)
#undef TRANSLATE_WITH
	}
}

NOINLINE static void op_fast_walk_with(void)
{
	const struct pgt_fast l_fast = fast;

	switch (l_fast.kind) {
#define WALK_WITH(k) WITH_CASE(fast_walk_with_loop, k)
		PGT_FAST_FOR_EACH_KIND(WALK_WITH)
#undef WALK_WITH
	}
}

/*
 * The limit: pgbench's hand-written walk, the format's masks and shifts as
 * constants and no checks, inlined into the loop, for three 4K formats:
 * x86-64 4-level (Intel SDM 4.5), ARMv8 4K granule from level 0 (Arm ARM
 * D8.3) and RISC-V Sv39 (privileged spec, 4.4).
 */
static inline unsigned idx4k(uint64_t va, unsigned level)
{
	return (unsigned)(va >> (12 + 9 * level)) & 511u;
}

static inline const pgt_pte_t *limit_x86_walk(const pgt_pte_t *root, uint64_t va)
{
	const pgt_pte_t *p = root + idx4k(va, 3);

	if (!(*p & PGT_X86_P))
		return NULL;
	p = (const pgt_pte_t *)(uintptr_t)(*p & PGT_X86_ADDR_4K) + idx4k(va, 2);
	if (!(*p & PGT_X86_P))
		return NULL;
	if (*p & PGT_X86_PS)
		return p;
	p = (const pgt_pte_t *)(uintptr_t)(*p & PGT_X86_ADDR_4K) + idx4k(va, 1);
	if (!(*p & PGT_X86_P))
		return NULL;
	if (*p & PGT_X86_PS)
		return p;
	p = (const pgt_pte_t *)(uintptr_t)(*p & PGT_X86_ADDR_4K) + idx4k(va, 0);
	return (*p & PGT_X86_P) ? p : NULL;
}

static inline const pgt_pte_t *limit_arm_walk(const pgt_pte_t *root, uint64_t va)
{
	const pgt_pte_t *p = root + idx4k(va, 3);

	if ((*p & 3) != 3)
		return NULL;
	p = (const pgt_pte_t *)(uintptr_t)(*p & PGT_ARMV8_OA(12)) + idx4k(va, 2);
	if ((*p & 3) != 3)
		return (*p & 3) == 1 ? p : NULL;
	p = (const pgt_pte_t *)(uintptr_t)(*p & PGT_ARMV8_OA(12)) + idx4k(va, 1);
	if ((*p & 3) != 3)
		return (*p & 3) == 1 ? p : NULL;
	p = (const pgt_pte_t *)(uintptr_t)(*p & PGT_ARMV8_OA(12)) + idx4k(va, 0);
	return (*p & 3) == 3 ? p : NULL;
}

/* Sv39: V is bit 0; a valid entry with none of R, W, X (bits 3:1) is a table; the PPN is bits 53:10. */
static inline const pgt_pte_t *riscv_next(pgt_pte_t e)
{
	return (const pgt_pte_t *)(uintptr_t)(((e >> 10) & ((UINT64_C(1) << 44) - 1)) << 12);
}

static inline const pgt_pte_t *limit_sv39_walk(const pgt_pte_t *root, uint64_t va)
{
	const pgt_pte_t *p = root + idx4k(va, 2);

	if ((*p & 0xf) != 1)
		return (*p & 1) ? p : NULL;
	p = riscv_next(*p) + idx4k(va, 1);
	if ((*p & 0xf) != 1)
		return (*p & 1) ? p : NULL;
	p = riscv_next(*p) + idx4k(va, 0);
	return (*p & 1) ? p : NULL;
}

#define LIMIT_OP(name, walk)                                                             \
	NOINLINE static void name(const pgt_pte_t *root)                                 \
	{                                                                                \
		const uint64_t l_page = page;                                            \
		const pgt_vaddr_t l_small_va = small_va;                                 \
		for (unsigned i = 0; i < COUNT; i++)                                     \
			bad += walk(root, l_small_va + i * l_page) != refs[i].pte;     \
	}
LIMIT_OP(op_limit_x86, limit_x86_walk)
LIMIT_OP(op_limit_arm, limit_arm_walk)
LIMIT_OP(op_limit_sv39, limit_sv39_walk)

/** The limit walk, for the formats it is written for (the root is at pa == its address). */
static void op_limit(const char *name)
{
	const pgt_pte_t *root = (const pgt_pte_t *)(uintptr_t)pgt_space_root(&sp);

	if (strcmp(name, "x86_64") == 0)
		op_limit_x86(root);
	else if (strcmp(name, "armv8-4k-48") == 0)
		op_limit_arm(root);
	else if (strcmp(name, "riscv-sv39") == 0)
		op_limit_sv39(root);
}

NOINLINE static void op_translate(void)
{
	const uint64_t l_page = page;
	const pgt_vaddr_t l_small_va = small_va;

	for (unsigned i = 0; i < COUNT; i++) {
		pgt_paddr_t pa;
		expect(pgt_translate(&sp, l_small_va + i * l_page + 8, PGT_ACC_READ, &pa, NULL), PGT_OK);
		bad += pa != PA + i * l_page + 8;
	}
}

/** Looks up each small page once through @p t: every lookup a miss (the pages are new to it). */
static inline __attribute__((always_inline)) void tlb_misses(pgt_tlb_t *t)
{
	const uint64_t l_page = page;
	const pgt_vaddr_t l_small_va = small_va;

	for (unsigned i = 0; i < COUNT; i++) {
		pgt_paddr_t pa;
		expect(pgt_tlb_lookup(t, l_small_va + i * l_page + 8, &pa, NULL), PGT_OK);
		bad += pa != PA + i * l_page + 8;
	}
}

NOINLINE static void op_tlb_miss(void)
{
	tlb_misses(&tlb);
}

NOINLINE static void op_tlb_miss_wide(void)
{
	tlb_misses(&tlb_wide);
}

NOINLINE static void op_tlb_hit(void)
{
	const pgt_vaddr_t l_small_va = small_va;

	for (unsigned i = 0; i < COUNT; i++) {
		pgt_paddr_t pa;
		expect(pgt_tlb_lookup(&tlb, l_small_va + 8, &pa, NULL), PGT_OK);
		bad += pa != PA + 8;
	}
}

NOINLINE static void op_protect(void)
{
	const uint64_t l_page = page;
	const pgt_vaddr_t l_map_va = map_va;

	for (unsigned i = 1; i < COUNT; i++)
		expect(pgt_protect(&sp, l_map_va + i * l_page, l_page, PGT_PROT_READ), PGT_OK);
}

NOINLINE static void op_unmap(void)
{
	const uint64_t l_page = page;
	const pgt_vaddr_t l_map_va = map_va;

	for (unsigned i = 1; i < COUNT; i++)
		expect(pgt_unmap(&sp, l_map_va + i * l_page, l_page), PGT_OK);
}

/* Every call empties a leaf table, which goes back to the allocator. */
NOINLINE static void op_unmap_sparse(void)
{
	const uint64_t l_page = page, l_big = big;
	const pgt_vaddr_t l_sparse_va = sparse_va;

	for (unsigned i = 1; i < COUNT; i++)
		expect(pgt_unmap(&sp, l_sparse_va + i * l_big, l_page), PGT_OK);
}

/** Which sparse phase runs: written by the *_kept ops, so the compiler cannot fold them into the others. */
static volatile unsigned sparse_phase;

/*
 * The same with the space keeping emptied tables (pgt_space_cache): each
 * leaf table goes to the cache, not the allocator.
 */
NOINLINE static void op_unmap_sparse_kept(void)
{
	const uint64_t l_page = page, l_big = big;
	const pgt_vaddr_t l_sparse_va = sparse_va;

	sparse_phase = 1;
	for (unsigned i = 1; i < COUNT; i++)
		expect(pgt_unmap(&sp, l_sparse_va + i * l_big, l_page), PGT_OK);
}

/* One page into a missing leaf table, which the allocator gives and the library clears. */
NOINLINE static void op_map_sparse(void)
{
	const uint64_t l_page = page, l_big = big;
	const pgt_vaddr_t l_sparse_va = sparse_va;

	for (unsigned i = 1; i < COUNT; i++)
		expect(pgt_map(&sp, l_sparse_va + i * l_big, PA + i * l_page, l_page, RW, 0), PGT_OK);
}

/* The same, the leaf table taken from the space's cache of emptied ones. */
NOINLINE static void op_map_sparse_kept(void)
{
	const uint64_t l_page = page, l_big = big;
	const pgt_vaddr_t l_sparse_va = sparse_va;

	sparse_phase = 2;
	for (unsigned i = 1; i < COUNT; i++)
		expect(pgt_map(&sp, l_sparse_va + i * l_big, PA + i * l_page, l_page, RW, 0), PGT_OK);
}

/** The @p k-th smallest leaf size of @p a as a shift, or 0. */
static unsigned leaf_shift(const struct pgt_arch *a, unsigned k)
{
	for (unsigned l = 0; l < a->levels; l++)
		if (a->level[l].leaf_ok && k-- == 0)
			return a->level[l].shift;
	return 0;
}

/** Picks the page sizes and regions for @p a; false when it has no two sizes or room for them. */
static bool use_page_sizes(const struct pgt_arch *a)
{
	page_shift = leaf_shift(a, 0);
	big_shift = leaf_shift(a, 1);
	if (!page_shift || !big_shift)
		return false;
	page = (uint64_t)1 << page_shift;
	big = (uint64_t)1 << big_shift;
	small_va = (pgt_vaddr_t)COUNT << big_shift;
	map_va = 2 * small_va;
	big_va = 4 * small_va;
	big_map_va = 6 * small_va;
	sparse_va = 7 * small_va;
	return sparse_va + small_va <= (pgt_vaddr_t)1 << (a->va_bits - 1);
}

static int list_shipped(void)
{
	for (size_t i = 0; i < sizeof shipped / sizeof shipped[0]; i++)
		printf("%s\n", shipped[i]->name);
	return 0;
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "x86_64";
	const struct pgt_arch *arch;
	const struct pgt_mm mm = { .alloc_table = alloc_table, .free_table = free_table };

	if (strcmp(name, "--list") == 0)
		return list_shipped();
	arch = pgt_arch_by_name(name);
	if (!arch || !use_page_sizes(arch) || pgt_space_init(&sp, arch, &mm, 0) != PGT_OK) {
		fprintf(stderr, "pgcount: no space for descriptor %s\n", name);
		return 2;
	}
	/* The first page of each region makes its tables; the calls fill the rest. */
	expect(pgt_insert(&sp, small_va, page_shift, &refs[0]), PGT_OK);
	expect(pgt_set_field(&sp, refs[0], PGT_FIELD_PADDR, PA), PGT_OK);
	expect(pgt_set_field(&sp, refs[0], PGT_FIELD_PROT, RW), PGT_OK);
	expect(pgt_map(&sp, map_va, PA, page, RW, 0), PGT_OK);
	expect(pgt_insert(&sp, big_va, big_shift, NULL), PGT_OK);
	expect(pgt_map(&sp, big_map_va, PA, big, RW, 0), PGT_OK);
	for (unsigned i = 0; i < COUNT; i++)
		expect(pgt_map(&sp, sparse_va + i * big, PA + i * page, page, RW, 0), PGT_OK);
	expect(pgt_tlb_init(&tlb, &sp, tlb_mem, 1, 1), PGT_OK);
	expect(pgt_tlb_init(&tlb_wide, &sp, tlb_wide_mem, 4096, 2), PGT_OK);
	expect(pgt_fast_init(&fast, &sp), PGT_OK);

	op_insert();
	op_insert_2m();
	op_set_paddr();
	op_set_prot();
	op_map();
	op_map_2m();
	op_lookup();
	op_translate();
	op_fast_lookup();
	op_fast_translate();
	op_fast_lookup_once();
	op_fast_walk();
	op_fast_translate_once();
	op_fast_lookup_with();
	op_fast_translate_with();
	op_fast_walk_with();
	op_limit(name);
	op_tlb_miss();
	/* revives it after the changes above (emptying its 4096 entries) outside the count; no walk */
	expect(pgt_tlb_lookup(&tlb_wide, (pgt_vaddr_t)1 << 62, NULL, NULL), PGT_ERANGE);
	op_tlb_miss_wide();
	op_tlb_hit();
	op_protect();
	op_unmap();
	op_unmap_sparse();
	op_map_sparse();
	expect(pgt_space_cache(&sp, COUNT), PGT_OK);
	op_unmap_sparse_kept();
	op_map_sparse_kept();
	pgt_space_destroy(&sp);
	if (bad) {
		fprintf(stderr, "pgcount: %u wrong answers on %s\n", bad, name);
		return 1;
	}
	printf("pgcount: %s: every call answered right\n", name);
	return 0;
}
