/* SPDX-License-Identifier: MIT */
/*
 * check_range_model: long random sequences of pgt_map (plain, NOSUPER,
 * REPLACE, reserved), pgt_unmap, pgt_protect and pgt_lookup over several
 * spaces of every descriptor, compared after every step with the extent
 * model of tests/extents.h, with allocation failures injected at random.
 *
 * After every step: the tree maps exactly what the model says (output
 * addresses and rights, whatever page sizes the library chose), the tree
 * invariants hold (every table an outstanding frame reached once, no
 * malformed entry, no empty table left behind) by the harness's checker and
 * by pgt_verify, pgt_translate agrees with the model on reads and writes,
 * privileged and from user mode, across the window, and a failed step left
 * the tree bit-for-bit unchanged and the allocator's books as before
 * (two of the three spaces keep emptied tables for reuse: pgt_space_cache,
 * checked by pgt_verify). PGT_MODEL_STEPS overrides the length;
 * PGT_MODEL_SEED, when set, is the seed of every sequence (by default each
 * has its own), so the seed a failure prints, set there, replays it.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extents.h"
#include "harness.h"

enum { NSPACES = 3 };

/** One space under test, its model, and the window its operations stay in. */
struct slot {
	pgt_space_t sp;
	struct test_mm t;
	struct extents m;
	unsigned flags;
	pgt_vaddr_t lo;     /**< first byte of the window */
	uint64_t span;      /**< window size: four of the largest pages */
};

struct run {
	const struct pgt_arch *a;
	uint64_t rng, seed;
	unsigned long step;
	struct slot s[NSPACES];
	unsigned long ops[6], failures_injected;
};

static unsigned long opt_ulong(const char *name, unsigned long dflt)
{
	const char *v = getenv(name);
	return v && *v ? strtoul(v, NULL, 0) : dflt;
}

/** The seed of sequence @p k: PGT_MODEL_SEED as it is when set, else the default's k-th. */
static uint64_t sequence_seed(uint64_t k)
{
	const char *v = getenv("PGT_MODEL_SEED");
	return v && *v ? strtoull(v, NULL, 0) : 0x7a11ce + k;
}

static uint64_t largest_page(const struct pgt_arch *a)
{
	unsigned shift = a->level[0].shift;
	for (unsigned l = 0; l < a->levels; l++)
		if (a->level[l].leaf_ok)
			shift = a->level[l].shift;
	return 1ull << shift;
}

/** Space k: offset or hook p2v, link words or not, and on ARMv8 the upper range for one. */
static void slot_open(struct run *r, int k)
{
	struct slot *s = &r->s[k];
	uint64_t big = largest_page(r->a);

	test_mm_init(&s->t, k == 1 ? TEST_MM_HOOK : TEST_MM_OFFSET);
	s->flags = k == 2 ? PGT_SPACE_LINKS : 0;
	if (k == 1 && test_has_upper(r->a))
		s->flags |= PGT_SPACE_UPPER;
	ck_assert_int_eq(pgt_space_init(&s->sp, r->a, &s->t.mm, s->flags), PGT_OK);
	/* spaces 0 and 2 keep emptied tables for reuse (pgt_space_cache): the model cannot tell */
	ck_assert_int_eq(pgt_space_cache(&s->sp, k == 0 ? 2 : k == 2 ? 1 : 0), PGT_OK);
	ext_init(&s->m);
	s->span = 4 * big;
	/* low window at the bottom; on x86-64 the third space works at the top of the high half */
	s->lo = test_va_bottom(r->a, s->flags);
	if (k == 2 || (s->flags & PGT_SPACE_UPPER))
		s->lo = test_va_top(r->a, s->flags) - s->span + 1;
}

static void slot_close(struct slot *s)
{
	pgt_space_destroy(&s->sp);
	ck_assert_int_eq(s->t.errors, 0);
	ck_assert_int_eq(s->t.allocs, s->t.frees);
	test_mm_fini(&s->t);
	ext_fini(&s->m);
}

/** Fails the run with the step, the seed and what went wrong. */
#define RUN_FAIL(r, ...)                                                                                 \
	do {                                                                                             \
		char msg_[256];                                                                          \
		snprintf(msg_, sizeof msg_, __VA_ARGS__);                                               \
		ck_abort_msg("%s: step %lu (replay: PGT_MODEL_SEED=%#" PRIx64 "): %s", (r)->a->name, (r)->step, \
			     (r)->seed, msg_);                                                           \
	} while (0)

/** Whether the model maps a valid leaf at @p x (not nothing, not a reserved leaf). */
static bool model_valid(const struct ext *x)
{
	return x && (x->prot & (PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC));
}

/**
 * What pgt_translate must answer for @p access at @p va, by the model. On
 * RISC-V (SUM = 0) the supervisor touches no user page; at stage 2
 * (EPT, ARMv8 stage 2) the guest's mode plays no part in data accesses.
 */
static bool model_allows(const struct pgt_arch *a, const struct ext *x, unsigned access)
{
	unsigned need = (access & PGT_ACC_WRITE) ? PGT_PROT_WRITE : PGT_PROT_READ;
	bool user = access & PGT_ACC_USER;

	if (!model_valid(x) || !(x->prot & need))
		return false;
	if (a->stage == 2)
		return true;
	if (user)
		return x->prot & PGT_PROT_USER;
	return !(test_user_pages_private(a) && (x->prot & PGT_PROT_USER));
}

/**
 * Reads and writes, privileged and from user mode, at random addresses of
 * the window and at the edges of the model's extents: pgt_translate gives
 * the model's physical address or faults exactly where the model says.
 */
static void check_translations(struct run *r, struct slot *s)
{
	static const unsigned kinds[] = { PGT_ACC_READ, PGT_ACC_WRITE, PGT_ACC_READ | PGT_ACC_USER,
					  PGT_ACC_WRITE | PGT_ACC_USER };
	for (int k = 0; k < 24; k++) {
		pgt_vaddr_t va = s->lo + test_rand(&r->rng) % s->span;
		if (k % 3 == 0 && s->m.n) { /* an edge of an extent, or the byte past it */
			const struct ext *x = &s->m.v[test_rand(&r->rng) % s->m.n];
			va = (k & 1) ? x->va : x->last + 1;
			if (va - s->lo >= s->span)
				va = x->va;
		}
		const struct ext *x = ext_find(&s->m, va);
		unsigned access = kinds[test_rand(&r->rng) % 4];
		pgt_paddr_t pa = 0;
		struct pgt_fault f;
		int rc = pgt_translate(&s->sp, va, access, &pa, &f);
		bool allowed = model_allows(r->a, x, access);
		if (rc != (allowed ? PGT_OK : PGT_EFAULT))
			RUN_FAIL(r, "translate %#llx access %#x: %s, the model says %s", (unsigned long long)va, access,
				 pgt_strerror(rc), allowed ? "allowed" : "a fault");
		if (allowed && pa != x->pa + (va - x->va))
			RUN_FAIL(r, "translate %#llx: %#llx, the model %#llx", (unsigned long long)va,
				 (unsigned long long)pa, (unsigned long long)(x->pa + (va - x->va)));
		bool valid = model_valid(x);
		if (!allowed && f.kind != (valid ? PGT_FAULT_PERMISSION : PGT_FAULT_NOT_PRESENT))
			RUN_FAIL(r, "translate %#llx access %#x: fault kind %d", (unsigned long long)va, access, f.kind);
	}
}

/** Counts pgt_verify's complaints (the tests' own checker runs beside it). */
static void count_problem(void *arg, const char *problem, pgt_vaddr_t va, unsigned level)
{
	(void)problem;
	(void)va;
	(void)level;
	++*(unsigned long *)arg;
}

static void verify_slot(struct run *r, struct slot *s)
{
	char why[200];
	if (!ext_matches_tree(&s->m, &s->sp, r->a, &s->t, s->flags, why, sizeof why))
		RUN_FAIL(r, "tree and model differ: %s", why);
	struct tree_stats st = tree_check(&s->sp, r->a, &s->t);
	if (st.problems || st.empty_tables)
		RUN_FAIL(r, "%zu invariant problems, %zu empty tables", st.problems, st.empty_tables);
	unsigned long reported = 0;
	int n = pgt_verify(&s->sp, count_problem, &reported);
	if (n != 0 || reported != 0)
		RUN_FAIL(r, "pgt_verify found %d problems", n);
	check_translations(r, s);
}

/**
 * A random range in the slot's window: mostly small, sometimes (unless
 * @p small) half the window.
 */
static void pick_range(struct run *r, struct slot *s, bool small, pgt_vaddr_t *va, uint64_t *size)
{
	uint64_t page = 1ull << r->a->level[0].shift, mid = 1ull << r->a->level[1].shift;
	uint64_t max = (!small && test_rand(&r->rng) % 4 == 0) ? s->span / 2 : 3 * mid;
	*size = (1 + test_rand(&r->rng) % (max / page)) * page;
	/* starts near superpage boundaries more often than chance would */
	uint64_t off = (test_rand(&r->rng) % ((s->span - *size) / page + 1)) * page;
	if (test_rand(&r->rng) & 1)
		off &= ~(mid - 1);
	*va = s->lo + off;
}

static unsigned pick_prot(struct run *r)
{
	static const unsigned prots[] = {
		PGT_PROT_READ, PGT_PROT_READ | PGT_PROT_WRITE, PGT_PROT_READ | PGT_PROT_EXEC,
		PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_USER, PGT_PROT_READ | PGT_PROT_GLOBAL | PGT_PROT_UNCACHED,
		0, PGT_PROT_USER, PGT_PROT_WRITE,
	};
	return prots[test_rand(&r->rng) % (sizeof prots / sizeof prots[0])];
}

/**
 * Output address: aligned like va in the largest page half the time, so
 * superpages happen, and always for large ranges, so the tree stays small.
 */
static pgt_paddr_t pick_pa(struct run *r, pgt_vaddr_t va, uint64_t size)
{
	uint64_t big = largest_page(r->a), page = 1ull << r->a->level[0].shift;
	/* bases in the lower half of the physical width (Sv57: 128 of its 256T pages), so pa + size fits */
	uint64_t bases = r->a->pa_bits < 64 ? ((1ull << r->a->pa_bits) / big) / 2 : 256;
	uint64_t base = (test_rand(&r->rng) % (bases < 256 ? bases : 256)) * big;
	if ((test_rand(&r->rng) & 1) || size > 4 * (1ull << r->a->level[1].shift))
		return base + (va & (big - 1));
	return base + (test_rand(&r->rng) % (big / page)) * page;
}

/** Which of write or execute without read the architecture refuses. */
static bool prot_unsupported(const struct pgt_arch *a, unsigned prot)
{
	pgt_pte_t bits;
	return a->prot_encode(0, prot, &bits) != PGT_OK;
}

/** Runs one operation on the library and, where it must succeed, on the model. */
static int do_op(struct run *r, struct slot *s, int op, int *expect)
{
	pgt_vaddr_t va;
	uint64_t size;
	pick_range(r, s, op == 1, &va, &size); /* NOSUPER: small ranges only */
	pgt_vaddr_t last = va + size - 1;
	unsigned prot = pick_prot(r);
	bool bad_prot = prot_unsupported(r->a, prot);

	r->ops[op]++;
	switch (op) {
	case 0: case 1: case 2: { /* map: plain, no superpages, replacing */
		unsigned flags = op == 1 ? PGT_MAP_NOSUPER : op == 2 ? PGT_MAP_REPLACE : 0;
		pgt_paddr_t pa = pick_pa(r, va, size);
		*expect = bad_prot ? PGT_ENOTSUP
			  : (!(flags & PGT_MAP_REPLACE) && ext_overlaps(&s->m, va, last)) ? PGT_ECONFLICT : PGT_OK;
		int rc = pgt_map(&s->sp, va, pa, size, prot, flags);
		if (rc == PGT_OK)
			ext_map(&s->m, va, last, pa, prot);
		return rc;
	}
	case 3: {
		*expect = PGT_OK;
		int rc = pgt_unmap(&s->sp, va, size);
		if (rc == PGT_OK)
			ext_unmap(&s->m, va, last);
		return rc;
	}
	case 4: {
		*expect = bad_prot ? PGT_ENOTSUP : PGT_OK;
		int rc = pgt_protect(&s->sp, va, size, prot);
		if (rc == PGT_OK)
			ext_protect(&s->m, va, last, prot);
		return rc;
	}
	default: { /* lookup of a random address: found exactly where the model maps */
		pgt_ref_t ref;
		uint64_t pa = 0;
		const struct ext *x = ext_find(&s->m, va);
		*expect = x ? PGT_OK : PGT_ENOENT;
		int rc = pgt_lookup(&s->sp, va, &ref);
		if (rc == PGT_OK && x && (pgt_get_field(&s->sp, ref, PGT_FIELD_PADDR, &pa) != PGT_OK ||
					  pa != ((x->pa + (va - x->va)) & ~((1ull << ref.page_shift) - 1))))
			RUN_FAIL(r, "lookup %#llx: output address %#llx", (unsigned long long)va, (unsigned long long)pa);
		return rc;
	}
	}
}

static void run_step(struct run *r)
{
	struct slot *s = &r->s[test_rand(&r->rng) % NSPACES];
	int op = (int)(test_rand(&r->rng) % 6), expect;
	bool inject = test_rand(&r->rng) % 8 == 0;
	size_t n, frames = test_mm_outstanding(&s->t);
	pgt_pte_t *snap = tree_snapshot(&s->sp, r->a, &s->t, &n);

	if (inject)
		s->t.fail_at = s->t.attempts + 1 + (long)(test_rand(&r->rng) % 3);
	int rc = do_op(r, s, op, &expect);
	s->t.fail_at = 0;
	if (rc == PGT_ENOMEM && inject) {
		r->failures_injected++;
		if (!tree_unchanged(&s->sp, r->a, &s->t, snap, n))
			RUN_FAIL(r, "operation %d failed with PGT_ENOMEM but changed the tree", op);
		if (test_mm_outstanding(&s->t) != frames)
			RUN_FAIL(r, "operation %d failed with PGT_ENOMEM: %zu frames, %zu before", op,
				 test_mm_outstanding(&s->t), frames);
		verify_slot(r, s); /* the tables kept for reuse too */
		return;
	}
	if (rc != expect)
		RUN_FAIL(r, "operation %d returned %d (%s), the model says %d", op, rc, pgt_strerror(rc), expect);
	if (rc != PGT_OK && !tree_unchanged(&s->sp, r->a, &s->t, snap, n))
		RUN_FAIL(r, "operation %d failed (%s) but changed the tree", op, pgt_strerror(rc));
	if (rc == PGT_OK)
		free(snap);
	verify_slot(r, s);
}

/** Runs the random sequence of seed @p seed over spaces of @p a, checking every step. */
static void random_ranges(const struct pgt_arch *a, uint64_t seed)
{
	struct run r = { .a = a };
	/*
	 * 2000 steps per format (36,000 over the 18 shipped, what 4000 over
	 * nine took), so each new format does not lengthen CI's emulated and
	 * sanitized runs; on a slow runner (Valgrind, sanitizers, emulation:
	 * test_slow_runner) a shorter run of the same sequence.
	 */
	unsigned long steps = opt_ulong("PGT_MODEL_STEPS", test_slow_runner() ? 400 : 2000);

	r.seed = seed;
	r.rng = r.seed;
	for (int k = 0; k < NSPACES; k++)
		slot_open(&r, k);
	for (r.step = 0; r.step < steps; r.step++)
		run_step(&r);
	/* emptying every window leaves only the roots */
	for (int k = 0; k < NSPACES; k++) {
		ck_assert_int_eq(pgt_unmap(&r.s[k].sp, r.s[k].lo, r.s[k].span), PGT_OK);
		(void)pgt_space_trim(&r.s[k].sp);
		ck_assert_uint_eq(test_mm_outstanding(&r.s[k].t), 1);
		slot_close(&r.s[k]);
	}
	printf("check_range_model: %s: seed %#" PRIx64 ", %lu steps (map %lu, nosuper %lu, replace %lu, "
	       "unmap %lu, protect %lu, lookup %lu), %lu allocation failures injected, all verified\n",
	       r.a->name, r.seed, steps, r.ops[0], r.ops[1], r.ops[2], r.ops[3], r.ops[4], r.ops[5],
	       r.failures_injected);
}

START_TEST(test_random_ranges)
{
	random_ranges(test_archs[_i], sequence_seed((uint64_t)_i));
}
END_TEST

/*
 * Copies of x86-64 (the engine's generic walks) whose table entries are
 * written without their accessed bit, so that the MMU may set it at any
 * moment: each count changes by an atomic add, or, split in two runs (bit
 * 8 and bits 61:53), by a compare-and-swap. The shipped x86-64 writes A
 * itself and changes counts with plain stores.
 */
static const struct pgt_arch *x86_64_mmu_writes_tables(struct pgt_arch *copy, bool split)
{
	*copy = pgt_arch_x86_64;
	for (unsigned l = 1; l < copy->levels; l++) {
		copy->level[l].table_attrs &= ~copy->level[l].table_accessed;
		if (split)
			copy->level[l].table_count = (pgt_pte_t)1 << 8 | (pgt_pte_t)0x1ff << 53;
	}
	return copy;
}

START_TEST(test_random_ranges_mmu_writes_tables)
{
	static struct pgt_arch copy;

	random_ranges(x86_64_mmu_writes_tables(&copy, false), sequence_seed(101));
}
END_TEST

START_TEST(test_random_ranges_split_count)
{
	static struct pgt_arch split;

	random_ranges(x86_64_mmu_writes_tables(&split, true), sequence_seed(100));
}
END_TEST

/** The model itself: a checker that cannot fail proves nothing. */
START_TEST(test_model_catches_differences)
{
	struct run r = { .a = &pgt_arch_x86_64 };
	slot_open(&r, 0);
	struct slot *s = &r.s[0];
	char why[200];
	ck_assert_int_eq(pgt_map(&s->sp, 0x200000, 0x400000, 0x201000, PGT_PROT_READ, 0), PGT_OK);
	ext_map(&s->m, 0x200000, 0x400fff, 0x400000, PGT_PROT_READ);
	ck_assert(ext_matches_tree(&s->m, &s->sp, r.a, &s->t, 0, why, sizeof why));
	ext_protect(&s->m, 0x400000, 0x400fff, PGT_PROT_READ | PGT_PROT_WRITE);
	ck_assert(!ext_matches_tree(&s->m, &s->sp, r.a, &s->t, 0, why, sizeof why)); /* rights */
	ext_protect(&s->m, 0x400000, 0x400fff, PGT_PROT_READ);
	ext_map(&s->m, 0x400000, 0x400fff, 0x1000, PGT_PROT_READ);
	ck_assert(!ext_matches_tree(&s->m, &s->sp, r.a, &s->t, 0, why, sizeof why)); /* output address */
	ext_unmap(&s->m, 0x400000, 0x400fff);
	ck_assert(!ext_matches_tree(&s->m, &s->sp, r.a, &s->t, 0, why, sizeof why)); /* a page too many */
	ext_map(&s->m, 0x400000, 0x401fff, 0x600000, PGT_PROT_READ);
	ck_assert(!ext_matches_tree(&s->m, &s->sp, r.a, &s->t, 0, why, sizeof why)); /* a page too few */
	ck_assert_int_eq(pgt_unmap(&s->sp, 0, 1ull << 30), PGT_OK);
	slot_close(s);
}
END_TEST

static Suite *range_model_suite(void)
{
	Suite *su = suite_create("range_model");
	TCase *tc = tcase_create("random");

	tcase_set_timeout(tc, 1800);
	tcase_add_loop_test(tc, test_random_ranges, 0, (int)test_narchs);
	tcase_add_test(tc, test_random_ranges_mmu_writes_tables);
	tcase_add_test(tc, test_random_ranges_split_count);
	tcase_add_test(tc, test_model_catches_differences);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	int failed = test_run_suite(range_model_suite());
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
