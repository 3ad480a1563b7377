/* SPDX-License-Identifier: MIT */
/*
 * pgbench's internal interface: the workloads (bench/pgbench_case.c), the
 * implementations compared (one file each: pgbench_lib.c, pgbench_limit.c,
 * pgbench_ghash.c, pgbench_judy.c, pgbench_oa.c), the rows
 * (pgbench_rows.c, pgbench_rows_update.c) and the tables that list them
 * (pgbench_tables.c), used by the driver (pgbench.c).
 *
 * A new implementation is one file defining a struct impl, and its line in
 * impls[] with its declaration beside it; a new row is a struct row, and
 * its line in rows[] with its declaration. A row that needs an operation
 * the implementations do not have yet adds that member to struct impl,
 * and each implementation that has the operation fills it in (the others
 * leave it NULL, and the row's unavailable() says so).
 */
#ifndef PGBENCH_H
#define PGBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pgtable/arch.h>
#include <pgtable/pgtable.h>

/* Functions other parts of the library provide; absent ones are NULL. */
#pragma weak pgt_map
#pragma weak pgt_unmap
#pragma weak pgt_translate

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The sparse window the mappings are spread over: 64 GiB. */
#define WINDOW_SHIFT 36
/* Fake physical pages start at 4 GiB: aligned to every page size used, and
 * inside every descriptor's output-address width. */
#define PA_BASE      ((uint64_t)1 << 32)

#define FULL_N      ((size_t)1 << 20)
#define QUICK_N     ((size_t)1 << 16)
#define FULL_HOT    100000000u /* hot-4k lookups */
#define QUICK_HOT   10000000u
#define HOT_PAGES   512u
#define HOT_SEQ     16384u /* distinct addresses of the hot sequence (128 KiB: L2) */
#define FULL_REPS   5u
#define QUICK_REPS  3u
#define MAX_REPS    1000u
#define TLB_ENTRIES 4096u
#define TLB_WAYS    2u
#define RW          (PGT_PROT_READ | PGT_PROT_WRITE)

/* Frames come from 32 MiB chunks aligned to 2 MiB (more than any table size). */
#define ARENA_CHUNK ((size_t)32 << 20)
#define ARENA_ALIGN ((size_t)2 << 20)

/* Bounds of the tables (checked where the tables are defined). */
#define MAX_IMPLS 8
#define MAX_ROWS  16

/* ------------------------------------------------------------------------- */
/* Utilities (pgbench_case.c)                                                */
/* ------------------------------------------------------------------------- */

/** Allocation failure is not something a benchmark can work around: these exit. */
void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
/** Monotonic nanoseconds: immune to clock adjustments during a run. */
uint64_t now_ns(void);
/** Bytes the C heap has handed out, or -1 where the C library cannot tell. */
long long heap_in_use(void);
/** Keeps freed memory in the process, so timed passes do not pay page faults. */
void keep_heap(void);

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
	char **chunk;                 /**< chunks obtained so far */
	size_t nchunk;                /**< how many */
	size_t inuse;                 /**< chunks in use since the last reset (the last one is current) */
	size_t used;                  /**< bytes used in the current chunk */
	size_t bytes;                 /**< bytes handed out since the last reset */
	size_t freed;                 /**< bytes given back since the last reset */
	void *free_list[ARENA_SIZES]; /**< freed frames, linked through their first word */
};

/** One more chunk; exits when there is no memory. */
void arena_grow(struct arena *a);
void arena_reset(struct arena *a);
void arena_release(struct arena *a);
/* The pgt_mm hooks over an arena (ctx). Physical address == pointer. */
pgt_paddr_t arena_alloc_table(void *ctx, size_t size, unsigned level);
void arena_free_table(void *ctx, pgt_paddr_t pa, size_t size, unsigned level);

/** @p size bytes aligned to @p size (a power of two), contents undefined; NULL for a bad size. */
void *arena_alloc(struct arena *a, size_t size);
/** Puts a frame arena_alloc gave on its size's free list. */
void arena_free(struct arena *a, void *p, size_t size);

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
	const char *name; /**< the workload */
	const char *what; /**< one line saying what it does */
	const struct pgt_arch *arch;
	unsigned shift;     /**< log2 of the page size (churn: of the small pages) */
	size_t n;           /**< mappings built by insert and map */
	pgt_vaddr_t base;   /**< start of the window */
	uint64_t *va;       /**< page addresses, in insert order; mapping i -> pa_of(i) */
	bool va_contiguous; /**< va[i] = base + (i << shift): map can be one call */
	uint64_t *hit;      /**< lookup sequence (any byte of mapped pages) */
	uint32_t *hit_idx;  /**< the mapping each hit falls in */
	size_t nhit;
	unsigned rounds;      /**< the lookup sequence runs this many times per pass */
	uint64_t hit_pa_sum;  /**< one pass of hit[]: sum of the pages' physical addresses */
	uint64_t hit_pa_osum; /**< the same with the offset in the page */
	uint64_t *miss;       /**< unmapped addresses (none: nmiss 0) */
	size_t nmiss;
	/* churn */
	struct churn_op *ops; /**< timed steps */
	size_t nops;
	struct churn_op *init; /**< mappings present before the steps (untimed) */
	size_t ninit;
	struct churn_op *final; /**< what is mapped after the steps, for the check */
	size_t nfinal;
	/**
	 * The unmap-sparse row's pages: one small page in each of nsparse leaf
	 * tables, sparse[i] -> pa_of(i); none (0) where the case has no such row.
	 */
	uint64_t *sparse;
	size_t nsparse;
	/**
	 * libpgtable's tree, published by its insert and walked by the limit
	 * baseline; valid until the case's implementations are closed.
	 */
	const pgt_space_t *lib_space;
};

/** The physical address mapping i gets: distinct, aligned, and checkable. */
static inline uint64_t pa_of(const struct bench_case *c, size_t i)
{
	return PA_BASE + ((uint64_t)i << c->shift);
}

/**
 * Pages per table of the smallest pages when the case maps whole tables of
 * consecutive such pages from a table boundary, else 0 (no map-into row).
 */
static inline size_t table_run(const struct bench_case *c)
{
	const struct pgt_level *L = &c->arch->level[0];
	size_t per = (size_t)1 << L->bits;

	if (!c->va_contiguous || c->shift != L->shift || c->n < per || (c->base & ((per << c->shift) - 1)))
		return 0;
	return per;
}

/** The key the hash baselines use: virtual page number at this page size. */
static inline uint64_t vpn_of(const struct bench_case *c, uint64_t va)
{
	return va >> c->shift;
}

/** Operations in one timed pass of the lookup sequence. */
static inline size_t lookups_per_pass(const struct bench_case *c)
{
	return c->nhit * c->rounds;
}

/** The workloads, by name. */
enum wl { WL_SEQ, WL_RAND, WL_HOT, WL_HUGE_2M, WL_HUGE_1G, WL_CHURN, WL_COUNT };
extern const char *const wl_name[WL_COUNT];

/** The smallest page shift (k 0) and the next two of @p a (0 when missing). */
unsigned leaf_shift(const struct pgt_arch *a, unsigned k);
/** Builds one case deterministically; false when the descriptor lacks its page size. */
bool case_init(struct bench_case *c, const struct pgt_arch *arch, enum wl w, size_t n, size_t hot);
void case_free(struct bench_case *c);
/** Reports a mapping that does not hold what was inserted; returns -1. */
int bad_mapping(const char *impl, const struct bench_case *c, uint64_t va, const char *what);
/** What a VPN-keyed map must answer for mapping i, given its answer. 0 if right. */
int check_vpn_value(const char *impl, const struct bench_case *c, size_t i, bool found, uint64_t val);

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
	/** Why map_build, map_into and map_odd cannot run here, or NULL. */
	const char *(*map_unavailable)(const struct bench_case *c);
	/** Timed, optional: each odd-numbered page mapped by its own one-page call (pgt_map). 0 on success.
	 */
	int (*map_odd)(void *st, struct bench_case *c);
	/** Untimed: checks every odd-numbered page is mapped, PADDR and rights. 0 if right. */
	int (*map_odd_check)(void *st, const struct bench_case *c);
	/** Untimed, optional: a fresh structure holding c->sparse[i] -> pa_of(i). 0 on success. */
	int (*sparse_build)(void *st, struct bench_case *c);
	/** Timed, optional: removes the pages va[0..n) (of the case's page size), one call each. 0 on
	 * success. */
	int (*unmap)(void *st, struct bench_case *c, const uint64_t *va, size_t n);
	/** Untimed: checks none of va[0..n) is mapped any more. 0 if right. */
	int (*unmap_check)(void *st, const struct bench_case *c, const uint64_t *va, size_t n);
	/** Why unmap cannot run here, or NULL. */
	const char *(*unmap_unavailable)(const struct bench_case *c);
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
	/** Why churn cannot run here, or NULL. */
	const char *(*churn_unavailable)(const struct bench_case *c);
	/**
	 * Bytes per mapping of what build made, or < 0 when unknown. @p heap_delta
	 * is the C heap growth over the last build (-1 unknown); *estimated is set
	 * when the figure is not exact.
	 */
	double (*bytes)(void *st, const struct bench_case *c, long long heap_delta, bool *estimated);
};

/** The columns (pgbench_tables.c, which declares each implementation). libpgtable first: the limit baseline
 * walks the tree it builds. */
extern const struct impl *const impls[];
extern const size_t nimpls;

/* ------------------------------------------------------------------------- */
/* Rows                                                                      */
/* ------------------------------------------------------------------------- */

/** One row of the tables: an operation, timed for every implementation that has it. */
struct row {
	const char *name;
	/**
	 * The row whose baseline cells this row's libpgtable figure is compared
	 * with: itself, or an operation of the same kind (map with insert).
	 */
	const struct row *baseline;
	/** Whether the case has this row at all. */
	bool (*in_case)(const struct bench_case *c);
	/** Why @p im cannot run it here ("" when that needs no note), or NULL. */
	const char *(*unavailable)(const struct impl *im, const struct bench_case *c);
	/** Untimed, before each pass. 0 on success. */
	int (*prepare)(const struct impl *im, void *st, struct bench_case *c);
	/** Timed: one pass. 0 when its result is right. */
	int (*run)(const struct impl *im, void *st, struct bench_case *c, uint64_t hit_sum);
	/**
	 * Untimed, after the timed passes: the state they left is right. Rows
	 * that build set *hit_sum, the checksum later lookup passes must give.
	 */
	bool (*check)(const struct impl *im, void *st, struct bench_case *c, uint64_t *hit_sum);
	/** Operations in one pass. */
	size_t (*ops)(const struct bench_case *c);
	/** The row builds the whole case: its check gives the lookup checksum printed. */
	bool builds_case;
};

/*
 * The rows other files name: the baselines of other rows, and insert, whose
 * build the driver measures the memory of. pgbench_tables.c declares the
 * rest.
 */
extern const struct row row_insert, row_insert_into;

/** The rows in the order printed (pgbench_tables.c). */
extern const struct row *const rows[];
extern const size_t nrows;

/** Every hit found rounds times, and the checksum is @p want for each pass of hit[]. 0 if so. */
int lookups_right(const struct bench_case *c, lookup_fn f, void *st, uint64_t want);

#endif /* PGBENCH_H */
