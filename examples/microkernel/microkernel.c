/* SPDX-License-Identifier: MIT */
/*
 * microkernel: three "processes" pass a buffer around with the L4
 * operations of <pgtable/mdb.h>, then the owner takes it back.
 *
 *  - sigma0 (the root pager) holds physical memory: pgt_mdb_map_phys.
 *  - The pager hands a 4-page buffer to a server, writable (map); the
 *    server shows it read-only to a client (map), and gives the client one
 *    page outright (grant: the client takes the server's place).
 *  - The pager then takes write access back from everyone (unmap WRITE)
 *    and finally revokes the buffer (flush): every space loses it, however
 *    it got there, without the pager knowing who had it.
 *
 * Nodes come from fixed pools with free lists, as a kernel would keep
 * them; tables from aligned_alloc. The tlb_flush hook only counts calls
 * (a kernel would run invlpg or tlbi there). Build it on its own with:
 *     cc -std=c11 -o microkernel microkernel.c $(pkg-config --cflags --libs pgtable)
 */
#define _ISOC11_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <pgtable/mdb.h>

#define PAGE      4096u
#define BUF_PA    0x200000ull /* the physical buffer */
#define BUF_PAGES 4u
#define RW        (PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_USER)
#define RO        (PGT_PROT_READ | PGT_PROT_USER)

/* ------------------------------------------------------------------------ */
/* Node memory: fixed pools, as a kernel keeps its mapping nodes.            */

/*
 * The database asks for two sizes: one node per mapped page, and one
 * larger record per attached space. Each gets a pool of fixed slots with a
 * free list; free_node is told the size, so it knows the pool.
 */
struct pool {
	size_t slot; /* bytes per slot */
	unsigned nfree;
	void *free[64];
};

#define SMALL_SLOT 128  /* a node (the library asks for less) */
#define LARGE_SLOT 1024 /* a space's record */
static _Alignas(16) unsigned char small_mem[64][SMALL_SLOT];
static _Alignas(16) unsigned char large_mem[4][LARGE_SLOT];
static struct pool small = { .slot = SMALL_SLOT }, large = { .slot = LARGE_SLOT };

static struct pool *pool_for(size_t size)
{
	return size <= SMALL_SLOT ? &small : size <= LARGE_SLOT ? &large : NULL;
}

static void *node_alloc(void *ctx, size_t size)
{
	struct pool *p = pool_for(size);

	(void)ctx;
	return p && p->nfree ? p->free[--p->nfree] : NULL;
}

static void node_free(void *ctx, void *node, size_t size)
{
	struct pool *p = pool_for(size);

	(void)ctx;
	p->free[p->nfree++] = node;
}

static void pools_init(void)
{
	for (unsigned i = 0; i < 64; i++)
		small.free[small.nfree++] = small_mem[i];
	for (unsigned i = 0; i < 4; i++)
		large.free[large.nfree++] = large_mem[i];
}

/* ------------------------------------------------------------------------ */
/* Table memory and the TLB                                                  */

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

static unsigned long tlb_flushes;

static void tlb_flush(void *ctx, pgt_vaddr_t va, uint64_t size)
{
	(void)ctx;
	(void)va;
	(void)size;
	tlb_flushes++;
}

/* ------------------------------------------------------------------------ */
/* The processes                                                             */

struct proc {
	const char *name;
	pgt_space_t sp;
	pgt_vaddr_t buf; /* where the buffer sits in this process */
};

static struct proc procs[] = {
	{ .name = "pager", .buf = 0x10000000 },
	{ .name = "server", .buf = 0x400000 },
	{ .name = "client", .buf = 0x7f0000000000 },
};
enum { PAGER, SERVER, CLIENT, NPROCS };

static int failures;

/** Prints what each process sees of the buffer, page by page, as its MMU would. */
static void show(const pgt_mdb_t *db, const char *when)
{
	printf("%s:\n", when);
	for (int p = 0; p < NPROCS; p++) {
		printf("  %-6s", procs[p].name);
		for (unsigned i = 0; i < BUF_PAGES; i++) {
			pgt_vaddr_t va = procs[p].buf + i * PAGE;
			pgt_paddr_t pa;
			struct pgt_mdb_origin o;
			int rd = pgt_translate(&procs[p].sp, va, PGT_ACC_READ | PGT_ACC_USER, &pa, NULL);
			int wr = pgt_translate(&procs[p].sp, va, PGT_ACC_WRITE | PGT_ACC_USER, NULL, NULL);
			if (rd != PGT_OK || pgt_mdb_origin(db, &procs[p].sp, va, &o) != PGT_OK) {
				printf("  ------------------");
				continue;
			}
			const char *from = o.space == NULL                ? "phys"
					   : o.space == &procs[PAGER].sp  ? "pager"
					   : o.space == &procs[SERVER].sp ? "server"
									  : "client";
			printf("  %#" PRIx64 " %s %-6s d%u", pa, wr == PGT_OK ? "rw" : "r-", from, o.depth);
		}
		printf("\n");
	}
	if (pgt_mdb_verify(db, NULL, NULL) != 0)
		failures++;
}

/** Checks one expectation, counting failures (the exit status). */
static void expect(int cond, const char *what)
{
	if (!cond) {
		printf("UNEXPECTED: %s\n", what);
		failures++;
	}
}

static int can(int p, unsigned page, unsigned access)
{
	return pgt_translate(&procs[p].sp, procs[p].buf + page * PAGE, access | PGT_ACC_USER, NULL, NULL) ==
	       PGT_OK;
}

int main(void)
{
	struct pgt_mm mm = { .alloc_table = table_alloc, .free_table = table_free, .tlb_flush = tlb_flush };
	struct pgt_mdb_mm nm = { .alloc_node = node_alloc, .free_node = node_free };
	pgt_mdb_t db;

	pools_init();
	if (pgt_mdb_init(&db, &nm) != PGT_OK)
		return 1;
	for (int p = 0; p < NPROCS; p++)
		if (pgt_space_init(&procs[p].sp, &pgt_arch_x86_64, &mm, PGT_SPACE_LINKS) != PGT_OK ||
		    pgt_mdb_attach(&db, &procs[p].sp) != PGT_OK)
			return 1;

	uint64_t size = BUF_PAGES * PAGE;
	int rc = pgt_mdb_map_phys(&db, &procs[PAGER].sp, procs[PAGER].buf, BUF_PA, size, RW);
	rc = rc ? rc
		: pgt_mdb_map(&db, &procs[PAGER].sp, procs[PAGER].buf, &procs[SERVER].sp, procs[SERVER].buf,
			      size, RW);
	rc = rc ? rc
		: pgt_mdb_map(&db, &procs[SERVER].sp, procs[SERVER].buf, &procs[CLIENT].sp, procs[CLIENT].buf,
			      size - PAGE, RO);
	rc = rc ? rc
		: pgt_mdb_grant(&db, &procs[SERVER].sp, procs[SERVER].buf + 3 * PAGE, &procs[CLIENT].sp,
				procs[CLIENT].buf + 3 * PAGE, PAGE, RW);
	if (rc != PGT_OK) {
		printf("setup: %s\n", pgt_strerror(rc));
		return 1;
	}
	show(&db, "after map_phys, map (pager -> server, server -> client read-only) and grant of page 3");
	expect(can(CLIENT, 3, PGT_ACC_WRITE) && !can(SERVER, 3, PGT_ACC_READ), "the grant moved page 3");
	expect(can(CLIENT, 0, PGT_ACC_READ) && !can(CLIENT, 0, PGT_ACC_WRITE),
	       "the client reads pages 0-2 only");

	unsigned long before = tlb_flushes;
	rc = pgt_mdb_unmap(&db, &procs[PAGER].sp, procs[PAGER].buf, size, PGT_PROT_WRITE);
	show(&db, "after the pager's unmap of WRITE");
	expect(rc == PGT_OK && can(PAGER, 0, PGT_ACC_WRITE), "the pager keeps its own rights");
	expect(!can(SERVER, 0, PGT_ACC_WRITE) && !can(CLIENT, 3, PGT_ACC_WRITE), "nobody else writes");
	printf("  tlb_flush calls: %lu (one per space that lost rights)\n", tlb_flushes - before);

	rc = pgt_mdb_flush(&db, &procs[PAGER].sp, procs[PAGER].buf, size, PGT_PROT_READ);
	show(&db, "after the pager's flush");
	for (int p = 0; p < NPROCS; p++)
		expect(rc == PGT_OK && !can(p, 0, PGT_ACC_READ) && !can(p, 3, PGT_ACC_READ),
		       "the buffer is gone");
	expect(small.nfree == 64, "every node is back");

	pgt_mdb_destroy(&db);
	for (int p = 0; p < NPROCS; p++)
		pgt_space_destroy(&procs[p].sp);
	expect(large.nfree == 4, "every record is back");
	printf("%s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
