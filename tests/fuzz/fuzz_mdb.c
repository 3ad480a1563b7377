/* SPDX-License-Identifier: MIT */
/*
 * fuzz_mdb: a libFuzzer target that runs the mapping database
 * (<pgtable/mdb.h>) and its abstract model (tests/mdb_model.c) side by side.
 *
 * The input's first byte picks the descriptor (x86-64, ARMv8 4K/48-bit, or
 * one of the tests' two tiny ones, whose superpages fit the model's
 * windows: leaves of eight pages below the root, or in the root); the rest
 * is a program of eight-byte operations over five attached spaces:
 * map_phys, map, grant, unmap, flush, or detach and attach again, on any
 * ranges of the windows (overlapping ones included), with any prot byte
 * (refused ones included), and optionally an allocation failure, of nodes
 * or of every space's tables, at a chosen attempt.
 *
 * After every operation: its status is the one the arguments call for
 * (PGT_ENOMEM only when a failure was armed, and then every tree, the
 * tlb_flush calls and the books are as before); every page of every window
 * translates (pgt_translate) and has the origin (pgt_mdb_origin) the model
 * says; pgt_mdb_verify and pgt_verify find nothing. At the end every node
 * and table is given back. Any disagreement aborts (a crash for libFuzzer).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness.h"
#include "../mdb_model.h"

enum op_kind { OP_PHYS, OP_MAP, OP_GRANT, OP_UNMAP, OP_FLUSH, OP_DETACH, OP_KINDS };

struct fslot {
	pgt_space_t sp;
	struct test_mm t;
	pgt_vaddr_t lo;
};

struct fuzz {
	const uint8_t *p;
	size_t n;
	const struct pgt_arch *a;
	uint64_t pg;
	unsigned long op;
	struct fslot s[NSPACES];
	struct node_mm nm;
	pgt_mdb_t db;
	struct model m;
};

/** Reports a disagreement and crashes: libFuzzer saves the input. */
static void disagree(const struct fuzz *f, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_mdb: operation %lu (%s): ", f->op, f->a->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#define EXPECT(f, c, ...)                           \
	do {                                        \
		if (!(c))                           \
			disagree((f), __VA_ARGS__); \
	} while (0)

static uint8_t get8(struct fuzz *f)
{
	if (!f->n)
		return 0;
	f->n--;
	return *f->p++;
}

static pgt_vaddr_t va_of(const struct fuzz *f, int k, int g)
{
	return f->s[k].lo + (uint64_t)g * f->pg;
}

/** Whether @p a is the tiny descriptor with its leaves of eight pages in the root. */
static bool root_leaves(const struct pgt_arch *a)
{
	return a->levels == 2 && a->level[1].leaf_ok;
}

/**
 * Space k's window, as check_mdb places them: across table edges, one at
 * the top; with root leaves, root entries 0-2 for space 0 (entry 0's link
 * word holds the attachment mark while no leaf is there), and from inside
 * a root entry across three more for the others.
 */
static void slot_open(struct fuzz *f, int k)
{
	struct fslot *s = &f->s[k];
	uint64_t span = f->pg << f->a->level[0].bits;
	unsigned flags = PGT_SPACE_LINKS;

	if (span < WINDOW * f->pg && !root_leaves(f->a))
		span <<= f->a->level[1].bits;
	test_mm_init(&s->t, k == 3 ? TEST_MM_HOOK : TEST_MM_OFFSET);
	if (k == 1 && test_has_upper(f->a))
		flags |= PGT_SPACE_UPPER;
	EXPECT(f, pgt_space_init(&s->sp, f->a, &s->t.mm, flags) == PGT_OK, "space %d: init", k);
	s->lo = test_va_bottom(f->a, flags) + (uint64_t)(k + 1) * span - (WINDOW / 2) * f->pg;
	if (root_leaves(f->a))
		s->lo = test_va_bottom(f->a, flags) + (k ? (uint64_t)(k + 1) * span - 4 * f->pg : 0);
	if (k == 1)
		s->lo = test_va_top(f->a, flags) - WINDOW * f->pg + 1;
	EXPECT(f, pgt_mdb_attach(&f->db, &s->sp) == PGT_OK, "space %d: attach", k);
}

/** One page against the model: translation, write access, origin. */
static void check_page(struct fuzz *f, int k, int g)
{
	const struct mpage *x = &f->m.p[k][g];
	pgt_vaddr_t va = va_of(f, k, g);
	struct pgt_mdb_origin o;
	pgt_paddr_t pa = 0;
	int rc = pgt_mdb_origin(&f->db, &f->s[k].sp, va, &o);
	int rd = pgt_translate(&f->s[k].sp, va, PGT_ACC_READ, &pa, NULL);
	int wr = pgt_translate(&f->s[k].sp, va, PGT_ACC_WRITE, NULL, NULL);
	unsigned depth;

	if (!x->valid) {
		EXPECT(f, rc == PGT_ENOENT && rd == PGT_EFAULT,
		       "space %d page %d: mapped, the model has nothing", k, g);
		return;
	}
	uint64_t mpa = model_lookup(&f->m, k, g, &depth);
	EXPECT(f, rc == PGT_OK && rd == PGT_OK && pa == mpa,
	       "space %d page %d: pa %#" PRIx64 ", model %#" PRIx64, k, g, pa, mpa);
	EXPECT(f, (wr == PGT_OK) == !!(x->prot & PGT_PROT_WRITE), "space %d page %d: write access", k, g);
	EXPECT(f,
	       o.space == (x->sp < 0 ? NULL : &f->s[x->sp].sp) &&
		       o.va == (x->sp < 0 ? 0 : va_of(f, x->sp, x->pg)) && o.pa == mpa && o.prot == x->prot &&
		       o.depth == depth,
	       "space %d page %d: origin differs from the model's", k, g);
}

static void check_all(struct fuzz *f)
{
	for (int k = 0; k < NSPACES; k++)
		for (int g = 0; g < WINDOW; g++)
			check_page(f, k, g);
	EXPECT(f, pgt_mdb_verify(&f->db, NULL, NULL) == 0, "pgt_mdb_verify found problems");
	for (int k = 0; k < NSPACES; k++)
		EXPECT(f, pgt_verify(&f->s[k].sp, NULL, NULL) == 0, "pgt_verify: space %d", k);
}

/** One operation, decoded from eight bytes. */
struct op {
	enum op_kind kind;
	int sp, dsp, pg, dpg, len;
	uint64_t pa;
	unsigned prot;
	uint8_t fail;
};

static struct op decode(struct fuzz *f)
{
	struct op o = { .kind = (enum op_kind)(get8(f) % OP_KINDS) };
	uint8_t spaces = get8(f);

	o.sp = spaces % NSPACES;
	o.dsp = (spaces >> 4) % NSPACES;
	o.pg = get8(f) % WINDOW;
	o.dpg = get8(f) % WINDOW;
	o.len = 1 + get8(f) % WINDOW;
	if (o.pg + o.len > WINDOW)
		o.len = WINDOW - o.pg;
	if (o.dpg + o.len > WINDOW)
		o.len = WINDOW - o.dpg;
	o.prot = get8(f);
	o.pa = (uint64_t)get8(f) * f->pg;
	o.fail = get8(f);
	return o;
}

/**
 * The status the arguments call for (every range is a valid one) on
 * descriptor @p a, whose codec says which memory types it has.
 */
static int expected(const struct pgt_arch *a, const struct op *o)
{
	unsigned rights = o->prot & RIGHTS, memtype = o->prot & PGT_PROT_MEMTYPE;
	pgt_pte_t bits;

	if (o->kind == OP_DETACH)
		return PGT_OK;
	if (o->kind == OP_UNMAP || o->kind == OP_FLUSH)
		return (o->prot & ~RIGHTS) ? PGT_EINVAL : PGT_OK;
	if ((o->prot & ~PGT_PROT_ALL) || !rights || (memtype & (memtype - 1)) || (o->kind != OP_PHYS && memtype))
		return PGT_EINVAL;
	if (!(rights & PGT_PROT_READ))
		return PGT_ENOTSUP;
	return a->prot_encode(0, o->prot, &bits) == PGT_OK ? PGT_OK : PGT_ENOTSUP;
}

static int call(struct fuzz *f, const struct op *o)
{
	pgt_space_t *sp = &f->s[o->sp].sp, *dst = &f->s[o->dsp].sp;
	pgt_vaddr_t va = va_of(f, o->sp, o->pg), dva = va_of(f, o->dsp, o->dpg);
	uint64_t size = (uint64_t)o->len * f->pg;

	switch (o->kind) {
	case OP_PHYS: return pgt_mdb_map_phys(&f->db, sp, va, o->pa, size, o->prot);
	case OP_MAP: return pgt_mdb_map(&f->db, sp, va, dst, dva, size, o->prot);
	case OP_GRANT: return pgt_mdb_grant(&f->db, sp, va, dst, dva, size, o->prot);
	case OP_UNMAP: return pgt_mdb_unmap(&f->db, sp, va, size, o->prot);
	case OP_FLUSH: return pgt_mdb_flush(&f->db, sp, va, size, o->prot);
	default: {
		int rc = pgt_mdb_detach(&f->db, sp);
		return rc == PGT_OK ? pgt_mdb_attach(&f->db, sp) : rc;
	}
	}
}

static void model_apply(struct fuzz *f, const struct op *o)
{
	for (int i = 0; o->kind != OP_DETACH && i < o->len; i++) {
		int g = o->pg + i, d = o->dpg + i;
		switch (o->kind) {
		case OP_PHYS: model_phys(&f->m, o->sp, g, o->pa + (uint64_t)i * f->pg, o->prot); break;
		case OP_MAP: model_map(&f->m, o->sp, g, o->dsp, d, o->prot); break;
		case OP_GRANT: model_grant(&f->m, o->sp, g, o->dsp, d, o->prot); break;
		case OP_UNMAP: model_revoke(&f->m, o->sp, g, o->prot, false); break;
		default: model_revoke(&f->m, o->sp, g, o->prot, true); break;
		}
	}
	for (int g = 0; o->kind == OP_DETACH && g < WINDOW; g++)
		if (f->m.p[o->sp][g].valid)
			model_revoke(&f->m, o->sp, g, RIGHTS, true);
}

/** Arms the failure the op asks for: bit 7 on, bit 6 picks tables over nodes, bits 0-4 the attempt. */
static bool arm(struct fuzz *f, const struct op *o)
{
	long n = 1 + (o->fail & 31);

	if (!(o->fail & 128) || o->kind == OP_DETACH) /* detach cannot fail; attach again must not */
		return false;
	if (o->fail & 64)
		for (int k = 0; k < NSPACES; k++)
			f->s[k].t.fail_at = f->s[k].t.attempts + n;
	else
		f->nm.fail_at = f->nm.attempts + n;
	return true;
}

static void run_op(struct fuzz *f)
{
	struct op o = decode(f);
	pgt_pte_t *before[NSPACES];
	size_t nb[NSPACES];
	long flushes[NSPACES], nodes = f->nm.allocs - f->nm.frees;
	bool armed = arm(f, &o);

	for (int k = 0; k < NSPACES; k++) {
		before[k] = tree_snapshot(&f->s[k].sp, f->a, &f->s[k].t, &nb[k]);
		flushes[k] = f->s[k].t.flushes;
	}
	int rc = call(f, &o), want = expected(f->a, &o);
	f->nm.fail_at = 0;
	for (int k = 0; k < NSPACES; k++)
		f->s[k].t.fail_at = 0;
	if (rc == PGT_ENOMEM && armed && want == PGT_OK)
		want = PGT_ENOMEM;
	EXPECT(f, rc == want, "operation %d: status %d, expected %d", (int)o.kind, rc, want);
	if (rc == PGT_OK) {
		model_apply(f, &o);
		for (int k = 0; k < NSPACES; k++)
			free(before[k]);
	} else {
		for (int k = 0; k < NSPACES; k++) {
			EXPECT(f, tree_unchanged(&f->s[k].sp, f->a, &f->s[k].t, before[k], nb[k]),
			       "failed call changed space %d", k);
			EXPECT(f, f->s[k].t.flushes == flushes[k], "failed call flushed space %d", k);
		}
		EXPECT(f, f->nm.allocs - f->nm.frees == nodes, "failed call changed the node books");
	}
	check_all(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct pgt_arch *const archs[] = { &pgt_arch_x86_64, &pgt_arch_armv8_4k_48, &tiny_arch,
							&tiny_root_arch };
	struct fuzz *f = calloc(1, sizeof *f);

	if (!f)
		abort();
	f->p = data;
	f->n = size;
	f->a = archs[get8(f) % 4];
	f->pg = 1ull << f->a->level[0].shift;
	node_mm_init(&f->nm);
	EXPECT(f, pgt_mdb_init(&f->db, &f->nm.mm) == PGT_OK, "init");
	for (int k = 0; k < NSPACES; k++)
		slot_open(f, k);
	while (f->n) {
		f->op++;
		run_op(f);
	}
	pgt_mdb_destroy(&f->db);
	EXPECT(f, f->nm.allocs == f->nm.frees && f->nm.errors == 0, "nodes leaked");
	for (int k = 0; k < NSPACES; k++) {
		EXPECT(f, test_mm_outstanding(&f->s[k].t) == 1, "space %d: tables left after destroy", k);
		pgt_space_destroy(&f->s[k].sp);
		EXPECT(f, f->s[k].t.allocs == f->s[k].t.frees && f->s[k].t.errors == 0, "space %d: books", k);
		test_mm_fini(&f->s[k].t);
	}
	free(f);
	return 0;
}
