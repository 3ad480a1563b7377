/* SPDX-License-Identifier: MIT */
/*
 * pgbench --workload mdb: the mapping database (<pgtable/mdb.h>, issue 19).
 *
 * For 4K and 2M origins, and N = 10^3, 10^4, ... derived mappings: a root
 * space gets physical memory (map_phys); a tree of spaces, fan-out F and
 * depth D, each maps the range from its parent (map); one space at the
 * bottom grants its range to a spare space (grant); then the root revokes
 * read access (unmap), which removes every derived mapping in every space.
 * Reported per mapping: map, grant and revoke time, the tlb_flush calls of
 * the revocation (one per space is the design), and the bytes the
 * database asks per node. Revocation must cost the same per mapping at
 * every N: the design's "linear in the mappings removed".
 *
 * Each result is checked: pgt_mdb_verify finds nothing after the build,
 * and the revocation leaves the root's mappings only.
 */
#define _GNU_SOURCE
#include "pgbench_mdb.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <pgtable/arch.h>
#include <pgtable/mdb.h>

/* Derived ranges start at 512 GiB: aligned to every page size. */
#define MDB_VA ((pgt_vaddr_t)1 << 39)
#define MDB_PA ((pgt_paddr_t)1 << 32)
#define MDB_RW (PGT_PROT_READ | PGT_PROT_WRITE)

/** The allocators' books: tables from aligned_alloc, nodes from malloc. */
struct mdb_books {
	long nodes;       /**< node allocations outstanding (attachment records included) */
	bool mapping;     /**< map calls run: every allocation is a node */
	size_t node_size; /**< the size the database asks for a node */
	long flushes;     /**< tlb_flush calls */
};

static pgt_paddr_t table_alloc(void *ctx, size_t size, unsigned level)
{
	(void)ctx;
	(void)level;
	void *p = aligned_alloc(size, size);
	return p ? (pgt_paddr_t)(uintptr_t)p : PGT_PADDR_NONE;
}

static void table_free(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	(void)ctx;
	(void)size;
	(void)level;
	free((void *)(uintptr_t)pa);
}

static void count_flush(void *ctx, pgt_vaddr_t va, uint64_t size)
{
	(void)va;
	(void)size;
	((struct mdb_books *)ctx)->flushes++;
}

static void *node_alloc(void *ctx, size_t size)
{
	struct mdb_books *b = ctx;
	void *p = malloc(size);

	if (p) {
		b->nodes++;
		if (b->mapping)
			b->node_size = size;
	}
	return p;
}

static void node_free(void *ctx, void *node, size_t size)
{
	(void)size;
	((struct mdb_books *)ctx)->nodes--;
	free(node);
}

static uint64_t mdb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/** One measurement: the figures of one (origin size, N). */
struct mdb_row {
	size_t derived;          /**< mappings derived from the root */
	double map_ns, grant_ns; /**< per mapping made */
	double revoke_ns;        /**< per mapping removed */
	long revoke_flushes;     /**< tlb_flush calls of the revocation */
	size_t spaces;           /**< spaces the revocation reached */
	size_t node_bytes;       /**< what the database asks per node */
	bool ok;
};

/** Spaces of a complete tree of fan-out @p f and depth @p d, the root excluded. */
static size_t tree_spaces(unsigned f, unsigned d)
{
	size_t n = 0, level = 1;

	for (unsigned i = 0; i < d; i++) {
		level *= f;
		n += level;
	}
	return n;
}

/**
 * Builds the tree for about @p n derived mappings of @p origin bytes each,
 * grants, revokes, and checks. Space 0 is the root, 1..S the tree in
 * breadth-first order (the parent of space i is (i - 1) / f), S + 1 the
 * grant's receiver.
 */
static struct mdb_row run_tree(const struct pgt_arch *a, uint64_t origin, size_t n, unsigned f, unsigned d)
{
	struct mdb_books books = { 0 };
	struct pgt_mm mm = {
		.alloc_table = table_alloc, .free_table = table_free, .tlb_flush = count_flush, .ctx = &books
	};
	struct pgt_mdb_mm nm = { .alloc_node = node_alloc, .free_node = node_free, .ctx = &books };
	size_t s = tree_spaces(f, d), leaves = (n + s - 1) / s;
	pgt_space_t *sp = calloc(s + 2, sizeof *sp);
	struct mdb_row row = { .derived = s * leaves, .spaces = s };
	pgt_mdb_t db;
	uint64_t size = leaves * origin;
	/* one origin past an aligned address: the next larger leaf size never fits */
	pgt_vaddr_t va = MDB_VA + origin;
	int rc = sp ? pgt_mdb_init(&db, &nm) : PGT_ENOMEM;

	for (size_t i = 0; i < s + 2 && rc == PGT_OK; i++) {
		rc = pgt_space_init(&sp[i], a, &mm, PGT_SPACE_LINKS);
		rc = rc ? rc : pgt_mdb_attach(&db, &sp[i]);
	}
	rc = rc ? rc : pgt_mdb_map_phys(&db, &sp[0], va, MDB_PA, size, MDB_RW);
	books.mapping = true;
	uint64_t t0 = mdb_now_ns();
	for (size_t i = 1; i <= s && rc == PGT_OK; i++)
		rc = pgt_mdb_map(&db, &sp[(i - 1) / f], va, &sp[i], va, size, MDB_RW);
	uint64_t t1 = mdb_now_ns();
	books.mapping = false;
	row.node_bytes = books.node_size;
	rc = rc ? rc : pgt_mdb_grant(&db, &sp[s], va, &sp[s + 1], va, size, MDB_RW);
	uint64_t t2 = mdb_now_ns();
	row.ok = rc == PGT_OK && pgt_mdb_verify(&db, NULL, NULL) == 0;
	long before = books.nodes, flushes = books.flushes;
	uint64_t t3 = mdb_now_ns();
	rc = rc ? rc : pgt_mdb_unmap(&db, &sp[0], va, size, PGT_PROT_READ);
	uint64_t t4 = mdb_now_ns();
	long removed = before - books.nodes;
	row.revoke_flushes = books.flushes - flushes;
	/* left: the root's leaves and one record per space */
	row.ok = row.ok && rc == PGT_OK && removed == (long)row.derived &&
		 pgt_mdb_verify(&db, NULL, NULL) == 0;
	row.map_ns = (double)(t1 - t0) / (double)row.derived;
	row.grant_ns = (double)(t2 - t1) / (double)leaves;
	row.revoke_ns = (double)(t4 - t3) / (double)(removed > 0 ? removed : 1);
	if (rc != PGT_OK)
		fprintf(stderr, "pgbench: mdb: %s\n", pgt_strerror(rc));
	pgt_mdb_destroy(&db);
	for (size_t i = 0; sp && i < s + 2; i++)
		pgt_space_destroy(&sp[i]);
	free(sp);
	row.ok = row.ok && books.nodes == 0;
	return row;
}

bool pgbench_mdb(const struct pgt_arch *a, size_t n_max, unsigned fanout, unsigned depth)
{
	static const uint64_t origins[] = { 4096, (uint64_t)2 << 20 };
	bool ok = true;

	printf("\nmdb on %s: a tree of fan-out %u and depth %u (%zu spaces) maps from a root, one of them\n"
	       "grants, the root revokes; ns per mapping made (map, grant) or removed (revoke)\n",
	       a->name, fanout, depth, tree_spaces(fanout, depth));
	printf("%-7s %9s %10s %10s %10s %9s %11s\n", "origin", "derived", "map ns", "grant ns", "revoke ns",
	       "flushes", "node bytes");
	for (size_t o = 0; o < sizeof origins / sizeof origins[0]; o++) {
		for (size_t n = 1000; n <= n_max; n *= 10) {
			struct mdb_row r = run_tree(a, origins[o], n, fanout, depth);
			printf("%-7s %9zu %10.1f %10.1f %10.1f %9ld %11zu%s\n", o ? "2M" : "4K", r.derived,
			       r.map_ns, r.grant_ns, r.revoke_ns, r.revoke_flushes, r.node_bytes,
			       r.ok ? "" : "  WRONG");
			ok = ok && r.ok;
		}
	}
	return ok;
}
