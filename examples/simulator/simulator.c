/* SPDX-License-Identifier: MIT */
/*
 * simulator: the memory side of a CPU simulator. A synthetic instruction
 * trace (fetches, loads and stores of a small user process) is replayed
 * through pgt_translate, one call per access, exactly as a simulated MMU
 * would see it; faults are counted by kind and by access. The heap is
 * demand-paged: it starts as reserved leaves (pgt_map with no rights), and
 * the first fault on a heap page grants its rights with pgt_protect, as a
 * kernel's page-fault handler would.
 *
 * Every access is also decided by a plain region table (the "oracle"); the
 * program fails if the page tables and the oracle ever disagree.
 *
 * Build it on its own with:
 *     cc -std=c11 -o simulator simulator.c $(pkg-config --cflags --libs pgtable)
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <pgtable/pgtable.h>

#define PAGE         4096ull
#define INSTRUCTIONS 100000

/* ------------------------------------------------------------------------ */
/* The simulated process.                                                    */

enum region_id { TEXT, RODATA, DATA, HEAP, STACK, KERNEL, NREGIONS };

struct region {
	const char *name;
	pgt_vaddr_t va;
	pgt_paddr_t pa;
	uint64_t size;
	unsigned prot;  /* rights once present */
	bool on_demand; /* reserved until first touched */
};

#define USER_RW (PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_USER)

static const struct region regions[NREGIONS] = {
	[TEXT] = { "text", 0x400000, 0x10000000, 0x10000, PGT_PROT_READ | PGT_PROT_EXEC | PGT_PROT_USER,
		   false },
	[RODATA] = { "rodata", 0x410000, 0x10010000, 0x4000, PGT_PROT_READ | PGT_PROT_USER, false },
	[DATA] = { "data", 0x600000, 0x10020000, 0x10000, USER_RW, false },
	[HEAP] = { "heap", 0x800000, 0x10100000, 0x100000, USER_RW, true },
	[STACK] = { "stack", 0x7fff0000, 0x10030000, 0x10000, USER_RW, false },
	[KERNEL] = { "kernel", 0xffffffff80000000, 0x200000, 0x200000,
		     PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC, false },
};

/* Heap pages already faulted in, for the oracle. */
static bool heap_present[0x100000 / PAGE];

static pgt_paddr_t host_alloc(void *ctx, size_t size, unsigned level)
{
	void *p = aligned_alloc(size, size);

	(void)ctx;
	(void)level;
	return p ? (pgt_paddr_t)(uintptr_t)p : PGT_PADDR_NONE;
}

static void host_free(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	(void)ctx;
	(void)size;
	(void)level;
	free((void *)(uintptr_t)pa);
}

static int build_process(pgt_space_t *sp)
{
	for (int i = 0; i < NREGIONS; i++) {
		const struct region *r = &regions[i];
		unsigned prot = r->on_demand ? 0 : r->prot; /* no rights: reserved leaves */
		int rc = pgt_map(sp, r->va, r->pa, r->size, prot, 0);
		if (rc != PGT_OK) {
			printf("map %s: %s\n", r->name, pgt_strerror(rc));
			return rc;
		}
	}
	return PGT_OK;
}

/* ------------------------------------------------------------------------ */
/* The oracle: the same decisions from the region table alone.               */

struct outcome {
	int rc;         /* PGT_OK, PGT_EFAULT or PGT_ERANGE */
	int kind;       /* fault kind when rc is PGT_EFAULT */
	pgt_paddr_t pa; /* when rc is PGT_OK */
};

static bool canonical48(pgt_vaddr_t va)
{
	uint64_t top = va >> 47;
	return top == 0 || top == 0x1ffff;
}

static const struct region *region_of(pgt_vaddr_t va)
{
	for (int i = 0; i < NREGIONS; i++)
		if (va - regions[i].va < regions[i].size)
			return &regions[i];
	return NULL;
}

/* x86-64: every present page is readable; user accesses need U. */
static bool allowed(unsigned prot, unsigned access)
{
	if ((access & PGT_ACC_USER) && !(prot & PGT_PROT_USER))
		return false;
	if ((access & PGT_ACC_WRITE) && !(prot & PGT_PROT_WRITE))
		return false;
	return !(access & PGT_ACC_EXEC) || (prot & PGT_PROT_EXEC);
}

static struct outcome oracle(pgt_vaddr_t va, unsigned access)
{
	const struct region *r = region_of(va);

	if (!canonical48(va))
		return (struct outcome){ .rc = PGT_ERANGE };
	if (!r || (r->on_demand && !heap_present[(va - r->va) / PAGE]))
		return (struct outcome){ .rc = PGT_EFAULT, .kind = PGT_FAULT_NOT_PRESENT };
	if (!allowed(r->prot, access))
		return (struct outcome){ .rc = PGT_EFAULT, .kind = PGT_FAULT_PERMISSION };
	return (struct outcome){ .rc = PGT_OK, .pa = r->pa + (va - r->va) };
}

/* ------------------------------------------------------------------------ */
/* The synthetic trace.                                                      */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_random(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static pgt_vaddr_t random_in(enum region_id id, uint64_t align)
{
	const struct region *r = &regions[id];
	return r->va + (next_random() % r->size & ~(align - 1));
}

/* One data access of a typical instruction mix, now and then a wild one. */
static void data_access(pgt_vaddr_t *va, unsigned *access)
{
	uint64_t pick = next_random() % 100;

	*access = PGT_ACC_USER | ((next_random() & 1) ? PGT_ACC_WRITE : PGT_ACC_READ);
	if (pick < 40)
		*va = random_in(STACK, 8);
	else if (pick < 65)
		*va = random_in(DATA, 8);
	else if (pick < 85)
		*va = random_in(HEAP, 8);
	else if (pick < 96)
		*va = random_in(RODATA, 8); /* stores here fault: read-only */
	else if (pick < 98)
		*va = random_in(KERNEL, 8); /* supervisor-only */
	else if (pick < 99)
		*va = 0x500000 + (next_random() % 0x100000 & ~7ull); /* a hole */
	else
		*va = 0x0000900000000000ull; /* not canonical */
}

/* ------------------------------------------------------------------------ */
/* Replay.                                                                   */

struct stats {
	uint64_t accesses, translated, mismatches, demand_faults, invalid;
	uint64_t faults[5][3]; /* [enum pgt_fault_kind][fetch, load, store] */
};

static int column(unsigned access)
{
	return (access & PGT_ACC_EXEC) ? 0 : (access & PGT_ACC_WRITE) ? 2 : 1;
}

/* The kernel's page-fault handler for demand-paged heap pages. */
static bool handle_fault(pgt_space_t *sp, pgt_vaddr_t va, const struct pgt_fault *f)
{
	const struct region *r = region_of(va);
	size_t page;

	if (f->kind != PGT_FAULT_NOT_PRESENT || !r || !r->on_demand)
		return false;
	page = (va - r->va) / PAGE;
	if (pgt_protect(sp, r->va + page * PAGE, PAGE, r->prot) != PGT_OK)
		return false;
	heap_present[page] = true;
	return true;
}

static void check(struct stats *st, pgt_vaddr_t va, unsigned access, int rc, pgt_paddr_t pa,
		  const struct pgt_fault *f)
{
	struct outcome want = oracle(va, access);
	bool same = rc == want.rc && (rc != PGT_OK || pa == want.pa) &&
		    (rc != PGT_EFAULT || f->kind == want.kind);

	if (!same && st->mismatches++ < 5)
		printf("mismatch at %#" PRIx64 " access %#x: got %s (kind %d), expected %s (kind %d)\n", va,
		       access, pgt_strerror(rc), rc == PGT_EFAULT ? f->kind : 0, pgt_strerror(want.rc),
		       want.kind);
}

/* Translates one access; a demand fault is handled and the access retried. */
static void access_once(pgt_space_t *sp, struct stats *st, pgt_vaddr_t va, unsigned access)
{
	pgt_paddr_t pa = 0;
	struct pgt_fault f = { 0 };
	int rc = pgt_translate(sp, va, access, &pa, &f);

	st->accesses++;
	check(st, va, access, rc, pa, &f);
	if (rc == PGT_OK) {
		st->translated++;
	} else if (rc == PGT_EFAULT) {
		st->faults[f.kind >= 0 && f.kind < 5 ? f.kind : 0][column(access)]++;
		if (handle_fault(sp, va, &f)) {
			st->demand_faults++;
			access_once(sp, st, va, access);
		}
	} else {
		st->invalid++;
	}
}

static void replay(pgt_space_t *sp, struct stats *st)
{
	pgt_vaddr_t pc = regions[TEXT].va;

	for (int i = 0; i < INSTRUCTIONS; i++) {
		access_once(sp, st, pc, PGT_ACC_EXEC | PGT_ACC_USER);
		if (next_random() % 3 == 0) {
			pgt_vaddr_t va;
			unsigned access;
			data_access(&va, &access);
			access_once(sp, st, va, access);
		}
		uint64_t branch = next_random() % 1000;
		if (branch < 60)
			pc = random_in(TEXT, 4);
		else if (branch < 61)
			pc = random_in(DATA, 4); /* a jump into data: NX */
		else
			pc = regions[TEXT].va + (pc + 4 - regions[TEXT].va) % regions[TEXT].size;
	}
}

static void report(const struct stats *st, double seconds)
{
	static const char *const kinds[] = { "none", "not present", "permission", "access flag",
					     "reserved bit" };

	printf("%" PRIu64 " accesses, %" PRIu64 " translated, %" PRIu64 " non-canonical, %.1f M/s\n",
	       st->accesses, st->translated, st->invalid, st->accesses / seconds / 1e6);
	printf("%-12s %8s %8s %8s\n", "fault", "fetch", "load", "store");
	for (int k = 1; k < 5; k++)
		printf("%-12s %8" PRIu64 " %8" PRIu64 " %8" PRIu64 "\n", kinds[k], st->faults[k][0],
		       st->faults[k][1], st->faults[k][2]);
	printf("%" PRIu64 " heap pages faulted in on demand, %" PRIu64 " disagreements with the oracle\n",
	       st->demand_faults, st->mismatches);
}

int main(void)
{
	struct pgt_mm mm = { .alloc_table = host_alloc, .free_table = host_free };
	struct stats st = { 0 };
	struct timespec t0, t1;
	pgt_space_t sp;

	if (pgt_space_init(&sp, &pgt_arch_x86_64, &mm, 0) != PGT_OK || build_process(&sp) != PGT_OK)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	replay(&sp, &st);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	report(&st, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9 + 1e-9);
	pgt_space_destroy(&sp);

	/* Each kind of fault the trace provokes must have been seen, and decided right. */
	bool every_kind = st.faults[PGT_FAULT_NOT_PRESENT][1] + st.faults[PGT_FAULT_NOT_PRESENT][2] > 0 &&
			  st.faults[PGT_FAULT_PERMISSION][0] > 0 && st.faults[PGT_FAULT_PERMISSION][2] > 0 &&
			  st.demand_faults > 0 && st.invalid > 0;
	bool ok = st.mismatches == 0 && every_kind;
	puts(ok ? "simulator: ok" : "simulator: FAILED");
	return ok ? 0 : 1;
}
