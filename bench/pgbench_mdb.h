/* SPDX-License-Identifier: MIT */
/*
 * pgbench's mapping-database workload (bench/pgbench_mdb.c): its own
 * table, outside the baseline comparisons of the other workloads.
 */
#ifndef PGBENCH_MDB_H
#define PGBENCH_MDB_H

#include <stdbool.h>
#include <stddef.h>

#include <pgtable/pgtable.h>

/**
 * Runs the workload on @p a for 10^3, 10^4, ... up to @p n_max derived
 * mappings, with 4K and 2M origins, and prints one table.
 * @return whether every result was verified
 */
bool pgbench_mdb(const struct pgt_arch *a, size_t n_max, unsigned fanout, unsigned depth);

#endif /* PGBENCH_MDB_H */
