/* SPDX-License-Identifier: MIT */
/*
 * The abstract model of the mapping database (seed 001, sections 3.1-3.3,
 * with rights as MDB.md defines them), shared by tests/check_mdb.c and the
 * fuzzer (tests/fuzz/fuzz_mdb.c), with what both need around it: a node
 * allocator that keeps books and fails on request, and a descriptor with
 * eight-entry tables, whose superpages fit the model's small windows.
 *
 * The model keeps, for every page of every space, sigma(n, v): nothing,
 * Virtual n' v' or Real r, and the mapping's rights. Its flush is written
 * from the definitions, not from the library's algorithm: the pages that
 * reach (n, v) through paths lose the rights, then every page without
 * READ, or whose origin is no longer mapped, goes, until nothing changes.
 * Lookup follows the path to Real r.
 */
#ifndef PGT_TESTS_MDB_MODEL_H
#define PGT_TESTS_MDB_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include <pgtable/arch.h>
#include <pgtable/mdb.h>

/* Spaces, and pages of each space's window, the model follows. */
enum { NSPACES = 5, WINDOW = 24 };

#define RIGHTS (PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC)

/* --- node memory with books and failure injection --- */

struct node_mm {
	struct pgt_mdb_mm mm;
	long allocs, frees, attempts, fail_at, errors;
	size_t size; /**< the size every call asked for, for the frees to match */
};

void node_mm_init(struct node_mm *m);

/** Eight entries per table, three levels, superpages of eight pages at level 1. */
extern const struct pgt_arch tiny_arch;
/** Eight entries per table, two levels, leaves of eight pages in the root. */
extern const struct pgt_arch tiny_root_arch;

/* --- the model --- */

/** sigma(n, v) of one page: nothing, Virtual (sp, pg) or Real pa; and its rights. */
struct mpage {
	bool valid;
	int sp, pg;  /**< origin: Virtual sp pg, or sp < 0 for Real */
	uint64_t pa; /**< Real: the physical page */
	unsigned prot;
};

struct model {
	struct mpage p[NSPACES][WINDOW];
};

/** flush1 (@p self) and unmap1 (not self) of MDB.md, for page @p pg of space @p sp. */
void model_revoke(struct model *m, int sp, int pg, unsigned r, bool self);
/** map1: page @p pg of @p sp to page @p dpg of @p dsp with rights @p p. */
void model_map(struct model *m, int sp, int pg, int dsp, int dpg, unsigned p);
/** grant1. */
void model_grant(struct model *m, int sp, int pg, int dsp, int dpg, unsigned p);
/** map_phys1: page @p pg of @p sp becomes a root translating to @p pa. */
void model_phys(struct model *m, int sp, int pg, uint64_t pa, unsigned p);
/** Lookup: the physical page at the end of the path, and the path's length in *depth. */
uint64_t model_lookup(const struct model *m, int sp, int pg, unsigned *depth);

#endif /* PGT_TESTS_MDB_MODEL_H */
