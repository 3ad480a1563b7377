/* SPDX-License-Identifier: MIT */
/*
 * pgbench: libpgtable's insert, map, lookup, translate and TLB throughput,
 * side by side with baselines measured in the same process on the same
 * address sequences.
 *
 * Workloads (one table each, per descriptor):
 *  - seq-4k:  N consecutive 4K pages (1M: 4 GiB), looked up in order;
 *  - rand-4k: N 4K pages at random in a 64 GiB window, looked up in random
 *             order, then as many lookups of unmapped pages (misses);
 *  - hot-4k:  the 512 pages of one 2 MiB region, 100M random lookups (L1/L2);
 *  - huge-2m, huge-1g: 64 GiB mapped with 2M or 1G pages, random lookups;
 *  - churn:   random map/unmap of 4K and 2M pages at 50% occupancy, each 4K
 *             page alone in its table (tables allocated and freed).
 * Rows are libpgtable's operations: insert (pgt_insert + PADDR + PROT), insert-into
 * (a single pgt_insert of each odd-numbered page into the tables the
 * even-numbered ones made), map (pgt_map), map-into (pgt_map of the rest
 * of each table whose first page is mapped; consecutive small pages only),
 * lookup (pgt_lookup), translate (pgt_translate), tlb
 * (pgt_tlb_lookup through a 4096-entry 2-way TLB), lookup-miss, churn. Each
 * row is compared with the baselines' operation of the same kind (insert,
 * lookup, miss, churn; insert-into and map-into with the limit's walk and
 * stores only).
 *
 * Baselines:
 *  - limit: a hand-written walk with the architecture's masks and shifts as
 *    constants and no checks. Its lookup walks libpgtable's own tables, so the
 *    ratio is the library's overhead over the physical limit of the data
 *    structure; its insert builds the same format from the same kind of arena,
 *    reading each leaf slot before it writes it (an insert must refuse a slot
 *    in use).
 *  - call: the limit's walk and insert compiled out of line and called through
 *    a pointer, once per operation: what a library call costs before it
 *    checks anything. libpgtable / call is the library's own overhead.
 *  - GHashTable (glib), JudyL (libJudy), open-addr (power-of-two table,
 *    linear probing, multiplicative hash): maps from virtual page number to
 *    physical address.
 *
 * pgt_map, pgt_unmap and pgt_translate are referenced weakly: a library
 * without them leaves their rows "n/a".
 *
 * Every result is checked: a validation pass outside the timed loops compares
 * each mapping with what was inserted, and every timed pass returns a
 * checksum that must match, so the compiler cannot drop the work and a wrong
 * answer fails the run (exit status 1).
 *
 * Usage: pgbench [--full | --quick] [-n N] [-r R] [--arch NAME] [--pin CPU] [--json]
 */
#define _GNU_SOURCE /* sched_setaffinity, getopt_long, gmtime_r */

#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef __GLIBC__
#include <malloc.h> /* mallinfo2: heap use of baselines that hide their memory */
#endif

#ifdef HAVE_GLIB
#include <glib.h>
#endif
#ifdef HAVE_JUDY
#include <Judy.h>
#endif

#include <pgtable/arch.h>
#include <pgtable/armv8.h>
#include <pgtable/pgtable.h>
#include <pgtable/tlb.h>
#include <pgtable/x86_64.h>

#include "pgbench_mdb.h"

/* Functions other parts of the library provide; absent ones are NULL. */
#pragma weak pgt_map
#pragma weak pgt_unmap
#pragma weak pgt_translate

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#ifndef CPU_SETSIZE
#define CPU_SETSIZE 1024 /* only bounds --pin's argument where sched.h has no CPU sets */
#endif

/* The sparse window the mappings are spread over: 64 GiB. */
#define WINDOW_SHIFT 36
/* Fake physical pages start at 4 GiB: aligned to every page size used, and
 * inside every descriptor's output-address width. */
#define PA_BASE ((uint64_t)1 << 32)

#define FULL_N       ((size_t)1 << 20)
#define QUICK_N      ((size_t)1 << 16)
#define FULL_HOT     100000000u /* hot-4k lookups */
#define QUICK_HOT    10000000u
#define HOT_PAGES    512u
#define HOT_SEQ      16384u /* distinct addresses of the hot sequence (128 KiB: L2) */
#define FULL_REPS    5u
#define QUICK_REPS   3u
#define MAX_REPS     1000u
#define TLB_ENTRIES  4096u
#define TLB_WAYS     2u
#define RW           (PGT_PROT_READ | PGT_PROT_WRITE)

/* Frames come from 32 MiB chunks aligned to 2 MiB (more than any table size). */
#define ARENA_CHUNK ((size_t)32 << 20)
#define ARENA_ALIGN ((size_t)2 << 20)

/* ------------------------------------------------------------------------- */
/* Small utilities                                                           */
/* ------------------------------------------------------------------------- */

/** Allocation failure is not something a benchmark can work around. */
static void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p) {
		fprintf(stderr, "pgbench: out of memory (%zu bytes)\n", size);
		exit(2);
	}
	return p;
}

static void *xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);

	if (!p) {
		fprintf(stderr, "pgbench: out of memory (%zu x %zu bytes)\n", count, size);
		exit(2);
	}
	return p;
}

/** Monotonic nanoseconds: immune to clock adjustments during a run. */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/**
 * Bytes the C heap has handed out (in use plus mmapped), or -1 where the C
 * library cannot tell: the only way to see what GHashTable costs.
 */
static long long heap_in_use(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
	struct mallinfo2 mi = mallinfo2();

	return (long long)(mi.uordblks + mi.hblkhd);
#else
	return -1;
#endif
}

/**
 * Keeps freed memory in the process (glibc): otherwise each timed pass of a
 * malloc-based baseline would pay page faults for memory the previous pass
 * gave back, while libpgtable's arena stays faulted in after the warm-up.
 */
static void keep_heap(void)
{
#ifdef __GLIBC__
	mallopt(M_MMAP_MAX, 0);        /* large blocks from the heap, not fresh mmaps */
	mallopt(M_TRIM_THRESHOLD, -1); /* never give the heap's top back */
#endif
}

/** splitmix64: fast, good enough, and the same sequence on every host. */
struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *g)
{
	uint64_t z = (g->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/** Uniform in [0, k); the modulo bias is below 2^-38 for the k used here. */
static size_t rng_below(struct rng *g, size_t k)
{
	return (size_t)(rng_next(g) % k);
}

/** Fisher-Yates. */
static void shuffle(uint64_t *a, size_t n, struct rng *g)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = rng_below(g, i);
		uint64_t t = a[i - 1];

		a[i - 1] = a[j];
		a[j] = t;
	}
}

static bool bit_test(const uint8_t *bm, size_t i)
{
	return bm[i / 8] & (1u << (i % 8));
}

static void bit_set(uint8_t *bm, size_t i)
{
	bm[i / 8] |= (uint8_t)(1u << (i % 8));
}


/* ------------------------------------------------------------------------- */
/* Frame arena: the bench's fast frame allocator                             */
/* ------------------------------------------------------------------------- */

/*
 * A bump allocator over chunks that are kept across resets: after the
 * warm-up pass every frame is already faulted in, so insert timings measure
 * the page-table code, not the kernel's page-fault path. Freed frames go on
 * a list per size and are reused (the churn workload frees and allocates
 * tables all the time); a reset drops everything.
 */
#define ARENA_SIZES 32 /* free lists, by log2 of the size */

struct arena {
	char **chunk;  /**< chunks obtained so far */
	size_t nchunk; /**< how many */
	size_t inuse;  /**< chunks in use since the last reset (the last one is current) */
	size_t used;   /**< bytes used in the current chunk */
	size_t bytes;  /**< bytes handed out since the last reset */
	size_t freed;  /**< bytes given back since the last reset */
	void *free_list[ARENA_SIZES]; /**< freed frames, linked through their first word */
};

static void arena_grow(struct arena *a)
{
	void *p;

	if (posix_memalign(&p, ARENA_ALIGN, ARENA_CHUNK) != 0) {
		fprintf(stderr, "pgbench: out of memory (arena chunk)\n");
		exit(2);
	}
	a->chunk = realloc(a->chunk, (a->nchunk + 1) * sizeof *a->chunk);
	if (!a->chunk) {
		fprintf(stderr, "pgbench: out of memory (arena)\n");
		exit(2);
	}
	a->chunk[a->nchunk++] = p;
}

static unsigned log2_size(size_t size)
{
	unsigned k = 0;

	while (((size_t)1 << k) < size)
		k++;
	return k;
}

/** @p size bytes aligned to @p size (a power of two), contents undefined. */
static void *arena_alloc(struct arena *a, size_t size)
{
	if (size == 0 || size > ARENA_CHUNK || (size & (size - 1)))
		return NULL;
	void **fl = &a->free_list[log2_size(size)];
	if (*fl) {
		void *p = *fl;
		*fl = *(void **)p;
		a->bytes += size;
		return p;
	}
	size_t off = (a->used + size - 1) & ~(size - 1);

	if (a->inuse == 0 || off + size > ARENA_CHUNK) {
		if (a->inuse == a->nchunk)
			arena_grow(a);
		a->inuse++;
		off = 0;
	}
	a->used = off + size;
	a->bytes += size;
	return a->chunk[a->inuse - 1] + off;
}

static void arena_free(struct arena *a, void *p, size_t size)
{
	void **fl = &a->free_list[log2_size(size)];

	*(void **)p = *fl;
	*fl = p;
	a->freed += size;
}

static void arena_reset(struct arena *a)
{
	a->inuse = 0;
	a->used = 0;
	a->bytes = 0;
	a->freed = 0;
	memset(a->free_list, 0, sizeof a->free_list);
}

static void arena_release(struct arena *a)
{
	for (size_t i = 0; i < a->nchunk; i++)
		free(a->chunk[i]);
	free(a->chunk);
	*a = (struct arena){ 0 };
}

/* The pgt_mm hooks. Physical address == pointer (p2v_offset 0): user-space
 * pointers fit in every descriptor's output-address field. */
static pgt_paddr_t arena_alloc_table(void *ctx, size_t size, unsigned level)
{
	void *p = arena_alloc(ctx, size);

	(void)level;
	return p ? (pgt_paddr_t)(uintptr_t)p : PGT_PADDR_NONE;
}

static void arena_free_table(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	(void)level;
	arena_free(ctx, (void *)(uintptr_t)pa, size);
}

/* ------------------------------------------------------------------------- */
/* A case: one workload on one descriptor, and its address sequences         */
/* ------------------------------------------------------------------------- */

/** One step of the churn workload, the same for every implementation. */
struct churn_op {
	uint64_t va;
	uint64_t pa;
	unsigned shift;
	bool map; /**< map (else unmap) */
};

struct bench_case {
	const char *name;  /**< the workload */
	const char *what;  /**< one line saying what it does */
	const struct pgt_arch *arch;
	unsigned shift;    /**< log2 of the page size (churn: of the small pages) */
	size_t n;          /**< mappings built by insert and map */
	pgt_vaddr_t base;  /**< start of the window */
	uint64_t *va;      /**< page addresses, in insert order; mapping i -> pa_of(i) */
	bool va_contiguous; /**< va[i] = base + (i << shift): map can be one call */
	uint64_t *hit;     /**< lookup sequence (any byte of mapped pages) */
	uint32_t *hit_idx; /**< the mapping each hit falls in */
	size_t nhit;
	unsigned rounds;   /**< the lookup sequence runs this many times per pass */
	uint64_t hit_pa_sum;  /**< one pass of hit[]: sum of the pages' physical addresses */
	uint64_t hit_pa_osum; /**< the same with the offset in the page */
	uint64_t *miss;    /**< unmapped addresses (none: nmiss 0) */
	size_t nmiss;
	/* churn */
	struct churn_op *ops; /**< timed steps */
	size_t nops;
	struct churn_op *init; /**< mappings present before the steps (untimed) */
	size_t ninit;
	struct churn_op *final; /**< what is mapped after the steps, for the check */
	size_t nfinal;
	/**
	 * libpgtable's tree, published by its insert and walked by the limit
	 * baseline; valid until the case's implementations are closed.
	 */
	const pgt_space_t *lib_space;
};

/** The physical address mapping i gets: distinct, aligned, and checkable. */
static uint64_t pa_of(const struct bench_case *c, size_t i)
{
	return PA_BASE + ((uint64_t)i << c->shift);
}

/**
 * Pages per table of the smallest pages when the case maps whole tables of
 * consecutive such pages from a table boundary, else 0 (no map-into row).
 */
static size_t table_run(const struct bench_case *c)
{
	const struct pgt_level *L = &c->arch->level[0];
	size_t per = (size_t)1 << L->bits;

	if (!c->va_contiguous || c->shift != L->shift || c->n < per || (c->base & ((per << c->shift) - 1)))
		return 0;
	return per;
}

/** The key the hash baselines use: virtual page number at this page size. */
static uint64_t vpn_of(const struct bench_case *c, uint64_t va)
{
	return va >> c->shift;
}

/** Operations in one timed pass of the lookup sequence. */
static size_t lookups_per_pass(const struct bench_case *c)
{
	return c->nhit * c->rounds;
}

/** n distinct random slots out of @p slots, marked in @p mapped. */
static void pick_random_slots(uint64_t *slot, size_t n, size_t slots, uint8_t *mapped, struct rng *g)
{
	for (size_t i = 0; i < n; i++) {
		size_t s;
		do
			s = rng_below(g, slots);
		while (bit_test(mapped, s));
		bit_set(mapped, s);
		slot[i] = s;
	}
}

/** Fills hit_pa_sum and hit_pa_osum from hit[] and hit_idx[]. */
static void case_sums(struct bench_case *c)
{
	uint64_t mask = ((uint64_t)1 << c->shift) - 1;

	for (size_t j = 0; j < c->nhit; j++) {
		uint64_t pa = pa_of(c, c->hit_idx[j]);
		c->hit_pa_sum += pa;
		c->hit_pa_osum += pa + (c->hit[j] & mask);
	}
}

/** n mappings at base + (i << shift), in order. */
static void case_contiguous(struct bench_case *c, size_t n)
{
	c->n = n;
	c->va = xmalloc(n * sizeof *c->va);
	for (size_t i = 0; i < n; i++)
		c->va[i] = c->base + ((uint64_t)i << c->shift);
	c->va_contiguous = true;
}

/** Lookups of @p nhit random bytes of the mapped pages (contiguous cases). */
static void case_random_hits(struct bench_case *c, size_t nhit, struct rng *g)
{
	c->nhit = nhit;
	c->hit = xmalloc(nhit * sizeof *c->hit);
	c->hit_idx = xmalloc(nhit * sizeof *c->hit_idx);
	for (size_t j = 0; j < nhit; j++) {
		size_t i = rng_below(g, c->n);
		c->hit_idx[j] = (uint32_t)i;
		c->hit[j] = c->va[i] + (rng_next(g) & (((uint64_t)1 << c->shift) - 1));
	}
}

static void case_seq(struct bench_case *c, size_t n)
{
	c->what = "consecutive pages, looked up in order";
	case_contiguous(c, n);
	c->nhit = n;
	c->hit = xmalloc(n * sizeof *c->hit);
	c->hit_idx = xmalloc(n * sizeof *c->hit_idx);
	memcpy(c->hit, c->va, n * sizeof *c->hit);
	for (size_t i = 0; i < n; i++)
		c->hit_idx[i] = (uint32_t)i;
}

static void case_rand(struct bench_case *c, size_t n, struct rng *g)
{
	size_t slots = (size_t)1 << (WINDOW_SHIFT - c->shift);
	uint8_t *mapped = xcalloc(slots / 8 + 1, 1);
	uint64_t *perm = xmalloc(n * sizeof *perm);

	c->what = "random pages of the 64 GiB window, random-order lookups, then as many misses";
	c->n = n;
	c->va = xmalloc(n * sizeof *c->va);
	pick_random_slots(c->va, n, slots, mapped, g);
	for (size_t i = 0; i < n; i++) {
		c->va[i] = c->base + (c->va[i] << c->shift);
		perm[i] = i;
	}
	shuffle(perm, n, g);
	c->nhit = n;
	c->hit = xmalloc(n * sizeof *c->hit);
	c->hit_idx = xmalloc(n * sizeof *c->hit_idx);
	for (size_t j = 0; j < n; j++) {
		c->hit_idx[j] = (uint32_t)perm[j];
		c->hit[j] = c->va[perm[j]];
	}
	c->nmiss = n;
	c->miss = xmalloc(n * sizeof *c->miss);
	for (size_t k = 0; k < n; k++) {
		size_t s;
		do
			s = rng_below(g, slots);
		while (bit_test(mapped, s));
		c->miss[k] = c->base + ((uint64_t)s << c->shift);
	}
	free(perm);
	free(mapped);
}

static void case_hot(struct bench_case *c, size_t lookups, struct rng *g)
{
	c->what = "the 512 pages of one 2 MiB region, random lookups (L1/L2 resident)";
	case_contiguous(c, HOT_PAGES);
	case_random_hits(c, HOT_SEQ, g);
	c->rounds = (unsigned)(lookups / HOT_SEQ ? lookups / HOT_SEQ : 1);
}

static void case_huge(struct bench_case *c, size_t lookups, struct rng *g)
{
	c->what = "64 GiB of superpages, random lookups";
	case_contiguous(c, (size_t)1 << (WINDOW_SHIFT - c->shift));
	case_random_hits(c, lookups, g);
}

/**
 * Churn: small-page slots, one per region a leaf table covers in the
 * window's lower half (each alone in its table, so mapping allocates a table
 * and unmapping frees it), and slots of the next page size (2^big bytes, the
 * size of that region) filling the upper half. Half of them start mapped; each
 * step toggles a random slot, so occupancy stays at about 50%.
 */
static void case_churn(struct bench_case *c, size_t nops, unsigned big, struct rng *g)
{
	const size_t per_kind = (size_t)1 << (WINDOW_SHIFT - 1 - big);
	const size_t nslots = 2 * per_kind;
	struct churn_op *slot = xmalloc(nslots * sizeof *slot);
	bool *on = xcalloc(nslots, sizeof *on);

	c->what = "random map/unmap of small pages (one per table) and superpages, 50% occupancy";
	for (size_t s = 0; s < nslots; s++) {
		bool small = s < per_kind;
		uint64_t region = c->base + ((uint64_t)s << big);
		uint64_t off = small ? (uint64_t)rng_below(g, 512) << c->shift : 0;
		slot[s] = (struct churn_op){ .va = region + off, .pa = PA_BASE + ((uint64_t)s << big) + off,
					     .shift = small ? c->shift : big };
	}
	c->init = xmalloc(nslots * sizeof *c->init);
	for (size_t s = 0; s < nslots; s++)
		if (rng_next(g) & 1) {
			on[s] = true;
			c->init[c->ninit] = slot[s];
			c->init[c->ninit++].map = true;
		}
	c->nops = nops;
	c->ops = xmalloc(nops * sizeof *c->ops);
	for (size_t k = 0; k < nops; k++) {
		size_t s = rng_below(g, nslots);
		on[s] = !on[s];
		c->ops[k] = slot[s];
		c->ops[k].map = on[s];
	}
	c->final = xmalloc(nslots * sizeof *c->final);
	for (size_t s = 0; s < nslots; s++) {
		c->final[c->nfinal] = slot[s];
		c->final[c->nfinal++].map = on[s];
	}
	free(on);
	free(slot);
}

/** The workloads, by name. */
enum wl { WL_SEQ, WL_RAND, WL_HOT, WL_HUGE_2M, WL_HUGE_1G, WL_CHURN, WL_COUNT };
static const char *const wl_name[WL_COUNT] = { "seq-4k", "rand-4k", "hot-4k", "huge-2m", "huge-1g", "churn" };

/** The smallest page shift and the next two of @p a (0 when missing). */
static unsigned leaf_shift(const struct pgt_arch *a, unsigned k)
{
	for (unsigned l = 0; l < a->levels; l++)
		if (a->level[l].leaf_ok && k-- == 0)
			return a->level[l].shift;
	return 0;
}

/** Builds one case deterministically; false when the descriptor lacks its page size. */
static bool case_init(struct bench_case *c, const struct pgt_arch *arch, enum wl w, size_t n, size_t hot)
{
	struct rng g = { .s = 0x70676265ull ^ ((uint64_t)w << 8) };
	unsigned k = w == WL_HUGE_2M ? 1 : w == WL_HUGE_1G ? 2 : 0;

	*c = (struct bench_case){ .name = wl_name[w], .arch = arch, .shift = leaf_shift(arch, k), .rounds = 1 };
	if (c->shift == 0 || c->shift > WINDOW_SHIFT - 4)
		return false;
	/* A quarter of the way up: canonical user addresses for every descriptor
	 * whose window fits (see window_fits), far from address 0. */
	c->base = (pgt_vaddr_t)1 << (arch->va_bits - 2);
	switch (w) {
	case WL_SEQ: case_seq(c, n); break;
	case WL_RAND: case_rand(c, n, &g); break;
	case WL_HOT: case_hot(c, hot, &g); break;
	case WL_HUGE_2M:
	case WL_HUGE_1G: case_huge(c, n, &g); break;
	default:
		/* the next page size must be what one leaf table covers */
		if (leaf_shift(arch, 1) != arch->level[1].shift)
			return false;
		case_churn(c, n, arch->level[1].shift, &g);
		break;
	}
	if (c->nhit)
		case_sums(c);
	return true;
}

static void case_free(struct bench_case *c)
{
	free(c->va);
	free(c->hit);
	free(c->hit_idx);
	free(c->miss);
	free(c->ops);
	free(c->init);
	free(c->final);
}

/** Reports a mapping that does not hold what was inserted; returns -1. */
static int bad_mapping(const char *impl, const struct bench_case *c, uint64_t va, const char *what)
{
	fprintf(stderr, "pgbench: %s, %s, %s: wrong result at va 0x%" PRIx64 ": %s\n", impl, c->arch->name,
		c->name, va, what);
	return -1;
}

/* ------------------------------------------------------------------------- */
/* The implementation interface                                              */
/* ------------------------------------------------------------------------- */

/**
 * What a batch of lookups found: a checksum of the results (a wrapping sum:
 * unlike XOR, the entry addresses of one full table do not cancel out) and a
 * count.
 */
struct lookup_result {
	uint64_t sum;
	size_t found;
};

typedef struct lookup_result (*lookup_fn)(void *st, const struct bench_case *c, const uint64_t *va, size_t n);

/**
 * One column of the tables. Calls dispatch once per batch of operations,
 * never per operation, so the indirect call costs nothing measurable.
 * Optional members are NULL where the implementation has no such operation.
 */
struct impl {
	const char *name;
	/** NULL when the implementation can run the case, else why not. */
	const char *(*unavailable)(const struct bench_case *c);
	/** Long-lived resources (arena, table memory); exits on failure. */
	void *(*open)(const struct bench_case *c);
	void (*close)(void *st);
	/** Timed: a fresh structure holding every mapping of the case. 0 on success. */
	int (*build)(void *st, struct bench_case *c);
	/** Timed, optional: the same with the range call (pgt_map). 0 on success, < 0 failure. */
	int (*map_build)(void *st, struct bench_case *c);
	/** Untimed, optional: a fresh structure with the even-numbered mappings. 0 on success. */
	int (*build_even)(void *st, struct bench_case *c);
	/** Timed, optional: one insert of each odd-numbered page into what build_even made. 0 on success. */
	int (*insert_odd)(void *st, struct bench_case *c);
	/** Untimed: checks that insert_odd inserted every odd-numbered page. 0 if right. */
	int (*insert_odd_check)(void *st, const struct bench_case *c);
	/** Untimed, optional: a fresh structure with the first page of each table. 0 on success. */
	int (*map_into_prepare)(void *st, struct bench_case *c);
	/** Timed, optional: maps the rest of every such table, one range per table. 0 on success. */
	int (*map_into)(void *st, struct bench_case *c);
	/** Why map_build cannot run here, or NULL. */
	const char *(*map_unavailable)(const struct bench_case *c);
	/** Untimed: drops what build made, so the next build starts fresh. */
	void (*clear)(void *st);
	/** Timed: looks every address up; sum is a checksum of the results (entry or page address). */
	lookup_fn lookup;
	/** Timed, optional: translations with the offset in the page (pgt_translate). */
	lookup_fn translate;
	/** Timed, optional: the same through a software TLB. */
	lookup_fn tlb;
	/** Untimed: checks every mapping; sets the checksum one pass of hit[] must give. 0 if right. */
	int (*validate)(void *st, const struct bench_case *c, uint64_t *hit_sum);
	/** Untimed, churn: makes the structure hold c->init. 0 on success. */
	int (*churn_setup)(void *st, struct bench_case *c);
	/** Timed, churn: applies c->ops. 0 on success. */
	int (*churn)(void *st, struct bench_case *c);
	/** Untimed, churn: checks the structure holds c->final. 0 if right. */
	int (*churn_check)(void *st, const struct bench_case *c);
	/**
	 * Bytes per mapping of what build made, or < 0 when unknown. @p heap_delta
	 * is the C heap growth over the last build (-1 unknown); *estimated is set
	 * when the figure is not exact.
	 */
	double (*bytes)(void *st, const struct bench_case *c, long long heap_delta, bool *estimated);
};

/* ------------------------------------------------------------------------- */
/* libpgtable                                                                */
/* ------------------------------------------------------------------------- */

struct lib_state {
	struct arena arena;
	pgt_space_t space;
	bool built;
	pgt_tlb_t tlb;
	struct pgt_tlb_entry tlb_mem[TLB_ENTRIES];
};

/** One mapping, as a kernel would make it: reserve the leaf, then fill it in. */
static int lib_map_one(pgt_space_t *sp, pgt_vaddr_t va, unsigned shift, pgt_paddr_t pa)
{
	pgt_ref_t ref;
	int rc = pgt_insert(sp, va, shift, &ref);

	if (rc == PGT_OK)
		rc = pgt_set_field(sp, ref, PGT_FIELD_PADDR, pa);
	if (rc == PGT_OK)
		rc = pgt_set_field(sp, ref, PGT_FIELD_PROT, RW);
	return rc;
}

static void *lib_open(const struct bench_case *c)
{
	(void)c;
	return xcalloc(1, sizeof(struct lib_state));
}

static void lib_clear(void *st)
{
	struct lib_state *s = st;

	if (s->built) {
		pgt_space_destroy(&s->space);
		/* Destroy must give back every table: anything else is a leak. */
		if (s->arena.freed != s->arena.bytes)
			fprintf(stderr, "pgbench: pgt_space_destroy freed %zu of %zu table bytes\n",
				s->arena.freed, s->arena.bytes);
	}
	s->built = false;
	arena_reset(&s->arena);
}

static void lib_close(void *st)
{
	struct lib_state *s = st;

	lib_clear(s);
	arena_release(&s->arena);
	free(s);
}

/** A fresh space (its TLB is attached by lib_validate, outside the timed builds). */
static int lib_space(struct lib_state *s, struct bench_case *c)
{
	const struct pgt_mm mm = { .alloc_table = arena_alloc_table,
				   .free_table = arena_free_table,
				   .ctx = &s->arena };
	int rc = pgt_space_init(&s->space, c->arch, &mm, 0);

	if (rc != PGT_OK)
		return rc;
	s->built = true;
	c->lib_space = &s->space;
	return PGT_OK;
}

static int lib_build(void *st, struct bench_case *c)
{
	struct lib_state *s = st;
	int rc = lib_space(s, c);

	for (size_t i = 0; i < c->n && rc == PGT_OK; i++)
		rc = lib_map_one(&s->space, c->va[i], c->shift, pa_of(c, i));
	return rc;
}

static int lib_build_even(void *st, struct bench_case *c)
{
	struct lib_state *s = st;
	int rc = lib_space(s, c);

	for (size_t i = 0; i < c->n && rc == PGT_OK; i += 2)
		rc = lib_map_one(&s->space, c->va[i], c->shift, pa_of(c, i));
	return rc;
}

/** The L4 ADT's insert alone: a reserved leaf, into tables that exist. */
static int lib_insert_odd(void *st, struct bench_case *c)
{
	struct lib_state *s = st;

	for (size_t i = 1; i < c->n; i += 2) {
		pgt_ref_t ref;
		if (pgt_insert(&s->space, c->va[i], c->shift, &ref) != PGT_OK)
			return -1;
	}
	return 0;
}

/** Every odd-numbered page holds a reserved leaf of its size (no rights yet). */
static int lib_insert_odd_check(void *st, const struct bench_case *c)
{
	struct lib_state *s = st;

	for (size_t i = 1; i < c->n; i += 2) {
		pgt_ref_t ref;
		uint64_t prot = 1;
		if (pgt_lookup(&s->space, c->va[i], &ref) != PGT_OK || ref.page_shift != c->shift ||
		    pgt_get_field(&s->space, ref, PGT_FIELD_PROT, &prot) != PGT_OK || prot != 0)
			return bad_mapping("libpgtable", c, c->va[i], "not reserved after insert-into");
	}
	return 0;
}

static int lib_map_into_prepare(void *st, struct bench_case *c)
{
	struct lib_state *s = st;
	size_t per = table_run(c);
	int rc = lib_space(s, c);

	for (size_t i = 0; i < c->n && rc == PGT_OK; i += per)
		rc = lib_map_one(&s->space, c->va[i], c->shift, pa_of(c, i));
	return rc;
}

/** One pgt_map per table: its pages after the first, into the table that exists. */
static int lib_map_into(void *st, struct bench_case *c)
{
	struct lib_state *s = st;
	size_t per = table_run(c);

	for (size_t i = 0; i < c->n; i += per) {
		size_t rest = (c->n - i < per ? c->n - i : per) - 1;
		if (rest && pgt_map(&s->space, c->va[i + 1], pa_of(c, i + 1), (uint64_t)rest << c->shift, RW,
				    PGT_MAP_NOSUPER) != PGT_OK)
			return -1;
	}
	return 0;
}

static const char *lib_map_unavailable(const struct bench_case *c)
{
	(void)c;
	return pgt_map ? NULL : "pgt_map is not in this build of the library";
}

/* One call for a contiguous case (only the case's page size), else one per page. */
static int lib_map_build(void *st, struct bench_case *c)
{
	struct lib_state *s = st;
	int rc = lib_space(s, c);
	unsigned flags = c->shift == leaf_shift(c->arch, 0) ? PGT_MAP_NOSUPER : 0;
	uint64_t page = (uint64_t)1 << c->shift;

	if (rc == PGT_OK && c->va_contiguous && flags)
		return pgt_map(&s->space, c->base, pa_of(c, 0), c->n * page, RW, flags);
	for (size_t i = 0; i < c->n && rc == PGT_OK; i++)
		rc = pgt_map(&s->space, c->va[i], pa_of(c, i), page, RW, 0);
	return rc;
}

static struct lookup_result lib_lookup(void *st, const struct bench_case *c, const uint64_t *va, size_t n)
{
	const struct lib_state *s = st;
	struct lookup_result r = { 0, 0 };

	(void)c;
	for (size_t i = 0; i < n; i++) {
		pgt_ref_t ref;
		if (pgt_lookup(&s->space, va[i], &ref) == PGT_OK) {
			r.sum += (uint64_t)(uintptr_t)ref.pte;
			r.found++;
		}
	}
	return r;
}

static struct lookup_result lib_translate(void *st, const struct bench_case *c, const uint64_t *va, size_t n)
{
	const struct lib_state *s = st;
	struct lookup_result r = { 0, 0 };

	(void)c;
	for (size_t i = 0; i < n; i++) {
		pgt_paddr_t pa;
		if (pgt_translate(&s->space, va[i], PGT_ACC_READ, &pa, NULL) == PGT_OK) {
			r.sum += pa;
			r.found++;
		}
	}
	return r;
}

static struct lookup_result lib_tlb(void *st, const struct bench_case *c, const uint64_t *va, size_t n)
{
	struct lib_state *s = st;
	struct lookup_result r = { 0, 0 };

	(void)c;
	for (size_t i = 0; i < n; i++) {
		pgt_paddr_t pa;
		if (pgt_tlb_lookup(&s->tlb, va[i], &pa, NULL) == PGT_OK) {
			r.sum += pa;
			r.found++;
		}
	}
	return r;
}

/** Checks that @p va is mapped by a page of 2^shift at @p pa with RW. */
static int lib_check_one(const struct lib_state *s, const struct bench_case *c, uint64_t va, unsigned shift,
			 uint64_t pa, pgt_ref_t *ref)
{
	uint64_t got, prot;

	if (pgt_lookup(&s->space, va, ref) != PGT_OK || ref->page_shift != shift)
		return bad_mapping("libpgtable", c, va, "lookup");
	if (pgt_get_field(&s->space, *ref, PGT_FIELD_PADDR, &got) != PGT_OK || got != pa)
		return bad_mapping("libpgtable", c, va, "PADDR");
	if (pgt_get_field(&s->space, *ref, PGT_FIELD_PROT, &prot) != PGT_OK || prot != RW)
		return bad_mapping("libpgtable", c, va, "PROT");
	return 0;
}

/** Every mapping right; the checksum of one lookup pass is the sum of the hits' entry addresses. */
/*
 * Checks every mapping, and attaches an empty TLB to the space for the tlb
 * row: clearing its 4096 entries is a simulator's start-up cost, not part
 * of the build timed before (64 KiB, more than 64 1G inserts take).
 */
static int lib_validate(void *st, const struct bench_case *c, uint64_t *hit_sum)
{
	struct lib_state *s = st;
	uint64_t *pte = xmalloc(c->n * sizeof *pte);
	int rc = pgt_tlb_init(&s->tlb, &s->space, s->tlb_mem, TLB_ENTRIES, TLB_WAYS);

	for (size_t i = 0; i < c->n && rc == 0; i++) {
		pgt_ref_t ref;
		rc = lib_check_one(s, c, c->va[i], c->shift, pa_of(c, i), &ref);
		pte[i] = (uint64_t)(uintptr_t)ref.pte;
	}
	*hit_sum = 0;
	for (size_t j = 0; j < c->nhit && rc == 0; j++)
		*hit_sum += pte[c->hit_idx[j]];
	free(pte);
	return rc;
}

static int lib_churn_setup(void *st, struct bench_case *c)
{
	struct lib_state *s = st;
	int rc = lib_space(s, c);

	for (size_t i = 0; i < c->ninit && rc == PGT_OK; i++)
		rc = lib_map_one(&s->space, c->init[i].va, c->init[i].shift, c->init[i].pa);
	return rc;
}

static int lib_churn(void *st, struct bench_case *c)
{
	struct lib_state *s = st;
	int rc = 0;

	for (size_t k = 0; k < c->nops && rc == 0; k++) {
		const struct churn_op *o = &c->ops[k];
		uint64_t size = (uint64_t)1 << o->shift;
		rc = o->map ? pgt_map(&s->space, o->va, o->pa, size, RW, 0) : pgt_unmap(&s->space, o->va, size);
	}
	return rc;
}

static int lib_churn_check(void *st, const struct bench_case *c)
{
	const struct lib_state *s = st;

	for (size_t i = 0; i < c->nfinal; i++) {
		const struct churn_op *o = &c->final[i];
		pgt_ref_t ref;
		if (!o->map && pgt_lookup(&s->space, o->va, &ref) != PGT_ENOENT)
			return bad_mapping("libpgtable", c, o->va, "still mapped");
		if (o->map && lib_check_one(s, c, o->va, o->shift, o->pa, &ref) != 0)
			return -1;
	}
	return 0;
}

static double lib_bytes(void *st, const struct bench_case *c, long long heap_delta, bool *estimated)
{
	const struct lib_state *s = st;

	(void)heap_delta;
	*estimated = false;
	return (double)s->arena.bytes / (double)c->n;
}

static const struct impl lib_impl = {
	.name = "libpgtable",
	.open = lib_open,
	.close = lib_close,
	.build = lib_build,
	.map_build = lib_map_build,
	.build_even = lib_build_even,
	.map_into_prepare = lib_map_into_prepare,
	.map_into = lib_map_into,
	.insert_odd = lib_insert_odd,
	.insert_odd_check = lib_insert_odd_check,
	.map_unavailable = lib_map_unavailable,
	.clear = lib_clear,
	.lookup = lib_lookup,
	.translate = lib_translate,
	.tlb = lib_tlb,
	.validate = lib_validate,
	.churn_setup = lib_churn_setup,
	.churn = lib_churn,
	.churn_check = lib_churn_check,
	.bytes = lib_bytes,
};

/* ------------------------------------------------------------------------- */
/* limit: hand-written radix walk, constants only, no checks                 */
/* ------------------------------------------------------------------------- */

/*
 * Both supported formats have 4-level trees of 512-entry tables over a 12-bit
 * page offset, so they share the index; they differ in how an entry says
 * "table", "leaf" or "nothing".
 */
static inline unsigned idx4k(uint64_t va, unsigned level)
{
	return (unsigned)(va >> (12 + 9 * level)) & 511u;
}

/* x86-64 4-level: P is bit 0, PS (bit 7) marks 1G/2M leaves at levels 2 and
 * 1, the next table's address is bits 51:12 (Intel SDM 4.5). */
static inline const pgt_pte_t *x86_next(pgt_pte_t e)
{
	return (const pgt_pte_t *)(uintptr_t)(e & PGT_X86_ADDR_4K);
}

static inline const pgt_pte_t *limit_x86_walk(const pgt_pte_t *root, uint64_t va)
{
	const pgt_pte_t *p = root + idx4k(va, 3);

	if (!(*p & PGT_X86_P))
		return NULL;
	p = x86_next(*p) + idx4k(va, 2);
	if (!(*p & PGT_X86_P))
		return NULL;
	if (*p & PGT_X86_PS)
		return p;
	p = x86_next(*p) + idx4k(va, 1);
	if (!(*p & PGT_X86_P))
		return NULL;
	if (*p & PGT_X86_PS)
		return p;
	p = x86_next(*p) + idx4k(va, 0);
	return (*p & PGT_X86_P) ? p : NULL;
}

/* ARMv8 4K granule, 48-bit: bits[1:0] 0b11 is a table above level 0 and a
 * page at level 0, 0b01 a block at levels 1-2, address bits 47:12 (Arm ARM
 * D8.3). */
static inline const pgt_pte_t *arm_next(pgt_pte_t e)
{
	return (const pgt_pte_t *)(uintptr_t)(e & PGT_ARMV8_OA(12));
}

static inline const pgt_pte_t *limit_arm_walk(const pgt_pte_t *root, uint64_t va)
{
	const pgt_pte_t *p = root + idx4k(va, 3);

	if ((*p & 3) != 3)
		return NULL;
	p = arm_next(*p) + idx4k(va, 2);
	if ((*p & 3) != 3)
		return (*p & 3) == 1 ? p : NULL;
	p = arm_next(*p) + idx4k(va, 1);
	if ((*p & 3) != 3)
		return (*p & 3) == 1 ? p : NULL;
	p = arm_next(*p) + idx4k(va, 0);
	return (*p & 3) == 3 ? p : NULL;
}

/* One batch loop per format, so each walk is inlined with its constants. */
static struct lookup_result limit_x86_batch(const pgt_pte_t *root, const uint64_t *va, size_t n)
{
	struct lookup_result r = { 0, 0 };

	for (size_t i = 0; i < n; i++) {
		const pgt_pte_t *p = limit_x86_walk(root, va[i]);
		if (p) {
			r.sum += (uint64_t)(uintptr_t)p;
			r.found++;
		}
	}
	return r;
}

static struct lookup_result limit_arm_batch(const pgt_pte_t *root, const uint64_t *va, size_t n)
{
	struct lookup_result r = { 0, 0 };

	for (size_t i = 0; i < n; i++) {
		const pgt_pte_t *p = limit_arm_walk(root, va[i]);
		if (p) {
			r.sum += (uint64_t)(uintptr_t)p;
			r.found++;
		}
	}
	return r;
}

/** A zeroed 4K table from the arena. */
static pgt_pte_t *limit_table(struct arena *a)
{
	pgt_pte_t *t = arena_alloc(a, 4096);

	if (t)
		memset(t, 0, 4096);
	return t;
}

/**
 * The leaf slot for @p va at @p level, creating missing tables on the way.
 * The format's constants come in as arguments so that inlining into each
 * per-format loop folds them: (e & tmask) == ttype says "table", a new table
 * entry is its address | tbits.
 */
static inline pgt_pte_t *limit_slot(struct arena *a, pgt_pte_t *t, uint64_t va, unsigned level,
				    pgt_pte_t tmask, pgt_pte_t ttype, pgt_pte_t tbits, pgt_pte_t addr)
{
	for (unsigned l = 3; l > level; l--) {
		pgt_pte_t *e = t + idx4k(va, l);
		if ((*e & tmask) != ttype) {
			pgt_pte_t *next = limit_table(a);
			if (!next)
				return NULL;
			*e = (pgt_pte_t)(uintptr_t)next | tbits;
		}
		t = (pgt_pte_t *)(uintptr_t)(*e & addr);
	}
	return t + idx4k(va, level);
}

/*
 * One page of the limit's insert: the walk, creating missing tables, then the
 * leaf slot read and, when it is empty, written. An insert must read the slot
 * (the L4 ADT refuses a page that is mapped already), so the limit reads it
 * as its lookup walk does; this workload never finds it taken.
 */
static inline int limit_x86_insert(struct arena *a, pgt_pte_t *root, uint64_t va, unsigned level, uint64_t pa)
{
	const pgt_pte_t leaf = PGT_X86_P | PGT_X86_RW | PGT_X86_NX | (level ? PGT_X86_PS : 0);
	pgt_pte_t *e = limit_slot(a, root, va, level, PGT_X86_P | PGT_X86_PS, PGT_X86_P,
				  PGT_X86_P | PGT_X86_RW | PGT_X86_US, PGT_X86_ADDR_4K);

	if (!e || *e)
		return -1;
	*e = pa | leaf;
	return 0;
}

static inline int limit_arm_insert(struct arena *a, pgt_pte_t *root, uint64_t va, unsigned level, uint64_t pa)
{
	const pgt_pte_t leaf =
		(level ? 1 : 3) | PGT_ARMV8_AF | PGT_ARMV8_SH_INNER | PGT_ARMV8_UXN | PGT_ARMV8_PXN;
	pgt_pte_t *e = limit_slot(a, root, va, level, 3, 3, 3, PGT_ARMV8_OA(12));

	if (!e || *e)
		return -1;
	*e = pa | leaf;
	return 0;
}

/*
 * The same code out of line, for the "call" column: each operation is one
 * call through a pointer, as a library call is. The ratio to "limit" is what
 * the call alone costs; libpgtable's ratio to "call" is what it adds.
 */
typedef const pgt_pte_t *(*call_walk_fn)(const pgt_pte_t *root, uint64_t va);
typedef int (*call_insert_fn)(struct arena *a, pgt_pte_t *root, uint64_t va, unsigned level, uint64_t pa);

/*
 * Maps the pages first, first + step, ... of the case by @p insert. Always
 * inlined: the limit passes its per-format insert as a constant, which the
 * compiler then inlines with that format's masks; the call column passes a
 * pointer it only knows at run time.
 */
static inline __attribute__((always_inline)) int fill_pages(call_insert_fn insert, struct arena *a,
							    pgt_pte_t *root, const struct bench_case *c,
							    unsigned level, size_t first, size_t step)
{
	for (size_t i = first; i < c->n; i += step)
		if (insert(a, root, c->va[i], level, pa_of(c, i)) != 0)
			return -1;
	return 0;
}

static __attribute__((noinline)) const pgt_pte_t *call_x86_walk(const pgt_pte_t *root, uint64_t va)
{
	return limit_x86_walk(root, va);
}

static __attribute__((noinline)) const pgt_pte_t *call_arm_walk(const pgt_pte_t *root, uint64_t va)
{
	return limit_arm_walk(root, va);
}

static __attribute__((noinline)) int call_x86_insert(struct arena *a, pgt_pte_t *root, uint64_t va,
						     unsigned level, uint64_t pa)
{
	return limit_x86_insert(a, root, va, level, pa);
}

static __attribute__((noinline)) int call_arm_insert(struct arena *a, pgt_pte_t *root, uint64_t va,
						     unsigned level, uint64_t pa)
{
	return limit_arm_insert(a, root, va, level, pa);
}

struct limit_state {
	struct arena arena;
	pgt_pte_t *root; /**< the tree build made (lookups walk libpgtable's) */
	bool arm;
	/** The "call" column's out-of-line operations; NULL for "limit", whose loops inline them. */
	call_walk_fn walk;
	call_insert_fn insert;
};

static const char *limit_unavailable(const struct bench_case *c)
{
	/* By name: a descriptor reached through pgt_arch_by_name may be a copy. */
	if (strcmp(c->arch->name, "x86_64") && strcmp(c->arch->name, "armv8-4k-48"))
		return "no hand-written walk for this descriptor";
	if (c->shift != 12 && c->shift != 21 && c->shift != 30)
		return "hand-written walk covers 4K, 2M and 1G pages only";
	return NULL;
}

static void *limit_open(const struct bench_case *c)
{
	struct limit_state *s = xcalloc(1, sizeof *s);

	s->arm = strcmp(c->arch->name, "x86_64") != 0;
	return s;
}

static void *call_open(const struct bench_case *c)
{
	struct limit_state *s = limit_open(c);

	s->walk = s->arm ? call_arm_walk : call_x86_walk;
	s->insert = s->arm ? call_arm_insert : call_x86_insert;
	return s;
}

static void limit_clear(void *st)
{
	struct limit_state *s = st;

	s->root = NULL;
	arena_reset(&s->arena);
}

static void limit_close(void *st)
{
	struct limit_state *s = st;

	arena_release(&s->arena);
	free(s);
}

/** Maps pages first, first + step, ... into the tree, making the root first when there is none. */
static int limit_fill(struct limit_state *s, struct bench_case *c, size_t first, size_t step)
{
	unsigned level = (c->shift - 12) / 9;

	if (!s->root)
		s->root = limit_table(&s->arena);
	if (!s->root)
		return -1;
	if (s->insert)
		return fill_pages(s->insert, &s->arena, s->root, c, level, first, step);
	return s->arm ? fill_pages(limit_arm_insert, &s->arena, s->root, c, level, first, step)
		      : fill_pages(limit_x86_insert, &s->arena, s->root, c, level, first, step);
}

static int limit_build(void *st, struct bench_case *c)
{
	return limit_fill(st, c, 0, 1);
}

static int limit_build_even(void *st, struct bench_case *c)
{
	return limit_fill(st, c, 0, 2);
}

/** The walk, the slot read and one store per page: the tables are there. */
static int limit_insert_odd(void *st, struct bench_case *c)
{
	return limit_fill(st, c, 1, 2);
}

/** libpgtable's root as a pointer (p2v_offset is 0), or NULL before it is built. */
static const pgt_pte_t *lib_root(const struct bench_case *c)
{
	pgt_paddr_t root = pgt_space_root(c->lib_space);

	return root == PGT_PADDR_NONE ? NULL : (const pgt_pte_t *)(uintptr_t)root;
}

static struct lookup_result limit_lookup(void *st, const struct bench_case *c, const uint64_t *va, size_t n)
{
	const struct limit_state *s = st;
	const pgt_pte_t *root = lib_root(c);

	if (!root)
		return (struct lookup_result){ 0, 0 };
	return s->arm ? limit_arm_batch(root, va, n) : limit_x86_batch(root, va, n);
}

static struct lookup_result call_lookup(void *st, const struct bench_case *c, const uint64_t *va, size_t n)
{
	const struct limit_state *s = st;
	const pgt_pte_t *root = lib_root(c);
	struct lookup_result r = { 0, 0 };

	for (size_t i = 0; i < n && root; i++) {
		const pgt_pte_t *p = s->walk(root, va[i]);
		if (p) {
			r.sum += (uint64_t)(uintptr_t)p;
			r.found++;
		}
	}
	return r;
}

static const pgt_pte_t *limit_walk(const struct limit_state *s, const pgt_pte_t *root, uint64_t va)
{
	return s->arm ? limit_arm_walk(root, va) : limit_x86_walk(root, va);
}

static int limit_validate(void *st, const struct bench_case *c, uint64_t *hit_sum)
{
	const struct limit_state *s = st;
	const pgt_pte_t *root = lib_root(c);
	const pgt_pte_t addr = s->arm ? PGT_ARMV8_OA(12) : PGT_X86_ADDR_4K;
	uint64_t *pte = xmalloc(c->n * sizeof *pte);
	int rc = 0;

	*hit_sum = 0;
	if (!root)
		rc = bad_mapping("limit", c, 0, "libpgtable's tree is missing");
	for (size_t i = 0; i < c->n && rc == 0; i++) {
		/* Its own tree holds what its insert wrote... */
		const pgt_pte_t *own = limit_walk(s, s->root, c->va[i]);
		if (!own || (*own & addr) != pa_of(c, i))
			rc = bad_mapping("limit", c, c->va[i], "own tree");
		/* ...and its walk of libpgtable's tree finds what pgt_lookup finds. */
		pgt_ref_t ref;
		const pgt_pte_t *p = limit_walk(s, root, c->va[i]);
		if (rc == 0 && (pgt_lookup(c->lib_space, c->va[i], &ref) != PGT_OK || p != ref.pte))
			rc = bad_mapping("limit", c, c->va[i], "walk of libpgtable's tree");
		pte[i] = (uint64_t)(uintptr_t)p;
	}
	for (size_t j = 0; j < c->nhit && rc == 0; j++)
		*hit_sum += pte[c->hit_idx[j]];
	free(pte);
	return rc;
}

static int limit_map_into_prepare(void *st, struct bench_case *c)
{
	return limit_fill(st, c, 0, table_run(c));
}

/** The store limit: one walk per table, then its entries stored in a row. */
static int limit_map_into(void *st, struct bench_case *c)
{
	struct limit_state *s = st;
	size_t per = table_run(c);
	const pgt_pte_t leaf = s->arm ? 3 | PGT_ARMV8_AF | PGT_ARMV8_SH_INNER | PGT_ARMV8_UXN | PGT_ARMV8_PXN
				      : PGT_X86_P | PGT_X86_RW | PGT_X86_NX;

	for (size_t i = 0; i < c->n; i += per) {
		pgt_pte_t *e =
			s->arm ? limit_slot(&s->arena, s->root, c->va[i], 0, 3, 3, 3, PGT_ARMV8_OA(12))
			       : limit_slot(&s->arena, s->root, c->va[i], 0, PGT_X86_P | PGT_X86_PS,
					    PGT_X86_P, PGT_X86_P | PGT_X86_RW | PGT_X86_US, PGT_X86_ADDR_4K);
		size_t end = c->n - i < per ? c->n - i : per;
		if (!e)
			return -1;
		for (size_t j = 1; j < end; j++)
			e[j] = pa_of(c, i + j) | leaf;
	}
	return 0;
}

static int limit_insert_odd_check(void *st, const struct bench_case *c)
{
	const struct limit_state *s = st;
	const pgt_pte_t addr = s->arm ? PGT_ARMV8_OA(12) : PGT_X86_ADDR_4K;

	for (size_t i = 1; i < c->n; i += 2) {
		const pgt_pte_t *own = limit_walk(s, s->root, c->va[i]);
		if (!own || (*own & addr) != pa_of(c, i))
			return bad_mapping("limit", c, c->va[i], "own tree after insert-into");
	}
	return 0;
}

static double limit_bytes(void *st, const struct bench_case *c, long long heap_delta, bool *estimated)
{
	const struct limit_state *s = st;

	(void)heap_delta;
	*estimated = false;
	return (double)s->arena.bytes / (double)c->n;
}

static const struct impl limit_impl = {
	.name = "limit",
	.unavailable = limit_unavailable,
	.open = limit_open,
	.close = limit_close,
	.build = limit_build,
	.build_even = limit_build_even,
	.map_into_prepare = limit_map_into_prepare,
	.map_into = limit_map_into,
	.insert_odd = limit_insert_odd,
	.insert_odd_check = limit_insert_odd_check,
	.clear = limit_clear,
	.lookup = limit_lookup,
	.validate = limit_validate,
	.bytes = limit_bytes,
};

/** The limit's walk and insert out of line, one call per operation (no map-into: one walk per table). */
static const struct impl call_impl = {
	.name = "call",
	.unavailable = limit_unavailable,
	.open = call_open,
	.close = limit_close,
	.build = limit_build,
	.build_even = limit_build_even,
	.insert_odd = limit_insert_odd,
	.insert_odd_check = limit_insert_odd_check,
	.clear = limit_clear,
	.lookup = call_lookup,
	.validate = limit_validate,
	.bytes = limit_bytes,
};

/* Checks shared by the page-number-keyed baselines                          */
/* ------------------------------------------------------------------------- */

/** What a VPN-keyed map must answer for mapping i, given its answer. */
static int check_vpn_value(const char *impl, const struct bench_case *c, size_t i, bool found, uint64_t val)
{
	if (!found)
		return bad_mapping(impl, c, c->va[i], "not found");
	if (val != pa_of(c, i))
		return bad_mapping(impl, c, c->va[i], "value");
	return 0;
}

/* ------------------------------------------------------------------------- */
/* GHashTable                                                                */
/* ------------------------------------------------------------------------- */

#ifdef HAVE_GLIB
struct ghash_state {
	GHashTable *h;
};

static const char *ghash_unavailable(const struct bench_case *c)
{
	(void)c;
	/* Page numbers are stored directly in the key pointer. */
	return sizeof(gpointer) < sizeof(uint64_t) ? "pointers too narrow for page numbers" : NULL;
}

static void *ghash_open(const struct bench_case *c)
{
	(void)c;
	return xcalloc(1, sizeof(struct ghash_state));
}

static void ghash_clear(void *st)
{
	struct ghash_state *s = st;

	if (s->h)
		g_hash_table_destroy(s->h);
	s->h = NULL;
}

static void ghash_close(void *st)
{
	ghash_clear(st);
	free(st);
}

/* g_direct_hash: the fastest GHashTable setup for integer keys (no key allocation). */
static int ghash_build(void *st, struct bench_case *c)
{
	struct ghash_state *s = st;

	s->h = g_hash_table_new(g_direct_hash, g_direct_equal);
	for (size_t i = 0; i < c->n; i++)
		g_hash_table_insert(s->h, GSIZE_TO_POINTER((gsize)vpn_of(c, c->va[i])),
				    GSIZE_TO_POINTER((gsize)pa_of(c, i)));
	return 0;
}

static struct lookup_result ghash_lookup(void *st, const struct bench_case *c, const uint64_t *va, size_t n)
{
	const struct ghash_state *s = st;
	struct lookup_result r = { 0, 0 };

	for (size_t i = 0; i < n; i++) {
		gpointer v = g_hash_table_lookup(s->h, GSIZE_TO_POINTER((gsize)vpn_of(c, va[i])));
		if (v) { /* values are physical addresses >= PA_BASE, never NULL */
			r.sum += (uint64_t)GPOINTER_TO_SIZE(v);
			r.found++;
		}
	}
	return r;
}

static int ghash_validate(void *st, const struct bench_case *c, uint64_t *hit_sum)
{
	const struct ghash_state *s = st;

	*hit_sum = c->hit_pa_sum;
	if (g_hash_table_size(s->h) != c->n)
		return bad_mapping("GHashTable", c, 0, "size");
	for (size_t i = 0; i < c->n; i++) {
		gpointer v = g_hash_table_lookup(s->h, GSIZE_TO_POINTER((gsize)vpn_of(c, c->va[i])));
		if (check_vpn_value("GHashTable", c, i, v != NULL, (uint64_t)GPOINTER_TO_SIZE(v)))
			return -1;
	}
	return 0;
}

static int ghash_churn_setup(void *st, struct bench_case *c)
{
	struct ghash_state *s = st;

	s->h = g_hash_table_new(g_direct_hash, g_direct_equal);
	for (size_t i = 0; i < c->ninit; i++)
		g_hash_table_insert(s->h, GSIZE_TO_POINTER((gsize)vpn_of(c, c->init[i].va)),
				    GSIZE_TO_POINTER((gsize)c->init[i].pa));
	return 0;
}

static int ghash_churn(void *st, struct bench_case *c)
{
	struct ghash_state *s = st;

	for (size_t k = 0; k < c->nops; k++) {
		gpointer key = GSIZE_TO_POINTER((gsize)vpn_of(c, c->ops[k].va));
		if (c->ops[k].map)
			g_hash_table_insert(s->h, key, GSIZE_TO_POINTER((gsize)c->ops[k].pa));
		else if (!g_hash_table_remove(s->h, key))
			return -1;
	}
	return 0;
}

static int ghash_churn_check(void *st, const struct bench_case *c)
{
	const struct ghash_state *s = st;

	for (size_t i = 0; i < c->nfinal; i++) {
		gpointer v = g_hash_table_lookup(s->h, GSIZE_TO_POINTER((gsize)vpn_of(c, c->final[i].va)));
		if (c->final[i].map ? (uint64_t)GPOINTER_TO_SIZE(v) != c->final[i].pa : v != NULL)
			return bad_mapping("GHashTable", c, c->final[i].va, "churn state");
	}
	return 0;
}

static double ghash_bytes(void *st, const struct bench_case *c, long long heap_delta, bool *estimated)
{
	(void)st;
	*estimated = true; /* the heap's growth, allocator overhead included */
	return heap_delta < 0 ? -1.0 : (double)heap_delta / (double)c->n;
}

static const struct impl ghash_impl = {
	.name = "GHashTable",
	.unavailable = ghash_unavailable,
	.open = ghash_open,
	.close = ghash_close,
	.build = ghash_build,
	.clear = ghash_clear,
	.lookup = ghash_lookup,
	.validate = ghash_validate,
	.churn_setup = ghash_churn_setup,
	.churn = ghash_churn,
	.churn_check = ghash_churn_check,
	.bytes = ghash_bytes,
};
#else
static const char *ghash_unavailable(const struct bench_case *c)
{
	(void)c;
	return "built without glib";
}

static const struct impl ghash_impl = { .name = "GHashTable", .unavailable = ghash_unavailable };
#endif

/* ------------------------------------------------------------------------- */
/* JudyL                                                                     */
/* ------------------------------------------------------------------------- */

#ifdef HAVE_JUDY
struct judy_state {
	Pvoid_t a;
};

static const char *judy_unavailable(const struct bench_case *c)
{
	(void)c;
	return sizeof(Word_t) < sizeof(uint64_t) ? "Judy words too narrow for physical addresses" : NULL;
}

static void *judy_open(const struct bench_case *c)
{
	(void)c;
	return xcalloc(1, sizeof(struct judy_state));
}

static void judy_clear(void *st)
{
	struct judy_state *s = st;

	JudyLFreeArray(&s->a, PJE0);
	s->a = NULL;
}

static void judy_close(void *st)
{
	judy_clear(st);
	free(st);
}

static int judy_build(void *st, struct bench_case *c)
{
	struct judy_state *s = st;

	for (size_t i = 0; i < c->n; i++) {
		PPvoid_t v = JudyLIns(&s->a, (Word_t)vpn_of(c, c->va[i]), PJE0);
		if (!v || v == PPJERR)
			return -1;
		*(PWord_t)v = (Word_t)pa_of(c, i);
	}
	return 0;
}

/** The value stored for @p key, or NULL. */
static const Word_t *judy_get(const struct judy_state *s, uint64_t key)
{
	PPvoid_t v = JudyLGet(s->a, (Word_t)key, PJE0);

	return (v && v != PPJERR) ? (const Word_t *)v : NULL;
}

static struct lookup_result judy_lookup(void *st, const struct bench_case *c, const uint64_t *va, size_t n)
{
	const struct judy_state *s = st;
	struct lookup_result r = { 0, 0 };

	for (size_t i = 0; i < n; i++) {
		const Word_t *v = judy_get(s, vpn_of(c, va[i]));
		if (v) {
			r.sum += (uint64_t)*v;
			r.found++;
		}
	}
	return r;
}

static int judy_validate(void *st, const struct bench_case *c, uint64_t *hit_sum)
{
	const struct judy_state *s = st;

	*hit_sum = c->hit_pa_sum;
	for (size_t i = 0; i < c->n; i++) {
		const Word_t *v = judy_get(s, vpn_of(c, c->va[i]));
		if (check_vpn_value("JudyL", c, i, v != NULL, v ? (uint64_t)*v : 0))
			return -1;
	}
	return 0;
}

static int judy_churn_setup(void *st, struct bench_case *c)
{
	struct judy_state *s = st;

	for (size_t i = 0; i < c->ninit; i++) {
		PPvoid_t v = JudyLIns(&s->a, (Word_t)vpn_of(c, c->init[i].va), PJE0);
		if (!v || v == PPJERR)
			return -1;
		*(PWord_t)v = (Word_t)c->init[i].pa;
	}
	return 0;
}

static int judy_churn(void *st, struct bench_case *c)
{
	struct judy_state *s = st;

	for (size_t k = 0; k < c->nops; k++) {
		Word_t key = (Word_t)vpn_of(c, c->ops[k].va);
		if (c->ops[k].map) {
			PPvoid_t v = JudyLIns(&s->a, key, PJE0);
			if (!v || v == PPJERR)
				return -1;
			*(PWord_t)v = (Word_t)c->ops[k].pa;
		} else if (JudyLDel(&s->a, key, PJE0) != 1) {
			return -1;
		}
	}
	return 0;
}

static int judy_churn_check(void *st, const struct bench_case *c)
{
	const struct judy_state *s = st;

	for (size_t i = 0; i < c->nfinal; i++) {
		const Word_t *v = judy_get(s, vpn_of(c, c->final[i].va));
		if (c->final[i].map ? !v || (uint64_t)*v != c->final[i].pa : v != NULL)
			return bad_mapping("JudyL", c, c->final[i].va, "churn state");
	}
	return 0;
}

static double judy_bytes(void *st, const struct bench_case *c, long long heap_delta, bool *estimated)
{
	const struct judy_state *s = st;

	(void)heap_delta;
	*estimated = false;
	return (double)JudyLMemUsed(s->a) / (double)c->n;
}

static const struct impl judy_impl = {
	.name = "JudyL",
	.unavailable = judy_unavailable,
	.open = judy_open,
	.close = judy_close,
	.build = judy_build,
	.clear = judy_clear,
	.lookup = judy_lookup,
	.validate = judy_validate,
	.churn_setup = judy_churn_setup,
	.churn = judy_churn,
	.churn_check = judy_churn_check,
	.bytes = judy_bytes,
};
#else
static const char *judy_unavailable(const struct bench_case *c)
{
	(void)c;
	return "built without Judy";
}

static const struct impl judy_impl = { .name = "JudyL", .unavailable = judy_unavailable };
#endif

/* ------------------------------------------------------------------------- */
/* open-addr: a tuned open-addressing hash                                   */
/* ------------------------------------------------------------------------- */

/* Key and value side by side: a hit costs one cache line. */
struct oa_slot {
	uint64_t key;
	uint64_t val;
};

/* No page number is all ones (pages are at least 4K). */
#define OA_EMPTY UINT64_MAX

struct oa_state {
	struct oa_slot *slot;
	size_t mask;   /**< capacity - 1; capacity is a power of two >= 2n */
	unsigned bits; /**< log2 of the capacity */
};

/** Fibonacci hashing: the top bits of key * 2^64/phi spread consecutive keys. */
static inline size_t oa_home(const struct oa_state *s, uint64_t key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> (64 - s->bits));
}

static inline void oa_put(struct oa_state *s, uint64_t key, uint64_t val)
{
	size_t i = oa_home(s, key);

	while (s->slot[i].key != OA_EMPTY && s->slot[i].key != key)
		i = (i + 1) & s->mask;
	s->slot[i] = (struct oa_slot){ key, val };
}

/** The slot holding @p key, or NULL. Terminates: the table is at most half full. */
static inline const struct oa_slot *oa_get(const struct oa_state *s, uint64_t key)
{
	for (size_t i = oa_home(s, key);; i = (i + 1) & s->mask) {
		if (s->slot[i].key == key)
			return &s->slot[i];
		if (s->slot[i].key == OA_EMPTY)
			return NULL;
	}
}

/* Sized once for the case (load factor <= 1/2), as a tuned user would. */
static void *oa_open(const struct bench_case *c)
{
	struct oa_state *s = xcalloc(1, sizeof *s);
	void *p;

	s->bits = 1;
	while (((size_t)1 << s->bits) < 2 * c->n)
		s->bits++;
	s->mask = ((size_t)1 << s->bits) - 1;
	if (posix_memalign(&p, 64, (s->mask + 1) * sizeof *s->slot) != 0) {
		fprintf(stderr, "pgbench: out of memory (open-addr table)\n");
		exit(2);
	}
	s->slot = p;
	return s;
}

static void oa_close(void *st)
{
	struct oa_state *s = st;

	free(s->slot);
	free(s);
}

/* Clearing is part of build (timed), as libpgtable clears its new tables. */
static void oa_clear(void *st)
{
	(void)st;
}

static int oa_build(void *st, struct bench_case *c)
{
	struct oa_state *s = st;

	memset(s->slot, 0xff, (s->mask + 1) * sizeof *s->slot); /* every key OA_EMPTY */
	for (size_t i = 0; i < c->n; i++)
		oa_put(s, vpn_of(c, c->va[i]), pa_of(c, i));
	return 0;
}

static struct lookup_result oa_lookup(void *st, const struct bench_case *c, const uint64_t *va, size_t n)
{
	const struct oa_state *s = st;
	struct lookup_result r = { 0, 0 };

	for (size_t i = 0; i < n; i++) {
		const struct oa_slot *e = oa_get(s, vpn_of(c, va[i]));
		if (e) {
			r.sum += e->val;
			r.found++;
		}
	}
	return r;
}

static int oa_validate(void *st, const struct bench_case *c, uint64_t *hit_sum)
{
	const struct oa_state *s = st;

	*hit_sum = c->hit_pa_sum;
	for (size_t i = 0; i < c->n; i++) {
		const struct oa_slot *e = oa_get(s, vpn_of(c, c->va[i]));
		if (check_vpn_value("open-addr", c, i, e != NULL, e ? e->val : 0))
			return -1;
	}
	return 0;
}

static double oa_bytes(void *st, const struct bench_case *c, long long heap_delta, bool *estimated)
{
	const struct oa_state *s = st;

	(void)heap_delta;
	*estimated = false;
	return (double)((s->mask + 1) * sizeof *s->slot) / (double)c->n;
}

static const struct impl oa_impl = {
	.name = "open-addr",
	.open = oa_open,
	.close = oa_close,
	.build = oa_build,
	.clear = oa_clear,
	.lookup = oa_lookup,
	.validate = oa_validate,
	.bytes = oa_bytes,
};

/** The columns. libpgtable first: the limit baseline walks the tree it builds. */
static const struct impl *const impls[] = { &lib_impl, &limit_impl, &call_impl, &ghash_impl, &judy_impl, &oa_impl };
#define NIMPL ARRAY_LEN(impls)

/* ------------------------------------------------------------------------- */
/* Rows                                                                      */
/* ------------------------------------------------------------------------- */

enum row { R_INSERT, R_INTO, R_MAP, R_MAP_INTO, R_LOOKUP, R_TRANSLATE, R_TLB, R_MISS, R_CHURN, NROW };

static const char *const row_name[NROW] = { "insert",    "insert-into", "map",         "map-into", "lookup",
					    "translate", "tlb",         "lookup-miss", "churn" };

/** The baselines' row each row is compared with (they have no map, translate or TLB). */
static const enum row row_kind[NROW] = { R_INSERT, R_INTO,   R_INSERT, R_MAP_INTO, R_LOOKUP,
					 R_LOOKUP, R_LOOKUP, R_MISS,   R_CHURN };

/** Whether the case has this row at all. */
static bool row_in_case(const struct bench_case *c, enum row r)
{
	if (c->nops)
		return r == R_CHURN;
	return r != R_CHURN && (r != R_MISS || c->nmiss) && (r != R_INTO || c->n >= 2) &&
	       (r != R_MAP_INTO || table_run(c));
}

/** Why implementation @p im cannot run row @p r here, or NULL. */
static const char *row_unavailable(const struct impl *im, const struct bench_case *c, enum row r)
{
	switch (r) {
	case R_INTO: return im->insert_odd ? NULL : "";
	case R_MAP_INTO:
		if (!im->map_into)
			return "";
		return im == &lib_impl && !pgt_map ? "pgt_map is not in this build of the library" : NULL;
	case R_MAP:
		if (!im->map_build)
			return "";
		return im->map_unavailable ? im->map_unavailable(c) : NULL;
	case R_TRANSLATE:
		if (!im->translate)
			return "";
		return pgt_translate ? NULL : "pgt_translate is not in this build of the library";
	case R_TLB: return im->tlb ? NULL : "";
	case R_CHURN:
		if (!im->churn)
			return "no delete operation";
		if (im == &lib_impl && !(pgt_map && pgt_unmap))
			return "pgt_map/pgt_unmap are not in this build of the library";
		return NULL;
	default: return NULL;
	}
}

/** Untimed, before each pass of row @p r. */
static int row_prepare(const struct impl *im, void *st, struct bench_case *c, enum row r)
{
	if (r == R_INSERT || r == R_INTO || r == R_MAP || r == R_MAP_INTO || r == R_CHURN)
		im->clear(st);
	if (r == R_INTO)
		return im->build_even(st, c);
	if (r == R_MAP_INTO)
		return im->map_into_prepare(st, c);
	return r == R_CHURN ? im->churn_setup(st, c) : 0;
}

/** Every hit found rounds times, and the checksum is @p want for each pass of hit[]. */
static int lookups_right(const struct bench_case *c, lookup_fn f, void *st, uint64_t want)
{
	struct lookup_result r = { 0, 0 };

	for (unsigned k = 0; k < c->rounds; k++) {
		struct lookup_result p = f(st, c, c->hit, c->nhit);
		r.sum += p.sum;
		r.found += p.found;
	}
	return (r.found == lookups_per_pass(c) && r.sum == want * c->rounds) ? 0 : -1;
}

/** Timed: one pass of row @p r. 0 when its result is right. */
static int row_run(const struct impl *im, void *st, struct bench_case *c, enum row r, uint64_t hit_sum)
{
	switch (r) {
	case R_INSERT: return im->build(st, c) == 0 ? 0 : -1;
	case R_INTO: return im->insert_odd(st, c) == 0 ? 0 : -1;
	case R_MAP_INTO: return im->map_into(st, c) == 0 ? 0 : -1;
	case R_MAP: return im->map_build(st, c) == 0 ? 0 : -1;
	case R_LOOKUP: return lookups_right(c, im->lookup, st, hit_sum);
	case R_TRANSLATE: return lookups_right(c, im->translate, st, c->hit_pa_osum);
	case R_TLB: return lookups_right(c, im->tlb, st, c->hit_pa_osum);
	case R_MISS: return im->lookup(st, c, c->miss, c->nmiss).found == 0 ? 0 : -1;
	default: return im->churn(st, c) == 0 ? 0 : -1;
	}
}

/** Operations in one pass of row @p r. */
static size_t row_ops(const struct bench_case *c, enum row r)
{
	switch (r) {
	case R_INSERT:
	case R_MAP: return c->n;
	case R_INTO: return c->n / 2;
	case R_MAP_INTO: return c->n - (c->n + table_run(c) - 1) / table_run(c);
	case R_MISS: return c->nmiss;
	case R_CHURN: return c->nops;
	default: return lookups_per_pass(c);
	}
}

/* ------------------------------------------------------------------------- */
/* Measurement                                                               */
/* ------------------------------------------------------------------------- */

enum cell_state { CELL_NA, CELL_OK, CELL_FAIL };

/** ns per operation over the timed passes of one row x implementation. */
struct cell {
	enum cell_state state;
	double min, med, max;
	const char *na; /**< why not measured */
};

/** Bytes per mapping of one implementation. */
struct mem_cell {
	enum cell_state state;
	double bytes;
	bool estimated;
};

struct case_result {
	struct cell cell[NROW][NIMPL];
	struct mem_cell mem[NIMPL];
	const char *na[NIMPL]; /**< why an implementation did not run at all */
	uint64_t hit_sum;      /**< libpgtable's lookup checksum */
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void summarize(double *ns, unsigned reps, struct cell *out)
{
	qsort(ns, reps, sizeof *ns, cmp_double);
	out->min = ns[0];
	out->max = ns[reps - 1];
	out->med = (reps % 2) ? ns[reps / 2] : (ns[reps / 2 - 1] + ns[reps / 2]) / 2;
}

/**
 * A warm-up pass (faults memory in, fills caches, predictors and the TLB)
 * and then @p reps timed passes. Every pass's result is checked; @p
 * heap_delta gets the heap growth of the last pass.
 */
static struct cell measure(const struct impl *im, void *st, struct bench_case *c, enum row r, uint64_t hit_sum,
			   unsigned reps, long long *heap_delta)
{
	double *ns = xmalloc(reps * sizeof *ns);
	struct cell out = { .state = CELL_OK };

	for (unsigned k = 0; k <= reps && out.state == CELL_OK; k++) {
		if (row_prepare(im, st, c, r) != 0) {
			out.state = CELL_FAIL;
			break;
		}
		long long before = heap_in_use();
		uint64_t t0 = now_ns();
		int rc = row_run(im, st, c, r, hit_sum);
		uint64_t t1 = now_ns();
		*heap_delta = before < 0 ? -1 : heap_in_use() - before;
		if (rc != 0)
			out.state = CELL_FAIL;
		else if (k > 0)
			ns[k - 1] = (double)(t1 - t0) / (double)row_ops(c, r);
	}
	if (out.state == CELL_FAIL)
		fprintf(stderr, "pgbench: %s %s on %s, %s: wrong result\n", im->name, row_name[r], c->arch->name,
			c->name);
	else
		summarize(ns, reps, &out);
	free(ns);
	return out;
}

/** The check after a row that builds: every mapping, and the checksum of a lookup pass. */
static bool row_check(const struct impl *im, void *st, struct bench_case *c, enum row r, uint64_t *hit_sum)
{
	if (r == R_CHURN)
		return im->churn_check(st, c) == 0;
	if (r == R_INSERT || r == R_MAP || r == R_MAP_INTO)
		return im->validate(st, c, hit_sum) == 0;
	if (r == R_INTO) {
		/* then the whole case again, for the rows that look up what is there */
		if (im->insert_odd_check(st, c) != 0)
			return false;
		im->clear(st);
		return im->build(st, c) == 0 && im->validate(st, c, hit_sum) == 0;
	}
	return true;
}

/** Runs every row of implementation @p k; returns its state for closing later. */
static void *run_impl(size_t k, struct bench_case *c, unsigned reps, struct case_result *res)
{
	const struct impl *im = impls[k];
	void *st = im->open(c);
	long long heap_delta = -1;
	uint64_t hit_sum = 0;
	bool ok = true;

	for (int r = 0; r < NROW; r++) {
		struct cell *cell = &res->cell[r][k];
		long long delta;
		if (!row_in_case(c, r))
			continue;
		cell->na = row_unavailable(im, c, r);
		if (cell->na) {
			cell->state = CELL_NA;
			continue;
		}
		if (!ok) {
			cell->state = CELL_FAIL;
			continue;
		}
		*cell = measure(im, st, c, r, hit_sum, reps, &delta);
		ok = cell->state == CELL_OK && row_check(im, st, c, r, &hit_sum);
		cell->state = ok ? CELL_OK : CELL_FAIL;
		if (r == R_INSERT)
			heap_delta = delta;
		if (k == 0 && (r == R_INSERT || r == R_MAP))
			res->hit_sum = hit_sum;
	}
	res->mem[k].state = CELL_NA;
	if (ok && !c->nops && res->cell[R_INSERT][k].state == CELL_OK) {
		/* what the last insert built: rebuild it, as map may have come after */
		bool est = false;
		long long before = heap_in_use();
		im->clear(st);
		before = heap_in_use();
		if (im->build(st, c) == 0) {
			heap_delta = before < 0 ? -1 : heap_in_use() - before;
			double b = im->bytes(st, c, heap_delta, &est);
			res->mem[k] = (struct mem_cell){ b < 0 ? CELL_NA : CELL_OK, b, est };
		}
		ok = im->validate(st, c, &hit_sum) == 0;
	}
	(void)heap_delta;
	return st;
}

/**
 * Runs one case through every implementation. They are closed only at the
 * end because the limit baseline walks libpgtable's tree. Returns true when
 * every result was right.
 */
static bool run_case(struct bench_case *c, unsigned reps, struct case_result *res)
{
	void *st[NIMPL] = { 0 };
	bool ok = true;

	memset(res, 0, sizeof *res);
	for (size_t k = 0; k < NIMPL; k++) {
		res->na[k] = impls[k]->unavailable ? impls[k]->unavailable(c) : NULL;
		if (c->nops && !impls[k]->churn)
			res->na[k] = NULL; /* its churn cell says why */
		if (!res->na[k])
			st[k] = run_impl(k, c, reps, res);
		else
			for (int r = 0; r < NROW; r++)
				res->cell[r][k] = (struct cell){ .state = CELL_NA, .na = res->na[k] };
	}
	for (size_t k = NIMPL; k-- > 0;) {
		if (st[k])
			impls[k]->close(st[k]);
		for (size_t r = 0; r < NROW; r++)
			ok = ok && res->cell[r][k].state != CELL_FAIL;
	}
	c->lib_space = NULL;
	return ok;
}

/* ------------------------------------------------------------------------- */
/* Output                                                                    */
/* ------------------------------------------------------------------------- */

struct output {
	bool json;
	bool first; /**< no JSON record written yet (no comma before the next) */
};

/** "4K", "2M", "512M": page sizes as people write them. */
static void size_name(char *buf, size_t len, unsigned shift)
{
	static const char unit[] = "KMGT";
	unsigned u = shift / 10 - 1;

	snprintf(buf, len, "%llu%c", 1ull << (shift - 10 * (u + 1)), unit[u < 3 ? u : 3]);
}

/** A number right-aligned in @p width, or why there is none. */
static void put_num(enum cell_state st, double v, int width, int prec, const char *prefix)
{
	char buf[32];

	if (st == CELL_NA)
		printf("%*s", width, "n/a");
	else if (st == CELL_FAIL)
		printf("%*s", width, "FAIL");
	else {
		snprintf(buf, sizeof buf, "%s%.*f", prefix, v >= 10000 ? 0 : prec, v);
		printf("%*s", width, buf);
	}
}

/** libpgtable / baseline, when both were measured. */
static void put_ratio(enum cell_state a, double va, enum cell_state b, double vb)
{
	if (a == CELL_OK && b == CELL_OK && vb > 0)
		put_num(CELL_OK, va / vb, 7, 2, "");
	else
		put_num(b == CELL_OK ? CELL_NA : b, 0, 7, 2, "");
}

static void table_head(const struct bench_case *c)
{
	char pg[16];

	size_name(pg, sizeof pg, c->shift);
	if (c->nops)
		printf("\n%s on %s: %zu steps over %zu slots (%s pages and %u times larger); %s\n", c->name,
		       c->arch->name, c->nops, c->nfinal, pg, 1u << c->arch->level[0].bits, c->what);
	else
		printf("\n%s on %s: %zu x %s pages at 0x%" PRIx64 "; %s; %zu lookups per pass\n", c->name,
		       c->arch->name, c->n, pg, c->base, c->what, lookups_per_pass(c));
	printf("%-12s%32s", "", "---------- libpgtable ----------");
	for (size_t k = 1; k < NIMPL; k++)
		printf("%16s", impls[k]->name);
	printf("\n%-12s%8s%8s%8s%8s", "op (ns/op)", "min", "med", "max", "Mops/s");
	for (size_t k = 1; k < NIMPL; k++)
		printf("%9s%7s", "ns", "ratio");
	printf("\n");
}

static void table_row(enum row r, const struct case_result *res)
{
	const struct cell *lib = &res->cell[r][0];

	printf("%-12s", row_name[r]);
	put_num(lib->state, lib->min, 8, 1, "");
	put_num(lib->state, lib->med, 8, 1, "");
	put_num(lib->state, lib->max, 8, 1, "");
	put_num(lib->state, lib->med > 0 ? 1000.0 / lib->med : 0, 8, 2, "");
	for (size_t k = 1; k < NIMPL; k++) {
		const struct cell *b = &res->cell[row_kind[r]][k];
		put_num(b->state, b->med, 9, 1, "");
		put_ratio(lib->state, lib->med, b->state, b->med);
	}
	printf("\n");
}

static void table_mem_row(const struct mem_cell *mem)
{
	printf("%-12s%8s", "bytes/map", "");
	put_num(mem[0].state, mem[0].bytes, 8, 1, "");
	printf("%16s", "");
	for (size_t k = 1; k < NIMPL; k++) {
		put_num(mem[k].state, mem[k].bytes, 9, 1, mem[k].estimated ? "~" : "");
		put_ratio(mem[0].state, mem[0].bytes, mem[k].state, mem[k].bytes);
	}
	printf("\n");
}

static void table_notes(const struct bench_case *c, const struct case_result *res)
{
	if (!c->nops && res->cell[R_INSERT][0].state == CELL_OK)
		printf("check: PADDR and rights of every mapping verified; lookup checksum 0x%016" PRIx64 "\n",
		       res->hit_sum);
	for (size_t k = 0; k < NIMPL; k++) {
		if (res->na[k]) {
			printf("n/a: %s: %s\n", impls[k]->name, res->na[k]);
			continue;
		}
		for (int r = 0; r < NROW; r++)
			if (row_in_case(c, r) && res->cell[r][k].state == CELL_NA && res->cell[r][k].na &&
			    *res->cell[r][k].na)
				printf("n/a: %s %s: %s\n", impls[k]->name, row_name[r], res->cell[r][k].na);
	}
	for (size_t k = 0; k < NIMPL; k++)
		if (res->mem[k].state == CELL_OK && res->mem[k].estimated)
			printf("~: %s bytes are the heap's growth during insert (mallinfo2)\n", impls[k]->name);
}

static void print_table(const struct bench_case *c, const struct case_result *res)
{
	table_head(c);
	for (int r = 0; r < NROW; r++)
		if (row_in_case(c, r))
			table_row(r, res);
	if (!c->nops)
		table_mem_row(res->mem);
	table_notes(c, res);
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		if ((unsigned char)*s >= 0x20)
			putchar(*s);
	}
	putchar('"');
}

static const char *state_name(enum cell_state st)
{
	return st == CELL_OK ? "ok" : st == CELL_FAIL ? "fail" : "n/a";
}

/** Opens a result record with the fields that say where it belongs. */
static void json_record(struct output *out, const struct bench_case *c, const char *op, size_t k,
			enum cell_state st, const char *na)
{
	printf("%s\n  {\"arch\":", out->first ? "" : ",");
	out->first = false;
	json_string(c->arch->name);
	printf(",\"workload\":\"%s\",\"page_size\":%" PRIu64 ",\"n\":%zu,\"op\":\"%s\",\"impl\":", c->name,
	       (uint64_t)1 << c->shift, c->nops ? c->nops : c->n, op);
	json_string(impls[k]->name);
	printf(",\"status\":\"%s\"", state_name(st));
	if (na && *na) {
		printf(",\"reason\":");
		json_string(na);
	}
}

static void print_json(struct output *out, const struct bench_case *c, const struct case_result *res)
{
	for (int r = 0; r < NROW; r++) {
		if (!row_in_case(c, r))
			continue;
		const struct cell *lib = &res->cell[r][0];
		for (size_t k = 0; k < NIMPL; k++) {
			const struct cell *x = &res->cell[r][k];
			if (k > 0 && row_kind[r] != (enum row)r)
				continue; /* baselines have one record per kind */
			json_record(out, c, row_name[r], k, x->state, x->na);
			if (x->state == CELL_OK)
				printf(",\"min_ns\":%.3f,\"median_ns\":%.3f,\"max_ns\":%.3f,\"mops\":%.3f", x->min,
				       x->med, x->max, 1000.0 / x->med);
			if (k == 0 && x->state == CELL_OK) {
				printf(",\"ratio\":{");
				bool first = true;
				for (size_t b = 1; b < NIMPL; b++) {
					const struct cell *y = &res->cell[row_kind[r]][b];
					if (y->state != CELL_OK)
						continue;
					printf("%s\"%s\":%.4f", first ? "" : ",", impls[b]->name, lib->med / y->med);
					first = false;
				}
				putchar('}');
			}
			putchar('}');
		}
	}
	for (size_t k = 0; k < NIMPL && !c->nops; k++) {
		const struct mem_cell *m = &res->mem[k];
		json_record(out, c, "bytes_per_mapping", k, m->state, NULL);
		if (m->state == CELL_OK)
			printf(",\"value\":%.3f,\"estimated\":%s", m->bytes, m->estimated ? "true" : "false");
		putchar('}');
	}
}

/** The "model name" line of /proc/cpuinfo, or "unknown". */
static void cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(buf, len, "unknown");
	while (f && fgets(line, sizeof line, f)) {
		char *colon = strchr(line, ':');
		if (strncmp(line, "model name", 10) == 0 && colon) {
			colon += strspn(colon + 1, " \t") + 1;
			colon[strcspn(colon, "\n")] = '\0';
			snprintf(buf, len, "%s", colon);
			break;
		}
	}
	if (f)
		fclose(f);
}

/* ------------------------------------------------------------------------- */
/* Options and main                                                          */
/* ------------------------------------------------------------------------- */

struct options {
	size_t n;
	size_t hot;
	unsigned reps;
	const char *arch; /**< NULL: the default pair */
	const char *only; /**< NULL: every workload */
	int pin;          /**< CPU to pin to, or -1 */
	bool full;
	bool json;
	bool n_set;              /**< -n was given */
	unsigned fanout, depth; /**< the mdb workload's tree */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pgbench [--quick | --full] [-n N] [-r R] [--arch NAME] [--workload W] [--pin CPU] [--json]\n"
		"  --quick        the default: a few seconds, every table (n %zu, hot %u lookups, %u passes)\n"
		"  --full         the published sizes (n %zu, hot %u lookups, %u passes)\n"
		"  -n N           mappings (churn: steps) per workload\n"
		"  -r R           timed repetitions after one warm-up\n"
		"  --arch NAME    one descriptor, as pgt_arch_by_name knows it (default: x86_64, armv8-4k-48)\n"
		"  --workload W   one of seq-4k rand-4k hot-4k huge-2m huge-1g churn, or mdb (run alone:\n"
		"                 map, grant and revoke over a tree of spaces, up to -n derived mappings,\n"
		"                 default 10^5, --full 10^6; --fanout F, --depth D: the tree, default 3 3)\n"
		"  --pin CPU      run on that CPU only\n"
		"  --json         machine-readable results instead of tables\n",
		QUICK_N, QUICK_HOT, QUICK_REPS, FULL_N, FULL_HOT, FULL_REPS);
}

/** A whole decimal number in [lo, hi], or false. */
static bool parse_count(const char *s, unsigned long long lo, unsigned long long hi, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return false;
	v = strtoull(s, &end, 10);
	if (*end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/** Returns 0, or 1 after printing why the command line is wrong. */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "arch", required_argument, NULL, 'a' }, { "pin", required_argument, NULL, 'p' },
		{ "quick", no_argument, NULL, 'q' },      { "full", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },       { "workload", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },       { "fanout", required_argument, NULL, 'F' },
		{ "depth", required_argument, NULL, 'D' }, { NULL, 0, NULL, 0 },
	};
	unsigned long long v;
	bool n_set = false, r_set = false;
	int ch;

	*o = (struct options){ .pin = -1, .fanout = 3, .depth = 3 };
	while ((ch = getopt_long(argc, argv, "n:r:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			if (!parse_count(optarg, 1, (size_t)1 << 24, &v))
				goto bad;
			o->n = (size_t)v;
			n_set = true;
			break;
		case 'r':
			if (!parse_count(optarg, 1, MAX_REPS, &v))
				goto bad;
			o->reps = (unsigned)v;
			r_set = true;
			break;
		case 'a': o->arch = optarg; break;
		case 'w': o->only = optarg; break;
		case 'p':
			if (!parse_count(optarg, 0, CPU_SETSIZE - 1, &v))
				goto bad;
			o->pin = (int)v;
			break;
		case 'q': o->full = false; break;
		case 'f': o->full = true; break;
		case 'j': o->json = true; break;
		case 'F':
		case 'D':
			if (!parse_count(optarg, 1, 64, &v))
				goto bad;
			*(ch == 'F' ? &o->fanout : &o->depth) = (unsigned)v;
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return 1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "pgbench: unexpected argument: %s\n", argv[optind]);
		usage(stderr);
		return 1;
	}
	if (o->only) {
		bool known = strcmp(o->only, "mdb") == 0;
		for (int w = 0; w < WL_COUNT; w++)
			known = known || strcmp(o->only, wl_name[w]) == 0;
		if (!known) {
			fprintf(stderr, "pgbench: unknown workload '%s'\n", o->only);
			usage(stderr);
			return 1;
		}
	}
	o->n_set = n_set;
	if (!n_set)
		o->n = o->full ? FULL_N : QUICK_N;
	if (!r_set)
		o->reps = o->full ? FULL_REPS : QUICK_REPS;
	o->hot = o->full ? FULL_HOT : QUICK_HOT;
	return 0;
bad:
	fprintf(stderr, "pgbench: bad argument%s%s\n", optarg ? ": " : "", optarg ? optarg : "");
	usage(stderr);
	return 1;
}

/** Keeps the scheduler from moving the run between CPUs mid-measurement. */
static int pin_cpu(int cpu)
{
#ifdef __linux__
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set) != 0) {
		perror("pgbench: sched_setaffinity");
		return -1;
	}
	return 0;
#else
	(void)cpu;
	fprintf(stderr, "pgbench: --pin needs Linux's sched_setaffinity\n");
	return -1;
#endif
}

/** The descriptors to run; 0 after printing why there are none. */
static size_t pick_archs(const struct options *o, const struct pgt_arch *out[2])
{
	if (!o->arch) {
		out[0] = &pgt_arch_x86_64;
		out[1] = &pgt_arch_armv8_4k_48;
		return 2;
	}
	out[0] = pgt_arch_by_name(o->arch);
	if (!out[0])
		fprintf(stderr, "pgbench: unknown descriptor '%s'\n", o->arch);
	return out[0] ? 1 : 0;
}

/** Whether the window and the miss window after it fit the lower half below 2^va_bits. */
static bool window_fits(const struct pgt_arch *a)
{
	return a->va_bits >= WINDOW_SHIFT + 3;
}

static void print_header(const struct options *o, struct output *out)
{
	char cpu[128], date[64];
	time_t t = time(NULL);
	struct tm tm;

	cpu_model(cpu, sizeof cpu);
	strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&t, &tm));
	if (out->json) {
		printf("{\"benchmark\":\"pgbench\",\"date\":\"%s\",\"cpu\":", date);
		json_string(cpu);
		printf(",\"mode\":\"%s\",\"n\":%zu,\"hot_lookups\":%zu,\"reps\":%u,\"pin\":%d,\"results\":[",
		       o->full ? "full" : "quick", o->n, o->hot, o->reps, o->pin);
		return;
	}
	printf("pgbench: libpgtable against baselines (%s)\n",
	       o->full ? "full mode: the published sizes" : "quick mode; --full for the published sizes");
	printf("date:   %s\ncpu:    %s\n", date, cpu);
	printf("n:      %zu mappings per workload (churn: steps), hot-4k %zu lookups\n", o->n, o->hot);
	printf("reps:   1 warm-up + %u timed passes per cell; ns/op min/med/max; Mops/s and ratios from the "
	       "median\n",
	       o->reps);
	if (o->pin >= 0)
		printf("pinned: CPU %d\n", o->pin);
#ifdef __VERSION__
	printf("cc:     %s\n", __VERSION__);
#endif
	printf("ratio:  libpgtable / baseline (above 1: libpgtable is slower or larger)\n");
	printf("rows:   insert = pgt_insert + PADDR + PROT(READ|WRITE), map = pgt_map, both into a fresh space,\n"
	       "        tables included; insert-into = pgt_insert alone of the odd-numbered pages into the\n"
	       "        tables the even-numbered ones made (limit: its walk, the slot read, one store);\n"
	       "        map-into ="
	       " pgt_map of each leaf table's pages after its first, already mapped (limit:\n"
	       "        one walk per table, then the stores);\n"
	       "        tlb = pgt_tlb_lookup, %u entries %u-way; baselines: page number -> pa\n",
	       TLB_ENTRIES, TLB_WAYS);
	printf("limit:  hand-written walk with constant masks and no checks (lookups walk libpgtable's\n"
	       "        tables; insert builds the same format from the same arena)\n");
	printf("call:   the limit's walk and insert out of line, one call through a pointer per\n"
	       "        operation: what a library call costs before its first check\n");
	printf("open-addr: 2^k >= 2n slots of 16 bytes, linear probing, Fibonacci hash\n");
}

/** Runs and prints one case; false when a result was wrong. */
static bool do_case(const struct pgt_arch *a, enum wl w, const struct options *o, struct output *out)
{
	struct bench_case c;
	struct case_result *res = xmalloc(sizeof *res);
	bool ok = true;

	if (!case_init(&c, a, w, o->n, o->hot)) {
		if (!out->json)
			printf("\n%s on %s: n/a: the descriptor has no page size for it\n", wl_name[w], a->name);
	} else {
		ok = run_case(&c, o->reps, res);
		if (out->json)
			print_json(out, &c, res);
		else
			print_table(&c, res);
		fflush(stdout);
	}
	case_free(&c);
	free(res);
	return ok;
}

int main(int argc, char **argv)
{
	struct options o;
	struct output out;
	const struct pgt_arch *archs[2];
	uint64_t t0 = now_ns();
	bool ok = true;

	if (parse_options(argc, argv, &o) != 0)
		return 2;
	if (o.pin >= 0 && pin_cpu(o.pin) != 0)
		return 2;
	keep_heap();
	size_t narch = pick_archs(&o, archs);
	if (narch == 0)
		return 2;
	if (o.only && strcmp(o.only, "mdb") == 0) { /* its own table: no baselines to compare */
		if (o.json) {
			fprintf(stderr, "pgbench: --json does not cover the mdb workload\n");
			return 2;
		}
		size_t n_max = o.n_set ? o.n : o.full ? 1000000 : 100000;
		for (size_t i = 0; i < narch; i++)
			ok = pgbench_mdb(archs[i], n_max, o.fanout, o.depth) && ok;
		printf("\n%s in %.1f s\n", ok ? "all results verified" : "SOME RESULTS WERE WRONG",
		       (double)(now_ns() - t0) / 1e9);
		return ok ? 0 : 1;
	}
	out = (struct output){ .json = o.json, .first = true };
	print_header(&o, &out);
	for (size_t i = 0; i < narch; i++) {
		if (!window_fits(archs[i])) {
			fprintf(stderr, "pgbench: %s: a 64 GiB window does not fit its address range\n",
				archs[i]->name);
			ok = false;
			continue;
		}
		for (int w = 0; w < WL_COUNT; w++)
			if (!o.only || strcmp(o.only, wl_name[w]) == 0)
				ok = do_case(archs[i], w, &o, &out) && ok;
	}
	double secs = (double)(now_ns() - t0) / 1e9;
	if (o.json)
		printf("\n],\"elapsed_s\":%.2f,\"ok\":%s}\n", secs, ok ? "true" : "false");
	else
		printf("\n%s in %.1f s\n", ok ? "all results verified" : "SOME RESULTS WERE WRONG", secs);
	return ok ? 0 : 1;
}
