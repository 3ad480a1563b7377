/* SPDX-License-Identifier: MIT */
/*
 * pgbench's columns and rows, in the order printed. A new implementation
 * is one file, its declaration here and one line in impls[]; a new row a
 * struct row, its declaration here and one line in rows[].
 */
#include "pgbench.h"

/* The implementations, one file each. */
extern const struct impl lib_impl;   /* pgbench_lib.c */
extern const struct impl limit_impl; /* pgbench_limit.c */
extern const struct impl call_impl;  /* pgbench_limit.c */
extern const struct impl ghash_impl; /* pgbench_ghash.c */
extern const struct impl judy_impl;  /* pgbench_judy.c */
extern const struct impl oa_impl;    /* pgbench_oa.c */

/* The rows (pgbench.h declares insert and insert-into, which others name). */
extern const struct row row_map, row_map_into;                  /* pgbench_rows.c */
extern const struct row row_lookup, row_translate, row_tlb;     /* pgbench_rows.c */
extern const struct row row_lookup_miss, row_churn;             /* pgbench_rows.c */
extern const struct row row_map_1, row_unmap, row_unmap_sparse; /* pgbench_rows_update.c */

/** libpgtable first: the limit baseline walks the tree it builds. */
const struct impl *const impls[] = {
	&lib_impl, &limit_impl, &call_impl, &ghash_impl, &judy_impl, &oa_impl,
};
const size_t nimpls = ARRAY_LEN(impls);
_Static_assert(ARRAY_LEN(impls) <= MAX_IMPLS, "raise MAX_IMPLS");

/*
 * Rows run in this order on each implementation. Rows that look the case
 * up need it whole: they come after the rows that build it, and before the
 * rows that take it apart (map-1 leaves it whole; unmap and unmap-sparse
 * do not, so they come last).
 */
const struct row *const rows[] = {
	&row_insert,
	&row_insert_into,
	&row_map,
	&row_map_into,
	&row_lookup,
	&row_translate,
	&row_tlb,
	/* the fast rows (inline walks of <pgtable/fast.h>) go here, after tlb */
	&row_lookup_miss,
	&row_churn,
	&row_map_1,
	&row_unmap,
	&row_unmap_sparse,
};
const size_t nrows = ARRAY_LEN(rows);
_Static_assert(ARRAY_LEN(rows) <= MAX_ROWS, "raise MAX_ROWS");
