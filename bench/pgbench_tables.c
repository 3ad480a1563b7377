/* SPDX-License-Identifier: MIT */
/*
 * pgbench's columns and rows, in the order printed. A new implementation
 * is one file and one line in impls[]; a new row one struct row and one
 * line in rows[].
 */
#include "pgbench.h"

/** libpgtable first: the limit baseline walks the tree it builds. */
const struct impl *const impls[] = { &lib_impl, &limit_impl, &call_impl, &ghash_impl, &judy_impl, &oa_impl };
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
