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
 * Usage: pgcount [ARCH]   (a descriptor name; default x86_64)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <string.h>

#include <pgtable/armv8.h>
#include <pgtable/fast.h>
#include <pgtable/pgtable.h>
#include <pgtable/tlb.h>
#include <pgtable/x86_64.h>

#define COUNT    512u /* calls per operation: one leaf table of 4K pages */
#define RW       (PGT_PROT_READ | PGT_PROT_WRITE)
#define PA       ((pgt_paddr_t)1 << 32) /* physical base of every mapping */
#define NOINLINE __attribute__((noinline))

static const uint64_t page = 4096, big = (uint64_t)2 << 20;
static const pgt_vaddr_t small_va = (pgt_vaddr_t)1 << 30; /* COUNT 4K pages */
static const pgt_vaddr_t map_va = (pgt_vaddr_t)2 << 30;   /* COUNT 4K pages by pgt_map */
static const pgt_vaddr_t big_va = (pgt_vaddr_t)4 << 30;   /* COUNT 2M pages */
static const pgt_vaddr_t big_map_va = (pgt_vaddr_t)6 << 30;

static pgt_space_t sp;
static pgt_ref_t refs[COUNT];
static struct pgt_tlb_entry tlb_mem[1];
static pgt_tlb_t tlb; /* one entry: every lookup of another page misses */
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

NOINLINE static void op_insert(void)
{
	for (unsigned i = 1; i < COUNT; i++)
		expect(pgt_insert(&sp, small_va + i * page, 12, &refs[i]), PGT_OK);
}

NOINLINE static void op_insert_2m(void)
{
	for (unsigned i = 1; i < COUNT; i++)
		expect(pgt_insert(&sp, big_va + i * big, 21, NULL), PGT_OK);
}

NOINLINE static void op_set_paddr(void)
{
	for (unsigned i = 1; i < COUNT; i++)
		expect(pgt_set_field(&sp, refs[i], PGT_FIELD_PADDR, PA + i * page), PGT_OK);
}

NOINLINE static void op_set_prot(void)
{
	for (unsigned i = 1; i < COUNT; i++)
		expect(pgt_set_field(&sp, refs[i], PGT_FIELD_PROT, RW), PGT_OK);
}

NOINLINE static void op_map(void)
{
	for (unsigned i = 1; i < COUNT; i++)
		expect(pgt_map(&sp, map_va + i * page, PA + i * page, page, RW, 0), PGT_OK);
}

NOINLINE static void op_map_2m(void)
{
	for (unsigned i = 1; i < COUNT; i++)
		expect(pgt_map(&sp, big_map_va + i * big, PA + i * big, big, RW, 0), PGT_OK);
}

NOINLINE static void op_lookup(void)
{
	for (unsigned i = 0; i < COUNT; i++) {
		pgt_ref_t ref;
		expect(pgt_lookup(&sp, small_va + i * page, &ref), PGT_OK);
		bad += ref.page_shift != 12;
	}
}

NOINLINE static void op_fast_lookup(void)
{
	for (unsigned i = 0; i < COUNT; i++) {
		pgt_ref_t ref = { .page_shift = 0 }; /* read even on failure, unlike a call's, the compiler sees */
		expect(pgt_fast_lookup(&fast, small_va + i * page, &ref), PGT_OK);
		bad += ref.page_shift != 12;
	}
}

NOINLINE static void op_fast_translate(void)
{
	for (unsigned i = 0; i < COUNT; i++) {
		pgt_paddr_t pa = 0;
		expect(pgt_fast_translate(&fast, small_va + i * page + 8, PGT_ACC_READ, &pa), PGT_OK);
		bad += pa != PA + i * page + 8;
	}
}

/*
 * The limit: pgbench's hand-written walk, the format's masks and shifts as
 * constants and no checks, inlined into the loop (x86-64 and ARMv8 4K,
 * 4 levels: Intel SDM 4.5, Arm ARM D8.3).
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

NOINLINE static void op_limit_x86(const pgt_pte_t *root)
{
	for (unsigned i = 0; i < COUNT; i++)
		bad += limit_x86_walk(root, small_va + i * page) != refs[i].pte;
}

NOINLINE static void op_limit_arm(const pgt_pte_t *root)
{
	for (unsigned i = 0; i < COUNT; i++)
		bad += limit_arm_walk(root, small_va + i * page) != refs[i].pte;
}

/** The limit walk, for the two formats it is written for (the root is at pa == its address). */
static void op_limit(const char *name)
{
	const pgt_pte_t *root = (const pgt_pte_t *)(uintptr_t)pgt_space_root(&sp);

	if (strcmp(name, "x86_64") == 0)
		op_limit_x86(root);
	else if (strcmp(name, "armv8-4k-48") == 0)
		op_limit_arm(root);
}

NOINLINE static void op_translate(void)
{
	for (unsigned i = 0; i < COUNT; i++) {
		pgt_paddr_t pa;
		expect(pgt_translate(&sp, small_va + i * page + 8, PGT_ACC_READ, &pa, NULL), PGT_OK);
		bad += pa != PA + i * page + 8;
	}
}

NOINLINE static void op_tlb_miss(void)
{
	for (unsigned i = 0; i < COUNT; i++) {
		pgt_paddr_t pa;
		expect(pgt_tlb_lookup(&tlb, small_va + i * page + 8, &pa, NULL), PGT_OK);
		bad += pa != PA + i * page + 8;
	}
}

NOINLINE static void op_tlb_hit(void)
{
	for (unsigned i = 0; i < COUNT; i++) {
		pgt_paddr_t pa;
		expect(pgt_tlb_lookup(&tlb, small_va + 8, &pa, NULL), PGT_OK);
		bad += pa != PA + 8;
	}
}

NOINLINE static void op_protect(void)
{
	for (unsigned i = 1; i < COUNT; i++)
		expect(pgt_protect(&sp, map_va + i * page, page, PGT_PROT_READ), PGT_OK);
}

NOINLINE static void op_unmap(void)
{
	for (unsigned i = 1; i < COUNT; i++)
		expect(pgt_unmap(&sp, map_va + i * page, page), PGT_OK);
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "x86_64";
	const struct pgt_arch *arch = pgt_arch_by_name(name);
	const struct pgt_mm mm = { .alloc_table = alloc_table, .free_table = free_table };

	if (!arch || pgt_space_init(&sp, arch, &mm, 0) != PGT_OK) {
		fprintf(stderr, "pgcount: no space for descriptor %s\n", name);
		return 2;
	}
	/* The first page of each region makes its tables; the calls fill the rest. */
	expect(pgt_insert(&sp, small_va, 12, &refs[0]), PGT_OK);
	expect(pgt_set_field(&sp, refs[0], PGT_FIELD_PADDR, PA), PGT_OK);
	expect(pgt_set_field(&sp, refs[0], PGT_FIELD_PROT, RW), PGT_OK);
	expect(pgt_map(&sp, map_va, PA, page, RW, 0), PGT_OK);
	expect(pgt_insert(&sp, big_va, 21, NULL), PGT_OK);
	expect(pgt_map(&sp, big_map_va, PA, big, RW, 0), PGT_OK);
	expect(pgt_tlb_init(&tlb, &sp, tlb_mem, 1, 1), PGT_OK);
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
	op_limit(name);
	op_tlb_miss();
	op_tlb_hit();
	op_protect();
	op_unmap();
	pgt_space_destroy(&sp);
	if (bad) {
		fprintf(stderr, "pgcount: %u wrong answers on %s\n", bad, name);
		return 1;
	}
	printf("pgcount: %s: every call answered right\n", name);
	return 0;
}
