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
 * (pgt_tlb_lookup through a 4096-entry 2-way TLB), lookup-miss, churn,
 * map-1 (a one-page pgt_map of each odd-numbered page into the tables the
 * even-numbered ones made), unmap (one pgt_unmap per page, in order) and
 * unmap-sparse (one page in each of many leaf tables, each unmap emptying
 * its table). Each row is compared with the baselines' operation of the
 * same kind (insert, lookup, miss, churn, unmap; insert-into, map-into and
 * map-1 with the limit's walk and stores only; translate with a baseline's
 * own translate where it has one, fast's, else with its lookup).
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
 * Files: this driver (options, measurement, output); pgbench.h, the
 * interface between the parts; pgbench_case.c, the workloads, the arena and
 * the rng; one file per implementation (pgbench_lib.c, pgbench_limit.c for
 * limit and call, pgbench_ghash.c, pgbench_judy.c, pgbench_oa.c); the rows
 * (pgbench_rows.c, pgbench_rows_update.c); pgbench_tables.c, which lists
 * both in the order printed; pgbench_mdb.c, the mapping-database workload.
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

#include <pgtable/arch.h>
#include <pgtable/armv8.h>
#include <pgtable/pgtable.h>
#include <pgtable/x86_64.h>

#include "pgbench.h"
#include "pgbench_mdb.h"

#ifndef CPU_SETSIZE
#define CPU_SETSIZE 1024 /* only bounds --pin's argument where sched.h has no CPU sets */
#endif

/* ------------------------------------------------------------------------- */
/* Measurement                                                               */
/* ------------------------------------------------------------------------- */

/** Where @p r is in rows[]: its cells' index. */
static size_t row_index(const struct row *r)
{
	size_t i = 0;

	while (i < nrows && rows[i] != r)
		i++;
	return i;
}

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
	struct cell cell[MAX_ROWS][MAX_IMPLS]; /**< indexed like rows[] and impls[] */
	struct mem_cell mem[MAX_IMPLS];
	const char *na[MAX_IMPLS]; /**< why an implementation did not run at all */
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
static struct cell measure(const struct impl *im, void *st, struct bench_case *c, const struct row *r,
			   uint64_t hit_sum, unsigned reps, long long *heap_delta)
{
	double *ns = xmalloc(reps * sizeof *ns);
	struct cell out = { .state = CELL_OK };

	for (unsigned k = 0; k <= reps && out.state == CELL_OK; k++) {
		if (r->prepare(im, st, c) != 0) {
			out.state = CELL_FAIL;
			break;
		}
		long long before = heap_in_use();
		uint64_t t0 = now_ns();
		int rc = r->run(im, st, c, hit_sum);
		uint64_t t1 = now_ns();
		*heap_delta = before < 0 ? -1 : heap_in_use() - before;
		if (rc != 0)
			out.state = CELL_FAIL;
		else if (k > 0)
			ns[k - 1] = (double)(t1 - t0) / (double)r->ops(c);
	}
	if (out.state == CELL_FAIL)
		fprintf(stderr, "pgbench: %s %s on %s, %s: wrong result\n", im->name, r->name, c->arch->name,
			c->name);
	else
		summarize(ns, reps, &out);
	free(ns);
	return out;
}

/** Runs every row of implementation @p k; returns its state for closing later. */
static void *run_impl(size_t k, struct bench_case *c, unsigned reps, struct case_result *res)
{
	const struct impl *im = impls[k];
	void *st = im->open(c);
	long long heap_delta = -1;
	uint64_t hit_sum = 0;
	bool ok = true;

	for (size_t r = 0; r < nrows; r++) {
		const struct row *row = rows[r];
		struct cell *cell = &res->cell[r][k];
		long long delta;
		if (!row->in_case(c))
			continue;
		cell->na = row->unavailable(im, c);
		if (cell->na) {
			cell->state = CELL_NA;
			continue;
		}
		if (!ok) {
			cell->state = CELL_FAIL;
			continue;
		}
		*cell = measure(im, st, c, row, hit_sum, reps, &delta);
		ok = cell->state == CELL_OK && row->check(im, st, c, &hit_sum);
		cell->state = ok ? CELL_OK : CELL_FAIL;
		if (row == &row_insert)
			heap_delta = delta;
		if (k == 0 && row->builds_case)
			res->hit_sum = hit_sum;
	}
	res->mem[k].state = CELL_NA;
	if (ok && !c->nops && res->cell[row_index(&row_insert)][k].state == CELL_OK) {
		/* what the last insert built: rebuild it, as later rows may have changed it */
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
	void *st[MAX_IMPLS] = { 0 };
	bool ok = true;

	memset(res, 0, sizeof *res);
	for (size_t k = 0; k < nimpls; k++) {
		res->na[k] = impls[k]->unavailable ? impls[k]->unavailable(c) : NULL;
		if (c->nops && !impls[k]->churn && impls[k]->open)
			res->na[k] = NULL; /* its churn cell says why; an implementation not built says it here */
		if (!res->na[k])
			st[k] = run_impl(k, c, reps, res);
		else
			for (size_t r = 0; r < nrows; r++)
				res->cell[r][k] = (struct cell){ .state = CELL_NA, .na = res->na[k] };
	}
	for (size_t k = nimpls; k-- > 0;) {
		if (st[k])
			impls[k]->close(st[k]);
		for (size_t r = 0; r < nrows; r++)
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

/**
 * The cell a baseline shows in row @p r: its own, when it measured the
 * row itself (fast's translate: pgt_fast_translate), else its cell of the
 * row's baseline row (the limit's lookup for translate).
 */
static const struct cell *baseline_cell(const struct case_result *res, size_t r, size_t k)
{
	return res->cell[r][k].state == CELL_OK ? &res->cell[r][k] : &res->cell[row_index(rows[r]->baseline)][k];
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
	for (size_t k = 1; k < nimpls; k++)
		printf("%16s", impls[k]->name);
	printf("\n%-12s%8s%8s%8s%8s", "op (ns/op)", "min", "med", "max", "Mops/s");
	for (size_t k = 1; k < nimpls; k++)
		printf("%9s%7s", "ns", "ratio");
	printf("\n");
}

static void table_row(size_t r, const struct case_result *res)
{
	const struct cell *lib = &res->cell[r][0];

	printf("%-12s", rows[r]->name);
	put_num(lib->state, lib->min, 8, 1, "");
	put_num(lib->state, lib->med, 8, 1, "");
	put_num(lib->state, lib->max, 8, 1, "");
	put_num(lib->state, lib->med > 0 ? 1000.0 / lib->med : 0, 8, 2, "");
	for (size_t k = 1; k < nimpls; k++) {
		const struct cell *b = baseline_cell(res, r, k);
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
	for (size_t k = 1; k < nimpls; k++) {
		put_num(mem[k].state, mem[k].bytes, 9, 1, mem[k].estimated ? "~" : "");
		put_ratio(mem[0].state, mem[0].bytes, mem[k].state, mem[k].bytes);
	}
	printf("\n");
}

static void table_notes(const struct bench_case *c, const struct case_result *res)
{
	if (!c->nops && res->cell[row_index(&row_insert)][0].state == CELL_OK)
		printf("check: PADDR and rights of every mapping verified; lookup checksum 0x%016" PRIx64 "\n",
		       res->hit_sum);
	for (size_t k = 0; k < nimpls; k++) {
		if (res->na[k]) {
			printf("n/a: %s: %s\n", impls[k]->name, res->na[k]);
			continue;
		}
		for (size_t r = 0; r < nrows; r++)
			if (rows[r]->in_case(c) && res->cell[r][k].state == CELL_NA && res->cell[r][k].na &&
			    *res->cell[r][k].na)
				printf("n/a: %s %s: %s\n", impls[k]->name, rows[r]->name, res->cell[r][k].na);
	}
	for (size_t k = 0; k < nimpls; k++)
		if (res->mem[k].state == CELL_OK && res->mem[k].estimated)
			printf("~: %s bytes are the heap's growth during insert (mallinfo2)\n", impls[k]->name);
}

static void print_table(const struct bench_case *c, const struct case_result *res)
{
	table_head(c);
	for (size_t r = 0; r < nrows; r++)
		if (rows[r]->in_case(c))
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
	for (size_t r = 0; r < nrows; r++) {
		if (!rows[r]->in_case(c))
			continue;
		const struct cell *lib = &res->cell[r][0];
		size_t base = row_index(rows[r]->baseline);
		for (size_t k = 0; k < nimpls; k++) {
			const struct cell *x = &res->cell[r][k];
			if (k > 0 && base != r && x->state != CELL_OK)
				continue; /* a baseline's record of the row's baseline row stands for it */
			json_record(out, c, rows[r]->name, k, x->state, x->na);
			if (x->state == CELL_OK)
				printf(",\"min_ns\":%.3f,\"median_ns\":%.3f,\"max_ns\":%.3f,\"mops\":%.3f", x->min,
				       x->med, x->max, 1000.0 / x->med);
			if (k == 0 && x->state == CELL_OK) {
				printf(",\"ratio\":{");
				bool first = true;
				for (size_t b = 1; b < nimpls; b++) {
					const struct cell *y = baseline_cell(res, r, b);
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
	for (size_t k = 0; k < nimpls && !c->nops; k++) {
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
		"  --full         the published sizes (n %zu, hot %u lookups, %u passes), every descriptor\n"
		"  -n N           mappings (churn: steps) per workload\n"
		"  -r R           timed repetitions after one warm-up\n"
		"  --arch NAME    one descriptor, as pgt_arch_by_name knows it, or all (default: x86_64 and\n"
		"                 armv8-4k-48; --full: all)\n"
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

/* Every descriptor the library ships, in formats.h's order. */
static const struct pgt_arch *const shipped[] = {
#define PGT_FORMAT(desc, name, what) &desc,
#include <pgtable/formats.h>
#undef PGT_FORMAT
};
#define NSHIPPED ARRAY_LEN(shipped)

/**
 * The descriptors to run: --arch NAME, every shipped one (--arch all, or
 * --full without --arch: the published run covers every format), else the
 * default pair. 0 after printing why there are none.
 */
static size_t pick_archs(const struct options *o, const struct pgt_arch *out[NSHIPPED])
{
	bool all = o->arch ? strcmp(o->arch, "all") == 0 : o->full && !(o->only && strcmp(o->only, "mdb") == 0);

	if (all) {
		memcpy(out, shipped, sizeof shipped);
		return NSHIPPED;
	}
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
	       "        tlb = pgt_tlb_lookup, %u entries %u-way; baselines: page number -> pa;\n"
	       "        map-1 = one-page pgt_map of each odd-numbered page into the tables the even-numbered\n"
	       "        ones made (compared with insert-into); unmap = one pgt_unmap per page, in order;\n"
	       "        unmap-sparse = one page in each of n/32 leaf tables, each unmap empties its table\n"
	       "        (limit: its walk and one store; it frees no table)\n",
	       TLB_ENTRIES, TLB_WAYS);
	printf("limit:  hand-written walk with constant masks and no checks (lookups walk libpgtable's\n"
	       "        tables; insert builds the same format from the same arena)\n");
	printf("call:   the limit's walk and insert out of line, one call through a pointer per\n"
	       "        operation: what a library call costs before its first check\n");
	printf("open-addr: 2^k >= 2n slots of 16 bytes, linear probing, Fibonacci hash\n");
	printf("fast:   the inline walks of <pgtable/fast.h> (lookup, translate), the kind and flags\n"
	       "        chosen once per batch; its other rows are libpgtable's calls\n");
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
	const struct pgt_arch *archs[NSHIPPED];
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
