/* SPDX-License-Identifier: MIT */
/*
 * check_nested: pgt_translate_nested, the MMU with two stages on.
 *
 * A guest's first stage is built with the library inside "guest memory"
 * (one host buffer at guest-physical GUEST_BASE) and a second stage maps
 * that memory; then random accesses are compared with an oracle written
 * here: it walks the first stage with the harness's own reading of the
 * descriptor, translating each table entry's guest-physical address by
 * stage 2 as a read (a fault: stage 2, s1ptw, ipa = the entry), takes the
 * stage-1 answer from pgt_translate on the guest space, and translates the
 * output address by stage 2 with the access itself. The second stage's
 * rights on guest pages are changed at random between rounds, so table
 * reads and data accesses fault at every level. Every pair of shipped
 * formats is tried, and a view of the guest's tables must answer as the
 * guest's own space.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pgtable/arch.h>
#include <pgtable/pgtable.h>

#include "harness.h"

enum { R = PGT_PROT_READ, W = PGT_PROT_WRITE, X = PGT_PROT_EXEC, U = PGT_PROT_USER };

#define GUEST_BASE 0x40000000ull     /**< guest-physical start of guest memory */
#define GUEST_SIZE (16ull << 20)     /**< bytes of guest memory */
#define GUEST_TABLES (8ull << 20)    /**< offset of the guest's table frames */
#define GUEST_MISSING 0x48000000ull  /**< a guest-physical page stage 2 never maps */

/** Guest memory, and the guest kernel's frame allocator over its upper half. */
struct guest {
	unsigned char *mem;
	pgt_paddr_t next; /**< bump pointer, guest-physical */
	long frees;
};

static pgt_paddr_t guest_alloc(void *ctx, size_t size, unsigned level)
{
	struct guest *g = ctx;
	pgt_paddr_t pa = (g->next + size - 1) & ~(pgt_paddr_t)(size - 1);

	(void)level;
	if (pa + size > GUEST_BASE + GUEST_SIZE)
		return PGT_PADDR_NONE;
	g->next = pa + size;
	return pa;
}

static void guest_free(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	(void)pa;
	(void)size;
	(void)level;
	((struct guest *)ctx)->frees++;
}

/** Guest-physical to a host pointer, as the guest kernel itself sees its memory. */
static void *guest_p2v(void *ctx, pgt_paddr_t gpa)
{
	struct guest *g = ctx;

	if (gpa < GUEST_BASE || gpa >= GUEST_BASE + GUEST_SIZE)
		return NULL;
	return g->mem + (gpa - GUEST_BASE);
}

/** One pair of stages and everything they use. */
struct nest {
	const struct pgt_arch *a1, *a2;
	struct guest g;
	struct pgt_mm gmm;
	pgt_space_t s1, view, s2;
	struct test_mm t2;
	pgt_vaddr_t va0; /**< the guest's mappings start here */
	uint64_t span;
	unsigned full2; /**< every right stage 2 grants on guest memory */
};

/** The host-physical address of a host pointer, in stage 2's allocator's naming. */
static pgt_paddr_t host_pa(const struct test_mm *t, const void *p)
{
	pgt_paddr_t pa = (pgt_paddr_t)(uintptr_t)p;

	return t->mm.p2v ? pa ^ TEST_PA_XOR : pa;
}

/** Whether stage 2 judges with the access's own privilege (a second-stage format). */
static unsigned s2_access(const struct pgt_arch *a2, unsigned access, unsigned kind)
{
	return kind | (a2->stage == 2 ? access & PGT_ACC_USER : PGT_ACC_USER);
}

/** Rights for stage 2: a first-stage format used as stage 2 (AMD NPT) needs USER. */
static unsigned s2_prot(const struct nest *n, unsigned rights)
{
	unsigned prot = rights | (n->a2->stage == 2 ? 0 : U);

	return test_prot_expressible(n->a2, prot) ? prot : 0;
}

/** The guest's own rights for its @p i-th chunk of small pages. */
static unsigned s1_prot(const struct pgt_arch *a1, unsigned i)
{
	static const unsigned prots[] = { R | W, R, R | X, R | W | U, R | U, 0, R | X | U, R | W };
	unsigned prot = prots[i % 8];

	return test_prot_expressible(a1, prot) ? prot : R;
}

/**
 * The guest maps chunks of four small pages from va0 onto guest memory,
 * one chunk onto a page stage 2 never maps, one beyond stage 2's input
 * range when stage 1 can name it, and leaves one chunk unmapped.
 */
static void guest_map(struct nest *n)
{
	uint64_t small = 1ull << n->a1->level[0].shift, chunk = 4 * small;
	unsigned chunks = (unsigned)((GUEST_TABLES / 2) / chunk);

	if (chunks > 64)
		chunks = 64;
	for (unsigned i = 0; i < chunks; i++) {
		pgt_paddr_t gpa = GUEST_BASE + i * chunk * 2; /* every other chunk of guest memory */
		if (i == 5)
			continue;
		if (i == 6)
			gpa = GUEST_MISSING;
		if (i == 7 && n->a1->pa_bits > n->a2->va_bits)
			gpa = 1ull << n->a2->va_bits;
		CHECK_RC(pgt_map(&n->s1, n->va0 + i * chunk, gpa, chunk, s1_prot(n->a1, i), 0), PGT_OK);
	}
	n->span = chunks * chunk;
}

static bool nest_open(struct nest *n, const struct pgt_arch *a1, const struct pgt_arch *a2, enum test_mm_mode mode)
{
	memset(n, 0, sizeof *n);
	n->a1 = a1;
	n->a2 = a2;
	n->full2 = R | W | X;
	if (!s2_prot(n, n->full2) || a2->va_bits < 32)
		return false;
	n->g.mem = aligned_alloc(1u << 21, GUEST_SIZE);
	memset(n->g.mem, 0, GUEST_SIZE);
	n->g.next = GUEST_BASE + GUEST_TABLES;
	n->gmm = (struct pgt_mm){ .alloc_table = guest_alloc, .free_table = guest_free, .p2v = guest_p2v, .ctx = &n->g };
	CHECK_RC(pgt_space_init(&n->s1, a1, &n->gmm, 0), PGT_OK);
	n->va0 = 3ull << a1->level[1].shift;
	guest_map(n);
	CHECK_RC(pgt_space_view(&n->view, a1, &n->gmm, pgt_space_root(&n->s1), 0), PGT_OK);

	test_mm_init(&n->t2, mode);
	CHECK_RC(pgt_space_init(&n->s2, a2, &n->t2.mm, 0), PGT_OK);
	CHECK_RC(pgt_map(&n->s2, GUEST_BASE, host_pa(&n->t2, n->g.mem), GUEST_SIZE, s2_prot(n, n->full2), 0),
		 PGT_OK);
	return true;
}

static void nest_close(struct nest *n)
{
	pgt_space_destroy(&n->view);
	pgt_space_destroy(&n->s1);
	pgt_space_destroy(&n->s2);
	ck_assert(test_mm_outstanding(&n->t2) == 0 && n->t2.errors == 0);
	test_mm_fini(&n->t2);
	free(n->g.mem);
}

/** What a nested translation answers. */
struct answer {
	int rc;
	pgt_paddr_t pa;
	struct pgt_fault f;
};

static struct answer stage2_fault(const struct nest *n, struct answer a2, pgt_vaddr_t va, pgt_paddr_t ipa,
				  unsigned s1ptw)
{
	if (a2.rc == PGT_ERANGE) /* beyond stage 2's input range: a translation fault at its first level */
		a2.f = (struct pgt_fault){ .kind = PGT_FAULT_NOT_PRESENT, .level = n->a2->levels - 1u };
	a2.rc = PGT_EFAULT;
	a2.f = (struct pgt_fault){
		.kind = a2.f.kind, .level = a2.f.level, .va = va, .stage = 2, .s1ptw = s1ptw, .ipa = ipa
	};
	return a2;
}

static struct answer translate2(const struct nest *n, pgt_paddr_t ipa, unsigned access)
{
	struct answer a = { 0 };

	a.rc = pgt_translate(&n->s2, ipa, access, &a.pa, &a.f);
	return a;
}

/** The oracle: the same translation, composed from the library's one-stage answers. */
static struct answer expected(const struct nest *n, pgt_vaddr_t va, unsigned access)
{
	pgt_paddr_t table = pgt_space_root(&n->s1);

	for (unsigned l = n->a1->levels - 1u;; l--) {
		const struct pgt_level *L = &n->a1->level[l];
		pgt_paddr_t entry = table + ((va >> L->shift) & ((1ull << L->bits) - 1)) * 8;
		struct answer a = translate2(n, entry, s2_access(n->a2, 0, PGT_ACC_READ)); /* the walker's read */
		if (a.rc != PGT_OK)
			return stage2_fault(n, a, va, entry, 1);
		pgt_pte_t pte = *(const pgt_pte_t *)guest_p2v((void *)&n->g, entry);
		if (!test_is_table(L, l, pte))
			break;
		table = test_table_pa(L, pte);
	}
	struct answer a1 = { 0 };
	pgt_paddr_t gpa;
	a1.rc = pgt_translate(&n->s1, va, access, &gpa, &a1.f);
	if (a1.rc != PGT_OK) { /* the first stage's fault, whatever its format (a guest hypervisor's stage 2) */
		a1.f.stage = 1;
		a1.f.ipa = 0;
		return a1;
	}
	struct answer a2 = translate2(n, gpa, s2_access(n->a2, access, access & 7u));
	return a2.rc == PGT_OK ? a2 : stage2_fault(n, a2, va, gpa, 0);
}

/** Outcomes the oracle saw: success, stage-1 fault, stage-2 fault on a table read, on the access. */
enum outcome { OUT_OK, OUT_STAGE1, OUT_S1PTW, OUT_STAGE2, OUT_COUNT };

static enum outcome outcome_of(const struct answer *a)
{
	if (a->rc == PGT_OK)
		return OUT_OK;
	if (a->f.stage == 1)
		return OUT_STAGE1;
	return a->f.s1ptw ? OUT_S1PTW : OUT_STAGE2;
}

static enum outcome same_answer(const struct nest *n, const pgt_space_t *s1, pgt_vaddr_t va, unsigned access)
{
	struct answer want = expected(n, va, access), got = { .pa = 1 };

	memset(&got.f, 0x5a, sizeof got.f);
	got.rc = pgt_translate_nested(s1, &n->s2, va, access, &got.pa, &got.f);
	CHECK_THAT(got.rc == want.rc, "%s over %s: va %#llx access %u: %d, expected %d", n->a1->name,
		      n->a2->name, (unsigned long long)va, access, got.rc, want.rc);
	if (want.rc == PGT_OK)
		CHECK_THAT(got.pa == want.pa, "%s over %s: va %#llx: pa %#llx, expected %#llx", n->a1->name,
			      n->a2->name, (unsigned long long)va, (unsigned long long)got.pa,
			      (unsigned long long)want.pa);
	if (want.rc == PGT_EFAULT)
		CHECK_THAT(got.f.kind == want.f.kind && got.f.level == want.f.level && got.f.va == want.f.va &&
				      got.f.stage == want.f.stage && got.f.s1ptw == want.f.s1ptw &&
				      got.f.ipa == want.f.ipa,
			      "%s over %s: va %#llx access %u: fault %d/%u stage %u s1ptw %u ipa %#llx, expected "
			      "%d/%u stage %u s1ptw %u ipa %#llx",
			      n->a1->name, n->a2->name, (unsigned long long)va, access, got.f.kind, got.f.level,
			      got.f.stage, got.f.s1ptw, (unsigned long long)got.f.ipa, want.f.kind, want.f.level,
			      want.f.stage, want.f.s1ptw, (unsigned long long)want.f.ipa);
	return outcome_of(&want);
}

static unsigned random_access(uint64_t *rng)
{
	static const unsigned kinds[] = { PGT_ACC_READ, PGT_ACC_WRITE, PGT_ACC_EXEC };
	uint64_t r = test_rand(rng);

	return kinds[r % 3] | ((r >> 8) & 1 ? PGT_ACC_USER : 0);
}

/** The guest-physical address of the stage-1 entry of @p va at a random level, read as the harness reads it. */
static pgt_paddr_t some_table_entry(const struct nest *n, pgt_vaddr_t va, uint64_t r)
{
	pgt_paddr_t table = pgt_space_root(&n->s1), entry = table;
	unsigned stop = (unsigned)(r % n->a1->levels);

	for (unsigned l = n->a1->levels - 1u;; l--) {
		const struct pgt_level *L = &n->a1->level[l];
		entry = table + ((va >> L->shift) & ((1ull << L->bits) - 1)) * 8;
		pgt_pte_t pte = *(const pgt_pte_t *)guest_p2v((void *)&n->g, entry);
		if (l == stop || !test_is_table(L, l, pte))
			return entry;
		table = test_table_pa(L, pte);
	}
}

/**
 * Stage 2 changes its rights on one guest page for one round: in odd
 * rounds the page holding a stage-1 table entry that the walk of a random
 * address reads (unreadable, or read-only every fourth round), in even
 * ones a random data page of the guest's. Returns the page.
 */
static pgt_paddr_t perturb_stage2(struct nest *n, int round, uint64_t *rng)
{
	static const unsigned rights[] = { 0, R, R | W, R | X, R | W | X };
	uint64_t page = 1ull << n->a2->level[0].shift, r = test_rand(rng);
	pgt_paddr_t gpa = (round & 1) ? some_table_entry(n, n->va0 + (r >> 8) % n->span, r >> 4) & ~(page - 1)
				      : GUEST_BASE + ((r >> 4) % (GUEST_TABLES / 2 / page)) * page;
	unsigned want = (round & 1) ? ((round & 2) ? R : 0) : rights[r % 5];
	unsigned prot = s2_prot(n, want);

	if (prot || !want) /* a right the format cannot give: leave the page */
		CHECK_RC(pgt_protect(&n->s2, gpa, page, prot), PGT_OK);
	return gpa;
}

/* Random accesses over random stage-2 rights: the library agrees with the oracle, the view with the space. */
START_TEST(test_nested_matches_oracle)
{
	const struct pgt_arch *a1 = test_archs[(size_t)_i / test_narchs];
	const struct pgt_arch *a2 = test_archs[(size_t)_i % test_narchs];
	uint64_t rng = 0x5eed + (uint64_t)_i;
	struct nest n;

	if (!nest_open(&n, a1, a2, (_i & 1) ? TEST_MM_HOOK : TEST_MM_OFFSET))
		return;
	unsigned seen[OUT_COUNT] = { 0 };
	uint64_t page = 1ull << a2->level[0].shift;
	for (int round = 0; round < 16; round++) {
		pgt_paddr_t changed = round ? perturb_stage2(&n, round, &rng) : GUEST_BASE;
		for (int k = 0; k < 150; k++) {
			pgt_vaddr_t va = n.va0 + test_rand(&rng) % n.span;
			unsigned access = random_access(&rng);
			seen[same_answer(&n, &n.s1, va, access)]++;
			same_answer(&n, &n.view, va, access);
		}
		CHECK_RC(pgt_protect(&n.s2, changed, page, s2_prot(&n, n.full2)), PGT_OK);
	}
	/* The sequence reached every kind of answer. */
	for (int o = 0; o < OUT_COUNT; o++)
		CHECK_THAT(seen[o] > 0, "%s over %s: no outcome %d in %u/%u/%u/%u", a1->name, a2->name, o,
			      seen[0], seen[1], seen[2], seen[3]);
	nest_close(&n);
}
END_TEST

/* The worked cases, x86-64 over x86-64 (AMD nested paging): each fault as the APM describes it. */
START_TEST(test_nested_npt_cases)
{
	struct nest n;
	struct pgt_fault f;
	pgt_paddr_t pa;

	ck_assert(nest_open(&n, &pgt_arch_x86_64, &pgt_arch_x86_64, TEST_MM_OFFSET));
	uint64_t chunk = 4 * 4096;
	pgt_paddr_t root = pgt_space_root(&n.s1);
	pgt_vaddr_t va = n.va0 + 8; /* chunk 0: guest R|W, guest-physical GUEST_BASE */

	CHECK_RC(pgt_translate_nested(&n.s1, &n.s2, va, PGT_ACC_WRITE, &pa, &f), PGT_OK);
	ck_assert(pa == host_pa(&n.t2, n.g.mem) + 8);
	/* The guest's root unreadable in stage 2: the first table read faults, S1PTW. */
	CHECK_RC(pgt_protect(&n.s2, root, 4096, 0), PGT_OK);
	CHECK_RC(pgt_translate_nested(&n.s1, &n.s2, va, PGT_ACC_READ, &pa, &f), PGT_EFAULT);
	ck_assert(f.stage == 2 && f.s1ptw == 1 && f.kind == PGT_FAULT_NOT_PRESENT && f.level == 0 && f.va == va);
	ck_assert(f.ipa == root + ((va >> 39) & 511) * 8);
	CHECK_RC(pgt_protect(&n.s2, root, 4096, R | W | X | U), PGT_OK);
	/* The data page read-only in stage 2: a guest write faults there, not a read. */
	CHECK_RC(pgt_protect(&n.s2, GUEST_BASE, 4096, R | U), PGT_OK);
	CHECK_RC(pgt_translate_nested(&n.s1, &n.s2, va, PGT_ACC_READ, &pa, &f), PGT_OK);
	CHECK_RC(pgt_translate_nested(&n.s1, &n.s2, va, PGT_ACC_WRITE, &pa, &f), PGT_EFAULT);
	ck_assert(f.stage == 2 && f.s1ptw == 0 && f.kind == PGT_FAULT_PERMISSION && f.ipa == GUEST_BASE + 8);
	/* Without USER in stage 2 even a supervisor access faults: every nested access is a user one. */
	CHECK_RC(pgt_protect(&n.s2, GUEST_BASE, 4096, R | W), PGT_OK);
	CHECK_RC(pgt_translate_nested(&n.s1, &n.s2, va, PGT_ACC_READ, &pa, &f), PGT_EFAULT);
	ck_assert(f.stage == 2 && f.kind == PGT_FAULT_PERMISSION);
	/* Stage 1 faults first: chunk 1 is read-only to the guest. */
	CHECK_RC(pgt_translate_nested(&n.s1, &n.s2, n.va0 + chunk, PGT_ACC_WRITE, &pa, &f), PGT_EFAULT);
	ck_assert(f.stage == 1 && f.s1ptw == 0 && f.ipa == 0 && f.kind == PGT_FAULT_PERMISSION && f.level == 0);
	/* Chunk 6 maps a guest-physical page stage 2 does not. */
	CHECK_RC(pgt_translate_nested(&n.s1, &n.s2, n.va0 + 6 * chunk + 0x123, PGT_ACC_READ, &pa, &f), PGT_EFAULT);
	ck_assert(f.stage == 2 && f.s1ptw == 0 && f.kind == PGT_FAULT_NOT_PRESENT && f.ipa == GUEST_MISSING + 0x123);
	/* Chunk 5 is not mapped by the guest. */
	CHECK_RC(pgt_translate_nested(&n.s1, &n.s2, n.va0 + 5 * chunk, PGT_ACC_READ, &pa, &f), PGT_EFAULT);
	ck_assert(f.stage == 1 && f.kind == PGT_FAULT_NOT_PRESENT && f.level == 0);
	nest_close(&n);
}
END_TEST

/* A second-stage format sees the privilege of the access; a first-stage one as stage 2 sees a user. */
START_TEST(test_nested_privilege_by_stage)
{
	struct pgt_arch second = pgt_arch_armv8_4k_48; /* its own walks are not compiled for the copy */
	struct nest n;
	struct pgt_fault f;

	second.stage = 2;
	ck_assert(nest_open(&n, &pgt_arch_x86_64, &second, TEST_MM_OFFSET));
	/*
	 * Stage 2 grants EL1 only (no USER): a guest supervisor access
	 * passes, and so do the walker's reads of the guest's tables.
	 */
	CHECK_RC(pgt_translate_nested(&n.s1, &n.s2, n.va0, PGT_ACC_READ, NULL, &f), PGT_OK);
	/* Chunk 3 is a guest user page (on guest-physical page 24): user access once stage 2 allows EL0. */
	pgt_paddr_t user_page = GUEST_BASE + 3 * 2 * 4 * 4096;
	CHECK_RC(pgt_protect(&n.s2, user_page, 4096, R | W | U), PGT_OK);
	CHECK_RC(pgt_translate_nested(&n.s1, &n.s2, n.va0 + 3 * 4 * 4096, PGT_ACC_READ | PGT_ACC_USER, NULL, &f),
		 PGT_OK);
	CHECK_RC(pgt_protect(&n.s2, user_page, 4096, R | W), PGT_OK);
	CHECK_RC(pgt_translate_nested(&n.s1, &n.s2, n.va0 + 3 * 4 * 4096, PGT_ACC_READ | PGT_ACC_USER, NULL, &f),
		 PGT_EFAULT);
	ck_assert(f.stage == 2 && f.kind == PGT_FAULT_PERMISSION && f.s1ptw == 0);
	/* A plain translate on a second-stage space reports stage 2 and the address as ipa. */
	CHECK_RC(pgt_translate(&n.s2, GUEST_MISSING + 4, PGT_ACC_READ, NULL, &f), PGT_EFAULT);
	ck_assert(f.stage == 2 && f.ipa == GUEST_MISSING + 4 && f.va == GUEST_MISSING + 4 && f.s1ptw == 0);
	nest_close(&n);
}
END_TEST

START_TEST(test_nested_bad_input)
{
	struct nest n;
	pgt_space_t dead;
	pgt_paddr_t pa = 77;
	struct pgt_fault f = { .kind = 99 };

	memset(&dead, 0, sizeof dead);
	ck_assert(nest_open(&n, &pgt_arch_x86_64, &pgt_arch_x86_64, TEST_MM_HOOK));
	CHECK_RC(pgt_translate_nested(NULL, &n.s2, n.va0, PGT_ACC_READ, &pa, &f), PGT_EINVAL);
	CHECK_RC(pgt_translate_nested(&n.s1, NULL, n.va0, PGT_ACC_READ, &pa, &f), PGT_EINVAL);
	CHECK_RC(pgt_translate_nested(&dead, &n.s2, n.va0, PGT_ACC_READ, &pa, &f), PGT_EINVAL);
	CHECK_RC(pgt_translate_nested(&n.s1, &dead, n.va0, PGT_ACC_READ, &pa, &f), PGT_EINVAL);
	CHECK_RC(pgt_translate_nested(&n.s1, &n.s2, n.va0, 0, &pa, &f), PGT_EFLAGS);
	CHECK_RC(pgt_translate_nested(&n.s1, &n.s2, n.va0, PGT_ACC_READ | PGT_ACC_WRITE, &pa, &f), PGT_EFLAGS);
	CHECK_RC(pgt_translate_nested(&n.s1, &n.s2, n.va0, PGT_ACC_READ | PGT_ACC_SET_AD, &pa, &f), PGT_EFLAGS);
	CHECK_RC(pgt_translate_nested(&n.s1, &n.s2, n.va0, PGT_ACC_READ | 64, &pa, &f), PGT_EFLAGS);
	CHECK_RC(pgt_translate_nested(&n.s1, &n.s2, 1ull << 47, PGT_ACC_READ, &pa, &f), PGT_ERANGE);
	/* Stage 2's p2v refusing a host frame: an error, not a fault. */
	n.t2.p2v_null = true;
	CHECK_RC(pgt_translate_nested(&n.s1, &n.s2, n.va0, PGT_ACC_READ, &pa, &f), PGT_EHOOK);
	n.t2.p2v_null = false;
	ck_assert(pa == 77 && f.kind == 99); /* nothing written on an error */
	CHECK_RC(pgt_translate_nested(&n.s1, &n.s2, n.va0, PGT_ACC_READ, NULL, NULL), PGT_OK);
	CHECK_RC(pgt_translate_nested(&n.s1, &n.s2, n.va0 + 5 * 4 * 4096, PGT_ACC_READ, NULL, NULL), PGT_EFAULT);
	nest_close(&n);
}
END_TEST

static Suite *nested_suite(void)
{
	Suite *s = suite_create("nested");
	TCase *tc = tcase_create("nested");

	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_nested_matches_oracle, 0, (int)(test_narchs * test_narchs));
	tcase_add_test(tc, test_nested_npt_cases);
	tcase_add_test(tc, test_nested_privilege_by_stage);
	tcase_add_test(tc, test_nested_bad_input);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int failed = test_run_suite(nested_suite());
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
