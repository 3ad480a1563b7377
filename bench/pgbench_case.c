/* SPDX-License-Identifier: MIT */
/*
 * pgbench's workloads: the address sequences of each case, built the same
 * way on every host (splitmix64), and the frame arena every tree-building
 * implementation allocates its tables from.
 */
#define _GNU_SOURCE /* mallopt */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef __GLIBC__
#include <malloc.h> /* mallinfo2: heap use of baselines that hide their memory */
#endif

#include "pgbench.h"

/* ------------------------------------------------------------------------- */
/* Small utilities                                                           */
/* ------------------------------------------------------------------------- */

/** Allocation failure is not something a benchmark can work around. */
void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p) {
		fprintf(stderr, "pgbench: out of memory (%zu bytes)\n", size);
		exit(2);
	}
	return p;
}

void *xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);

	if (!p) {
		fprintf(stderr, "pgbench: out of memory (%zu x %zu bytes)\n", count, size);
		exit(2);
	}
	return p;
}

/** Monotonic nanoseconds: immune to clock adjustments during a run. */
uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/**
 * Bytes the C heap has handed out (in use plus mmapped), or -1 where the C
 * library cannot tell: the only way to see what GHashTable costs.
 */
long long heap_in_use(void)
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
void keep_heap(void)
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
/* Frame arena                                                               */
/* ------------------------------------------------------------------------- */

void arena_grow(struct arena *a)
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
void *arena_alloc(struct arena *a, size_t size)
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

void arena_free(struct arena *a, void *p, size_t size)
{
	void **fl = &a->free_list[log2_size(size)];

	*(void **)p = *fl;
	*fl = p;
	a->freed += size;
}

void arena_reset(struct arena *a)
{
	a->inuse = 0;
	a->used = 0;
	a->bytes = 0;
	a->freed = 0;
	memset(a->free_list, 0, sizeof a->free_list);
}

void arena_release(struct arena *a)
{
	for (size_t i = 0; i < a->nchunk; i++)
		free(a->chunk[i]);
	free(a->chunk);
	*a = (struct arena){ 0 };
}

/* The pgt_mm hooks. Physical address == pointer (p2v_offset 0): user-space
 * pointers fit in every descriptor's output-address field. */
pgt_paddr_t arena_alloc_table(void *ctx, size_t size, unsigned level)
{
	void *p = arena_alloc(ctx, size);

	(void)level;
	return p ? (pgt_paddr_t)(uintptr_t)p : PGT_PADDR_NONE;
}

void arena_free_table(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	(void)level;
	arena_free(ctx, (void *)(uintptr_t)pa, size);
}

/* ------------------------------------------------------------------------- */
/* Cases                                                                     */
/* ------------------------------------------------------------------------- */

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

/*
 * The unmap-sparse row's pages: one small page, at a random place, in each
 * of the first leaf-table regions of the window (n / SPARSE_DIV of them, at
 * most the window's), so that each unmap leaves its table empty.
 */
#define SPARSE_DIV 32
static void case_sparse(struct bench_case *c, struct rng *g)
{
	const struct pgt_level *L = &c->arch->level[0];
	unsigned region = L->shift + L->bits;
	size_t regions = (size_t)1 << (WINDOW_SHIFT - region);

	c->nsparse = c->n / SPARSE_DIV < regions ? c->n / SPARSE_DIV : regions;
	c->sparse = xmalloc(c->nsparse * sizeof *c->sparse);
	for (size_t i = 0; i < c->nsparse; i++)
		c->sparse[i] = c->base + ((uint64_t)i << region) +
			       ((uint64_t)rng_below(g, (size_t)1 << L->bits) << L->shift);
}

static void case_rand(struct bench_case *c, size_t n, struct rng *g)
{
	size_t slots = (size_t)1 << (WINDOW_SHIFT - c->shift);
	/* as many misses as hits: at most half the window's pages mapped (64K pages: 2^20 slots) */
	n = n < slots / 2 ? n : slots / 2;
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

const char *const wl_name[WL_COUNT] = { "seq-4k", "rand-4k", "hot-4k", "huge-2m", "huge-1g", "churn" };

/** The smallest page shift and the next two of @p a (0 when missing). */
unsigned leaf_shift(const struct pgt_arch *a, unsigned k)
{
	for (unsigned l = 0; l < a->levels; l++)
		if (a->level[l].leaf_ok && k-- == 0)
			return a->level[l].shift;
	return 0;
}

/** Builds one case deterministically; false when the descriptor lacks its page size. */
bool case_init(struct bench_case *c, const struct pgt_arch *arch, enum wl w, size_t n, size_t hot)
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
	case WL_SEQ:
		case_seq(c, n);
		case_sparse(c, &g);
		break;
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

void case_free(struct bench_case *c)
{
	free(c->va);
	free(c->hit);
	free(c->hit_idx);
	free(c->miss);
	free(c->ops);
	free(c->init);
	free(c->final);
	free(c->sparse);
}

/** Reports a mapping that does not hold what was inserted; returns -1. */
int bad_mapping(const char *impl, const struct bench_case *c, uint64_t va, const char *what)
{
	fprintf(stderr, "pgbench: %s, %s, %s: wrong result at va 0x%" PRIx64 ": %s\n", impl, c->arch->name,
		c->name, va, what);
	return -1;
}

/** What a VPN-keyed map must answer for mapping i, given its answer. */
int check_vpn_value(const char *impl, const struct bench_case *c, size_t i, bool found, uint64_t val)
{
	if (!found)
		return bad_mapping(impl, c, c->va[i], "not found");
	if (val != pa_of(c, i))
		return bad_mapping(impl, c, c->va[i], "value");
	return 0;
}

