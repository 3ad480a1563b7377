/* SPDX-License-Identifier: MIT */
/*
 * check_model: model-based random tests of the L4 page-table ADT
 * (seed 001 section 4.1, following its prose; DESIGN.md "Semantics that
 * must hold").
 *
 * An executable abstract model, written from the paper and DESIGN.md and
 * sharing no code with the library, keeps for each space the partial map
 * PageTable: va -> (PTE name, size) as a sorted array of disjoint mappings,
 * each with abstract fields (paddr, prot mask, accessed, dirty, link word).
 * Long random sequences of insert, lookup, set/get field and set/get link,
 * with spaces destroyed and recreated, drive three spaces at once (mixed
 * descriptors, PGT_SPACE_LINKS, ARMv8 PGT_SPACE_UPPER, offset and hook P2V)
 * with addresses biased into a few small windows, so every kind of conflict
 * happens often. After every step each live space is compared with its
 * model: status and ref of the step; lookup as a function at the first,
 * last and an inner byte of every mapping (same entry, same size); every
 * field and link word; tree_check (no loop or sharing, no malformed entry,
 * no empty table, exactly the model's valid and reserved leaves and the
 * tables the model says are needed); and the allocator's books hold exactly
 * the tables of the live spaces.
 *
 * Self-tests show the checks can fail: corrupted trees are reported, and an
 * altered library answer or model state is caught.
 *
 * Environment: PGT_MODEL_SEED and PGT_MODEL_STEPS override the default run.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */

#include <check.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "harness.h"

/**
 * Default run: a few seconds natively. Memcheck, the sanitizers and qemu-user
 * (test_slow_runner) run a fifth of the steps: under memcheck the whole run
 * took four minutes of CI's time, steps the native run already checks.
 */
#define DEFAULT_SEED 0x5eed0001ull
#define DEFAULT_STEPS 3000ul
#define SLOW_RUNNER_STEPS 600ul
/** Each per-descriptor run takes this fraction of the steps. */
#define PER_ARCH_DIV 4ul

enum {
	NSPACES = 3, /**< spaces driven at once */
	NWIN = 3,    /**< hot windows per space */
	FANOUT = 4   /**< indices used per level inside a window */
};

#include "model.h"

/* ======================================================================
 * The driver: library and model side by side
 * ====================================================================== */

/** Outcome counters, to show the sequences reach every case. */
enum stat {
	ST_INS_OK, ST_INS_SAME, ST_INS_INSIDE, ST_INS_OVER, ST_INS_IN_SMALLER, ST_INS_EINVAL,
	ST_LOOK_HIT, ST_LOOK_MISS, ST_LOOK_EINVAL,
	ST_SET_OK, ST_SET_ENOTSUP, ST_SET_EINVAL, ST_BADREF, ST_LINK, ST_RECREATE,
	ST_COUNT
};

static const char *const stat_name[ST_COUNT] = {
	"insert ok", "exists (same page)", "exists (smaller inside larger)",
	"conflict (larger over smaller)", "conflict (va inside smaller)", "insert einval",
	"lookup hit", "lookup miss", "lookup einval",
	"set ok", "set enotsup", "set einval", "bad refs", "link ops", "spaces recreated",
};

/** Totals across test processes (Check forks), shown by main. */
struct totals {
	unsigned long steps;
	unsigned long stat[ST_COUNT];
};
static struct totals g_local;
static struct totals *g_tot = &g_local;

/** A space under test with its model. */
struct slot {
	bool live;
	unsigned gen;            /**< spaces this slot has held */
	enum test_mm_mode mode;  /**< which allocator of the run */
	pgt_space_t sp;
	struct model md;
	pgt_vaddr_t win[NWIN];   /**< hot windows */
	struct tree_stats st;    /**< last tree_check */
};

struct run {
	const char *label;
	uint64_t seed, rng;
	unsigned long step, steps;
	const struct pgt_arch *only; /**< per-descriptor run, or NULL */
	struct test_mm mm[2];        /**< indexed by enum test_mm_mode */
	struct slot s[NSPACES];
	char op[256];                /**< what the current step does */
	bool failed;
	char msg[1280];
	unsigned long stat[ST_COUNT];
};

static uint64_t rnd(struct run *r)
{
	return test_rand(&r->rng);
}

static uint64_t below(struct run *r, uint64_t n)
{
	return rnd(r) % n;
}

static bool chance(struct run *r, unsigned pct)
{
	return below(r, 100) < pct;
}

/** A number from the environment (decimal, 0x hex or 0 octal), or @p dflt. */
static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);
	char *end;

	if (!v || !*v)
		return dflt;
	unsigned long long x = strtoull(v, &end, 0);
	return *end ? dflt : (uint64_t)x;
}

/** Seed of the mixed run; per-descriptor runs use seed + 1 + index. */
static uint64_t opt_seed(void)
{
	return env_u64("PGT_MODEL_SEED", DEFAULT_SEED);
}

/** Steps of the mixed run; per-descriptor runs take a quarter each. */
static unsigned long opt_steps(void)
{
	return (unsigned long)env_u64("PGT_MODEL_STEPS", test_slow_runner() ? SLOW_RUNNER_STEPS : DEFAULT_STEPS);
}

/** Records the first disagreement, with everything needed to replay it. */
static void disagree(struct run *r, const char *fmt, ...)
{
	char detail[600];
	va_list ap;

	if (r->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	snprintf(r->msg, sizeof r->msg, "%s seed %#" PRIx64 " step %lu/%lu: %s: %s (replay: PGT_MODEL_SEED=%" PRIu64
		 " PGT_MODEL_STEPS=%lu)", r->label, r->seed, r->step, r->steps, r->op, detail, opt_seed(), opt_steps());
	r->failed = true;
}

/** Evaluates to @p c; records a failure when it is false. */
#define EXPECT(r, c, ...) ((c) ? true : (disagree((r), __VA_ARGS__), false))

static struct test_mm *slot_mm(struct run *r, const struct slot *s)
{
	return &r->mm[s->mode];
}

static const char *slot_desc(const struct slot *s, char *buf, size_t len)
{
	snprintf(buf, len, "space %s%s%s/%s#%u", s->md.a->name, (s->md.flags & PGT_SPACE_LINKS) ? "+links" : "",
		 (s->md.flags & PGT_SPACE_UPPER) ? "+upper" : "", s->mode == TEST_MM_HOOK ? "hook" : "offset", s->gen);
	return buf;
}

/** Names the current step for failure messages. */
static void set_op(struct run *r, const struct slot *s, const char *fmt, ...)
{
	char what[160], desc[80];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	snprintf(r->op, sizeof r->op, "%s: %s", slot_desc(s, desc, sizeof desc), what);
}

/* --- addresses --- */

static unsigned top_leaf_level(const struct pgt_arch *a)
{
	unsigned l = a->levels - 1u;

	while (!a->level[l].leaf_ok)
		l--;
	return l;
}

/** Bytes of a hot window: FANOUT of the largest pages. */
static uint64_t win_span(const struct pgt_arch *a)
{
	return (uint64_t)FANOUT << a->level[top_leaf_level(a)].shift;
}

static pgt_vaddr_t range_bottom(const struct model *md)
{
	return (md->flags & PGT_SPACE_UPPER) ? 0 - (1ull << md->a->va_bits) : 0;
}

/** A window-aligned base anywhere in the space (lower half on x86-64). */
static pgt_vaddr_t random_base(struct run *r, const struct model *md)
{
	unsigned bits = md->a->va_bits - (md->a->canon == PGT_CANON_SIGN_EXTEND);
	pgt_vaddr_t off = rnd(r) & ((1ull << bits) - 1) & ~(win_span(md->a) - 1);

	return range_bottom(md) + off;
}

static void pick_windows(struct run *r, struct slot *s)
{
	const struct model *md = &s->md;
	pgt_vaddr_t top = md->a->canon == PGT_CANON_SIGN_EXTEND || (md->flags & PGT_SPACE_UPPER)
				  ? ~0ull : (1ull << md->a->va_bits) - 1;

	s->win[0] = range_bottom(md);
	s->win[1] = top - win_span(md->a) + 1;
	s->win[2] = random_base(r, md);
}

/**
 * A page-aligned address for a page at @p level: a hot window (rarely a
 * fresh base) plus a small index at every level down to the page's, or
 * rarely a random index below the top leaf level.
 */
static pgt_vaddr_t rand_page(struct run *r, const struct slot *s, unsigned level)
{
	const struct pgt_arch *a = s->md.a;
	unsigned top = top_leaf_level(a);
	pgt_vaddr_t va = chance(r, 3) ? random_base(r, &s->md) : s->win[below(r, NWIN)];
	bool wild = chance(r, 5);

	for (unsigned l = top + 1; l-- > level;) {
		uint64_t idx = (wild && l < top) ? rnd(r) & ((1ull << a->level[l].bits) - 1) : below(r, FANOUT);
		va += idx << a->level[l].shift;
	}
	return va;
}

/** Any address in the windows, mapped or not. */
static pgt_vaddr_t rand_addr(struct run *r, const struct slot *s)
{
	return rand_page(r, s, 0) + (rnd(r) & (m_size(s->md.a->level[0].shift) - 1));
}

/** An address outside the space's range. */
static pgt_vaddr_t bad_addr(struct run *r, const struct slot *s)
{
	const struct pgt_arch *a = s->md.a;

	if (a->canon == PGT_CANON_SIGN_EXTEND)
		return (1ull << (a->va_bits - 1)) + (rnd(r) & ((1ull << (a->va_bits - 1)) - 1)) * (rnd(r) & 1);
	if (s->md.flags & PGT_SPACE_UPPER)
		return rnd(r) % (0 - (1ull << a->va_bits));
	return (1ull << a->va_bits) + (rnd(r) & 0xfffffff000ull);
}

static unsigned rand_leaf_level(struct run *r, const struct pgt_arch *a)
{
	for (;;) {
		unsigned l = (unsigned)below(r, a->levels);
		if (a->level[l].leaf_ok)
			return l;
	}
}

/* --- comparing answers --- */

/** Compares a status and ref from the library with the model's answer. */
static bool check_ref(struct run *r, const char *what, pgt_vaddr_t va, int rc, pgt_ref_t got, int want,
		      const struct m_map *m)
{
	if (!EXPECT(r, rc == want, "%s %#" PRIx64 ": status %d (%s), model says %d (%s)", what, va, rc,
		    pgt_strerror(rc), want, pgt_strerror(want)))
		return false;
	if (!m)
		return true;
	return EXPECT(r, got.pte == m->pte && got.level == m->level && got.page_shift == m->shift,
		      "%s %#" PRIx64 ": ref (%p, level %u, shift %u), model says (%p, level %u, shift %u) for "
		      "mapping %#" PRIx64, what, va, (void *)got.pte, got.level, got.page_shift, (void *)m->pte,
		      m->level, m->shift, m->va);
}

static pgt_ref_t ref_of(const struct m_map *m)
{
	return (pgt_ref_t){ .pte = m->pte, .level = m->level, .page_shift = m->shift };
}

/** Looks @p va up in the library and the model, and compares. */
static void check_lookup(struct run *r, struct slot *s, pgt_vaddr_t va, bool count)
{
	const struct m_map *m = m_va_ok(&s->md, va) ? m_at(&s->md, va) : NULL;
	int want = !m_va_ok(&s->md, va) ? PGT_ERANGE : m ? PGT_OK : PGT_ENOENT;
	pgt_ref_t got = { NULL, 99, 99 };
	int rc = pgt_lookup(&s->sp, va, count && chance(r, 5) ? NULL : &got);

	if (got.level == 99 && rc == PGT_OK)
		got = (pgt_ref_t){ m ? m->pte : NULL, m ? m->level : 0, m ? m->shift : 0 }; /* out was NULL */
	check_ref(r, "lookup", va, rc, got, want, m);
	if (count)
		r->stat[want == PGT_OK ? ST_LOOK_HIT : want == PGT_ENOENT ? ST_LOOK_MISS : ST_LOOK_EINVAL]++;
}

/** Compares one field read from the library with the model. */
static bool check_field_answer(struct run *r, const struct m_map *m, enum pgt_field f, int rc, uint64_t val)
{
	uint64_t want;
	bool known = m_get(m, f, &want);

	if (!EXPECT(r, rc == PGT_OK, "get_field %d of mapping %#" PRIx64 ": status %d (%s)", (int)f, m->va, rc,
		    pgt_strerror(rc)))
		return false;
	return EXPECT(r, !known || val == want, "get_field %d of mapping %#" PRIx64 " (shift %u): %#" PRIx64
		      ", model says %#" PRIx64, (int)f, m->va, m->shift, val, want);
}

static void check_fields(struct run *r, struct slot *s, const struct m_map *m)
{
	for (unsigned f = 0; f < PGT_FIELD_COUNT && !r->failed; f++) {
		uint64_t val = 0xdeadbeef;
		int rc = pgt_get_field(&s->sp, ref_of(m), (enum pgt_field)f, &val);
		check_field_answer(r, m, (enum pgt_field)f, rc, val);
	}
}

/** Link words: node ^ va as stored, read back through the same or another va. */
static void check_link(struct run *r, struct slot *s, const struct m_map *m, pgt_vaddr_t q)
{
	uintptr_t node = 0x5a5a;
	int rc = pgt_get_link(&s->sp, ref_of(m), q, &node);

	if (!(s->md.flags & PGT_SPACE_LINKS)) {
		EXPECT(r, rc == PGT_ENOTSUP, "get_link without links: status %d (%s)", rc, pgt_strerror(rc));
		return;
	}
	/* A node is a uintptr_t: on a 32-bit host only the low half of word ^ va comes back. */
	uint64_t want = (uint64_t)(uintptr_t)(m->link ^ q);
	if (EXPECT(r, rc == PGT_OK, "get_link of mapping %#" PRIx64 ": status %d (%s)", m->va, rc, pgt_strerror(rc)))
		EXPECT(r, (uint64_t)node == want, "get_link of mapping %#" PRIx64 " with va %#" PRIx64
		       ": %#" PRIx64 ", model says %#" PRIx64, m->va, q, (uint64_t)node, want);
}

/** Compares a whole space with its model. */
static void verify_slot(struct run *r, struct slot *s)
{
	struct model *md = &s->md;

	for (size_t i = 0; i < md->n && !r->failed; i++) {
		const struct m_map *m = &md->map[i];
		check_lookup(r, s, m->va, false);
		check_lookup(r, s, m_last(m), false);
		check_lookup(r, s, m->va + (rnd(r) & (m_size(m->shift) - 1)), false);
		check_fields(r, s, m);
		check_link(r, s, m, m->va);
	}
	if (r->failed)
		return;
	s->st = tree_check(&s->sp, md->a, slot_mm(r, s));
	size_t valid = m_valid(md), tables = m_tables(md);
	EXPECT(r, s->st.problems == 0, "tree_check: %zu problems (see stderr)", s->st.problems);
	EXPECT(r, s->st.empty_tables == 0, "tree_check: %zu empty non-root tables", s->st.empty_tables);
	EXPECT(r, s->st.leaves == valid && s->st.reserved == md->n - valid,
	       "tree_check: %zu valid + %zu reserved leaves, model has %zu + %zu", s->st.leaves, s->st.reserved,
	       valid, md->n - valid);
	EXPECT(r, s->st.tables == tables, "tree_check: %zu tables, model needs %zu", s->st.tables, tables);
	int found = pgt_verify(&s->sp, NULL, NULL);
	EXPECT(r, found == 0, "pgt_verify: %d problems", found); /* table counts among them */
}

/** The allocators' books hold exactly the tables of the live spaces. */
static void verify_books(struct run *r)
{
	for (unsigned k = 0; k < 2; k++) {
		const struct test_mm *t = &r->mm[k];
		size_t sum = 0;
		for (unsigned i = 0; i < NSPACES; i++)
			if (r->s[i].live && r->s[i].mode == (enum test_mm_mode)k)
				sum += r->s[i].st.tables;
		EXPECT(r, test_mm_outstanding(t) == sum, "allocator %u holds %zu tables, live spaces have %zu", k,
		       test_mm_outstanding(t), sum);
		EXPECT(r, t->errors == 0 && (size_t)(t->allocs - t->frees) == test_mm_outstanding(t),
		       "allocator %u: %ld bad frees, %ld allocs, %ld frees", k, t->errors, t->allocs, t->frees);
	}
}

static void verify_all(struct run *r)
{
	for (unsigned i = 0; i < NSPACES && !r->failed; i++)
		if (r->s[i].live)
			verify_slot(r, &r->s[i]);
	if (!r->failed)
		verify_books(r);
}

/* --- spaces --- */

static void slot_create(struct run *r, struct slot *s, const struct pgt_arch *a, unsigned flags,
			enum test_mm_mode mode)
{
	struct test_mm *t = &r->mm[mode];
	long allocs = t->allocs;

	m_init(&s->md, a, flags);
	s->mode = mode;
	s->gen++;
	set_op(r, s, "create");
	int rc = pgt_space_init(&s->sp, a, &t->mm, flags);
	EXPECT(r, rc == PGT_OK, "pgt_space_init: status %d (%s)", rc, pgt_strerror(rc));
	EXPECT(r, t->allocs - allocs == 1, "pgt_space_init made %ld tables", t->allocs - allocs);
	s->live = rc == PGT_OK;
	s->st = (struct tree_stats){ .tables = 1 };
	pick_windows(r, s);
}

static void slot_create_random(struct run *r, struct slot *s)
{
	const struct pgt_arch *a = r->only ? r->only : test_archs[below(r, test_narchs)];
	unsigned flags = chance(r, 50) ? PGT_SPACE_LINKS : 0;

	if (test_has_upper(a) && chance(r, 50))
		flags |= PGT_SPACE_UPPER;
	slot_create(r, s, a, flags, (enum test_mm_mode)below(r, 2));
}

/** Destroys a space: every table it owns is freed once. */
static void slot_destroy(struct run *r, struct slot *s)
{
	struct test_mm *t = slot_mm(r, s);
	struct tree_stats st = tree_check(&s->sp, s->md.a, t);
	long frees = t->frees, errors = t->errors;
	size_t out = test_mm_outstanding(t);

	set_op(r, s, "destroy");
	pgt_space_destroy(&s->sp);
	EXPECT(r, t->frees - frees == (long)st.tables && out - test_mm_outstanding(t) == st.tables,
	       "destroy freed %ld of %zu tables", t->frees - frees, st.tables);
	EXPECT(r, t->errors == errors, "destroy made %ld bad frees", t->errors - errors);
	EXPECT(r, pgt_space_root(&s->sp) == PGT_PADDR_NONE, "root of a destroyed space");
	free(s->md.map);
	s->md.map = NULL;
	s->md.n = s->md.cap = 0;
	s->live = false;
}

/* --- operations --- */

static void count_insert(struct run *r, const struct model *md, int want, pgt_vaddr_t va, unsigned shift, long hit)
{
	const struct m_map *c = want == PGT_ECONFLICT ? m_at(md, va) : NULL;

	switch (want) {
	case PGT_OK: r->stat[ST_INS_OK]++; break;
	case PGT_EXISTS: r->stat[md->map[hit].shift == shift ? ST_INS_SAME : ST_INS_INSIDE]++; break;
	case PGT_ECONFLICT: r->stat[c ? ST_INS_IN_SMALLER : ST_INS_OVER]++; break;
	default: r->stat[ST_INS_EINVAL]++; break;
	}
}

/** One insert, compared with the model, which then follows it. */
static void do_insert(struct run *r, struct slot *s, pgt_vaddr_t va, unsigned shift, bool want_out)
{
	struct model *md = &s->md;
	struct test_mm *t = slot_mm(r, s);
	long hit = -1;
	int want = m_insert_predict(md, va, shift, &hit);
	size_t tables = m_tables(md), nsnap = 0;
	long allocs = t->allocs;
	pgt_ref_t got = { NULL, 99, 99 };
	pgt_pte_t *snap = want != PGT_OK ? tree_snapshot(&s->sp, md->a, t, &nsnap) : NULL;

	set_op(r, s, "insert va %#" PRIx64 " shift %u%s", va, shift, want_out ? "" : " (out NULL)");
	count_insert(r, md, want, va, shift, hit);
	int rc = pgt_insert(&s->sp, va, shift, want_out ? &got : NULL);
	if (snap && !tree_unchanged(&s->sp, md->a, t, snap, nsnap))
		disagree(r, "insert answered %d (%s) but changed the tree", rc, pgt_strerror(rc));
	if (!check_ref(r, "insert", va, rc, got, want, (want == PGT_EXISTS && want_out) ? &md->map[hit] : NULL))
		return;
	if (want != PGT_OK) {
		EXPECT(r, t->allocs == allocs, "failed insert allocated %ld tables", t->allocs - allocs);
		return;
	}
	if (!want_out && pgt_lookup(&s->sp, va, &got) != PGT_OK)
		got.pte = NULL;
	int level = m_page_level(md->a, shift);
	if (!EXPECT(r, got.pte && got.level == (unsigned)level && got.page_shift == shift,
		    "insert ref (%p, level %u, shift %u), model says level %d", (void *)got.pte, got.level,
		    got.page_shift, level))
		return;
	m_add(md, va, shift, got.pte);
	EXPECT(r, t->allocs - allocs == (long)(m_tables(md) - tables), "insert allocated %ld tables, model needs %zu",
	       t->allocs - allocs, m_tables(md) - tables);
}

/** An insert with an argument the ADT must refuse, or (mostly) a good one. */
static void op_insert(struct run *r, struct slot *s)
{
	const struct pgt_arch *a = s->md.a;
	unsigned level = rand_leaf_level(r, a), shift = a->level[level].shift;
	pgt_vaddr_t va = rand_page(r, s, level);

	switch (below(r, 40)) {
	case 0: /* misaligned */
		va += 1ull << below(r, shift);
		break;
	case 1: /* a size the descriptor lacks */
	{
		static const unsigned odd[] = { 0, 11, 13, 20, 22, 31, 39, 48, 63, 64, 200 };
		shift = odd[below(r, sizeof odd / sizeof odd[0])];
		if (m_page_level(a, shift) >= 0)
			shift = 1;
		break;
	}
	case 2: /* outside the range */
		va = bad_addr(r, s) & ~(m_size(shift) - 1);
		break;
	default:
		break;
	}
	do_insert(r, s, va, shift, !chance(r, 5));
}

static void op_lookup(struct run *r, struct slot *s)
{
	const struct model *md = &s->md;

	for (unsigned k = 0; k < 4 && !r->failed; k++) {
		pgt_vaddr_t va;
		unsigned p = (unsigned)below(r, 10);
		if (p < 7 || !md->n) {
			va = p == 6 ? bad_addr(r, s) : rand_addr(r, s);
		} else {
			const struct m_map *m = &md->map[below(r, md->n)];
			va = p == 7 ? m->va - 1 : p == 8 ? m_last(m) + 1 : m->va + (rnd(r) & (m_size(m->shift) - 1));
		}
		set_op(r, s, "lookup %#" PRIx64, va);
		check_lookup(r, s, va, true);
	}
}

/** A value for a field: mostly good, sometimes one the ADT must refuse. */
static uint64_t field_value(struct run *r, const struct model *md, const struct m_map *m, enum pgt_field f)
{
	unsigned pa_bits = md->a->pa_bits;

	if (f == PGT_FIELD_PADDR) {
		uint64_t pa = rnd(r) & (pa_bits < 64 ? (1ull << pa_bits) - 1 : ~0ull) & ~(m_size(m->shift) - 1);
		switch (below(r, 16)) {
		case 0: return m->shift ? pa | 1ull << below(r, m->shift) : pa; /* misaligned */
		case 1: return pa_bits < 64 ? pa | 1ull << (pa_bits + below(r, 64 - pa_bits)) : pa; /* too wide */
		case 2: return 0;
		default: return pa;
		}
	}
	if (f == PGT_FIELD_PROT)
		return chance(r, 8) ? (uint64_t)PGT_PROT_ALL + 1 + below(r, 1000) : below(r, PGT_PROT_ALL + 1);
	return chance(r, 6) ? 2 + below(r, 1000) : below(r, 2);
}

static void op_set_field(struct run *r, struct slot *s)
{
	struct model *md = &s->md;
	struct m_map *m = &md->map[below(r, md->n)], after;
	enum pgt_field f = chance(r, 2) ? (enum pgt_field)(PGT_FIELD_COUNT + below(r, 3))
					: (enum pgt_field)below(r, PGT_FIELD_COUNT);
	uint64_t val = field_value(r, md, m, f);
	int want = m_set_predict(md, m, f, val, &after);

	set_op(r, s, "set_field %d = %#" PRIx64 " on mapping %#" PRIx64 " shift %u prot %#x", (int)f, val, m->va,
	       m->shift, m->prot);
	int rc = pgt_set_field(&s->sp, ref_of(m), f, val);
	if (!EXPECT(r, rc == want, "status %d (%s), model says %d (%s)", rc, pgt_strerror(rc), want,
		    pgt_strerror(want)))
		return;
	r->stat[want == PGT_OK ? ST_SET_OK : want == PGT_ENOTSUP ? ST_SET_ENOTSUP : ST_SET_EINVAL]++;
	if (want == PGT_OK)
		*m = after;
	check_fields(r, s, m);
}

/**
 * A field or link operation through a ref that names no leaf: wrong size
 * for its level, a level the descriptor lacks, NULL, or the empty entry
 * beside a mapping. All are PGT_EINVAL and change nothing.
 */
static void op_bad_ref(struct run *r, struct slot *s)
{
	const struct model *md = &s->md;
	const struct m_map *m = &md->map[below(r, md->n)];
	const struct pgt_level *L = &md->a->level[m->level];
	pgt_ref_t ref = ref_of(m);
	uint64_t val = 0;

	switch (below(r, 4)) {
	case 0: ref.page_shift = m->shift + 1 + (unsigned)below(r, 3); break;
	case 1: ref.level = md->a->levels + (unsigned)below(r, 3); break;
	case 2: ref.pte = NULL; break;
	default: {
		pgt_vaddr_t next = m->va + m_size(m->shift);
		bool same_table = ((m->va >> L->shift) & ((1ull << L->bits) - 1)) + 1 < (1ull << L->bits);
		if (!same_table || m_overlaps(md, next, next + (m_size(m->shift) - 1)))
			return;
		ref.pte = m->pte + 1; /* an empty entry */
	}
	}
	set_op(r, s, "bad ref (%p, level %u, shift %u) beside mapping %#" PRIx64, (void *)ref.pte, ref.level,
	       ref.page_shift, m->va);
	r->stat[ST_BADREF]++;
	int rc = pgt_get_field(&s->sp, ref, PGT_FIELD_PADDR, &val);
	EXPECT(r, rc == PGT_EINVAL, "get_field: status %d (%s)", rc, pgt_strerror(rc));
	rc = pgt_set_field(&s->sp, ref, PGT_FIELD_PROT, PGT_PROT_READ);
	EXPECT(r, rc == PGT_EINVAL, "set_field: status %d (%s)", rc, pgt_strerror(rc));
	if (md->flags & PGT_SPACE_LINKS) { /* without links, EINVAL and ENOTSUP are both fair */
		rc = pgt_set_link(&s->sp, ref, 1, 0);
		EXPECT(r, rc == PGT_EINVAL, "set_link: status %d (%s)", rc, pgt_strerror(rc));
	}
}

static void op_link(struct run *r, struct slot *s)
{
	struct model *md = &s->md;
	struct m_map *m = &md->map[below(r, md->n)];
	bool links = md->flags & PGT_SPACE_LINKS;
	pgt_vaddr_t va = chance(r, 70) ? m->va : rnd(r);

	r->stat[ST_LINK]++;
	if (chance(r, 50)) {
		uintptr_t node = (uintptr_t)rnd(r);
		set_op(r, s, "set_link %#" PRIxPTR " va %#" PRIx64 " on mapping %#" PRIx64, node, va, m->va);
		int rc = pgt_set_link(&s->sp, ref_of(m), node, va);
		if (EXPECT(r, rc == (links ? PGT_OK : PGT_ENOTSUP), "status %d (%s)", rc, pgt_strerror(rc)) && links)
			m->link = (uint64_t)node ^ va;
	} else if (links && chance(r, 10)) {
		set_op(r, s, "get_link NULL node on mapping %#" PRIx64, m->va);
		int rc = pgt_get_link(&s->sp, ref_of(m), va, NULL);
		EXPECT(r, rc == PGT_EINVAL, "status %d (%s)", rc, pgt_strerror(rc));
	} else {
		set_op(r, s, "get_link va %#" PRIx64 " on mapping %#" PRIx64, va, m->va);
		check_link(r, s, m, va);
	}
}

static void op_recreate(struct run *r, struct slot *s)
{
	r->stat[ST_RECREATE]++;
	slot_destroy(r, s);
	slot_create_random(r, s);
}

/** One random step on one random space. */
static void step(struct run *r)
{
	struct slot *s = &r->s[below(r, NSPACES)];
	unsigned p = (unsigned)below(r, 1000);

	if (!s->live) {
		slot_create_random(r, s);
		return;
	}
	if (p < 6)
		op_recreate(r, s);
	else if (p < 450 || !s->md.n)
		op_insert(r, s);
	else if (p < 600)
		op_lookup(r, s);
	else if (p < 850)
		op_set_field(r, s);
	else if (p < 940)
		op_link(r, s);
	else
		op_bad_ref(r, s);
}

/* --- runs --- */

static struct run *run_new(const char *label, uint64_t seed, unsigned long steps, const struct pgt_arch *only)
{
	struct run *r = calloc(1, sizeof *r);

	ck_assert(r != NULL);
	r->label = label;
	r->seed = r->rng = seed;
	r->steps = steps;
	r->only = only;
	test_mm_init(&r->mm[TEST_MM_OFFSET], TEST_MM_OFFSET);
	test_mm_init(&r->mm[TEST_MM_HOOK], TEST_MM_HOOK);
	return r;
}

/** Destroys every space, checks the books balance, frees the run. */
static void run_free(struct run *r)
{
	bool failed = r->failed;

	for (unsigned i = 0; i < NSPACES; i++)
		if (r->s[i].live)
			slot_destroy(r, &r->s[i]);
	for (unsigned k = 0; k < 2; k++) {
		struct test_mm *t = &r->mm[k];
		EXPECT(r, test_mm_outstanding(t) == 0 && t->allocs == t->frees && t->errors == 0,
		       "teardown: allocator %u has %zu outstanding, %ld allocs, %ld frees, %ld errors", k,
		       test_mm_outstanding(t), t->allocs, t->frees, t->errors);
		test_mm_fini(t);
	}
	for (unsigned i = 0; i < NSPACES; i++)
		free(r->s[i].md.map);
	bool teardown_failed = r->failed && !failed;
	char msg[sizeof r->msg];
	memcpy(msg, r->msg, sizeof msg);
	free(r);
	CHECK_THAT(!teardown_failed, "%s", msg);
}

/** Runs r->steps random steps, verifying everything after each. */
static void run_steps(struct run *r)
{
	for (r->step = 1; r->step <= r->steps && !r->failed; r->step++) {
		step(r);
		if (!r->failed)
			verify_all(r);
	}
	if (r->step > r->steps)
		r->step = r->steps;
	g_tot->steps += r->step;
	for (unsigned i = 0; i < ST_COUNT; i++)
		g_tot->stat[i] += r->stat[i];
	if (r->failed)
		fprintf(stderr, "check_model: %s\n", r->msg);
}

static void run_report(const struct run *r)
{
	printf("check_model: %s seed %#" PRIx64 ": %lu steps;", r->label, r->seed, r->steps);
	for (unsigned i = 0; i < ST_COUNT; i++)
		printf(" %s %lu%s", stat_name[i], r->stat[i], i + 1 < ST_COUNT ? "," : "\n");
}

/** Runs a whole random test and fails it with the first disagreement. */
static void run_random(const char *label, uint64_t seed, unsigned long steps, const struct pgt_arch *only,
		       const struct pgt_arch *const init[NSPACES], const unsigned flags[NSPACES])
{
	struct run *r = run_new(label, seed, steps, only);
	char msg[sizeof r->msg];

	for (unsigned i = 0; i < NSPACES; i++)
		slot_create(r, &r->s[i], init[i], flags[i], (enum test_mm_mode)(i & 1));
	run_steps(r);
	run_report(r);
	bool failed = r->failed;
	memcpy(msg, r->msg, sizeof msg);
	run_free(r);
	CHECK_THAT(!failed, "%s", msg);
}

/* ======================================================================
 * Tests
 * ====================================================================== */

/* Three spaces of different descriptors, links, upper range and both P2V modes. */
START_TEST(test_model_mixed)
{
	const struct pgt_arch *const init[NSPACES] = { &pgt_arch_x86_64, &pgt_arch_armv8_4k_48,
						       &pgt_arch_x86_64_la57 };
	const unsigned flags[NSPACES] = { PGT_SPACE_LINKS, PGT_SPACE_UPPER, 0 };

	run_random("mixed", opt_seed(), opt_steps(), NULL, init, flags);
}
END_TEST

/* Three spaces of one descriptor each time, so every descriptor gets a long run. */
START_TEST(test_model_per_arch)
{
	const struct pgt_arch *a = test_archs[_i];
	const struct pgt_arch *const init[NSPACES] = { a, a, a };
	unsigned upper = test_has_upper(a) ? PGT_SPACE_UPPER : 0;
	const unsigned flags[NSPACES] = { 0, PGT_SPACE_LINKS | upper, upper };
	unsigned long steps = opt_steps() / PER_ARCH_DIV;

	run_random(a->name, opt_seed() + 1 + (uint64_t)_i, steps ? steps : 1, a, init, flags);
}
END_TEST

/** The table at @p level on the path to @p va, found by the test's own walk. */
static pgt_pte_t *table_on_path(const struct slot *s, const struct test_mm *t, pgt_vaddr_t va, unsigned level)
{
	const struct pgt_arch *a = s->md.a;
	pgt_pte_t *tab = test_mm_p2v(t, pgt_space_root(&s->sp));

	for (unsigned l = a->levels - 1u; l > level; l--) {
		const struct pgt_level *L = &a->level[l];
		pgt_pte_t e = tab[(va >> L->shift) & ((1ull << L->bits) - 1)];
		if (!test_is_table(L, l, e))
			return NULL;
		tab = test_mm_p2v(t, test_table_pa(L, e));
	}
	return tab;
}

static unsigned index_at(const struct pgt_arch *a, unsigned level, pgt_vaddr_t va)
{
	return (unsigned)((va >> a->level[level].shift) & ((1ull << a->level[level].bits) - 1));
}

/** tree_check on a corrupted tree must report at least one problem. */
static void expect_problem(struct run *r, struct slot *s, const char *what)
{
	struct tree_stats st = tree_check(&s->sp, s->md.a, slot_mm(r, s));

	CHECK_THAT(st.problems > 0, "%s: tree_check missed %s", s->md.a->name, what);
}

/* The checkers can fail: tree_check, the model comparison and the books see corruption. */
START_TEST(test_checker_catches_corruption)
{
	const struct pgt_arch *a = test_archs[_i];
	struct run *r = run_new("selftest", 7, 0, a);
	struct slot *s = &r->s[0];
	unsigned lev = a->levels > 1 ? 1u : 0u;
	pgt_vaddr_t va0 = m_size(a->level[lev].shift), va1 = 2 * va0;

	fprintf(stderr, "check_model: %s: self-test corrupts trees on purpose; tree_check reports follow\n", a->name);
	slot_create(r, s, a, (_i & 1) ? PGT_SPACE_LINKS : 0, (enum test_mm_mode)(_i & 1));
	do_insert(r, s, va0, a->level[0].shift, true);
	do_insert(r, s, va1, a->level[0].shift, true);
	verify_all(r);
	CHECK_THAT(!r->failed, "%s", r->msg);
	struct test_mm *t = slot_mm(r, s);

	/* 1: one table reachable twice, another not at all (a loop-free DAG that is not a tree) */
	pgt_pte_t *tab = table_on_path(s, t, va0, lev);
	ck_assert_ptr_nonnull(tab);
	unsigned i0 = index_at(a, lev, va0), i1 = index_at(a, lev, va1);
	pgt_pte_t saved = tab[i1];
	tab[i1] = tab[i0];
	expect_problem(r, s, "a table reachable twice");
	verify_slot(r, s);
	CHECK_THAT(r->failed, "%s: the model missed a shared table", a->name);
	r->failed = false;
	tab[i1] = saved;

	/* 2: a non-zero entry that is neither valid nor reserved */
	const struct pgt_level *R = &a->level[a->levels - 1u];
	pgt_pte_t *root = test_mm_p2v(t, pgt_space_root(&s->sp));
	unsigned spare = (1u << R->bits) - 2u;
	pgt_pte_t junk = ~(R->valid | R->reserved);
	root[spare] = junk & (0 - junk);
	expect_problem(r, s, "a malformed empty entry");

	/* 3: a table entry pointing at memory that is no table of this allocator */
	if (a->levels > 1) {
		root[spare] = test_with_table_pa(R, R->table_attrs | R->table_type, 0x10000ull);
		expect_problem(r, s, "a table that is not an outstanding frame");
	}
	root[spare] = 0;

	/* 4: tree_unchanged sees one flipped bit */
	size_t n;
	pgt_pte_t *snap = tree_snapshot(&s->sp, a, t, &n);
	s->md.map[0].pte[0] ^= a->level[0].dirty;
	CHECK_THAT(!tree_unchanged(&s->sp, a, t, snap, n), "%s: tree_unchanged missed a flipped bit", a->name);
	verify_slot(r, s);
	CHECK_THAT(r->failed, "%s: the model missed a flipped dirty bit", a->name);
	r->failed = false;
	s->md.map[0].pte[0] ^= a->level[0].dirty;

	/* 5: the books see a frame no space owns */
	pgt_paddr_t stray = t->mm.alloc_table(t->mm.ctx, 4096, 0);
	verify_books(r);
	CHECK_THAT(r->failed, "%s: the books missed a stray frame", a->name);
	r->failed = false;
	t->mm.free_table(t->mm.ctx, stray, 4096, 0);

	verify_all(r);
	CHECK_THAT(!r->failed, "%s: after repair: %s", a->name, r->msg);
	run_free(r);
}
END_TEST

/** Expects the last comparison to have failed, then clears the failure. */
static void expect_caught(struct run *r, const char *what)
{
	CHECK_THAT(r->failed, "the model missed %s", what);
	r->failed = false;
}

/* The model disagrees when a library answer or its own state is altered. */
START_TEST(test_model_catches_mutation)
{
	const struct pgt_arch *const init[NSPACES] = { &pgt_arch_armv8_16k_47, &pgt_arch_x86_64,
						       &pgt_arch_armv8_64k_42 };
	const unsigned flags[NSPACES] = { PGT_SPACE_LINKS, PGT_SPACE_LINKS, PGT_SPACE_UPPER };
	struct run *r = run_new("mutation", 11, 300, NULL);

	for (unsigned i = 0; i < NSPACES; i++)
		slot_create(r, &r->s[i], init[i], flags[i], (enum test_mm_mode)(i & 1));
	run_steps(r);
	CHECK_THAT(!r->failed, "%s", r->msg);
	struct slot *s = &r->s[1];
	if (!s->live || !(s->md.flags & PGT_SPACE_LINKS)) { /* the random steps may have replaced it */
		if (s->live)
			slot_destroy(r, s);
		slot_create(r, s, &pgt_arch_x86_64, PGT_SPACE_LINKS, TEST_MM_HOOK);
	}
	if (!s->md.n)
		do_insert(r, s, range_bottom(&s->md), s->md.a->level[0].shift, true);
	CHECK_THAT(s->live && s->md.n > 0, "%s", r->msg);
	struct m_map *m = &s->md.map[s->md.n / 2];
	pgt_ref_t got;
	ck_assert_int_eq(pgt_lookup(&s->sp, m->va, &got), PGT_OK);

	/* altered answers from the library */
	check_ref(r, "lookup", m->va, PGT_OK, (pgt_ref_t){ got.pte, got.level, got.page_shift + 1 }, PGT_OK, m);
	expect_caught(r, "a wrong page size");
	check_ref(r, "lookup", m->va, PGT_OK, (pgt_ref_t){ got.pte + 1, got.level, got.page_shift }, PGT_OK, m);
	expect_caught(r, "a wrong entry");
	check_ref(r, "lookup", m->va, PGT_ENOENT, got, PGT_OK, m);
	expect_caught(r, "a wrong status");
	check_ref(r, "insert", m->va, PGT_OK, got, PGT_EXISTS, m);
	expect_caught(r, "an insert over an existing mapping");
	uint64_t v;
	ck_assert_int_eq(pgt_get_field(&s->sp, ref_of(m), PGT_FIELD_PADDR, &v), PGT_OK);
	check_field_answer(r, m, PGT_FIELD_PADDR, PGT_OK, v ^ m_size(m->shift));
	expect_caught(r, "a wrong output address");

	/* altered model state, and the tree altered behind the model's back */
	m->prot ^= PGT_PROT_USER;
	verify_slot(r, s);
	expect_caught(r, "a prot mismatch");
	m->prot ^= PGT_PROT_USER;
	m->link ^= 8;
	verify_slot(r, s);
	expect_caught(r, "a link word mismatch");
	m->link ^= 8;
	struct m_map last = s->md.map[--s->md.n];
	verify_slot(r, s);
	expect_caught(r, "a mapping the model lost");
	s->md.map[s->md.n++] = last;
	pgt_pte_t old = *m->pte;
	*m->pte = 0;
	verify_slot(r, s);
	expect_caught(r, "a mapping the tree lost");
	*m->pte = old;

	verify_all(r);
	CHECK_THAT(!r->failed, "after undoing the mutations: %s", r->msg);
	run_free(r);
}
END_TEST

static Suite *model_suite(void)
{
	Suite *su = suite_create("model");
	TCase *tc = tcase_create("random");

	tcase_set_timeout(tc, 3600);
	tcase_add_test(tc, test_model_mixed);
	tcase_add_loop_test(tc, test_model_per_arch, 0, (int)test_narchs);
	suite_add_tcase(su, tc);

	tc = tcase_create("selftest");
	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, test_checker_catches_corruption, 0, (int)test_narchs);
	tcase_add_test(tc, test_model_catches_mutation);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	void *shared = mmap(NULL, sizeof *g_tot, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared != MAP_FAILED)
		g_tot = shared;

	int failed = test_run_suite(model_suite());
	printf("check_model: seed %#" PRIx64 ", %lu steps run in all, each verified;", opt_seed(), g_tot->steps);
	for (unsigned i = 0; i < ST_COUNT; i++)
		printf(" %s %lu%s", stat_name[i], g_tot->stat[i], i + 1 < ST_COUNT ? "," : "\n");
	if (shared != MAP_FAILED)
		munmap(shared, sizeof *g_tot);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
