/* SPDX-License-Identifier: MIT */
/*
 * check_concurrent: readers in other threads while one writer edits
 * (DESIGN.md: "a new table is fully initialised before the store that links
 * it, so a hardware walker or a concurrent reader never sees a torn tree").
 *
 * The defer_free hook: tables that unmap or a replacing map unlink go to it
 * (after tlb_flush) instead of free_table, so the caller can keep them until
 * no reader can still walk them; tables of a rolled-back operation and of
 * pgt_space_destroy still go to free_table.
 *
 * The stress test: reader threads look up random addresses of a window and
 * read the entry they are given, translate them, and walk the window,
 * while the writer maps (replacing, with a
 * new output offset each time), unmaps and protects random ranges of it,
 * splitting and rebuilding superpages, and gives deferred tables back only
 * after every reader has passed a quiescent point (as RCU does). Every
 * mapping a reader sees must be one the writer made at some moment: its
 * output address is va plus one of the offsets already published, its rights
 * one of the sets the writer uses, never a reserved leaf (the writer makes
 * none), never a torn or mixed entry. Built with ThreadSanitizer in CI
 * (tests/run_build.sh tsan), any data race is a failure too.
 */
#define _DEFAULT_SOURCE

#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

enum {
	NREADERS = 3,
	NOFFSETS = 8,    /**< output offsets the writer cycles through */
	GRACE_EVERY = 16 /**< writer operations between grace periods */
};

/** Physical address of the window's first byte at offset 0, and the step between offsets. */
#define PA_BASE (1ull << 32)
#define OFFSTEP (1ull << 30)

/** A table handed to defer_free, kept until the writer decides. */
struct deferred {
	pgt_paddr_t pa;
	size_t size;
	unsigned level;
};

/** The harness allocator with a deferred-free list; ctx of every hook is this. */
struct cmm {
	struct test_mm t; /* first: the harness hooks take ctx as a struct test_mm */
	struct deferred *v;
	size_t n, cap;
	unsigned long deferred_total;
};

static void hook_defer(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	struct cmm *c = ctx;

	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 64;
		c->v = realloc(c->v, c->cap * sizeof *c->v);
		if (!c->v)
			abort();
	}
	c->v[c->n++] = (struct deferred){ pa, size, level };
	c->deferred_total++;
}

/** Gives every deferred table back to the allocator. */
static void cmm_release(struct cmm *c)
{
	for (size_t i = 0; i < c->n; i++)
		c->t.mm.free_table(c->t.mm.ctx, c->v[i].pa, c->v[i].size, c->v[i].level);
	c->n = 0;
}

static void cmm_init(struct cmm *c, bool defer)
{
	memset(c, 0, sizeof *c);
	test_mm_init(&c->t, TEST_MM_OFFSET);
	c->t.mm.defer_free = defer ? hook_defer : NULL;
}

static void cmm_fini(struct cmm *c)
{
	cmm_release(c);
	CHECK_THAT(test_mm_outstanding(&c->t) == 0 && c->t.errors == 0,
		      "books: %zu outstanding, %ld bad frees", test_mm_outstanding(&c->t), c->t.errors);
	free(c->v);
	test_mm_fini(&c->t);
}

/* --- the hook's contract, single-threaded ------------------------------------------ */

/**
 * Descriptors with 4K pages and 2M superpages (the stress test's window
 * fits them); RISC-V's keep their addresses shifted (PPN = pa >> 2).
 */
static const struct pgt_arch *const archs[] = { &pgt_arch_x86_64, &pgt_arch_x86_64_la57,
						&pgt_arch_armv8_4k_48, &pgt_arch_riscv_sv39,
						&pgt_arch_riscv_sv48 };
#define NARCHS ((int)(sizeof archs / sizeof archs[0]))

/** A window low in the range, clear of address 0, aligned to a 1G entry. */
static pgt_vaddr_t window(void)
{
	return 1ull << 30;
}

/* Unmapping hands every table it unlinks to defer_free, none to free_table. */
START_TEST(test_defer_unmap)
{
	const struct pgt_arch *a = archs[_i];
	struct cmm c;
	pgt_space_t sp;

	cmm_init(&c, true);
	ck_assert_int_eq(pgt_space_init(&sp, a, &c.t.mm, 0), PGT_OK);
	ck_assert_int_eq(pgt_map(&sp, window(), PA_BASE, 3 << 20, PGT_PROT_READ, PGT_MAP_NOSUPER), PGT_OK);
	size_t tables = test_mm_outstanding(&c.t);
	long frees = c.t.frees;
	ck_assert_uint_gt(tables, 1);

	ck_assert_int_eq(pgt_unmap(&sp, window(), 3 << 20), PGT_OK);
	ck_assert_int_eq(c.t.frees, frees);
	ck_assert_uint_eq(c.n, tables - 1); /* all but the root */
	ck_assert_uint_eq(test_mm_outstanding(&c.t), tables);
	for (size_t i = 0; i < c.n; i++)
		CHECK_THAT(test_mm_owns(&c.t, c.v[i].pa, c.v[i].level),
			      "deferred %#llx is no table of level %u", (unsigned long long)c.v[i].pa,
			      c.v[i].level);
	struct tree_stats st = tree_check(&sp, a, &c.t);
	ck_assert_uint_eq(st.tables, 1);
	ck_assert_uint_eq(st.problems, 0);
	pgt_space_destroy(&sp);
	cmm_fini(&c);
}
END_TEST

/* Splitting a superpage frees nothing; unmapping the split part defers the new table. */
START_TEST(test_defer_split)
{
	const struct pgt_arch *a = archs[_i];
	struct cmm c;
	pgt_space_t sp;

	cmm_init(&c, true);
	ck_assert_int_eq(pgt_space_init(&sp, a, &c.t.mm, 0), PGT_OK);
	ck_assert_int_eq(pgt_map(&sp, window(), PA_BASE, 2 << 20, PGT_PROT_READ, 0), PGT_OK);
	ck_assert_int_eq(pgt_protect(&sp, window(), 1 << 12, PGT_PROT_READ | PGT_PROT_WRITE), PGT_OK);
	ck_assert_uint_eq(c.n, 0);
	ck_assert_int_eq(pgt_unmap(&sp, window(), 2 << 20), PGT_OK);
	ck_assert_uint_gt(c.n, 0);
	ck_assert_uint_eq(c.t.frees, 0);
	pgt_space_destroy(&sp);
	cmm_fini(&c);
}
END_TEST

/* A rolled-back operation and destroy use free_table even with the hook. */
START_TEST(test_defer_not_for_rollback_or_destroy)
{
	const struct pgt_arch *a = archs[_i];
	struct cmm c;
	pgt_space_t sp;

	cmm_init(&c, true);
	ck_assert_int_eq(pgt_space_init(&sp, a, &c.t.mm, 0), PGT_OK);
	c.t.fail_at = c.t.attempts + 2; /* the second table of the map fails */
	ck_assert_int_eq(pgt_map(&sp, window(), PA_BASE, 1 << 12, PGT_PROT_READ, 0), PGT_ENOMEM);
	c.t.fail_at = 0;
	ck_assert_uint_eq(c.n, 0);
	ck_assert_int_eq(c.t.frees, 1);
	ck_assert_int_eq(pgt_map(&sp, window(), PA_BASE, 1 << 12, PGT_PROT_READ, 0), PGT_OK);
	size_t tables = test_mm_outstanding(&c.t);
	long frees = c.t.frees;
	pgt_space_destroy(&sp);
	ck_assert_uint_eq(c.n, 0);
	ck_assert_int_eq(c.t.frees - frees, (long)tables);
	cmm_fini(&c);
}
END_TEST

/* Without the hook, unmap frees at once (the behaviour callers without readers keep). */
START_TEST(test_no_hook_frees_at_once)
{
	const struct pgt_arch *a = archs[_i];
	struct cmm c;
	pgt_space_t sp;

	cmm_init(&c, false);
	ck_assert_int_eq(pgt_space_init(&sp, a, &c.t.mm, 0), PGT_OK);
	ck_assert_int_eq(pgt_map(&sp, window(), PA_BASE, 1 << 12, PGT_PROT_READ, 0), PGT_OK);
	ck_assert_int_eq(pgt_unmap(&sp, window(), 1 << 12), PGT_OK);
	ck_assert_uint_eq(test_mm_outstanding(&c.t), 1);
	ck_assert_uint_eq(c.deferred_total, 0);
	pgt_space_destroy(&sp);
	cmm_fini(&c);
}
END_TEST

/* --- the stress test ------------------------------------------------------------------ */

/** Rights the writer grants; a reader must see one of these. */
static const unsigned writer_prots[] = { PGT_PROT_READ, PGT_PROT_READ | PGT_PROT_WRITE,
					 PGT_PROT_READ | PGT_PROT_EXEC };

struct stress;

struct reader {
	struct stress *s;
	pthread_t th;
	uint64_t rng;
	atomic_ulong quiescent; /**< passes between lookups, for the writer's grace periods */
	unsigned long seen, mapped;
	char error[256];
};

struct stress {
	const struct pgt_arch *a;
	struct cmm c;
	pgt_space_t sp;
	pgt_vaddr_t lo;
	uint64_t span;
	atomic_uint offsets_used; /**< bit k: offset k * OFFSTEP has been mapped */
	atomic_bool stop;
	struct reader r[NREADERS];
};

/** Checks one entry a reader was handed for @p va; returns false with a message on a wrong one. */
static bool entry_plausible(struct reader *rd, pgt_vaddr_t va, pgt_ref_t ref, pgt_pte_t pte)
{
	const struct pgt_arch *a = rd->s->a;
	const struct pgt_level *L = &a->level[ref.level];

	if (ref.level >= a->levels || ref.page_shift != L->shift || !L->leaf_ok) {
		snprintf(rd->error, sizeof rd->error, "lookup %#llx: ref level %u shift %u",
			 (unsigned long long)va, ref.level, ref.page_shift);
		return false;
	}
	if (!test_is_leaf(L, pte)) {
		/* unmapped or split since the lookup: fine, unless it reads as a leaf nobody made */
		if (test_is_reserved(L, pte)) {
			snprintf(rd->error, sizeof rd->error,
				 "lookup %#llx: a reserved leaf %#llx the writer never made",
				 (unsigned long long)va, (unsigned long long)pte);
			return false;
		}
		return true;
	}
	uint64_t page = 1ull << L->shift;
	pgt_paddr_t pa = test_leaf_pa(L, pte) + (va & (page - 1));
	uint64_t delta = pa - (va - rd->s->lo + PA_BASE);
	unsigned k = (unsigned)(delta / OFFSTEP), used = atomic_load(&rd->s->offsets_used);
	unsigned prot = a->prot_decode(ref.level, pte) & 7u;
	bool prot_ok = false;

	for (size_t i = 0; i < sizeof writer_prots / sizeof writer_prots[0]; i++)
		prot_ok |= prot == writer_prots[i];
	rd->mapped++;
	if (delta % OFFSTEP || k >= NOFFSETS || !(used >> k & 1) || !prot_ok) {
		snprintf(rd->error, sizeof rd->error,
			 "lookup %#llx: entry %#llx gives pa %#llx prot %u: never mapped (offsets used %#x)",
			 (unsigned long long)va, (unsigned long long)pte, (unsigned long long)pa, prot, used);
		return false;
	}
	return true;
}

/** An output address for @p va the writer has published (va plus a used offset). */
static bool pa_plausible(struct reader *rd, pgt_vaddr_t va, pgt_paddr_t pa, const char *who)
{
	uint64_t delta = pa - (va - rd->s->lo + PA_BASE);
	unsigned k = (unsigned)(delta / OFFSTEP), used = atomic_load(&rd->s->offsets_used);

	if (delta % OFFSTEP == 0 && k < NOFFSETS && (used >> k & 1))
		return true;
	snprintf(rd->error, sizeof rd->error, "%s %#llx: pa %#llx never mapped (offsets used %#x)", who,
		 (unsigned long long)va, (unsigned long long)pa, used);
	return false;
}

/** pgt_lookup, then one load of the entry it names. */
static bool read_lookup(struct reader *rd, pgt_vaddr_t va)
{
	pgt_ref_t ref;
	int rc = pgt_lookup(&rd->s->sp, va, &ref);

	if (rc == PGT_OK)
		return entry_plausible(rd, va, ref, __atomic_load_n(ref.pte, __ATOMIC_ACQUIRE));
	if (rc == PGT_ENOENT)
		return true;
	snprintf(rd->error, sizeof rd->error, "lookup %#llx: status %d", (unsigned long long)va, rc);
	return false;
}

/** pgt_translate for a privileged read: a fault, or an address the writer mapped. */
static bool read_translate(struct reader *rd, pgt_vaddr_t va)
{
	pgt_paddr_t pa;
	int rc = pgt_translate(&rd->s->sp, va, PGT_ACC_READ, &pa, NULL);

	if (rc == PGT_OK) {
		rd->mapped++;
		return pa_plausible(rd, va, pa, "translate");
	}
	if (rc == PGT_EFAULT)
		return true;
	snprintf(rd->error, sizeof rd->error, "translate %#llx: status %d", (unsigned long long)va, rc);
	return false;
}

static int visit_plausible(void *arg, const struct pgt_mapping *m)
{
	struct reader *rd = arg;
	unsigned rights = m->prot & 7u;

	if (!rights) {
		snprintf(rd->error, sizeof rd->error, "walk: reserved leaf at %#llx",
			 (unsigned long long)m->va);
		return 1;
	}
	return !pa_plausible(rd, m->va, m->pa, "walk");
}

/** pgt_walk over the window: every mapping it reports is one the writer made. */
static bool read_walk(struct reader *rd)
{
	int rc = pgt_walk(&rd->s->sp, rd->s->lo, rd->s->span, visit_plausible, rd);

	if (rc != PGT_OK && !rd->error[0])
		snprintf(rd->error, sizeof rd->error, "walk: status %d", rc);
	return rc == PGT_OK;
}

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	const struct stress *s = rd->s;

	while (!atomic_load_explicit(&rd->s->stop, memory_order_acquire)) {
		pgt_vaddr_t va = s->lo + (test_rand(&rd->rng) % s->span & ~7ull);
		unsigned what = (unsigned)(test_rand(&rd->rng) % 64);
		bool ok = what == 0   ? read_walk(rd)
			  : what < 32 ? read_lookup(rd, va)
				      : read_translate(rd, va);
		if (!ok)
			return NULL;
		rd->seen++;
		/* holds no entry or table now: a quiescent point */
		atomic_fetch_add_explicit(&rd->quiescent, 1, memory_order_release);
	}
	return NULL;
}

/** Waits until every reader has passed a quiescent point, then frees the deferred tables. */
static void grace_period(struct stress *s)
{
	unsigned long before[NREADERS];

	for (int i = 0; i < NREADERS; i++)
		before[i] = atomic_load_explicit(&s->r[i].quiescent, memory_order_acquire);
	for (int i = 0; i < NREADERS; i++)
		while (atomic_load_explicit(&s->r[i].quiescent, memory_order_acquire) == before[i] &&
		       !s->r[i].error[0])
			sched_yield();
	cmm_release(&s->c);
}

/** One writer operation on a random page-aligned range of the window. */
static void writer_op(struct stress *s, uint64_t *rng)
{
	uint64_t page = 1ull << s->a->level[0].shift;
	uint64_t len = (1 + test_rand(rng) % (s->span / page / 2)) * page;
	uint64_t off = (test_rand(rng) % ((s->span - len) / page + 1)) * page;
	unsigned prot = writer_prots[test_rand(rng) % 3];
	int rc;

	if (test_rand(rng) & 1)
		off &= ~((2ull << 20) - 1); /* superpage-aligned starts, so superpages happen */
	switch (test_rand(rng) % 3) {
	case 0: {
		unsigned k = (unsigned)(test_rand(rng) % NOFFSETS);
		atomic_fetch_or_explicit(&s->offsets_used, 1u << k, memory_order_release);
		rc = pgt_map(&s->sp, s->lo + off, PA_BASE + off + k * OFFSTEP, len, prot, PGT_MAP_REPLACE);
		break;
	}
	case 1: rc = pgt_unmap(&s->sp, s->lo + off, len); break;
	default: rc = pgt_protect(&s->sp, s->lo + off, len, prot); break;
	}
	CHECK_THAT(rc == PGT_OK, "%s: writer operation: status %d (%s)", s->a->name, rc, pgt_strerror(rc));
}

START_TEST(test_readers_see_history)
{
	struct stress *s = calloc(1, sizeof *s);
	unsigned long ops = test_slow_runner() ? 300 : 3000, seen = 0, mapped = 0;
	uint64_t rng = 0xc0ffee + (uint64_t)_i;

	ck_assert_ptr_nonnull(s);
	s->a = archs[_i];
	s->lo = window();
	s->span = 8ull << 20; /* four 2M superpages */
	cmm_init(&s->c, true);
	ck_assert_int_eq(pgt_space_init(&s->sp, s->a, &s->c.t.mm, 0), PGT_OK);
	for (int i = 0; i < NREADERS; i++) {
		s->r[i] = (struct reader){ .s = s, .rng = rng + 1 + (uint64_t)i };
		ck_assert_int_eq(pthread_create(&s->r[i].th, NULL, reader_main, &s->r[i]), 0);
	}
	for (unsigned long n = 1; n <= ops; n++) {
		writer_op(s, &rng);
		if (n % GRACE_EVERY == 0)
			grace_period(s);
	}
	atomic_store_explicit(&s->stop, true, memory_order_release);
	for (int i = 0; i < NREADERS; i++) {
		pthread_join(s->r[i].th, NULL);
		CHECK_THAT(!s->r[i].error[0], "%s: reader %d: %s", s->a->name, i, s->r[i].error);
		seen += s->r[i].seen;
		mapped += s->r[i].mapped;
	}
	ck_assert_int_eq(pgt_unmap(&s->sp, s->lo, s->span), PGT_OK);
	ck_assert_uint_eq(tree_check(&s->sp, s->a, &s->c.t).problems, 0);
	printf("check_concurrent: %s: %d readers checked %lu lookups, translations and walks (%lu mapped) "
	       "during "
	       "%lu writer operations; "
	       "%lu tables deferred\n",
	       s->a->name, NREADERS, seen, mapped, ops, s->c.deferred_total);
	ck_assert_uint_gt(mapped, 0);
	pgt_space_destroy(&s->sp);
	cmm_fini(&s->c);
	free(s);
}
END_TEST

/* --- accessed and dirty bits set while the writer rewrites the leaf ---------------- */

/*
 * A simulated CPU writes a page (pgt_translate with PGT_ACC_SET_AD, which
 * sets the dirty bit with a compare-and-swap, as an MMU does) while the
 * writer rewrites that page's leaf. Each epoch starts with a clean leaf;
 * once the CPU has tried its one write, the dirty bit must be where the
 * write put it: in the leaf (protect, a field write, a split superpage) or
 * in what the leaf_ad hook was told (unmap, a replacing map; for the map,
 * or in the new leaf if the write came after it), and nowhere when the
 * write failed. A plain load / compute / store in the writer loses bits.
 */
enum race_kind { RACE_PROTECT, RACE_FIELD, RACE_SPLIT, RACE_UNMAP, RACE_REPLACE, RACE_KINDS };
static const char *const race_name[RACE_KINDS] = { "protect", "set_field", "split", "unmap", "replace" };

#define RACE_PA (1ull << 32)

struct race {
	struct cmm c; /* first: the hooks' ctx */
	pgt_space_t sp;
	enum race_kind kind;
	pgt_vaddr_t base, va;    /**< the 2M region, the page the CPU writes in it */
	atomic_long epoch, done; /**< the writer's epoch, the last one the CPU finished */
	atomic_long going;       /**< the last epoch the CPU started its write in */
	atomic_int wrote;        /**< the CPU's write of epoch `done` succeeded */
	atomic_int stop;
	atomic_uint reported; /**< PGT_AD_* the leaf_ad hook was told for va this epoch */
	atomic_ulong reports; /**< leaf_ad calls */
};

static void race_leaf_ad(void *ctx, pgt_vaddr_t va, pgt_paddr_t pa, uint64_t size, unsigned ad)
{
	struct race *r = ctx;

	(void)pa;
	atomic_fetch_add(&r->reports, 1);
	if (r->va >= va && r->va - va < size)
		atomic_fetch_or(&r->reported, ad);
}

static void *race_cpu(void *arg)
{
	struct race *r = arg;
	long seen = 0;

	while (!atomic_load(&r->stop)) {
		long e = atomic_load(&r->epoch);
		if (e == seen) {
			sched_yield();
			continue;
		}
		atomic_store(&r->going, e);
		int rc = pgt_translate(&r->sp, r->va, PGT_ACC_WRITE | PGT_ACC_SET_AD, NULL, NULL);
		atomic_store(&r->wrote, rc == PGT_OK);
		atomic_store(&r->done, e);
		seen = e;
	}
	return NULL;
}

/** The dirty bit of the leaf mapping va now (0 when none does). */
static uint64_t race_dirty(struct race *r)
{
	pgt_ref_t ref;
	uint64_t d = 0;

	if (pgt_lookup(&r->sp, r->va, &ref) == PGT_OK)
		ck_assert_int_eq(pgt_get_field(&r->sp, ref, PGT_FIELD_DIRTY, &d), PGT_OK);
	return d;
}

/** A clean writable leaf for the epoch: a 2M page to split, else a small page. */
static void race_reset(struct race *r)
{
	unsigned rw = PGT_PROT_READ | PGT_PROT_WRITE;

	cmm_release(&r->c); /* the CPU is between epochs: no walk of theirs is under way */

	ck_assert_int_eq(pgt_unmap(&r->sp, r->base, 2ull << 20), PGT_OK);
	if (r->kind == RACE_SPLIT)
		ck_assert_int_eq(pgt_map(&r->sp, r->base, RACE_PA, 2ull << 20, rw, 0), PGT_OK);
	else
		ck_assert_int_eq(pgt_map(&r->sp, r->va, RACE_PA, 4096, rw, 0), PGT_OK);
	atomic_store(&r->reported, 0);
}

/** One rewrite of the leaf while the CPU may write; @p i varies it. */
static void race_rewrite(struct race *r, unsigned long i)
{
	unsigned rw = PGT_PROT_READ | PGT_PROT_WRITE, x = (i & 1) ? PGT_PROT_EXEC : 0;
	pgt_ref_t ref;

	switch (r->kind) {
	case RACE_PROTECT: ck_assert_int_eq(pgt_protect(&r->sp, r->va, 4096, rw | x), PGT_OK); break;
	case RACE_FIELD:
		ck_assert_int_eq(pgt_lookup(&r->sp, r->va, &ref), PGT_OK);
		ck_assert_int_eq(pgt_set_field(&r->sp, ref, PGT_FIELD_EXEC, x != 0), PGT_OK);
		break;
	case RACE_SPLIT: /* another page of the 2M one: the first call splits it */
		ck_assert_int_eq(pgt_protect(&r->sp, r->base, 4096, rw | x), PGT_OK);
		break;
	case RACE_UNMAP: ck_assert_int_eq(pgt_unmap(&r->sp, r->va, 4096), PGT_OK); break;
	default: ck_assert_int_eq(pgt_map(&r->sp, r->va, RACE_PA + 4096, 4096, rw, PGT_MAP_REPLACE), PGT_OK);
	}
}

/** After the CPU's try: the dirty bit is where its write put it, and nowhere else. */
static bool race_check(struct race *r, long e)
{
	bool wrote = atomic_load(&r->wrote) != 0, told = (atomic_load(&r->reported) & PGT_AD_DIRTY) != 0;
	bool leaf = race_dirty(r) != 0;

	switch (r->kind) {
	case RACE_UNMAP:
		CHECK_THAT(wrote || !told, "unmap epoch %ld: dirty without a write", e);
		return wrote && !told;
	case RACE_REPLACE:
		CHECK_THAT(!(told && leaf), "replace epoch %ld: dirty both in the old and the new leaf",
			      e);
		CHECK_THAT(wrote || !(told || leaf), "replace epoch %ld: dirty without a write", e);
		return wrote && !(told || leaf);
	default:
		CHECK_THAT(wrote || !leaf, "%s epoch %ld: dirty without a write", race_name[r->kind], e);
		return wrote && !leaf;
	}
}

/** The writer: an epoch per clean leaf, rewriting it until the CPU has tried its write. */
START_TEST(test_dirty_bits_survive_rewrites)
{
	/*
	 * Not RISC-V: pgt_map makes its leaves with D set (Svade: a clear D
	 * faults on a write; FORMATS.md), so there is no clean leaf to race on.
	 */
	static const struct pgt_arch *const ad_archs[] = { &pgt_arch_x86_64, &pgt_arch_armv8_4k_48 };
	struct race *r = calloc(1, sizeof *r);
	long epochs = test_slow_runner() ? 200 : 3000, lost = 0, written = 0;
	uint64_t rng = 0xd1e7 + (uint64_t)_i;
	pthread_t cpu;

	ck_assert_ptr_nonnull(r);
	r->kind = (enum race_kind)(_i % RACE_KINDS);
	cmm_init(&r->c, true); /* the CPU may be walking a table unmap takes away */
	r->c.t.mm.leaf_ad = race_leaf_ad; /* its ctx, the harness's, is r too: r starts with it */
	r->base = window();
	r->va = r->base + (r->kind == RACE_SPLIT ? 0x5000 : 0);
	ck_assert_int_eq(pgt_space_init(&r->sp, ad_archs[_i / RACE_KINDS], &r->c.t.mm, 0), PGT_OK);
	ck_assert_int_eq(pthread_create(&cpu, NULL, race_cpu, r), 0);
	for (long e = 1; e <= epochs; e++) {
		race_reset(r);
		atomic_store(&r->epoch, e);
		/* unmap, replace and split happen once an epoch, a random while after the CPU starts */
		unsigned long i = 0, delay = test_rand(&rng) % 512;
		while (r->kind >= RACE_SPLIT && atomic_load(&r->going) != e)
			sched_yield(); /* Valgrind runs one thread at a time */
		do {
			if (r->kind < RACE_SPLIT || i == delay)
				race_rewrite(r, i);
			if (++i > delay + 16)
				sched_yield();
		} while (atomic_load(&r->done) != e || i <= delay);
		written += atomic_load(&r->wrote);
		lost += race_check(r, e);
	}
	atomic_store(&r->stop, 1);
	pthread_join(cpu, NULL);
	printf("check_concurrent: %s: %s: %ld epochs, %ld written, %ld dirty bits lost, %lu leaf_ad "
	       "reports\n",
	       ad_archs[_i / RACE_KINDS]->name, race_name[r->kind], epochs, written, lost,
	       atomic_load(&r->reports));
	CHECK_THAT(lost == 0, "%s: %s: %ld dirty bits lost in %ld epochs", ad_archs[_i / RACE_KINDS]->name,
		      race_name[r->kind], lost, epochs);
	CHECK_THAT(written > 0, "the CPU never wrote");
	ck_assert_int_eq(pgt_unmap(&r->sp, r->base, 2ull << 20), PGT_OK);
	pgt_space_destroy(&r->sp);
	cmm_fini(&r->c);
	free(r);
}
END_TEST

static Suite *concurrent_suite(void)
{
	Suite *su = suite_create("concurrent");
	TCase *tc = tcase_create("defer_free");

	tcase_add_loop_test(tc, test_defer_unmap, 0, NARCHS);
	tcase_add_loop_test(tc, test_defer_split, 0, NARCHS);
	tcase_add_loop_test(tc, test_defer_not_for_rollback_or_destroy, 0, NARCHS);
	tcase_add_loop_test(tc, test_no_hook_frees_at_once, 0, NARCHS);
	suite_add_tcase(su, tc);
	tc = tcase_create("stress");
	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, test_readers_see_history, 0, NARCHS);
	suite_add_tcase(su, tc);
	tc = tcase_create("dirty");
	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, test_dirty_bits_survive_rewrites, 0, 2 * RACE_KINDS);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return test_run_suite(concurrent_suite()) ? EXIT_FAILURE : EXIT_SUCCESS;
}
