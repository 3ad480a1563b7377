/* SPDX-License-Identifier: MIT */
/*
 * check_mdb: the mapping database (<pgtable/mdb.h>) against an executable
 * version of the paper's abstract model (seed 001, sections 3.1-3.3), with
 * rights as MDB.md defines them.
 *
 * The model is tests/mdb_model.c (shared with the fuzzer).
 *
 * After every step of long random sequences over five spaces: every page's
 * translation (pgt_translate, reads and writes) and origin (pgt_mdb_origin:
 * space, page, physical page, rights, depth) equal the model's, and
 * pgt_mdb_verify and pgt_verify are clean. Allocation failures (tables and
 * nodes) are injected at random: a failed call leaves every tree, every
 * origin, the tlb_flush count and the books as they were.
 * PGT_MDB_STEPS and PGT_MDB_SEED override the length and the seed.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pgtable/mdb.h>

#include "harness.h"
#include "mdb_model.h"

/* --- the system under test ---------------------------------------------------- */

/** The tlb_flush calls of one space during one call. */
struct flushes {
	int n;
	struct {
		pgt_vaddr_t va;
		uint64_t size;
	} call[256];
};

struct slot {
	pgt_space_t sp;
	struct test_mm t;
	struct flushes fl;
	unsigned flags;
	pgt_vaddr_t lo; /**< first page of the window */
};

struct run {
	const struct pgt_arch *a;
	uint64_t pg; /**< smallest page */
	uint64_t rng, seed;
	unsigned long step, ops, failed_ops, injected;
	unsigned long super_leaves; /**< leaves above level 0 seen after the steps, summed */
	struct slot s[NSPACES];
	struct node_mm nm;
	pgt_mdb_t db;
	struct model m;
};

#define RUN_FAIL(r, ...)                                                                           \
	do {                                                                                       \
		char msg_[300];                                                                    \
		snprintf(msg_, sizeof msg_, __VA_ARGS__);                                          \
		ck_abort_msg("%s: step %lu (replay: PGT_MDB_SEED=%#" PRIx64 "): %s", (r)->a->name, \
			     (r)->step, (r)->seed, msg_);                                          \
	} while (0)

static unsigned long opt_ulong(const char *name, unsigned long dflt)
{
	const char *v = getenv(name);
	return v && *v ? strtoul(v, NULL, 0) : dflt;
}

static void record_flush(struct test_mm *t, pgt_vaddr_t va, uint64_t size)
{
	struct flushes *f = t->on_flush_arg;

	if (f->n < 256) {
		f->call[f->n].va = va;
		f->call[f->n].size = size;
	}
	f->n++;
}

/**
 * Space k's window: around a boundary of level-0 tables (so tables come and
 * go), at the top of the upper half for one space (x86-64), in the upper
 * range for one (ARMv8), with the p2v hook for one.
 */
static void slot_open(struct run *r, int k)
{
	struct slot *s = &r->s[k];
	uint64_t table_span = r->pg << r->a->level[0].bits;

	if (table_span < WINDOW * r->pg) /* tiny tables: cross a level-1 table's edge instead */
		table_span <<= r->a->level[1].bits;

	test_mm_init(&s->t, k == 3 ? TEST_MM_HOOK : TEST_MM_OFFSET);
	s->flags = PGT_SPACE_LINKS;
	if (k == 1 && test_has_upper(r->a))
		s->flags |= PGT_SPACE_UPPER;
	s->t.on_flush = record_flush;
	s->t.on_flush_arg = &s->fl;
	ck_assert_int_eq(pgt_space_init(&s->sp, r->a, &s->t.mm, s->flags), PGT_OK);
	s->lo = test_va_bottom(r->a, s->flags) + (uint64_t)(k + 1) * table_span - (WINDOW / 2) * r->pg;
	if (r->a->levels == 2 && r->a->level[1].leaf_ok && r->a->level[0].bits == 3) {
		/*
		 * root leaves of eight pages: space 0's window is root entries 0-2, whose entry 0 holds
		 * the attachment mark while it has no leaf; the others' start inside a root entry and
		 * cross three more
		 */
		table_span = r->pg << r->a->level[0].bits;
		s->lo = test_va_bottom(r->a, s->flags) + (uint64_t)(k + 1) * table_span - 4 * r->pg;
		if (k == 0)
			s->lo = test_va_bottom(r->a, s->flags);
	}
	if (k == 1)
		s->lo = test_va_top(r->a, s->flags) - WINDOW * r->pg + 1;
	ck_assert_int_eq(pgt_mdb_attach(&r->db, &s->sp), PGT_OK);
}

static void run_open(struct run *r, const struct pgt_arch *a, uint64_t seed)
{
	memset(r, 0, sizeof *r);
	r->a = a;
	r->pg = 1ull << a->level[0].shift;
	r->seed = r->rng = seed;
	node_mm_init(&r->nm);
	ck_assert_int_eq(pgt_mdb_init(&r->db, &r->nm.mm), PGT_OK);
	for (int k = 0; k < NSPACES; k++)
		slot_open(r, k);
}

/** Destroys everything and checks the books: every node and table given back once. */
static void run_close(struct run *r)
{
	pgt_mdb_destroy(&r->db);
	ck_assert_int_eq(r->nm.allocs, r->nm.frees);
	ck_assert_int_eq(r->nm.errors, 0);
	for (int k = 0; k < NSPACES; k++) {
		struct slot *s = &r->s[k];
		ck_assert_uint_eq(test_mm_outstanding(&s->t), 1); /* the root */
		pgt_space_destroy(&s->sp);
		ck_assert_int_eq(s->t.errors, 0);
		ck_assert_int_eq(s->t.allocs, s->t.frees);
		test_mm_fini(&s->t);
	}
}

static pgt_vaddr_t va_of(const struct run *r, int k, int g)
{
	return r->s[k].lo + (uint64_t)g * r->pg;
}

static void report_problem(void *arg, const char *problem, const pgt_space_t *sp, pgt_vaddr_t va)
{
	(void)arg;
	fprintf(stderr, "mdb verify: %s (space %p, va %#" PRIx64 ")\n", problem, (const void *)sp, va);
}

static void report_tree_problem(void *arg, const char *problem, pgt_vaddr_t va, unsigned level)
{
	(void)arg;
	fprintf(stderr, "pgt_verify: %s (va %#" PRIx64 ", level %u)\n", problem, va, level);
}

/** One page of the system against the model: translation and origin. */
static void check_page(struct run *r, int k, int g)
{
	const struct mpage *x = &r->m.p[k][g];
	pgt_vaddr_t va = va_of(r, k, g);
	struct pgt_mdb_origin o;
	pgt_paddr_t pa = 0;
	int rc = pgt_mdb_origin(&r->db, &r->s[k].sp, va + 8, &o);
	int rd = pgt_translate(&r->s[k].sp, va + 8, PGT_ACC_READ, &pa, NULL);
	int wr = pgt_translate(&r->s[k].sp, va, PGT_ACC_WRITE, NULL, NULL);

	if (!x->valid) {
		if (rc != PGT_ENOENT || rd != PGT_EFAULT)
			RUN_FAIL(r, "space %d page %d: mapped (origin %d, read %d), the model has nothing", k,
				 g, rc, rd);
		return;
	}
	unsigned depth;
	uint64_t mpa = model_lookup(&r->m, k, g, &depth);
	if (rc != PGT_OK || rd != PGT_OK || pa != mpa + 8)
		RUN_FAIL(r, "space %d page %d: origin %d read %d pa %#" PRIx64 ", the model has %#" PRIx64, k,
			 g, rc, rd, pa, mpa);
	if ((wr == PGT_OK) != !!(x->prot & PGT_PROT_WRITE))
		RUN_FAIL(r, "space %d page %d: write %d, the model's rights %#x", k, g, wr, x->prot);
	const pgt_space_t *osp = x->sp < 0 ? NULL : &r->s[x->sp].sp;
	pgt_vaddr_t ova = x->sp < 0 ? 0 : va_of(r, x->sp, x->pg);
	if (o.space != osp || o.va != ova || o.pa != mpa || o.prot != x->prot || o.depth != depth)
		RUN_FAIL(r,
			 "space %d page %d: origin (%p %#" PRIx64 " pa %#" PRIx64
			 " prot %#x depth %u), model (%p %#" PRIx64 " prot %#x depth %u)",
			 k, g, (const void *)o.space, o.va, o.pa, o.prot, o.depth, (const void *)osp, ova,
			 x->prot, depth);
}

/** Everything against the model, and both verifiers clean. */
static void check_all(struct run *r)
{
	for (int k = 0; k < NSPACES; k++)
		for (int g = 0; g < WINDOW; g++)
			check_page(r, k, g);
	int problems = pgt_mdb_verify(&r->db, report_problem, NULL);
	if (problems != 0)
		RUN_FAIL(r, "pgt_mdb_verify: %d problems", problems);
	for (int k = 0; k < NSPACES; k++)
		if (pgt_verify(&r->s[k].sp, report_tree_problem, NULL) != 0)
			RUN_FAIL(r, "pgt_verify: space %d", k);
}

/** Whether a tlb_flush call of space @p k covered its page @p g. */
static bool flushed(const struct run *r, int k, int g)
{
	const struct flushes *f = &r->s[k].fl;
	pgt_vaddr_t va = va_of(r, k, g);

	for (int i = 0; i < f->n && i < 256; i++)
		if (va >= f->call[i].va && va + r->pg - 1 <= f->call[i].va + (f->call[i].size - 1))
			return true;
	return false;
}

/**
 * The tlb_flush hook heard of every page whose translation went or lost a
 * right (a page mapped elsewhere, too), in as many calls per space as the
 * operation allows: one for a revocation in a space without superpages
 * (@p supers: each space's superpage leaves before the call, or NULL); the
 * others add one per break-before-make replacement or split.
 */
static void check_flushes(struct run *r, const struct model *before, bool revocation,
			  const unsigned long supers[])
{
	for (int k = 0; k < NSPACES; k++) {
		/* a cut superpage is split first: a flush per split where the format breaks before making */
		if (revocation && r->s[k].fl.n > 1 && !(supers && supers[k]))
			RUN_FAIL(r, "space %d: %d tlb_flush calls for one revocation", k, r->s[k].fl.n);
		for (int g = 0; g < WINDOW; g++) {
			const struct mpage *x = &before->p[k][g], *y = &r->m.p[k][g];
			unsigned d0, d1;
			if (!x->valid)
				continue;
			bool lost = !y->valid || (x->prot & RIGHTS & ~y->prot) ||
				    model_lookup(before, k, g, &d0) != model_lookup(&r->m, k, g, &d1);
			if (lost && !flushed(r, k, g))
				RUN_FAIL(r, "space %d page %d: removed or downgraded, tlb_flush not told", k,
					 g);
		}
	}
}

static void flushes_reset(struct run *r)
{
	for (int k = 0; k < NSPACES; k++)
		r->s[k].fl.n = 0;
}

/* --- snapshots: "nothing changed" ----------------------------------------------- */

struct snap {
	pgt_pte_t *tree[NSPACES];
	size_t n[NSPACES];
	long flushes[NSPACES], tables[NSPACES];
	long nodes;
};

static void snap_take(struct run *r, struct snap *s)
{
	for (int k = 0; k < NSPACES; k++) {
		s->tree[k] = tree_snapshot(&r->s[k].sp, r->a, &r->s[k].t, &s->n[k]);
		s->flushes[k] = r->s[k].t.flushes;
		s->tables[k] = r->s[k].t.allocs - r->s[k].t.frees;
	}
	s->nodes = r->nm.allocs - r->nm.frees;
}

/** The trees (entries), tlb_flush calls and books are as in @p s; consumes @p s. */
static void snap_same(struct run *r, struct snap *s, const char *what)
{
	for (int k = 0; k < NSPACES; k++) {
		if (!tree_unchanged(&r->s[k].sp, r->a, &r->s[k].t, s->tree[k], s->n[k]))
			RUN_FAIL(r, "%s: space %d's tree changed", what, k);
		if (r->s[k].t.flushes != s->flushes[k] || r->s[k].t.allocs - r->s[k].t.frees != s->tables[k])
			RUN_FAIL(r, "%s: space %d's tlb_flush calls or table books changed", what, k);
	}
	if (r->nm.allocs - r->nm.frees != s->nodes)
		RUN_FAIL(r, "%s: node books changed", what);
}

static void snap_drop(struct snap *s)
{
	for (int k = 0; k < NSPACES; k++)
		free(s->tree[k]);
}

/* --- random operations ----------------------------------------------------------- */

enum op_kind { OP_PHYS, OP_MAP, OP_GRANT, OP_UNMAP, OP_FLUSH, OP_DETACH, OP_KINDS };

struct op {
	enum op_kind kind;
	int sp, pg, dsp, dpg, len;
	uint64_t pa;
	unsigned prot;
};

static unsigned rand_prot(uint64_t *rng, bool phys)
{
	static const unsigned rights[] = { PGT_PROT_READ, PGT_PROT_READ | PGT_PROT_WRITE,
					   PGT_PROT_READ | PGT_PROT_EXEC,
					   PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC };
	unsigned p = rights[test_rand(rng) % 4];
	uint64_t x = test_rand(rng);

	p |= (x & 1) ? PGT_PROT_USER : 0;
	p |= (x & 6) == 6 ? PGT_PROT_GLOBAL : 0;
	p |= phys && (x & 24) == 24 ? PGT_PROT_UNCACHED : 0;
	return p;
}

/** Pages in a leaf of level 1: small enough to fit a window only with tiny tables. */
static int superpage_pages(const struct run *r)
{
	return 1 << r->a->level[0].bits;
}

/** The first page of space k's window that starts a level-1 leaf. */
static int first_aligned(const struct run *r, int k)
{
	uint64_t span = r->pg * (uint64_t)superpage_pages(r);
	return (int)((((r->s[k].lo + span - 1) & ~(span - 1)) - r->s[k].lo) / r->pg);
}

/**
 * Reshapes @p o so superpages may be used or cut: one or two level-1
 * leaves long, starting where a leaf may start (or, sometimes, a page off),
 * from aligned physical memory.
 */
static void superpage_shaped(struct run *r, struct op *o)
{
	int sup = superpage_pages(r);
	uint64_t x = test_rand(&r->rng);

	o->len = (x & 1) && 2 * sup <= WINDOW - sup ? 2 * sup : sup;
	o->pg = first_aligned(r, o->sp) + sup * (int)((x >> 1) % 2);
	o->dpg = first_aligned(r, o->dsp) + sup * (int)((x >> 2) % 2);
	o->pa = (x >> 3) % 8 * (uint64_t)sup * r->pg;
	if ((x >> 6) % 4 == 0) { /* cut: one page off, or shorter */
		if (x & 128)
			o->pg += 1;
		o->len -= 1;
	}
	if (o->pg + o->len > WINDOW)
		o->pg = WINDOW - o->len;
	if (o->dpg + o->len > WINDOW)
		o->dpg = WINDOW - o->len;
}

static struct op rand_op(struct run *r)
{
	uint64_t *rng = &r->rng;
	struct op o = { .kind = (enum op_kind)(test_rand(rng) % 20) };

	/* mostly map and grant, which build the trees revocation then cuts */
	o.kind = o.kind < 3    ? OP_PHYS
		 : o.kind < 9  ? OP_MAP
		 : o.kind < 12 ? OP_GRANT
		 : o.kind < 15 ? OP_UNMAP
		 : o.kind < 19 ? OP_FLUSH
			       : OP_DETACH;
	o.len = 1 + (int)(test_rand(rng) % 4);
	o.sp = (int)(test_rand(rng) % NSPACES);
	o.dsp = (int)(test_rand(rng) % NSPACES);
	o.pg = (int)(test_rand(rng) % (WINDOW - o.len + 1));
	o.dpg = (int)(test_rand(rng) % (WINDOW - o.len + 1));
	o.pa = (test_rand(rng) % 64) * r->pg;
	o.prot = o.kind == OP_UNMAP || o.kind == OP_FLUSH ? (unsigned)(test_rand(rng) % 8)
							  : rand_prot(rng, o.kind == OP_PHYS);
	if (o.kind == OP_FLUSH && test_rand(rng) % 2)
		o.prot = RIGHTS; /* the paper's flush, often */
	if (superpage_pages(r) * 2 <= WINDOW && test_rand(rng) % 2)
		superpage_shaped(r, &o);
	return o;
}

/** Runs @p o on the library. */
static int op_do(struct run *r, const struct op *o)
{
	pgt_space_t *sp = &r->s[o->sp].sp, *dst = &r->s[o->dsp].sp;
	pgt_vaddr_t va = va_of(r, o->sp, o->pg), dva = va_of(r, o->dsp, o->dpg);
	uint64_t size = (uint64_t)o->len * r->pg;

	switch (o->kind) {
	case OP_PHYS: return pgt_mdb_map_phys(&r->db, sp, va, o->pa, size, o->prot);
	case OP_MAP: return pgt_mdb_map(&r->db, sp, va, dst, dva, size, o->prot);
	case OP_GRANT: return pgt_mdb_grant(&r->db, sp, va, dst, dva, size, o->prot);
	case OP_UNMAP: return pgt_mdb_unmap(&r->db, sp, va, size, o->prot);
	case OP_FLUSH: return pgt_mdb_flush(&r->db, sp, va, size, o->prot);
	default: {
		/* detach cannot fail; attaching again is only the test's way to keep the space */
		int rc = pgt_mdb_detach(&r->db, sp);
		long fail_at = r->nm.fail_at;
		r->nm.fail_at = 0;
		if (rc == PGT_OK)
			rc = pgt_mdb_attach(&r->db, sp);
		r->nm.fail_at = fail_at;
		return rc;
	}
	}
}

/** Runs @p o on the model, page by page in ascending order. */
static void op_model(struct model *m, const struct op *o, uint64_t pg)
{
	for (int i = 0; i < o->len; i++) {
		int g = o->pg + i, d = o->dpg + i;
		switch (o->kind) {
		case OP_PHYS: model_phys(m, o->sp, g, o->pa + (uint64_t)i * pg, o->prot); break;
		case OP_MAP: model_map(m, o->sp, g, o->dsp, d, o->prot); break;
		case OP_GRANT: model_grant(m, o->sp, g, o->dsp, d, o->prot); break;
		case OP_UNMAP: model_revoke(m, o->sp, g, o->prot, false); break;
		case OP_FLUSH: model_revoke(m, o->sp, g, o->prot, true); break;
		default:
			for (int p = 0; p < WINDOW; p++)
				if (m->p[o->sp][p].valid)
					model_revoke(m, o->sp, p, RIGHTS, true);
			return;
		}
	}
}

/**
 * Arms a failure at a random allocation of a random kind: a node, or a
 * table of the destination space. Returns whether one was armed.
 */
static bool arm_failure(struct run *r, const struct op *o)
{
	if (test_rand(&r->rng) % 6)
		return false;
	long n = 1 + (long)(test_rand(&r->rng) % 6);
	if (test_rand(&r->rng) & 1) {
		r->nm.fail_at = r->nm.attempts + n;
	} else {
		struct test_mm *t = &r->s[o->kind == OP_PHYS ? o->sp : o->dsp].t;
		t->fail_at = t->attempts + n;
	}
	return true;
}

static void disarm(struct run *r)
{
	r->nm.fail_at = 0;
	for (int k = 0; k < NSPACES; k++)
		r->s[k].t.fail_at = 0;
}

static int count_super(void *arg, const struct pgt_mapping *m)
{
	*(unsigned long *)arg += m->level > 0;
	return 0;
}

/** Superpage leaves in space k's window. */
static unsigned long supers_in(struct run *r, int k)
{
	unsigned long n = 0;

	(void)pgt_walk(&r->s[k].sp, r->s[k].lo, WINDOW * r->pg, count_super, &n);
	return n;
}

/** One random step: the call, the model, and the comparison. */
static void run_step(struct run *r)
{
	struct op o = rand_op(r);
	struct snap before;
	struct model old = r->m;
	unsigned long supers[NSPACES];
	bool armed = arm_failure(r, &o);

	for (int k = 0; k < NSPACES; k++)
		supers[k] = supers_in(r, k);
	if (armed)
		snap_take(r, &before);
	flushes_reset(r);
	int rc = op_do(r, &o);
	disarm(r);
	r->ops++;
	if (rc == PGT_ENOMEM && armed) {
		r->injected++;
		snap_same(r, &before, "failed call");
	} else if (rc != PGT_OK) {
		RUN_FAIL(r, "operation %d: status %d (%s)", (int)o.kind, rc, pgt_strerror(rc));
	} else {
		op_model(&r->m, &o, r->pg);
		if (armed)
			snap_drop(&before);
		check_flushes(r, &old, o.kind >= OP_UNMAP, supers);
	}
	check_all(r);
	for (int k = 0; k < NSPACES; k++)
		r->super_leaves += supers_in(r, k);
}

START_TEST(test_random_model)
{
	static const struct pgt_arch *const archs[] = { &pgt_arch_x86_64,
							&pgt_arch_armv8_4k_48,
							&pgt_arch_x86_64_la57,
							&pgt_arch_armv8_4k_39,
							&pgt_arch_armv8_16k_47,
							&pgt_arch_armv8_64k_42,
							&tiny_arch,
							&tiny_root_arch };
	/*
	 * about 15 s in all; the recorded run of 1.2 million operations (doc/RELIABILITY.md) is
	 * CK_RUN_CASE=random PGT_MDB_STEPS=150000 tests/check_mdb
	 */
	unsigned long dflt = test_slow_runner() ? 600 : _i < 2 || _i >= 6 ? 40000 : 8000;
	unsigned long steps = opt_ulong("PGT_MDB_STEPS", dflt);
	struct run *r = malloc(sizeof *r);

	ck_assert_ptr_nonnull(r);
	run_open(r, archs[_i], opt_ulong("PGT_MDB_SEED", 0x6d6462 + (uint64_t)_i));
	for (r->step = 1; r->step <= steps; r->step++)
		run_step(r);
	fprintf(stderr,
		"check_mdb: %s: %lu operations checked against the model, %lu allocation failures injected, "
		"%lu "
		"superpage leaves seen\n",
		r->a->name, r->ops, r->injected, r->super_leaves);
	if (superpage_pages(r) * 2 <= WINDOW) /* superpages fit the windows: the calls must make them */
		ck_assert_uint_ge(r->super_leaves, r->ops / 10);
	run_close(r);
	free(r);
}
END_TEST

/* --- edge cases ------------------------------------------------------------------- */

/** Runs @p o on both, expects success, compares everything. */
static void both(struct run *r, struct op o)
{
	int rc = op_do(r, &o);

	if (rc != PGT_OK)
		RUN_FAIL(r, "operation %d: status %d (%s)", (int)o.kind, rc, pgt_strerror(rc));
	op_model(&r->m, &o, r->pg);
	r->step++;
	check_all(r);
}

#define RWX (PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC)
#define PHYS(s, g, n, p) \
	((struct op){ .kind = OP_PHYS, .sp = (s), .pg = (g), .len = (n), .pa = 0x40000, .prot = (p) })
#define XFER(k, s, g, d, h, n, p) \
	((struct op){ .kind = (k), .sp = (s), .pg = (g), .dsp = (d), .dpg = (h), .len = (n), .prot = (p) })
#define REVOKE(k, s, g, n, p) ((struct op){ .kind = (k), .sp = (s), .pg = (g), .len = (n), .prot = (p) })

static bool mapped(struct run *r, int k, int g)
{
	struct pgt_mdb_origin o;
	return pgt_mdb_origin(&r->db, &r->s[k].sp, va_of(r, k, g), &o) == PGT_OK;
}

static struct pgt_mdb_origin origin(struct run *r, int k, int g)
{
	struct pgt_mdb_origin o = { 0 };
	ck_assert_int_eq(pgt_mdb_origin(&r->db, &r->s[k].sp, va_of(r, k, g), &o), PGT_OK);
	return o;
}

/** The paper's counterexample: map n v n' v', then grant n' v' n v. No loop, nothing left. */
START_TEST(test_counterexample)
{
	struct run r;

	run_open(&r, &pgt_arch_x86_64, 1);
	both(&r, PHYS(0, 0, 1, RWX));
	both(&r, XFER(OP_MAP, 0, 0, 1, 0, 1, RWX));
	both(&r, XFER(OP_GRANT, 1, 0, 0, 0, 1, RWX));
	ck_assert(!mapped(&r, 0, 0) && !mapped(&r, 1, 0));
	run_close(&r);
}
END_TEST

/** Mapping onto a page the source derives from removes the source: nothing is mapped. */
START_TEST(test_map_from_derived)
{
	struct run r;

	run_open(&r, &pgt_arch_armv8_4k_48, 2);
	both(&r, PHYS(0, 0, 1, RWX));
	both(&r, XFER(OP_MAP, 0, 0, 1, 0, 1, RWX));
	both(&r, XFER(OP_MAP, 1, 0, 2, 0, 1, PGT_PROT_READ));
	both(&r, XFER(OP_MAP, 2, 0, 0, 0, 1, RWX)); /* (0,0) is flushed: (1,0) and (2,0) go with it */
	ck_assert(!mapped(&r, 0, 0) && !mapped(&r, 1, 0) && !mapped(&r, 2, 0));
	run_close(&r);
}
END_TEST

/** src == dst: onto itself (nothing left), and overlapping ranges run in ascending order. */
START_TEST(test_same_space)
{
	struct run r;

	run_open(&r, &pgt_arch_x86_64, 3);
	both(&r, PHYS(0, 0, 1, RWX));
	both(&r, XFER(OP_MAP, 0, 0, 0, 0, 1, RWX));
	ck_assert(!mapped(&r, 0, 0));
	both(&r, PHYS(0, 0, 1, RWX));
	both(&r, XFER(OP_GRANT, 0, 0, 0, 0, 1, RWX));
	ck_assert(!mapped(&r, 0, 0));
	both(&r, PHYS(0, 0, 1, RWX));
	both(&r, XFER(OP_MAP, 0, 0, 0, 1, 3, RWX)); /* each page maps the one it just received */
	struct pgt_mdb_origin o = origin(&r, 0, 3);
	ck_assert(o.space == &r.s[0].sp && o.va == va_of(&r, 0, 2) && o.depth == 3);
	both(&r, XFER(OP_GRANT, 0, 1, 0, 2, 2, PGT_PROT_READ)); /* overlapping grant */
	run_close(&r);
}
END_TEST

/** Unmapped source pages are skipped: their destination pages are not flushed. */
START_TEST(test_source_holes)
{
	struct run r;

	run_open(&r, &pgt_arch_x86_64, 4);
	both(&r, PHYS(0, 0, 1, RWX));
	both(&r, PHYS(0, 2, 1, RWX));
	both(&r, PHYS(1, 1, 1, PGT_PROT_READ));
	both(&r, XFER(OP_MAP, 0, 0, 1, 0, 3, RWX));
	ck_assert(origin(&r, 1, 0).space == &r.s[0].sp);
	ck_assert(origin(&r, 1, 1).space == NULL); /* still its own root */
	ck_assert(origin(&r, 1, 2).va == va_of(&r, 0, 2));
	both(&r, XFER(OP_GRANT, 0, 0, 2, 0, 3, PGT_PROT_READ));
	ck_assert(!mapped(&r, 0, 0) && !mapped(&r, 1, 0) && mapped(&r, 2, 0) && !mapped(&r, 2, 1));
	run_close(&r);
}
END_TEST

/** unmap takes rights from the derived mappings only; flush from the page too. */
START_TEST(test_rights_downgrade)
{
	struct run r;

	run_open(&r, &pgt_arch_armv8_4k_48, 5);
	both(&r, PHYS(0, 0, 1, RWX));
	both(&r, XFER(OP_MAP, 0, 0, 1, 0, 1, PGT_PROT_READ | PGT_PROT_WRITE));
	both(&r, XFER(OP_MAP, 1, 0, 2, 0, 1, RWX)); /* asks for more than its source has */
	ck_assert_uint_eq(origin(&r, 2, 0).prot & RWX, PGT_PROT_READ | PGT_PROT_WRITE);
	both(&r, REVOKE(OP_UNMAP, 0, 0, 1, PGT_PROT_WRITE));
	ck_assert_uint_eq(origin(&r, 0, 0).prot & RWX, RWX);
	ck_assert_uint_eq(origin(&r, 1, 0).prot & RWX, PGT_PROT_READ);
	ck_assert_uint_eq(origin(&r, 2, 0).prot & RWX, PGT_PROT_READ);
	ck_assert_int_eq(pgt_translate(&r.s[2].sp, va_of(&r, 2, 0), PGT_ACC_WRITE, NULL, NULL), PGT_EFAULT);
	both(&r, REVOKE(OP_FLUSH, 0, 0, 1, PGT_PROT_EXEC));
	ck_assert_uint_eq(origin(&r, 0, 0).prot & RWX, PGT_PROT_READ | PGT_PROT_WRITE);
	both(&r, REVOKE(OP_UNMAP, 0, 0, 1, PGT_PROT_READ));
	ck_assert(mapped(&r, 0, 0) && !mapped(&r, 1, 0) && !mapped(&r, 2, 0));
	both(&r, REVOKE(OP_FLUSH, 0, 0, 1, PGT_PROT_READ));
	ck_assert(!mapped(&r, 0, 0));
	run_close(&r);
}
END_TEST

/** Detaching the middle of a chain takes everything below it, nothing above. */
START_TEST(test_detach_middle)
{
	struct run r;

	run_open(&r, &pgt_arch_x86_64, 6);
	both(&r, PHYS(0, 0, 2, RWX));
	both(&r, XFER(OP_MAP, 0, 0, 1, 4, 2, RWX));
	both(&r, XFER(OP_MAP, 1, 4, 2, 0, 2, RWX));
	both(&r, XFER(OP_MAP, 2, 1, 3, 7, 1, PGT_PROT_READ));
	both(&r, XFER(OP_MAP, 0, 1, 4, 0, 1, PGT_PROT_READ));
	both(&r, REVOKE(OP_DETACH, 1, 0, 1, 0));
	ck_assert(mapped(&r, 0, 0) && mapped(&r, 0, 1) && mapped(&r, 4, 0));
	ck_assert(!mapped(&r, 1, 4) && !mapped(&r, 2, 0) && !mapped(&r, 2, 1) && !mapped(&r, 3, 7));
	run_close(&r);
}
END_TEST

/** Memory types stay with the physical page; USER and GLOBAL come from each call. */
START_TEST(test_attributes)
{
	struct run r;

	run_open(&r, &pgt_arch_x86_64, 7);
	both(&r, PHYS(0, 0, 1, PGT_PROT_READ | PGT_PROT_UNCACHED | PGT_PROT_GLOBAL));
	both(&r, XFER(OP_MAP, 0, 0, 1, 0, 1, PGT_PROT_READ | PGT_PROT_USER));
	ck_assert_uint_eq(origin(&r, 1, 0).prot, PGT_PROT_READ | PGT_PROT_USER | PGT_PROT_UNCACHED);
	both(&r, XFER(OP_GRANT, 1, 0, 2, 0, 1, PGT_PROT_READ | PGT_PROT_GLOBAL));
	ck_assert_uint_eq(origin(&r, 2, 0).prot, PGT_PROT_READ | PGT_PROT_GLOBAL | PGT_PROT_UNCACHED);
	ck_assert_uint_eq(origin(&r, 2, 0).depth, 1);
	run_close(&r);
}
END_TEST

/** Counts pgt_mdb_verify's reports. */
static void count_problem(void *arg, const char *problem, const pgt_space_t *sp, pgt_vaddr_t va)
{
	(void)problem;
	(void)sp;
	(void)va;
	++*(int *)arg;
}

static int problems(struct run *r)
{
	int n = 0, rc = pgt_mdb_verify(&r->db, count_problem, &n);
	ck_assert_int_eq(rc, n);
	return rc;
}

/** pgt_mdb_verify reports a space edited behind the database's back, each way. */
START_TEST(test_verify_catches)
{
	struct run r;
	pgt_ref_t ref;
	uintptr_t node, other;

	run_open(&r, &pgt_arch_x86_64, 10);
	both(&r, PHYS(0, 0, 2, RWX));
	both(&r, XFER(OP_MAP, 0, 0, 1, 0, 2, RWX));
	pgt_space_t *a = &r.s[0].sp, *b = &r.s[1].sp;
	pgt_vaddr_t va = va_of(&r, 1, 0), va2 = va_of(&r, 1, 1);
	ck_assert_int_eq(pgt_lookup(b, va, &ref), PGT_OK);
	ck_assert_int_eq(pgt_get_link(b, ref, va, &node), PGT_OK);

	/* a leaf removed: its node is left without one */
	ck_assert_int_eq(pgt_unmap(b, va, r.pg), PGT_OK);
	ck_assert_int_gt(problems(&r), 0);
	ck_assert_int_eq(pgt_map(b, va, 0x40000, r.pg, RWX, 0), PGT_OK);
	ck_assert_int_eq(pgt_lookup(b, va, &ref), PGT_OK);
	ck_assert_int_gt(problems(&r), 0); /* a leaf without a node */
	ck_assert_int_eq(pgt_set_link(b, ref, node, va), PGT_OK);
	ck_assert_int_eq(problems(&r), 0);

	/* a link word naming another page's node */
	pgt_ref_t ref2;
	ck_assert_int_eq(pgt_lookup(b, va2, &ref2), PGT_OK);
	ck_assert_int_eq(pgt_get_link(b, ref2, va2, &other), PGT_OK);
	ck_assert_int_eq(pgt_set_link(b, ref2, node, va2), PGT_OK);
	ck_assert_int_gt(problems(&r), 0);
	ck_assert_int_eq(pgt_set_link(b, ref2, other, va2), PGT_OK);

	/* a leaf moved to another physical page, or given more rights than its origin */
	ck_assert_int_eq(pgt_set_field(b, ref, PGT_FIELD_PADDR, 0x80000), PGT_OK);
	ck_assert_int_gt(problems(&r), 0);
	ck_assert_int_eq(pgt_set_field(b, ref, PGT_FIELD_PADDR, 0x40000), PGT_OK);
	ck_assert_int_eq(problems(&r), 0);

	/* a superpage mapped behind its back: reported, and no call builds under it */
	ck_assert_int_eq(pgt_map(a, 0x40000000, 0, 1ull << 21, PGT_PROT_READ, 0), PGT_OK);
	ck_assert_int_gt(problems(&r), 0);
	ck_assert_int_eq(pgt_mdb_map(&r.db, b, va, a, 0x40000000 + r.pg, r.pg, PGT_PROT_READ), PGT_EINVAL);
	ck_assert_int_eq(pgt_unmap(a, 0x40000000, 1ull << 21), PGT_OK);
	check_all(&r);
	run_close(&r);
}
END_TEST

/**
 * A revocation across spaces tells each space's tlb_flush once, about the
 * pages it lost; spaces it did not touch hear nothing.
 */
START_TEST(test_tlb_batched)
{
	struct run r;

	run_open(&r, &pgt_arch_armv8_4k_48, 11);
	both(&r, PHYS(0, 0, 6, RWX));
	both(&r, XFER(OP_MAP, 0, 0, 1, 0, 6, RWX));
	both(&r, XFER(OP_MAP, 1, 0, 2, 6, 6, RWX));
	both(&r, XFER(OP_MAP, 1, 2, 3, 0, 2, PGT_PROT_READ | PGT_PROT_WRITE));
	struct op other = PHYS(4, 0, 1, RWX);
	other.pa = 0x90000;
	both(&r, other);
	flushes_reset(&r);
	struct op o = REVOKE(OP_UNMAP, 0, 1, 4, PGT_PROT_READ);
	struct model old = r.m;
	ck_assert_int_eq(op_do(&r, &o), PGT_OK);
	op_model(&r.m, &o, r.pg);
	check_flushes(&r, &old, true, NULL);
	ck_assert_int_eq(r.s[0].fl.n, 0); /* unmap keeps the pages themselves */
	ck_assert_int_eq(r.s[1].fl.n, 1);
	ck_assert_int_eq(r.s[2].fl.n, 1);
	ck_assert_int_eq(r.s[3].fl.n, 1);
	ck_assert_int_eq(r.s[4].fl.n, 0);
	check_all(&r);

	/* a downgrade is a flush too; replacing a valid page by another flushes at once */
	flushes_reset(&r);
	o = REVOKE(OP_FLUSH, 0, 0, 1, PGT_PROT_WRITE);
	old = r.m;
	ck_assert_int_eq(op_do(&r, &o), PGT_OK);
	op_model(&r.m, &o, r.pg);
	check_flushes(&r, &old, true, NULL);
	ck_assert_int_eq(r.s[0].fl.n, 1);
	flushes_reset(&r);
	o = XFER(OP_MAP, 4, 0, 2, 6, 1, RWX);
	old = r.m;
	ck_assert_int_eq(op_do(&r, &o), PGT_OK);
	op_model(&r.m, &o, r.pg);
	check_flushes(&r, &old, false, NULL);
	ck_assert_int_eq(r.s[2].fl.n, 1); /* break-before-make, and nothing else to batch */
	check_all(&r);
	run_close(&r);
}
END_TEST

/** pgt_walk visitor: counts leaves, and those above level 0. */
static int count_leaves(void *arg, const struct pgt_mapping *m)
{
	long *n = arg;
	n[0]++;
	n[1] += m->level > 0;
	return 0;
}

/** Leaves of [lo, lo+size) of @p sp: n[0] all, n[1] superpages. */
static void leaves_in(pgt_space_t *sp, pgt_vaddr_t lo, uint64_t size, long n[2])
{
	n[0] = n[1] = 0;
	ck_assert_int_eq(pgt_walk(sp, lo, size, count_leaves, n), PGT_OK);
}

/**
 * Superpages: a whole aligned origin leaf goes into an empty aligned range
 * as one leaf and one node (2 MiB and 1 GiB); a misaligned destination
 * gets pages; a flush that cuts a superpage splits it and everything
 * derived from it, and the rest keeps its origins; a superpage is granted
 * whole.
 */
START_TEST(test_superpages)
{
	struct run r;
	const uint64_t mib2 = 1ull << 21, gib = 1ull << 30;
	const pgt_vaddr_t base = 0x40000000, big = 0x80000000;
	long n[2];

	run_open(&r, &pgt_arch_x86_64, 12);
	pgt_space_t *a = &r.s[0].sp, *b = &r.s[1].sp, *c = &r.s[2].sp, *d = &r.s[3].sp;
	long nodes = r.nm.allocs - r.nm.frees;
	ck_assert_int_eq(pgt_mdb_map_phys(&r.db, a, base, 0x200000, mib2, RWX), PGT_OK);
	ck_assert_int_eq(pgt_mdb_map(&r.db, a, base, b, base, mib2, PGT_PROT_READ | PGT_PROT_WRITE), PGT_OK);
	leaves_in(b, base, mib2, n);
	ck_assert(n[0] == 1 && n[1] == 1);
	ck_assert_int_eq(r.nm.allocs - r.nm.frees - nodes, 2);
	struct pgt_mdb_origin o;
	ck_assert_int_eq(pgt_mdb_origin(&r.db, b, base + 103 * r.pg + 5, &o), PGT_OK);
	ck_assert(o.space == a && o.va == base + 103 * r.pg && o.pa == 0x200000 + 103 * r.pg && o.depth == 1);

	/* a destination one page off: pages, each under the superpage */
	ck_assert_int_eq(pgt_mdb_map(&r.db, b, base, c, base + r.pg, mib2, PGT_PROT_READ), PGT_OK);
	leaves_in(c, base, 2 * mib2, n);
	ck_assert(n[0] == 512 && n[1] == 0);
	ck_assert_int_eq(problems(&r), 0);

	/* a flush in the middle of a's superpage splits a's and b's */
	ck_assert_int_eq(pgt_mdb_flush(&r.db, a, base + 100 * r.pg, 3 * r.pg, RWX), PGT_OK);
	leaves_in(a, base, mib2, n);
	ck_assert(n[0] == 509 && n[1] == 0);
	leaves_in(b, base, mib2, n);
	ck_assert(n[0] == 509 && n[1] == 0);
	leaves_in(c, base, 2 * mib2, n);
	ck_assert(n[0] == 509 && n[1] == 0);
	ck_assert_int_eq(pgt_mdb_origin(&r.db, c, base + 101 * r.pg, &o), PGT_ENOENT);
	ck_assert_int_eq(pgt_mdb_origin(&r.db, c, base + 104 * r.pg, &o), PGT_OK);
	ck_assert(o.space == b && o.va == base + 103 * r.pg && o.pa == 0x200000 + 103 * r.pg && o.depth == 2);
	ck_assert_uint_eq(o.prot & RWX, PGT_PROT_READ);
	ck_assert_int_eq(problems(&r), 0);
	ck_assert_int_eq(pgt_mdb_flush(&r.db, a, base, mib2, RWX), PGT_OK);
	ck_assert_int_eq(r.nm.allocs - r.nm.frees, nodes);

	/* 1 GiB: one leaf and one node in each space, whatever the size */
	long tables = r.s[1].t.allocs - r.s[1].t.frees;
	ck_assert_int_eq(pgt_mdb_map_phys(&r.db, a, big, gib, gib, RWX), PGT_OK);
	ck_assert_int_eq(pgt_mdb_map(&r.db, a, big, b, big, gib, RWX), PGT_OK);
	leaves_in(b, big, gib, n);
	ck_assert(n[0] == 1 && n[1] == 1);
	ck_assert_int_eq(r.nm.allocs - r.nm.frees - nodes, 2);
	ck_assert_int_le(r.s[1].t.allocs - r.s[1].t.frees - tables,
			 1); /* at most a directory pointer table */

	/* granted whole: the receiver takes the sender's place, the sender is empty */
	ck_assert_int_eq(pgt_mdb_grant(&r.db, b, big, d, big, gib, PGT_PROT_READ), PGT_OK);
	leaves_in(d, big, gib, n);
	ck_assert(n[0] == 1 && n[1] == 1);
	leaves_in(b, big, gib, n);
	ck_assert_int_eq(n[0], 0);
	ck_assert_int_eq(pgt_mdb_origin(&r.db, d, big + gib - 1, &o), PGT_OK);
	ck_assert(o.space == a && o.va == big + gib - r.pg && o.pa == 2 * gib - r.pg && o.depth == 1);
	ck_assert_int_eq(problems(&r), 0);
	ck_assert_int_eq(pgt_mdb_flush(&r.db, a, big, gib, PGT_PROT_READ), PGT_OK);
	ck_assert_int_eq(r.nm.allocs - r.nm.frees, nodes);
	check_all(&r);
	run_close(&r);
}
END_TEST

/**
 * Granting part of a superpage: the sender does not go whole, so it is
 * split first (262144 pieces for 1 GiB) and the receiver gets pages; the
 * rest of the sender stays. (A descriptor with one superpage level below
 * the root, as the tiny one, cannot show this.)
 */
START_TEST(test_grant_part_of_superpage)
{
	struct run r;
	const uint64_t mib2 = 1ull << 21, gib = 1ull << 30;
	const pgt_vaddr_t big = 0x80000000;
	long n[2];
	struct pgt_mdb_origin o;

	run_open(&r, &pgt_arch_x86_64, 14);
	pgt_space_t *a = &r.s[0].sp, *d = &r.s[3].sp;
	long nodes = r.nm.allocs - r.nm.frees;
	ck_assert_int_eq(pgt_mdb_map_phys(&r.db, a, big, gib, gib, RWX), PGT_OK);
	ck_assert_int_eq(pgt_mdb_grant(&r.db, a, big + mib2, d, big, mib2, PGT_PROT_READ), PGT_OK);
	leaves_in(d, big, mib2, n);
	ck_assert(n[0] == 512 && n[1] == 0);
	ck_assert_int_eq(pgt_mdb_origin(&r.db, d, big + 5 * r.pg, &o), PGT_OK);
	ck_assert(o.space == NULL && o.pa == gib + mib2 + 5 * r.pg && o.depth == 0);
	ck_assert_int_eq(pgt_mdb_origin(&r.db, a, big + mib2, &o), PGT_ENOENT);
	ck_assert_int_eq(pgt_mdb_origin(&r.db, a, big + 2 * mib2, &o), PGT_OK);
	ck_assert_int_eq(o.pa, gib + 2 * mib2);
	ck_assert_int_eq(pgt_mdb_origin(&r.db, a, big, &o), PGT_OK);
	ck_assert_int_eq(problems(&r), 0);
	ck_assert_int_eq(pgt_mdb_flush(&r.db, a, big, gib, PGT_PROT_READ), PGT_OK);
	ck_assert_int_eq(pgt_mdb_flush(&r.db, d, big, mib2, PGT_PROT_READ), PGT_OK);
	/* the first 2 MiB of a 1 GiB leaf, aligned: still only a part */
	ck_assert_int_eq(pgt_mdb_map_phys(&r.db, a, big, gib, gib, RWX), PGT_OK);
	ck_assert_int_eq(pgt_mdb_grant(&r.db, a, big, d, big, mib2, PGT_PROT_READ), PGT_OK);
	ck_assert_int_eq(pgt_mdb_origin(&r.db, a, big + mib2, &o), PGT_OK);
	ck_assert_int_eq(pgt_mdb_origin(&r.db, d, big + mib2 - 1, &o), PGT_OK);
	ck_assert(o.space == NULL && o.pa == gib + mib2 - r.pg);
	ck_assert_int_eq(problems(&r), 0);
	ck_assert_int_eq(pgt_mdb_flush(&r.db, a, big, gib, PGT_PROT_READ), PGT_OK);
	ck_assert_int_eq(pgt_mdb_flush(&r.db, d, big, mib2, PGT_PROT_READ), PGT_OK);
	ck_assert_int_eq(r.nm.allocs - r.nm.frees, nodes);
	run_close(&r);
}
END_TEST

/** pgt_walk visitor: the level of the last leaf seen. */
static int leaf_level(void *arg, const struct pgt_mapping *m)
{
	*(unsigned *)arg = m->level;
	return 0;
}

/** The level of the leaf holding @p va of @p sp (it must have one). */
static unsigned level_at(pgt_space_t *sp, pgt_vaddr_t va)
{
	unsigned level = ~0u;
	ck_assert_int_eq(pgt_walk(sp, va, 4096, leaf_level, &level), PGT_OK);
	ck_assert_uint_ne(level, ~0u);
	return level;
}

/**
 * Root-level superpages (RISC-V Sv39, the G-stage Sv39x4 with its wide
 * root, ARMv8 4K/39-bit: 1 GiB leaves in the root): a 1 GiB
 * map_phys at root entry 1 is one leaf and one node and takes no table;
 * map and grant carry it whole to other spaces' root entries; a flush that
 * cuts it splits it and what was derived from it. Root entry 0, whose link
 * word holds the attachment mark while no leaf is there, gets a root leaf
 * too: the leaf's node takes the word, another database still cannot
 * attach the space, and the mark is back once the leaf goes (split or
 * removed).
 */
START_TEST(test_root_superpages)
{
	struct run r;
	const uint64_t gib = 1ull << 30;
	long n[2];
	struct pgt_mdb_origin o;

	static const struct pgt_arch *const archs[] = { &pgt_arch_riscv_sv39, &pgt_arch_riscv_sv39x4,
							&pgt_arch_armv8_4k_39 };

	run_open(&r, archs[_i], 15);
	/* spaces 0, 2 and 3: space 1 may be an upper half */
	pgt_space_t *a = &r.s[0].sp, *b = &r.s[2].sp, *c = &r.s[3].sp;
	long nodes = r.nm.allocs - r.nm.frees;
	long tables_a = r.s[0].t.allocs - r.s[0].t.frees, tables_b = r.s[2].t.allocs - r.s[2].t.frees;

	ck_assert_int_eq(pgt_mdb_map_phys(&r.db, a, gib, gib, gib, RWX), PGT_OK);
	leaves_in(a, gib, gib, n);
	ck_assert(n[0] == 1 && n[1] == 1);
	ck_assert_uint_eq(level_at(a, gib), 2);
	ck_assert_int_eq(r.nm.allocs - r.nm.frees - nodes, 1);
	ck_assert_int_eq(r.s[0].t.allocs - r.s[0].t.frees, tables_a);

	/* to another space's root entry 2, and granted whole on to a third's root entry 3 */
	ck_assert_int_eq(pgt_mdb_map(&r.db, a, gib, b, 2 * gib, gib, PGT_PROT_READ | PGT_PROT_WRITE), PGT_OK);
	ck_assert_uint_eq(level_at(b, 2 * gib), 2);
	ck_assert_int_eq(r.s[2].t.allocs - r.s[2].t.frees, tables_b);
	ck_assert_int_eq(r.nm.allocs - r.nm.frees - nodes, 2);
	ck_assert_int_eq(pgt_mdb_grant(&r.db, b, 2 * gib, c, 3 * gib, gib, PGT_PROT_READ), PGT_OK);
	ck_assert_uint_eq(level_at(c, 3 * gib), 2);
	leaves_in(b, 2 * gib, gib, n);
	ck_assert_int_eq(n[0], 0);
	ck_assert_int_eq(r.nm.allocs - r.nm.frees - nodes, 2);
	ck_assert_int_eq(pgt_mdb_origin(&r.db, c, 4 * gib - 1, &o), PGT_OK);
	ck_assert(o.space == a && o.va == 2 * gib - r.pg && o.pa == 2 * gib - r.pg && o.depth == 1);
	ck_assert_int_eq(problems(&r), 0);

	/* a flush of two pages in the middle splits a's leaf and c's below it */
	ck_assert_int_eq(pgt_mdb_flush(&r.db, a, gib + 5 * r.pg, 2 * r.pg, RWX), PGT_OK);
	ck_assert_uint_eq(level_at(a, gib), 0);
	ck_assert_uint_eq(level_at(c, 3 * gib), 0);
	leaves_in(c, 3 * gib, gib, n);
	ck_assert(n[0] == (long)(gib / r.pg) - 2 && n[1] == 0);
	ck_assert_int_eq(pgt_mdb_origin(&r.db, c, 3 * gib + 6 * r.pg, &o), PGT_ENOENT);
	ck_assert_int_eq(pgt_mdb_origin(&r.db, c, 3 * gib + 7 * r.pg, &o), PGT_OK);
	ck_assert(o.space == a && o.va == gib + 7 * r.pg && o.pa == gib + 7 * r.pg && o.depth == 1);
	ck_assert_int_eq(problems(&r), 0);
	ck_assert_int_eq(pgt_mdb_flush(&r.db, a, gib, gib, RWX), PGT_OK);
	ck_assert_int_eq(r.nm.allocs - r.nm.frees, nodes);

	/* root entry 0: one leaf and one node as well, while the space stays marked as attached */
	pgt_mdb_t db2;
	ck_assert_int_eq(pgt_mdb_init(&db2, &r.nm.mm), PGT_OK);
	ck_assert_int_eq(pgt_mdb_map_phys(&r.db, b, 0, gib, gib, RWX), PGT_OK);
	leaves_in(b, 0, gib, n);
	ck_assert(n[0] == 1 && n[1] == 1);
	ck_assert_uint_eq(level_at(b, 0), 2);
	ck_assert_int_eq(problems(&r), 0);
	ck_assert_int_eq(pgt_mdb_map(&r.db, b, 0, c, 0, gib, RWX), PGT_OK); /* into c's entry 0 */
	ck_assert_uint_eq(level_at(c, 0), 2);
	ck_assert_int_eq(pgt_mdb_origin(&r.db, c, gib - 1, &o), PGT_OK);
	ck_assert(o.space == b && o.va == gib - r.pg && o.pa == 2 * gib - r.pg && o.depth == 1);
	ck_assert_int_eq(pgt_mdb_attach(&db2, c), PGT_EINVAL);
	ck_assert_int_eq(problems(&r), 0);
	/* split by a downgrade that cuts b's (and c's below it), then removed: the mark is back each time */
	ck_assert_int_eq(pgt_mdb_flush(&r.db, b, 3 * r.pg, r.pg, PGT_PROT_WRITE), PGT_OK);
	ck_assert_uint_eq(level_at(c, 0), 0);
	ck_assert_int_eq(problems(&r), 0);
	ck_assert_int_eq(pgt_mdb_flush(&r.db, b, 3 * r.pg, r.pg, RWX), PGT_OK);
	ck_assert_int_eq(pgt_mdb_origin(&r.db, c, 3 * r.pg, &o), PGT_ENOENT);
	ck_assert_int_eq(problems(&r), 0);
	ck_assert_int_eq(pgt_mdb_attach(&db2, c), PGT_EINVAL);
	ck_assert_int_eq(pgt_mdb_flush(&r.db, b, 0, gib, RWX), PGT_OK);
	leaves_in(c, 0, gib, n);
	ck_assert_int_eq(n[0], 0);
	ck_assert_int_eq(problems(&r), 0);
	ck_assert_int_eq(pgt_mdb_attach(&db2, b), PGT_EINVAL);
	ck_assert_int_eq(pgt_mdb_attach(&db2, c), PGT_EINVAL);
	ck_assert_int_eq(r.nm.allocs - r.nm.frees, nodes);
	pgt_mdb_destroy(&db2);
	check_all(&r);
	run_close(&r);
}
END_TEST

/**
 * pgt_mdb_map (@p grant false) or pgt_mdb_grant of @p size from (@p src,
 * @p va) to (@p dst, @p dva), with the Nth node allocation failing, N = 1,
 * 2, ... until the call goes through: each failure must leave everything
 * as it was. Returns the status of the call that went through.
 */
static int transfer_failing(struct run *r, bool grant, pgt_space_t *src, pgt_vaddr_t va, pgt_space_t *dst,
			    pgt_vaddr_t dva, uint64_t size, unsigned prot)
{
	for (long n = 1;; n++) {
		struct snap before;
		snap_take(r, &before);
		r->nm.fail_at = r->nm.attempts + n;
		int rc = grant ? pgt_mdb_grant(&r->db, src, va, dst, dva, size, prot)
			       : pgt_mdb_map(&r->db, src, va, dst, dva, size, prot);
		disarm(r);
		if (rc != PGT_ENOMEM) {
			snap_drop(&before);
			return rc;
		}
		snap_same(r, &before, "node failure");
	}
}

/**
 * A destination that held mappings: map1 flushes each destination page
 * first, and when that flush cannot reach the source, a superpage gives
 * the page-by-page result. A 2 MiB origin mapped over 4 KiB pages from
 * another origin is one leaf and one node; the old pages, and what was
 * derived from them in a third space, are gone; the other origin keeps its
 * pages (a node allocation failing at every N first changes nothing). The
 * same for map_phys and grant, and through space 3's p2v hook.
 */
START_TEST(test_super_over_pages)
{
	struct run r;
	const uint64_t mib2 = 1ull << 21;
	const pgt_vaddr_t base = 0x40000000, other = 0x7000000000;
	long n[2];
	struct pgt_mdb_origin o;

	run_open(&r, &pgt_arch_x86_64, 16);
	pgt_space_t *a = &r.s[0].sp, *b = &r.s[3].sp, *c = &r.s[2].sp, *d = &r.s[4].sp;
	long nodes = r.nm.allocs - r.nm.frees;

	/* c: sixteen pages from a misaligned physical range; b gets them, d gets b's */
	ck_assert_int_eq(pgt_mdb_map_phys(&r.db, c, other, 0x123000, 16 * r.pg, RWX), PGT_OK);
	ck_assert_int_eq(pgt_mdb_map(&r.db, c, other, b, base + 8 * r.pg, 16 * r.pg, RWX), PGT_OK);
	ck_assert_int_eq(pgt_mdb_map(&r.db, b, base + 8 * r.pg, d, base, 16 * r.pg, PGT_PROT_READ), PGT_OK);
	ck_assert_int_eq(r.nm.allocs - r.nm.frees - nodes, 48);

	/* a: a 2 MiB origin, mapped over b's pages */
	ck_assert_int_eq(pgt_mdb_map_phys(&r.db, a, base, 0x200000, mib2, RWX), PGT_OK);
	ck_assert_int_eq(transfer_failing(&r, false, a, base, b, base, mib2, PGT_PROT_READ | PGT_PROT_WRITE),
			 PGT_OK);
	leaves_in(b, base, mib2, n);
	ck_assert(n[0] == 1 && n[1] == 1);
	ck_assert_int_eq(r.nm.allocs - r.nm.frees - nodes, 16 + 2); /* c's pages, a's leaf, b's leaf */
	ck_assert_int_eq(pgt_mdb_origin(&r.db, b, base + 9 * r.pg, &o), PGT_OK);
	ck_assert(o.space == a && o.va == base + 9 * r.pg && o.pa == 0x200000 + 9 * r.pg && o.depth == 1);
	leaves_in(d, base, 16 * r.pg, n);
	ck_assert_int_eq(n[0], 0); /* derived from b's old pages: revoked */
	leaves_in(c, other, 16 * r.pg, n);
	ck_assert_int_eq(n[0], 16);
	ck_assert_int_eq(problems(&r), 0);

	/* map_phys over a superpage and pages of d: one leaf again */
	ck_assert_int_eq(pgt_mdb_map(&r.db, c, other, d, base + 3 * r.pg, 4 * r.pg, RWX), PGT_OK);
	ck_assert_int_eq(pgt_mdb_map_phys(&r.db, d, base, 0x400000, mib2, PGT_PROT_READ), PGT_OK);
	leaves_in(d, base, mib2, n);
	ck_assert(n[0] == 1 && n[1] == 1);

	/* grant b's leaf whole over d's: d's goes, b's goes, d takes b's place under a */
	ck_assert_int_eq(transfer_failing(&r, true, b, base, d, base, mib2, PGT_PROT_READ), PGT_OK);
	leaves_in(d, base, mib2, n);
	ck_assert(n[0] == 1 && n[1] == 1);
	leaves_in(b, base, mib2, n);
	ck_assert_int_eq(n[0], 0);
	ck_assert_int_eq(pgt_mdb_origin(&r.db, d, base, &o), PGT_OK);
	ck_assert(o.space == a && o.pa == 0x200000 && o.depth == 1);
	ck_assert_int_eq(r.nm.allocs - r.nm.frees - nodes, 16 + 2);
	ck_assert_int_eq(problems(&r), 0);

	/* a superpage inside the one made over it goes whole: one node taken, no pieces */
	long allocs = r.nm.allocs;
	ck_assert_int_eq(pgt_mdb_map_phys(&r.db, d, base, 0x600000, mib2, PGT_PROT_READ), PGT_OK);
	ck_assert_int_eq(r.nm.allocs - allocs, 1);
	leaves_in(d, base, mib2, n);
	ck_assert(n[0] == 1 && n[1] == 1);
	ck_assert_int_eq(pgt_mdb_origin(&r.db, d, base + r.pg, &o), PGT_OK);
	ck_assert(o.space == NULL && o.pa == 0x600000 + r.pg && o.depth == 0);
	ck_assert_int_eq(problems(&r), 0);

	ck_assert_int_eq(pgt_mdb_flush(&r.db, a, base, mib2, RWX), PGT_OK);
	ck_assert_int_eq(pgt_mdb_flush(&r.db, d, base, mib2, RWX), PGT_OK);
	ck_assert_int_eq(pgt_mdb_flush(&r.db, c, other, 16 * r.pg, RWX), PGT_OK);
	ck_assert_int_eq(r.nm.allocs - r.nm.frees, nodes);

	/*
	 * 1 GiB over pages: one leaf in c, and one in b too, whose p2v hook
	 * makes a range call remember the tables it replaces (too many for a
	 * 1 GiB leaf over b's 31, past the 24 a call remembers without a
	 * table of its own): the pages go first, with the tables they
	 * emptied, and the leaf is made where nothing is. Its path lost its
	 * last table below the root with them: the call took one beforehand
	 * (each table allocation failing at every N first changes nothing).
	 * Two such leaves in one call share that table.
	 */
	const uint64_t gib = 1ull << 30;
	const pgt_vaddr_t big = 0x80000000;
	ck_assert_int_eq(pgt_mdb_map_phys(&r.db, c, big + mib2, 0x5000, 4 * r.pg, RWX), PGT_OK);
	ck_assert_int_eq(pgt_mdb_map_phys(&r.db, c, big, gib, 2 * gib, RWX), PGT_OK);
	leaves_in(c, big, 2 * gib, n);
	ck_assert(n[0] == 2 && n[1] == 2);
	ck_assert_uint_eq(level_at(c, big), 2);
	long tables = r.s[3].t.allocs - r.s[3].t.frees, injected = 0;
	for (uint64_t i = 1; i <= 60; i++) { /* a page in thirty 2 MiB slots of each GiB: a table each */
		pgt_vaddr_t at = big + i / 31 * gib + i % 31 * mib2;
		ck_assert_int_eq(pgt_mdb_map_phys(&r.db, b, at, 0x5000, r.pg, RWX), PGT_OK);
	}
	ck_assert_int_eq(r.s[3].t.allocs - r.s[3].t.frees - tables, 63); /* and three above them */
	for (long k = 1;; k++, injected++) {
		struct snap before;
		snap_take(&r, &before);
		r.s[3].t.fail_at = r.s[3].t.attempts + k;
		int rc = pgt_mdb_map(&r.db, c, big, b, big, 2 * gib, RWX);
		disarm(&r);
		if (rc != PGT_ENOMEM) {
			snap_drop(&before);
			ck_assert_int_eq(rc, PGT_OK);
			break;
		}
		snap_same(&r, &before, "table failure");
	}
	ck_assert_int_ge(injected, 1);
	leaves_in(b, big, 2 * gib, n);
	ck_assert(n[0] == 2 && n[1] == 2);
	ck_assert_uint_eq(level_at(b, big + gib), 2);
	ck_assert_int_eq(r.s[3].t.allocs - r.s[3].t.frees - tables, 1); /* the directory pointer table */
	ck_assert_int_eq(pgt_mdb_origin(&r.db, b, big + gib + mib2, &o), PGT_OK);
	ck_assert(o.space == c && o.pa == 2 * gib + mib2 && o.depth == 1);
	ck_assert_int_eq(problems(&r), 0);
	ck_assert_int_eq(pgt_mdb_flush(&r.db, c, big, 2 * gib, RWX), PGT_OK);
	ck_assert_int_eq(r.nm.allocs - r.nm.frees, nodes);
	check_all(&r);
	run_close(&r);
}
END_TEST

/**
 * A destination superpage inside one the call plans over it is not split,
 * unless a later mark undoes the plan: here the planned leaf's source is
 * derived from another superpage of the destination range, which is split
 * (its steps go page by page), and so is the source with it; the plan
 * falls back to pages, and the superpage inside it must be split after
 * all (tiny tables, against the model).
 */
START_TEST(test_super_marks_settle)
{
	struct run r;
	long n[2];

	run_open(&r, &tiny_arch, 20);
	int sup = superpage_pages(&r), f0 = first_aligned(&r, 0), f1 = first_aligned(&r, 1);
	uint64_t span = (uint64_t)sup * r.pg;
	long nodes = r.nm.allocs - r.nm.frees;

	both(&r, PHYS(1, f1 + sup, sup, RWX));                /* the second superpage of 1's range */
	both(&r, XFER(OP_MAP, 1, f1 + sup, 0, f0, sup, RWX)); /* the source, derived from it */
	both(&r, PHYS(1, f1, sup, PGT_PROT_READ));            /* the first, where the source goes */
	leaves_in(&r.s[0].sp, va_of(&r, 0, f0), span, n);
	ck_assert(n[0] == 1 && n[1] == 1);
	both(&r, XFER(OP_MAP, 0, f0, 1, f1, 2 * sup, RWX));
	leaves_in(&r.s[1].sp, va_of(&r, 1, f1), span, n);
	ck_assert(n[0] == sup && n[1] == 0); /* pages, each from the source's piece */
	ck_assert_int_eq(origin(&r, 1, f1 + 3).va, va_of(&r, 0, f0 + 3));
	both(&r, REVOKE(OP_DETACH, 1, 0, 1, 0));
	both(&r, REVOKE(OP_DETACH, 0, 0, 1, 0));
	ck_assert_int_eq(r.nm.allocs - r.nm.frees, nodes);
	run_close(&r);
}
END_TEST

/** What the tlb_flush hook saw of one page (test_super_over_pages_bbm). */
static struct {
	pgt_space_t *sp;
	pgt_vaddr_t probe;
	int unmapped, mapped; /**< flushes covering the probe, with it unmapped or mapped at the time */
} bbm;

static void bbm_flush(struct test_mm *t, pgt_vaddr_t va, uint64_t size)
{
	record_flush(t, va, size);
	if (bbm.probe - va < size) {
		if (pgt_translate(bbm.sp, bbm.probe, PGT_ACC_READ, NULL, NULL) == PGT_OK)
			bbm.mapped++;
		else
			bbm.unmapped++;
	}
}

/**
 * Break-before-make (ARMv8): a 1 GiB leaf made over pages through a p2v
 * hook (the pages go first) is made only after the TLB heard that the
 * pages there went: a flush covering them comes while nothing is mapped
 * there, before the one the call batches at its end.
 */
START_TEST(test_super_over_pages_bbm)
{
	struct run r;
	const uint64_t gib = 1ull << 30, mib2 = 1ull << 21;
	const pgt_vaddr_t big = 0x80000000;
	long n[2];

	run_open(&r, &pgt_arch_armv8_4k_48, 19);
	pgt_space_t *b = &r.s[3].sp, *c = &r.s[2].sp; /* b has the p2v hook */
	long nodes = r.nm.allocs - r.nm.frees;
	ck_assert_int_eq(pgt_mdb_map_phys(&r.db, b, big + mib2, 0x5000, 4 * r.pg, RWX), PGT_OK);
	ck_assert_int_eq(pgt_mdb_map_phys(&r.db, c, big, gib, gib, RWX), PGT_OK);
	bbm.sp = b;
	bbm.probe = big + mib2;
	bbm.unmapped = bbm.mapped = 0;
	r.s[3].t.on_flush = bbm_flush;
	ck_assert_int_eq(pgt_mdb_map(&r.db, c, big, b, big, gib, RWX), PGT_OK);
	r.s[3].t.on_flush = record_flush;
	ck_assert_uint_eq(level_at(b, big), 2);
	leaves_in(b, big, gib, n);
	ck_assert(n[0] == 1 && n[1] == 1);
	ck_assert_int_ge(bbm.unmapped, 1);
	ck_assert_int_eq(problems(&r), 0);
	ck_assert_int_eq(pgt_mdb_flush(&r.db, c, big, gib, RWX), PGT_OK);
	ck_assert_int_eq(r.nm.allocs - r.nm.frees, nodes);
	check_all(&r);
	run_close(&r);
}
END_TEST

/**
 * The counterexample's family at superpage size: the source is derived
 * from the destination, so the destination flush removes the source page
 * by page and nothing is mapped; a superpage there would be wrong.
 */
START_TEST(test_super_from_destination)
{
	struct run r;
	const uint64_t mib2 = 1ull << 21;
	const pgt_vaddr_t x = 0x40000000, y = 0x80000000;
	long n[2];

	run_open(&r, &pgt_arch_x86_64, 17);
	pgt_space_t *a = &r.s[0].sp, *b = &r.s[2].sp;
	long nodes = r.nm.allocs - r.nm.frees;
	ck_assert_int_eq(pgt_mdb_map_phys(&r.db, a, x, 0x200000, mib2, RWX), PGT_OK);
	ck_assert_int_eq(pgt_mdb_map(&r.db, a, x, b, y, mib2, RWX), PGT_OK);
	leaves_in(b, y, mib2, n);
	ck_assert(n[0] == 1 && n[1] == 1);
	/* b's leaf came from a's: mapping it back over a's removes both, page by page */
	ck_assert_int_eq(pgt_mdb_map(&r.db, b, y, a, x, mib2, RWX), PGT_OK);
	leaves_in(a, x, mib2, n);
	ck_assert_int_eq(n[0], 0);
	leaves_in(b, y, mib2, n);
	ck_assert_int_eq(n[0], 0);
	ck_assert_int_eq(r.nm.allocs - r.nm.frees, nodes);
	/* granted back: the same */
	ck_assert_int_eq(pgt_mdb_map_phys(&r.db, a, x, 0x200000, mib2, RWX), PGT_OK);
	ck_assert_int_eq(pgt_mdb_map(&r.db, a, x, b, y, mib2, RWX), PGT_OK);
	ck_assert_int_eq(pgt_mdb_grant(&r.db, b, y, a, x, mib2, RWX), PGT_OK);
	leaves_in(a, x, mib2, n);
	ck_assert_int_eq(n[0], 0);
	leaves_in(b, y, mib2, n);
	ck_assert_int_eq(n[0], 0);
	ck_assert_int_eq(r.nm.allocs - r.nm.frees, nodes);
	ck_assert_int_eq(problems(&r), 0);
	check_all(&r);
	run_close(&r);
}
END_TEST

/**
 * Superpages planned over mappings that a later step of the same grant
 * revokes, or never makes (tiny tables, against the model): the sender's
 * second superpage is the first's origin, so granting it takes the first's
 * new mapping away; the other way round, the second sender is gone when
 * its step comes, and its destination keeps what it held.
 */
START_TEST(test_super_pending_revoked)
{
	struct run r;
	long n[2];

	run_open(&r, &tiny_arch, 18);
	int sup = superpage_pages(&r), f0 = first_aligned(&r, 0), f1 = first_aligned(&r, 1);
	uint64_t span = (uint64_t)sup * r.pg;
	long nodes = r.nm.allocs - r.nm.frees;

	both(&r, PHYS(0, f0 + sup, sup, RWX));
	both(&r, XFER(OP_MAP, 0, f0 + sup, 0, f0, sup, RWX)); /* first derived from second */
	both(&r, PHYS(2, 0, 4, RWX));
	both(&r, XFER(OP_MAP, 2, 0, 1, f1 + 1, 3, RWX));       /* pages where the first goes */
	both(&r, XFER(OP_MAP, 2, 0, 1, f1 + sup + 2, 2, RWX)); /* and where the second goes */
	both(&r, XFER(OP_GRANT, 0, f0, 1, f1, 2 * sup, RWX));
	leaves_in(&r.s[1].sp, va_of(&r, 1, f1), span, n);
	ck_assert_int_eq(n[0], 0);
	leaves_in(&r.s[1].sp, va_of(&r, 1, f1 + sup), span, n);
	ck_assert(n[0] == 1 && n[1] == 1);

	/* second derived from first: granting the first takes the second away */
	both(&r, REVOKE(OP_FLUSH, 1, f1 + sup, sup, RWX));
	both(&r, PHYS(0, f0, sup, RWX));
	both(&r, XFER(OP_MAP, 0, f0, 0, f0 + sup, sup, RWX));
	both(&r, XFER(OP_MAP, 2, 0, 1, f1 + 1, 3, RWX));
	both(&r, XFER(OP_MAP, 2, 0, 1, f1 + sup + 2, 2, RWX));
	both(&r, XFER(OP_GRANT, 0, f0, 1, f1, 2 * sup, RWX));
	leaves_in(&r.s[1].sp, va_of(&r, 1, f1), span, n);
	ck_assert(n[0] == 1 && n[1] == 1);
	leaves_in(&r.s[1].sp, va_of(&r, 1, f1 + sup), span, n);
	ck_assert(n[0] == 2 && n[1] == 0); /* kept: the second sender was gone */
	both(&r, REVOKE(OP_DETACH, 1, 0, 1, 0));
	both(&r, REVOKE(OP_DETACH, 2, 0, 1, 0));
	both(&r, REVOKE(OP_DETACH, 0, 0, 1, 0));
	ck_assert_int_eq(r.nm.allocs - r.nm.frees, nodes);
	run_close(&r);
}
END_TEST

/** What the caller's optional hooks heard (test_caller_hooks). */
static struct {
	long ad_calls, deferred, flushes_at_defer;
	pgt_vaddr_t ad_va;
	pgt_paddr_t ad_pa;
	unsigned ad;
} heard;

static void heard_leaf_ad(void *ctx, pgt_vaddr_t va, pgt_paddr_t pa, uint64_t size, unsigned ad)
{
	(void)ctx;
	(void)size;
	heard.ad_calls++;
	heard.ad_va = va;
	heard.ad_pa = pa;
	heard.ad |= ad;
}

/** defer_free: notes how many flushes came before, then frees at once (no readers here). */
static void heard_defer(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	struct test_mm *t = ctx;

	heard.deferred++;
	heard.flushes_at_defer = t->flushes;
	t->mm.free_table(ctx, pa, size, level);
}

/**
 * The caller's optional hooks still work under the database: leaf_ad hears
 * the accessed and dirty bits of a revoked page, and defer_free gets the
 * tables revocation unlinked, after the space's one tlb_flush.
 */
/*
 * A format of 8-entry tables has no room for the chunks in which a range
 * call through a p2v hook remembers the tables it reaches beyond the first
 * 24 (lib/range.c): such a call is PGT_ENOTSUP, with nothing changed and
 * nothing leaked; smaller calls work.
 */
START_TEST(test_tiny_tables_memo_limit)
{
	struct test_mm t;
	pgt_space_t sp;
	const uint64_t span = 1ull << tiny_arch.va_bits;

	test_mm_init(&t, TEST_MM_HOOK);
	ck_assert_int_eq(pgt_space_init(&sp, &tiny_arch, &t.mm, 0), PGT_OK);
	/* new tables are not remembered: they come from the call's pool */
	ck_assert_int_eq(pgt_map(&sp, 0, 0, span, PGT_PROT_READ, PGT_MAP_NOSUPER), PGT_OK);
	size_t n;
	pgt_pte_t *snap = tree_snapshot(&sp, &tiny_arch, &t, &n);
	/* every table of the space, 1 + 8 + 64, is reached: too many */
	ck_assert_int_eq(pgt_protect(&sp, 0, span, PGT_PROT_READ | PGT_PROT_WRITE), PGT_ENOTSUP);
	ck_assert_int_eq(pgt_unmap(&sp, 0, span), PGT_ENOTSUP);
	ck_assert(tree_unchanged(&sp, &tiny_arch, &t, snap, n)); /* frees snap */
	ck_assert_uint_eq(test_mm_outstanding(&t), 73);
	/* a quarter reaches 1 + 2 + 16 tables */
	for (uint64_t q = 0; q < 4; q++)
		ck_assert_int_eq(pgt_unmap(&sp, q * span / 4, span / 4), PGT_OK);
	ck_assert_uint_eq(test_mm_outstanding(&t), 1);
	pgt_space_destroy(&sp);
	ck_assert_uint_eq(test_mm_outstanding(&t), 0);
	test_mm_fini(&t);
}
END_TEST

START_TEST(test_caller_hooks)
{
	struct test_mm ta, tb;
	struct node_mm nm;
	pgt_space_t a, b;
	pgt_mdb_t db;
	const pgt_vaddr_t x = 0x10000, y = 0x7000000000;
	const pgt_paddr_t pa = 0x123000;

	memset(&heard, 0, sizeof heard);
	test_mm_init(&ta, TEST_MM_OFFSET);
	test_mm_init(&tb, TEST_MM_HOOK);
	tb.mm.leaf_ad = heard_leaf_ad;
	tb.mm.defer_free = heard_defer;
	node_mm_init(&nm);
	ck_assert_int_eq(pgt_space_init(&a, &pgt_arch_x86_64, &ta.mm, PGT_SPACE_LINKS), PGT_OK);
	ck_assert_int_eq(pgt_space_init(&b, &pgt_arch_x86_64, &tb.mm, PGT_SPACE_LINKS), PGT_OK);
	ck_assert_int_eq(pgt_mdb_init(&db, &nm.mm), PGT_OK);
	ck_assert_int_eq(pgt_mdb_attach(&db, &a), PGT_OK);
	ck_assert_int_eq(pgt_mdb_attach(&db, &b), PGT_OK);
	ck_assert_int_eq(pgt_mdb_map_phys(&db, &a, x, pa, 4096, RWX), PGT_OK);
	ck_assert_int_eq(pgt_mdb_map(&db, &a, x, &b, y, 4096, RWX), PGT_OK);
	ck_assert_int_eq(pgt_translate(&b, y, PGT_ACC_WRITE | PGT_ACC_SET_AD, NULL, NULL), PGT_OK);
	long flushes = tb.flushes;
	ck_assert_int_eq(pgt_mdb_unmap(&db, &a, x, 4096, PGT_PROT_READ), PGT_OK);
	ck_assert_int_eq(heard.ad_calls, 1);
	ck_assert(heard.ad_va == y && heard.ad_pa == pa && heard.ad == (PGT_AD_ACCESSED | PGT_AD_DIRTY));
	ck_assert_int_eq(tb.flushes, flushes + 1);
	ck_assert_int_eq(heard.deferred, 3); /* the branch that held y: three tables below the root */
	ck_assert_int_eq(heard.flushes_at_defer, flushes + 1);
	ck_assert_int_eq(pgt_mdb_verify(&db, report_problem, NULL), 0);
	pgt_mdb_destroy(&db);
	ck_assert_int_eq(nm.allocs, nm.frees);
	pgt_space_destroy(&a);
	pgt_space_destroy(&b);
	ck_assert(ta.allocs == ta.frees && tb.allocs == tb.frees && !ta.errors && !tb.errors);
	test_mm_fini(&ta);
	test_mm_fini(&tb);
}
END_TEST

/* --- allocation failure at every N --------------------------------------------------- */

/**
 * Runs @p o with the Nth allocation failing, N = 1, 2, ... until it
 * succeeds: nodes (@p tables false), or tables of every space at once.
 * Each failure must leave everything as it was. Returns the failures seen.
 */
static long fail_every_n(struct run *r, const struct op *o, bool tables)
{
	long injected = 0;

	for (long n = 1;; n++) {
		struct snap before;
		snap_take(r, &before);
		if (tables)
			for (int k = 0; k < NSPACES; k++)
				r->s[k].t.fail_at = r->s[k].t.attempts + n;
		else
			r->nm.fail_at = r->nm.attempts + n;
		int rc = op_do(r, o);
		disarm(r);
		if (rc == PGT_ENOMEM) {
			snap_same(r, &before, tables ? "table failure" : "node failure");
			check_all(r);
			injected++;
			continue;
		}
		snap_drop(&before);
		if (rc != PGT_OK)
			RUN_FAIL(r, "operation %d: status %d", (int)o->kind, rc);
		op_model(&r->m, o, r->pg);
		check_all(r);
		return injected;
	}
}

START_TEST(test_every_failure)
{
	static const struct pgt_arch *const archs[] = { &pgt_arch_x86_64, &pgt_arch_armv8_4k_48 };
	const struct op ops[] = {
		PHYS(4, 0, WINDOW, RWX),                    /* new tables on both sides of a boundary */
		XFER(OP_MAP, 4, 0, 3, 0, WINDOW, RWX),      /* into an empty space */
		XFER(OP_MAP, 3, 2, 2, 4, 6, PGT_PROT_READ), /* over mapped pages */
		XFER(OP_GRANT, 2, 4, 0, 0, 6, RWX),         /* into an empty space */
		XFER(OP_GRANT, 3, 0, 3, 1, 4, RWX),         /* overlapping, in one space */
		XFER(OP_MAP, 0, 0, 1, 0, WINDOW, RWX),      /* with holes in the source */
		REVOKE(OP_UNMAP, 4, 0, WINDOW, PGT_PROT_WRITE),
		REVOKE(OP_FLUSH, 4, 2, 4, RWX),
		REVOKE(OP_DETACH, 3, 0, 1, 0),
		PHYS(3, 0, WINDOW, PGT_PROT_READ),
	};
	struct run r;
	long nodes = 0, tables = 0;

	run_open(&r, archs[_i], 8);
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		tables += fail_every_n(&r, &ops[i], true); /* first: the tables are missing yet */
		nodes += fail_every_n(&r, &ops[i], false);
	}
	fprintf(stderr,
		"check_mdb: %s: allocation failures injected at every N: %ld of nodes, %ld of tables\n",
		r.a->name, nodes, tables);
	ck_assert_int_ge(nodes, 4 * WINDOW);
	ck_assert_int_ge(tables, 8);
	run_close(&r);
}
END_TEST

/**
 * Allocation failure at every N where superpages are made, cut and moved
 * (the descriptors with tiny tables, one with its superpages in the root):
 * the splits' tables and pieces are taken before anything changes too.
 */
START_TEST(test_every_failure_superpages)
{
	struct run r;
	long nodes = 0, tables = 0;

	static const struct pgt_arch *const archs[] = { &tiny_arch, &tiny_root_arch };

	run_open(&r, archs[_i], 13);
	int f[NSPACES], sup = superpage_pages(&r);
	for (int k = 0; k < NSPACES; k++)
		f[k] = first_aligned(&r, k);
	const struct op ops[] = {
		PHYS(4, f[4], 2 * sup, RWX),                            /* two superpages */
		XFER(OP_MAP, 4, f[4], 3, f[3], 2 * sup, RWX),           /* whole, into nothing */
		XFER(OP_MAP, 3, f[3], 2, f[2] + 1, sup, PGT_PROT_READ), /* pages under a superpage */
		XFER(OP_GRANT, 3, f[3] + sup, 0, f[0], sup, RWX),       /* granted whole */
		REVOKE(OP_FLUSH, 4, f[4] + 3, 2, RWX),                  /* cuts 4's, and 3's below it */
		REVOKE(OP_UNMAP, 0, f[0], sup, PGT_PROT_WRITE),         /* downgrades whole */
		XFER(OP_MAP, 4, f[4] + sup, 4, f[4] + sup + 4, 4, RWX), /* overlapping, one space */
		XFER(OP_GRANT, 0, f[0], 1, f[1], sup, PGT_PROT_READ),   /* a superpage with a parent */
		XFER(OP_MAP, 1, f[1], 2, f[2], 2 * sup, RWX),           /* over pages, with a hole */
		REVOKE(OP_FLUSH, 4, f[4] + sup - 1, 2, PGT_PROT_READ),  /* cuts across two leaves */
		REVOKE(OP_DETACH, 3, 0, 1, 0),
	};
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		tables += fail_every_n(&r, &ops[i], true);
		nodes += fail_every_n(&r, &ops[i], false);
	}
	fprintf(stderr,
		"check_mdb: %s: allocation failures injected at every N: %ld of nodes, %ld of tables\n",
		r.a->name, nodes, tables);
	ck_assert_int_ge(nodes, 3 * sup);
	ck_assert_int_ge(tables, r.a->levels == 2 ? 4 : 8); /* two levels: tables of level 0 only */
	run_close(&r);
}
END_TEST

/* --- misuse ------------------------------------------------------------------------ */

START_TEST(test_misuse)
{
	struct run r;
	struct test_mm t;
	pgt_space_t plain, other;
	pgt_mdb_t db2;
	struct pgt_mdb_origin o;
	pgt_space_t *a, *b;

	run_open(&r, &pgt_arch_x86_64, 9);
	a = &r.s[0].sp;
	b = &r.s[1].sp;
	pgt_vaddr_t va = va_of(&r, 0, 0), dva = va_of(&r, 1, 0);
	uint64_t pg = r.pg;
	test_mm_init(&t, TEST_MM_OFFSET);
	ck_assert_int_eq(pgt_space_init(&plain, r.a, &t.mm, 0), PGT_OK);
	ck_assert_int_eq(pgt_space_init(&other, r.a, &t.mm, PGT_SPACE_LINKS), PGT_OK);
	ck_assert_int_eq(pgt_mdb_init(&db2, &r.nm.mm), PGT_OK);
	both(&r, PHYS(0, 0, 2, RWX));
	struct snap before;
	snap_take(&r, &before);

	ck_assert_int_eq(pgt_mdb_init(NULL, &r.nm.mm), PGT_EINVAL);
	ck_assert_int_eq(pgt_mdb_init(&db2, &(struct pgt_mdb_mm){ 0 }), PGT_EINVAL);
	ck_assert_int_eq(pgt_mdb_attach(&r.db, &plain), PGT_EINVAL); /* no link words */
	ck_assert_int_eq(pgt_mdb_attach(&r.db, a), PGT_EINVAL);      /* attached already */
	ck_assert_int_eq(pgt_mdb_attach(&db2, b), PGT_EINVAL);       /* to another database, empty */
	ck_assert_int_eq(pgt_mdb_detach(&db2, a), PGT_EINVAL);
	ck_assert_int_eq(pgt_map(&other, 0, 0, pg, PGT_PROT_READ, 0), PGT_OK);
	ck_assert_int_eq(pgt_mdb_attach(&r.db, &other), PGT_EINVAL); /* maps something */
	ck_assert_int_eq(pgt_unmap(&other, 0, pg), PGT_OK);
	ck_assert_int_eq(pgt_mdb_map(&r.db, a, va, &other, 0, pg, RWX), PGT_EINVAL); /* not attached */
	ck_assert_int_eq(pgt_mdb_map(&r.db, a, va + 1, b, dva, pg, RWX), PGT_EALIGN);
	ck_assert_int_eq(pgt_mdb_map(&r.db, a, va, b, dva, pg + 1, RWX), PGT_EALIGN);
	ck_assert_int_eq(pgt_mdb_map(&r.db, a, 0x800000000000, b, dva, pg, RWX), PGT_ERANGE);
	ck_assert_int_eq(pgt_mdb_map(&r.db, a, 0x7ffffffff000, b, dva, 2 * pg, RWX), PGT_ERANGE);
	ck_assert_int_eq(pgt_mdb_map(&r.db, a, va, b, dva, pg, PGT_PROT_WRITE), PGT_ENOTSUP);
	ck_assert_int_eq(pgt_mdb_map(&r.db, a, va, b, dva, pg, PGT_PROT_USER), PGT_EINVAL);
	ck_assert_int_eq(pgt_mdb_map(&r.db, a, va, b, dva, pg, PGT_PROT_READ | PGT_PROT_UNCACHED),
			 PGT_EINVAL);
	ck_assert_int_eq(pgt_mdb_grant(&r.db, a, va, b, dva, pg, PGT_PROT_EXEC), PGT_ENOTSUP);
	ck_assert_int_eq(pgt_mdb_grant(&r.db, a, va, b, dva, pg, 0x100 | PGT_PROT_READ), PGT_EINVAL);
	ck_assert_int_eq(pgt_mdb_map_phys(&r.db, a, va, 0x1001, pg, PGT_PROT_READ), PGT_EALIGN);
	ck_assert_int_eq(pgt_mdb_map_phys(&r.db, a, va, 1ull << 52, pg, PGT_PROT_READ), PGT_ERANGE);
	ck_assert_int_eq(pgt_mdb_map_phys(&r.db, a, va, 0, pg, 0), PGT_EINVAL);
	ck_assert_int_eq(pgt_mdb_map_phys(&r.db, a, va, 0, pg, PGT_PROT_WRITE), PGT_ENOTSUP);
	ck_assert_int_eq(pgt_mdb_unmap(&r.db, a, va, pg, PGT_PROT_USER), PGT_EINVAL);
	ck_assert_int_eq(pgt_mdb_flush(&r.db, a, va, pg + 1, PGT_PROT_READ), PGT_EALIGN);
	ck_assert_int_eq(pgt_mdb_flush(&r.db, &other, 0, pg, PGT_PROT_READ), PGT_EINVAL);
	ck_assert_int_eq(pgt_mdb_origin(&r.db, &other, 0, &o), PGT_EINVAL);
	ck_assert_int_eq(pgt_mdb_origin(&r.db, a, va, NULL), PGT_EINVAL);
	ck_assert_int_eq(pgt_mdb_origin(&r.db, a, 0x800000000000, &o), PGT_ERANGE);
	ck_assert_int_eq(pgt_mdb_verify(NULL, NULL, NULL), PGT_EINVAL);
	/* nothing to do */
	ck_assert_int_eq(pgt_mdb_map(&r.db, a, va, b, dva, 0, RWX), PGT_OK);
	ck_assert_int_eq(pgt_mdb_map_phys(&r.db, a, va, 0, 0, RWX), PGT_OK);
	ck_assert_int_eq(pgt_mdb_flush(&r.db, a, va, 0, RWX), PGT_OK);
	ck_assert_int_eq(pgt_mdb_flush(&r.db, a, va, 2 * pg, 0), PGT_OK);
	ck_assert_int_eq(pgt_mdb_unmap(&r.db, a, va, 2 * pg, 0), PGT_OK);
	snap_same(&r, &before, "refused call");
	check_all(&r);

	/* a space the caller edited behind the database's back is reported */
	pgt_ref_t ref;
	ck_assert_int_eq(pgt_lookup(a, va, &ref), PGT_OK);
	ck_assert_int_eq(pgt_set_field(a, ref, PGT_FIELD_PROT, PGT_PROT_READ), PGT_OK);
	ck_assert_int_gt(pgt_mdb_verify(&r.db, NULL, NULL), 0);
	ck_assert_int_eq(pgt_set_field(a, ref, PGT_FIELD_PROT, RWX), PGT_OK);
	ck_assert_int_eq(pgt_mdb_verify(&r.db, NULL, NULL), 0);

	pgt_mdb_destroy(&db2);
	pgt_mdb_destroy(NULL);
	ck_assert_int_eq(pgt_mdb_detach(&r.db, a), PGT_OK);
	ck_assert_int_eq(pgt_mdb_attach(&db2, a), PGT_EINVAL); /* db2 is destroyed */
	ck_assert_int_eq(pgt_mdb_init(&db2, &r.nm.mm), PGT_OK);
	ck_assert_int_eq(pgt_mdb_attach(&db2, a), PGT_OK); /* detached: free to move */
	ck_assert_int_eq(pgt_mdb_attach(&r.db, a), PGT_EINVAL);
	pgt_mdb_destroy(&db2);
	ck_assert_int_eq(pgt_mdb_attach(&r.db, a), PGT_OK);
	memset(&r.m.p[0], 0, sizeof r.m.p[0]);
	check_all(&r);
	pgt_space_destroy(&plain);
	pgt_space_destroy(&other);
	ck_assert_int_eq(t.allocs, t.frees);
	test_mm_fini(&t);
	run_close(&r);
}
END_TEST

static Suite *mdb_suite(void)
{
	Suite *su = suite_create("mdb");
	TCase *tc = tcase_create("edges");
	TCase *rnd = tcase_create("random");

	tcase_add_test(tc, test_counterexample);
	tcase_add_test(tc, test_map_from_derived);
	tcase_add_test(tc, test_same_space);
	tcase_add_test(tc, test_source_holes);
	tcase_add_test(tc, test_rights_downgrade);
	tcase_add_test(tc, test_detach_middle);
	tcase_add_test(tc, test_attributes);
	tcase_add_test(tc, test_misuse);
	tcase_add_test(tc, test_verify_catches);
	tcase_add_test(tc, test_tlb_batched);
	tcase_add_test(tc, test_superpages);
	tcase_add_test(tc, test_grant_part_of_superpage);
	tcase_add_loop_test(tc, test_root_superpages, 0, 3);
	tcase_add_test(tc, test_super_over_pages);
	tcase_add_test(tc, test_super_over_pages_bbm);
	tcase_add_test(tc, test_super_marks_settle);
	tcase_add_test(tc, test_super_from_destination);
	tcase_add_test(tc, test_super_pending_revoked);
	tcase_add_test(tc, test_caller_hooks);
	tcase_add_test(tc, test_tiny_tables_memo_limit);
	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, test_every_failure, 0, 2);
	tcase_add_loop_test(tc, test_every_failure_superpages, 0, 2);
	suite_add_tcase(su, tc);
	tcase_set_timeout(rnd, 1800);
	tcase_add_loop_test(rnd, test_random_model, 0, 8);
	suite_add_tcase(su, rnd);
	return su;
}

int main(void)
{
	int failed = test_run_suite(mdb_suite());
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
