/* SPDX-License-Identifier: MIT */
/*
 * fuzz_pgtable: a libFuzzer target that runs the library and the abstract
 * model (tests/model.c) side by side.
 *
 * The input is a program: each operation is one opcode byte followed by its
 * arguments, read from the bytes that follow (missing bytes read as 0). The
 * operations create and destroy spaces (any shipped descriptor, link words,
 * the ARMv8 upper range, offset or hook P2V), insert pages of every size at
 * addresses that collide often, look up addresses, get and set every field
 * (good and bad values), set and read link words, use refs that name no
 * leaf, and make the allocator fail, or hand out unusable frames, at a
 * chosen attempt of the next operation. A space created in range mode gets
 * pgt_map (plain, NOSUPER, REPLACE, reserved), pgt_unmap and pgt_protect
 * with good and bad ranges, output addresses and rights instead, compared
 * with the extent model (tests/extents.c) whatever page sizes the library
 * chose, and lookups and privileged reads (pgt_translate) checked against
 * it, and a read-only view of the same tables (pgt_space_view) must answer
 * both as the space does and refuse a write. Two range spaces of one descriptor may share root entries through
 * pgt_share (one pair at a time): the refusals are checked, and from then
 * on what either space maps, unmaps or protects there is in both models. A
 * borrower whose owner is destroyed is only destroyed in turn, as
 * pgt_share(3) requires. pgt_verify must find no problem in either mode.
 *
 * After every operation the touched space is compared with its model: the
 * status, the ref, lookup at the edges of every mapping, every field and
 * link word, tree_check (no loop, no sharing, no malformed entry, no empty
 * table, exactly the model's leaves and tables), an unchanged tree after a
 * failed call, and the allocator's books. Any disagreement aborts (a crash
 * for libFuzzer); leaks are LeakSanitizer's, memory and UB errors ASan's and
 * UBSan's.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../extents.h"
#include "../harness.h"
#include "../model.h"

/** Largest range a map may cover (see op_map). */
#define MAP_MAX (1ull << 28)

enum {
	NSPACES = 3, /**< spaces driven at once */
	FANOUT = 4   /**< indices used per level near a window, so inserts collide */
};

/** The input, read a byte at a time. */
struct input {
	const uint8_t *p;
	size_t n;
};

/** A space under test with its model. */
struct slot {
	bool live;
	enum test_mm_mode mode;
	pgt_space_t sp;
	struct model md; /**< ADT mode: the pages inserted */
	bool ranges;     /**< range mode: map/unmap/protect, modelled by ext */
	struct extents ext;
	size_t tables; /**< tables of its own that tree_check found last */
	/* range mode, pgt_share: one pair of spaces at a time shares one range */
	struct slot *peer;          /**< the other space of the pair, or NULL */
	bool owner;                 /**< this space owns the shared tables */
	bool orphan;                /**< a borrower whose owner is gone: may only be destroyed */
	pgt_vaddr_t sh_lo, sh_last; /**< the shared range */
};

struct fuzz {
	struct input in;
	struct test_mm mm[2]; /**< indexed by enum test_mm_mode */
	struct slot s[NSPACES];
	unsigned long op; /**< operations run on this input, for messages */
};

/** Reports a disagreement and crashes: libFuzzer saves the input. */
static void disagree(const struct fuzz *f, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_pgtable: operation %lu: ", f->op);
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
	if (!f->in.n)
		return 0;
	f->in.n--;
	return *f->in.p++;
}

static uint64_t get64(struct fuzz *f)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 8; i++)
		v = v << 8 | get8(f);
	return v;
}

static struct test_mm *slot_mm(struct fuzz *f, const struct slot *s)
{
	return &f->mm[s->mode];
}

/* --- addresses --- */

static unsigned top_leaf_level(const struct pgt_arch *a)
{
	unsigned l = a->levels - 1u;

	while (!a->level[l].leaf_ok)
		l--;
	return l;
}

/** A leaf level of the descriptor chosen by @p b. */
static unsigned leaf_level(const struct pgt_arch *a, uint8_t b)
{
	unsigned l = b % a->levels;

	while (!a->level[l].leaf_ok)
		l--;
	return l;
}

/** Lowest and highest address of the space's range. */
static pgt_vaddr_t range_bottom(const struct model *md)
{
	return (md->flags & PGT_SPACE_UPPER) ? 0 - (1ull << md->a->va_bits) : 0;
}

static pgt_vaddr_t range_top(const struct model *md)
{
	if (md->a->canon == PGT_CANON_SIGN_EXTEND || (md->flags & PGT_SPACE_UPPER))
		return ~0ull;
	return (1ull << md->a->va_bits) - 1;
}

/**
 * A page-aligned address for a page at @p level: one of three windows (the
 * bottom and top of the range, and one near the x86-64 canonical hole or
 * the middle) plus a small index at every level down to the page's; a flag
 * bit takes the indices from the input whole instead, and another returns
 * any 64-bit value (mostly out of range or misaligned).
 */
static pgt_vaddr_t pick_va(struct fuzz *f, const struct model *md, unsigned level)
{
	const struct pgt_arch *a = md->a;
	unsigned top = top_leaf_level(a);
	uint64_t span = (uint64_t)FANOUT << a->level[top].shift;
	uint8_t how = get8(f);

	if ((how & 0xc0) == 0xc0)
		return get64(f);
	pgt_vaddr_t base = range_bottom(md);
	if ((how & 3) == 1)
		base = range_top(md) - span + 1;
	else if ((how & 3) == 2)
		base = range_bottom(md) + (1ull << (a->va_bits - 1)) - span; /* x86-64: below the hole */
	for (unsigned l = top + 1; l-- > level;) {
		uint64_t idx = (how & 4) && l < top ? get8(f) : get8(f) % FANOUT;
		base += (idx & ((1ull << a->level[l].bits) - 1)) << a->level[l].shift;
	}
	return base;
}

/* --- shared root entries (pgt_share) --- */

/** The space's root table. */
static pgt_pte_t *root_table(struct fuzz *f, const struct slot *s)
{
	return test_mm_p2v(slot_mm(f, s), pgt_space_root(&s->sp));
}

/** Tables in the subtree of the table at @p level whose address is @p pa, itself included. */
static size_t subtree_tables(struct fuzz *f, const struct slot *s, unsigned level, pgt_paddr_t pa)
{
	const struct pgt_level *L = &s->md.a->level[level];
	const pgt_pte_t *tab = test_mm_p2v(slot_mm(f, s), pa);
	size_t n = 1;

	for (size_t i = 0; level > 0 && i < ((size_t)1 << L->bits); i++)
		if (test_is_table(L, level, tab[i]))
			n += subtree_tables(f, s, level - 1, test_table_pa(L, tab[i]));
	return n;
}

/**
 * Counts in *marked the root entries that link shared tables (pinned in an
 * owner, borrowed in a borrower) and returns how many tables hang below the
 * borrowed ones: they are the owner's.
 */
static size_t shared_roots(struct fuzz *f, const struct slot *s, size_t *marked)
{
	const struct pgt_arch *a = s->md.a;
	unsigned root = a->levels - 1u;
	const struct pgt_level *R = &a->level[root];
	const pgt_pte_t *tab = root_table(f, s);
	size_t borrowed = 0;

	for (size_t i = 0; root > 0 && i < ((size_t)1 << R->bits); i++) {
		if (!test_is_table(R, root, tab[i]) || !(tab[i] & (R->table_pinned | R->table_borrowed)))
			continue;
		++*marked;
		if (tab[i] & R->table_borrowed)
			borrowed += subtree_tables(f, s, root - 1, test_table_pa(R, tab[i]));
	}
	return borrowed;
}

/* --- comparing a space with its model --- */

static pgt_ref_t ref_of(const struct m_map *m)
{
	return (pgt_ref_t){ .pte = m->pte, .level = m->level, .page_shift = m->shift };
}

static void check_lookup(struct fuzz *f, struct slot *s, pgt_vaddr_t va)
{
	bool ok = m_va_ok(&s->md, va);
	const struct m_map *m = ok ? m_at(&s->md, va) : NULL;
	int want = !ok ? PGT_ERANGE : m ? PGT_OK : PGT_ENOENT;
	pgt_ref_t got = { 0 };
	int rc = pgt_lookup(&s->sp, va, &got);

	EXPECT(f, rc == want, "lookup %#" PRIx64 ": status %d, model says %d", va, rc, want);
	EXPECT(f, !m || (got.pte == m->pte && got.level == m->level && got.page_shift == m->shift),
	       "lookup %#" PRIx64 ": ref (%p, %u, %u), model says (%p, %u, %u)", va, (void *)got.pte,
	       got.level, got.page_shift, (void *)m->pte, m->level, m->shift);
}

static void check_fields(struct fuzz *f, struct slot *s, const struct m_map *m)
{
	for (unsigned k = 0; k < PGT_FIELD_COUNT; k++) {
		uint64_t val = 0, want;
		int rc = pgt_get_field(&s->sp, ref_of(m), (enum pgt_field)k, &val);
		EXPECT(f, rc == PGT_OK, "get_field %u of %#" PRIx64 ": status %d", k, m->va, rc);
		EXPECT(f, !m_get(m, (enum pgt_field)k, &want) || val == want,
		       "get_field %u of %#" PRIx64 ": %#" PRIx64 ", model says %#" PRIx64, k, m->va, val,
		       want);
	}
}

static void check_link(struct fuzz *f, struct slot *s, const struct m_map *m, pgt_vaddr_t q)
{
	uintptr_t node = 0;
	int rc = pgt_get_link(&s->sp, ref_of(m), q, &node);
	bool links = s->md.flags & PGT_SPACE_LINKS;

	EXPECT(f, rc == (links ? PGT_OK : PGT_ENOTSUP), "get_link of %#" PRIx64 ": status %d", m->va, rc);
	EXPECT(f, !links || (uint64_t)node == (uint64_t)(uintptr_t)(m->link ^ q),
	       "get_link of %#" PRIx64 ": %#" PRIxPTR ", model says %#" PRIx64, m->va, node, m->link ^ q);
}

static void print_problem(void *arg, const char *problem, pgt_vaddr_t va, unsigned level)
{
	(void)arg;
	fprintf(stderr, "pgt_verify: %s at %#" PRIx64 " level %u\n", problem, va, level);
}

/** The library's own checker must find nothing wrong either. */
static void check_verify(struct fuzz *f, struct slot *s)
{
	int problems = pgt_verify(&s->sp, print_problem, NULL);

	EXPECT(f, problems == 0, "pgt_verify: %d problems", problems);
}

/** Range mode: the tree maps what the extent model says, and its invariants hold. */
static void verify_ranges(struct fuzz *f, struct slot *s)
{
	char why[200];
	struct tree_stats st = tree_check(&s->sp, s->md.a, slot_mm(f, s));

	EXPECT(f, ext_matches_tree(&s->ext, &s->sp, s->md.a, slot_mm(f, s), s->md.flags, why, sizeof why),
	       "tree and extent model differ: %s", why);
	/* Tables linked by shared root entries are never freed, even when empty. */
	size_t marked = 0, borrowed = shared_roots(f, s, &marked);
	EXPECT(f, st.problems == 0 && st.empty_tables <= marked,
	       "tree_check: %zu problems, %zu empty tables (%zu shared root entries)", st.problems,
	       st.empty_tables, marked);
	s->tables = st.tables - borrowed;
}

/** The whole space against its model, and its tree's invariants. */
static void verify_slot(struct fuzz *f, struct slot *s)
{
	const struct model *md = &s->md;

	check_verify(f, s);
	if (s->ranges) {
		verify_ranges(f, s);
		return;
	}

	for (size_t i = 0; i < md->n; i++) {
		const struct m_map *m = &md->map[i];
		check_lookup(f, s, m->va);
		check_lookup(f, s, m_last(m));
		if (m->va != range_bottom(md))
			check_lookup(f, s, m->va - 1);
		check_fields(f, s, m);
		check_link(f, s, m, m->va);
	}
	struct tree_stats st = tree_check(&s->sp, md->a, slot_mm(f, s));
	size_t valid = m_valid(md);
	EXPECT(f, st.problems == 0 && st.empty_tables == 0, "tree_check: %zu problems, %zu empty tables",
	       st.problems, st.empty_tables);
	EXPECT(f, st.leaves == valid && st.reserved == md->n - valid,
	       "tree: %zu valid + %zu reserved leaves, model %zu + %zu", st.leaves, st.reserved, valid,
	       md->n - valid);
	EXPECT(f, st.tables == m_tables(md), "tree: %zu tables, model needs %zu", st.tables, m_tables(md));
	s->tables = st.tables;
}

/**
 * Tables the space keeps for reuse (pgt_space_cache): read from its private
 * state, since no call tells it without giving them back; pgt_verify checks
 * each of them (the allocator's, out of the tree, empty, within the bound).
 */
static size_t kept_tables(const pgt_space_t *sp)
{
	size_t n = 0;

	for (size_t l = 0; l < sizeof sp->pgt__cache / sizeof sp->pgt__cache[0]; l++)
		n += sp->pgt__cache[l].n;
	return n;
}

/** The books of both allocators hold exactly the live spaces' tables, in their trees and kept. */
static void verify_books(struct fuzz *f)
{
	for (unsigned k = 0; k < 2; k++) {
		const struct test_mm *t = &f->mm[k];
		size_t sum = 0;
		for (unsigned i = 0; i < NSPACES; i++)
			if (f->s[i].live && f->s[i].mode == (enum test_mm_mode)k)
				sum += f->s[i].tables + kept_tables(&f->s[i].sp);
		EXPECT(f, test_mm_outstanding(t) == sum && t->errors == 0,
		       "allocator %u: %zu frames outstanding, spaces hold %zu, %ld bad frees", k,
		       test_mm_outstanding(t), sum, t->errors);
	}
}

/* --- spaces --- */

/**
 * Ends the space's share, if any: a borrower leaves its owner alone (the
 * owner's root entries stay pinned); an owner leaves its borrower an
 * orphan, whose own tables were counted last time it was checked.
 */
static void end_share(struct slot *s)
{
	if (!s->peer)
		return;
	if (s->owner)
		s->peer->orphan = true;
	s->peer->peer = NULL;
	s->peer = NULL;
}

static void slot_destroy(struct fuzz *f, struct slot *s)
{
	struct test_mm *t = slot_mm(f, s);
	size_t before = test_mm_outstanding(t), held = s->tables + kept_tables(&s->sp);

	end_share(s);
	s->orphan = false;
	pgt_space_destroy(&s->sp);
	EXPECT(f, before - test_mm_outstanding(t) == held && t->errors == 0,
	       "destroy freed %zu of %zu tables", before - test_mm_outstanding(t), held);
	EXPECT(f, pgt_space_root(&s->sp) == PGT_PADDR_NONE, "root of a destroyed space");
	free(s->md.map);
	s->md = (struct model){ 0 };
	ext_fini(&s->ext);
	s->live = false;
}

/** Creates a space; the allocator fails its only allocation when told to. */
static void op_create(struct fuzz *f, struct slot *s)
{
	uint8_t b = get8(f);
	const struct pgt_arch *a = test_archs[(b & 0x0f) % test_narchs];
	unsigned flags = (b & 0x10) ? PGT_SPACE_LINKS : 0;
	bool fail_alloc = (b & 0xe0) == 0xe0;

	if (s->live)
		slot_destroy(f, s);
	if (test_has_upper(a) && (b & 0x20))
		flags |= PGT_SPACE_UPPER;
	s->mode = (b & 0x40) ? TEST_MM_HOOK : TEST_MM_OFFSET;
	struct test_mm *t = slot_mm(f, s);
	t->fail_at = fail_alloc ? t->attempts + 1 : 0;
	int rc = pgt_space_init(&s->sp, a, &t->mm, flags);
	t->fail_at = 0;
	EXPECT(f, rc == (fail_alloc ? PGT_ENOMEM : PGT_OK), "space_init %s flags %u: status %d", a->name,
	       flags, rc);
	m_init(&s->md, a, flags);
	uint8_t mode = get8(f);
	s->ranges = mode & 1;
	if (rc == PGT_OK && (mode >> 1) % 4) /* three spaces in four keep emptied tables, up to 1-3 a level */
		EXPECT(f, pgt_space_cache(&s->sp, (mode >> 1) % 4) == PGT_OK, "space_cache refused");
	ext_init(&s->ext);
	s->live = rc == PGT_OK;
	s->tables = s->live;
}

/* --- inserts, with the allocator misbehaving on demand --- */

/** How the next insert's allocations go wrong. */
struct trouble {
	unsigned fail_at;  /**< 1-based attempt that fails (0: none) */
	bool fail_after;   /**< and every later one */
	uint64_t misalign; /**< added to every frame (0: none) */
};

static struct trouble pick_trouble(struct fuzz *f)
{
	uint8_t b = get8(f);
	struct trouble tr = { 0 };

	if ((b & 0xc0) == 0x40) {
		tr.fail_at = 1 + (b & 7);
		tr.fail_after = b & 8;
	} else if ((b & 0xc0) == 0x80) {
		tr.misalign = 8ull << (b & 7);
	}
	return tr;
}

/** Tables the insert needs: the model's count with the page added, less the count now. */
static size_t tables_needed(struct model *md, pgt_vaddr_t va, unsigned shift)
{
	size_t before = m_tables(md);

	m_add(md, va, shift, NULL);
	size_t after = m_tables(md);
	long i = m_floor(md, va);
	memmove(&md->map[i], &md->map[i + 1], (md->n - (size_t)i - 1) * sizeof *md->map);
	md->n--;
	return after - before;
}

/** The status the insert must give once the allocator's trouble is known. */
static int predict_insert(struct model *md, pgt_vaddr_t va, unsigned shift, const struct trouble *tr,
			  long *hit)
{
	int want = m_insert_predict(md, va, shift, hit);

	if (want != PGT_OK)
		return want;
	size_t need = tables_needed(md, va, shift);
	if (need && tr->misalign)
		return PGT_EHOOK;
#if FUZZ_SELFTEST == 1
	need -= need > 1; /* a planted off-by-one: run.sh checks the fuzzer finds it */
#endif
	if (tr->fail_at && tr->fail_at <= need)
		return PGT_ENOMEM;
	return PGT_OK;
}

static void op_insert(struct fuzz *f, struct slot *s)
{
	struct model *md = &s->md;
	struct test_mm *t = slot_mm(f, s);
	unsigned level = leaf_level(md->a, get8(f));
	uint8_t odd = get8(f);
	unsigned shift = (odd & 0xf0) == 0xf0 ? odd & 0x7f : md->a->level[level].shift;
	pgt_vaddr_t va = pick_va(f, md, level);
	struct trouble tr = pick_trouble(f);
	long hit = -1;
	int want = predict_insert(md, va, shift, &tr, &hit);
	size_t n, before = test_mm_outstanding(t);
	pgt_pte_t *snap = tree_snapshot(&s->sp, md->a, t, &n);
	pgt_ref_t got = { 0 };

	t->fail_at = tr.fail_at ? t->attempts + tr.fail_at : 0;
	t->fail_after = tr.fail_after;
	t->misalign = tr.misalign;
	int rc = pgt_insert(&s->sp, va, shift, &got);
	t->fail_at = 0;
	t->fail_after = false;
	t->misalign = 0;
	EXPECT(f, rc == want, "insert %#" PRIx64 " shift %u: status %d, model says %d", va, shift, rc, want);
	if (want != PGT_OK) {
		EXPECT(f, tree_unchanged(&s->sp, md->a, t, snap, n), "failed insert (%d) changed the tree",
		       rc);
		EXPECT(f, test_mm_outstanding(t) == before, "failed insert (%d) kept %zu frames", rc,
		       test_mm_outstanding(t) - before);
		if (want == PGT_EXISTS)
			EXPECT(f, got.pte == md->map[hit].pte && got.page_shift == md->map[hit].shift,
			       "insert: exists, but the ref is not the mapping's");
		return;
	}
	free(snap);
	EXPECT(f, got.pte && got.level == level && got.page_shift == shift, "insert: ref level %u shift %u",
	       got.level, got.page_shift);
	m_add(md, va, shift, got.pte);
}

/* --- lookups, fields, links, bad refs --- */

static void op_lookup(struct fuzz *f, struct slot *s)
{
	pgt_vaddr_t va = pick_va(f, &s->md, 0) + (get8(f) & 0x0f) * 0x111;

	check_lookup(f, s, va);
}

/** A mapping chosen by the input; NULL when the space has none. */
static struct m_map *pick_map(struct fuzz *f, struct slot *s)
{
	uint8_t b = get8(f);

	return s->md.n ? &s->md.map[b % s->md.n] : NULL;
}

/** A value for @p fld: mostly in range, sometimes wild. */
static uint64_t pick_value(struct fuzz *f, const struct model *md, const struct m_map *m, enum pgt_field fld)
{
	uint8_t how = get8(f);

	if ((how & 0xc0) == 0xc0)
		return get64(f);
	if (fld == PGT_FIELD_PADDR) {
		unsigned pa_bits = md->a->pa_bits;
		uint64_t mask = pa_bits < 64 ? (1ull << pa_bits) - 1 : ~0ull;
		return get64(f) & mask & ~(m_size(m->shift) - 1);
	}
	return fld == PGT_FIELD_PROT ? how & PGT_PROT_ALL : how & 1;
}

static void op_set_field(struct fuzz *f, struct slot *s)
{
	struct m_map *m = pick_map(f, s), after;
	uint8_t b = get8(f);
	enum pgt_field fld = (enum pgt_field)(b % (PGT_FIELD_COUNT + 2));

	if (!m)
		return;
	uint64_t val = pick_value(f, &s->md, m, fld);
	int want = m_set_predict(&s->md, m, fld, val, &after);
	int rc = pgt_set_field(&s->sp, ref_of(m), fld, val);
	EXPECT(f, rc == want, "set_field %d = %#" PRIx64 " on %#" PRIx64 ": status %d, model says %d",
	       (int)fld, val, m->va, rc, want);
	if (rc == PGT_OK)
		*m = after;
}

static void op_link(struct fuzz *f, struct slot *s)
{
	struct m_map *m = pick_map(f, s);
	uint8_t b = get8(f);
	pgt_vaddr_t va = (b & 1) ? get64(f) : 0;

	if (!m)
		return;
	va = (b & 1) ? va : m->va;
	if (b & 2) {
		check_link(f, s, m, va);
		return;
	}
	uintptr_t node = (uintptr_t)get64(f);
	bool links = s->md.flags & PGT_SPACE_LINKS;
	int rc = pgt_set_link(&s->sp, ref_of(m), node, va);
	EXPECT(f, rc == (links ? PGT_OK : PGT_ENOTSUP), "set_link on %#" PRIx64 ": status %d", m->va, rc);
	if (links)
		m->link = (uint64_t)node ^ va;
}

/** A ref that names no leaf: every field and link call must refuse it. */
static void op_bad_ref(struct fuzz *f, struct slot *s)
{
	const struct m_map *m = pick_map(f, s);
	uint8_t b = get8(f);
	uint64_t val;

	if (!m)
		return;
	pgt_ref_t ref = ref_of(m);
	switch (b & 3) {
	case 0: ref.page_shift += 1 + (b >> 2) % 8; break;
	case 1: ref.level = s->md.a->levels + (b >> 2); break;
	case 2: ref.pte = NULL; break;
	default: ref.pte = (pgt_pte_t *)((char *)ref.pte + 1 + (b >> 2) % 7); break; /* misaligned */
	}
	int rc = pgt_get_field(&s->sp, ref, PGT_FIELD_PADDR, &val);
	EXPECT(f, rc == PGT_EINVAL, "get_field through a bad ref: status %d", rc);
	rc = pgt_set_field(&s->sp, ref, PGT_FIELD_PROT, PGT_PROT_READ);
	EXPECT(f, rc == PGT_EINVAL, "set_field through a bad ref: status %d", rc);
	/* Without link words, refusing the space first (ENOTSUP) is as fair as the ref. */
	rc = pgt_set_link(&s->sp, ref, 1, 0);
	EXPECT(f, rc == PGT_EINVAL || (rc == PGT_ENOTSUP && !(s->md.flags & PGT_SPACE_LINKS)),
	       "set_link through a bad ref: status %d", rc);
}

/* --- range mode: map, unmap, protect against the extent model --- */

/**
 * DESIGN.md's valid range, from the prose: non-empty, aligned to the
 * smallest page, not wrapping, both ends in the space, and on x86-64 not
 * across the canonical hole.
 */
static int range_status_in(const struct model *md, pgt_vaddr_t va, uint64_t size, uint64_t unit)
{
	pgt_vaddr_t last = va + (size - 1);

	if (size == 0)
		return PGT_ESIZE;
	if ((va | size) & (unit - 1))
		return PGT_EALIGN;
	if (last < va)
		return PGT_EWRAP;
	if (!m_va_ok(md, va) || !m_va_ok(md, last))
		return PGT_ERANGE;
	return md->a->canon != PGT_CANON_SIGN_EXTEND || (va >> 63) == (last >> 63) ? PGT_OK : PGT_ERANGE;
}

/** What a range operation answers for its range: PGT_OK, or the misuse it is. */
static int range_status(const struct model *md, pgt_vaddr_t va, uint64_t size)
{
	return range_status_in(md, va, size, m_size(md->a->level[0].shift));
}

static bool range_valid(const struct model *md, pgt_vaddr_t va, uint64_t size)
{
	return range_status(md, va, size) == PGT_OK;
}

/** An output address range the descriptor can hold, aligned to the smallest page: PGT_OK or why not. */
static int pa_status(const struct model *md, pgt_paddr_t pa, uint64_t size)
{
	pgt_paddr_t last = pa + (size - 1);

	if (pa & (m_size(md->a->level[0].shift) - 1))
		return PGT_EALIGN;
	if (last < pa)
		return PGT_EWRAP;
	return md->a->pa_bits >= 64 || (last >> md->a->pa_bits) == 0 ? PGT_OK : PGT_ERANGE;
}

/**
 * Rights as pgt_map and pgt_protect judge them: unknown bits or two memory
 * types, then what the format cannot express.
 */
static int prot_status(const struct model *md, unsigned prot)
{
	unsigned memtype = prot & PGT_PROT_MEMTYPE;

	if ((prot & ~PGT_PROT_ALL) || (memtype & (memtype - 1)))
		return PGT_EFLAGS;
	return test_prot_expressible(md->a, prot) ? PGT_OK : PGT_ENOTSUP;
}

/** A size: some smallest pages, some second-level pages, or anything. */
static uint64_t pick_size(struct fuzz *f, const struct model *md)
{
	uint8_t b = get8(f);
	unsigned unit = (b & 0xc0) == 0x40 ? md->a->level[1].shift : md->a->level[0].shift;

	if ((b & 0xc0) == 0xc0)
		return get64(f);
	return (uint64_t)(1 + (b & 0x3f)) << unit;
}

/** An output address: aligned like va in the largest page (superpages happen), any page, or anything. */
static pgt_paddr_t pick_pa(struct fuzz *f, const struct model *md, pgt_vaddr_t va)
{
	uint8_t b = get8(f);
	uint64_t big = m_size(md->a->level[top_leaf_level(md->a)].shift);
	uint64_t page = m_size(md->a->level[0].shift);

	if ((b & 0xc0) == 0xc0)
		return get64(f);
	if (b & 1)
		return (uint64_t)(b >> 1) * big + (va & (big - 1));
	return (get64(f) & ((1ull << 40) - 1) & ~(page - 1));
}

static unsigned pick_prot(struct fuzz *f)
{
	uint8_t b = get8(f);

	return (b & 0xc0) == 0xc0 ? (unsigned)get64(f) : b & PGT_PROT_ALL;
}

/**
 * Runs one range call with the allocator's trouble armed, and compares: the
 * model's status, or (when the trouble bites an operation that needs tables)
 * PGT_ENOMEM or PGT_EHOOK with the tree as it was. Returns whether the call
 * succeeded, so the caller updates the model.
 */
static bool range_call(struct fuzz *f, struct slot *s, int (*call)(struct slot *s, const uint64_t *args),
		       const uint64_t *args, int want, const char *what)
{
	struct test_mm *t = slot_mm(f, s);
	struct trouble tr = pick_trouble(f);
	size_t n, before = test_mm_outstanding(t);
	pgt_pte_t *snap = tree_snapshot(&s->sp, s->md.a, t, &n);

	t->fail_at = tr.fail_at ? t->attempts + tr.fail_at : 0;
	t->fail_after = tr.fail_after;
	t->misalign = tr.misalign;
	int rc = call(s, args);
	t->fail_at = 0;
	t->fail_after = false;
	t->misalign = 0;
	bool bitten =
		want == PGT_OK && ((tr.fail_at && rc == PGT_ENOMEM) || (tr.misalign && rc == PGT_EHOOK));
	EXPECT(f, rc == want || bitten, "%s %#" PRIx64 " size %#" PRIx64 ": status %d, model says %d", what,
	       args[0], args[1], rc, want);
	if (rc == PGT_OK) {
		free(snap);
		return true;
	}
	EXPECT(f, tree_unchanged(&s->sp, s->md.a, t, snap, n), "failed %s (%d) changed the tree", what, rc);
	EXPECT(f, test_mm_outstanding(t) == before, "failed %s (%d) kept %zu frames", what, rc,
	       test_mm_outstanding(t) - before);
	return false;
}

/* args: va, size, pa, prot, flags */
static int call_map(struct slot *s, const uint64_t *x)
{
	return pgt_map(&s->sp, x[0], x[2], x[1], (unsigned)x[3], (unsigned)x[4]);
}

static int call_unmap(struct slot *s, const uint64_t *x)
{
	return pgt_unmap(&s->sp, x[0], x[1]);
}

static int call_protect(struct slot *s, const uint64_t *x)
{
	return pgt_protect(&s->sp, x[0], x[1], (unsigned)x[3]);
}

static void op_map(struct fuzz *f, struct slot *s)
{
	const struct model *md = &s->md;
	uint8_t fl = get8(f);
	unsigned flags = (fl & 0xf0) == 0xf0 ? fl : fl & (PGT_MAP_NOSUPER | PGT_MAP_REPLACE);
	pgt_vaddr_t va = pick_va(f, md, 0);
	uint64_t size = pick_size(f, md);
	pgt_paddr_t pa = pick_pa(f, md, va);
	unsigned prot = pick_prot(f);
	int want = PGT_OK;

	/* A valid range of terabytes in small pages needs gigabytes of tables: keep
	 * maps within 256 MiB (bad ranges keep their size, to be refused). */
	if (range_valid(md, va, size) && size > MAP_MAX)
		size = MAP_MAX;
	const uint64_t args[] = { va, size, pa, prot, flags };
	/* the library's order: the range, then flags, pa and rights */
	if (!range_valid(md, va, size))
		want = range_status(md, va, size);
	else if (flags & ~3u)
		want = PGT_EFLAGS;
	else if (pa_status(md, pa, size) != PGT_OK)
		want = pa_status(md, pa, size);
	else if (prot_status(&s->md, prot) != PGT_OK)
		want = prot_status(&s->md, prot);
	else if (!(flags & PGT_MAP_REPLACE) && ext_overlaps(&s->ext, va, va + (size - 1)))
		want = PGT_ECONFLICT;
#if FUZZ_SELFTEST == 2
	if (flags & PGT_MAP_NOSUPER)
		want = PGT_OK; /* a planted bug: run.sh checks the fuzzer finds it */
#endif
	if (range_call(f, s, call_map, args, want, "map"))
		ext_map(&s->ext, va, va + (size - 1), pa, prot);
}

static void op_unmap(struct fuzz *f, struct slot *s)
{
	pgt_vaddr_t va = pick_va(f, &s->md, 0);
	uint64_t size = pick_size(f, &s->md);
	const uint64_t args[] = { va, size, 0, 0, 0 };
	int want = range_status(&s->md, va, size);

	if (range_call(f, s, call_unmap, args, want, "unmap"))
		ext_unmap(&s->ext, va, va + (size - 1));
}

static void op_protect(struct fuzz *f, struct slot *s)
{
	pgt_vaddr_t va = pick_va(f, &s->md, 0);
	uint64_t size = pick_size(f, &s->md);
	unsigned prot = pick_prot(f);
	const uint64_t args[] = { va, size, 0, prot, 0 };
	int want = range_valid(&s->md, va, size) ? prot_status(&s->md, prot) : range_status(&s->md, va, size);

	if (range_call(f, s, call_protect, args, want, "protect"))
		ext_protect(&s->ext, va, va + (size - 1), prot);
}

/**
 * A privileged read translates where the extent model grants rights, to its
 * output address, and faults where it maps nothing or a reserved range.
 * ARMv8 user pages are left open (privileged access to them depends on PAN);
 * RISC-V user pages and execute-only pages fault (SUM = 0, MXR = 0).
 */
static void check_translate(struct fuzz *f, struct slot *s, pgt_vaddr_t va, const struct ext *x)
{
	pgt_paddr_t pa = 0;
	struct pgt_fault fault;
	int rc = pgt_translate(&s->sp, va, PGT_ACC_READ, &pa, &fault);
	bool arm_user = x && strncmp(s->md.a->name, "armv8", 5) == 0 && (x->prot & PGT_PROT_USER);
	bool unreadable = x && ((test_user_pages_private(s->md.a) && (x->prot & PGT_PROT_USER)) ||
				!(x->prot & PGT_PROT_READ));

	if (!m_va_ok(&s->md, va)) {
		EXPECT(f, rc == PGT_ERANGE, "translate %#" PRIx64 " outside the space: status %d", va, rc);
		return;
	}
	if (!x || !(x->prot & 7u)) {
		EXPECT(f, rc == PGT_EFAULT, "translate %#" PRIx64 ": status %d where nothing valid is mapped",
		       va, rc);
		return;
	}
	if (unreadable) {
		EXPECT(f, rc == PGT_EFAULT && fault.kind == PGT_FAULT_PERMISSION,
		       "translate %#" PRIx64 ": status %d on a page a privileged read may not read", va, rc);
		return;
	}
	EXPECT(f, rc == PGT_OK || (arm_user && rc == PGT_EFAULT), "translate %#" PRIx64 ": status %d", va,
	       rc);
	EXPECT(f, rc != PGT_OK || pa == x->pa + (va - x->va),
	       "translate %#" PRIx64 ": %#" PRIx64 ", model %#" PRIx64, va, pa, x->pa + (va - x->va));
}

/**
 * A read-only view of the space's tables (pgt_space_view) answers a lookup
 * and a privileged read as the space does, and refuses a write.
 */
static void check_view(struct fuzz *f, struct slot *s, pgt_vaddr_t va)
{
	const struct test_mm *t = slot_mm(f, s);
	const struct pgt_mm mm = { .p2v = t->mm.p2v, .p2v_offset = t->mm.p2v_offset, .ctx = t->mm.ctx };
	pgt_space_t v;
	pgt_ref_t r1, r2;
	pgt_paddr_t p1 = 0, p2 = 0;
	struct pgt_fault f1 = { 0 }, f2 = { 0 };
	int rc = pgt_space_view(&v, s->md.a, &mm, pgt_space_root(&s->sp), s->md.flags & PGT_SPACE_UPPER);

	EXPECT(f, rc == PGT_OK, "view of a live space: status %d", rc);
	int l1 = pgt_lookup(&s->sp, va, &r1), l2 = pgt_lookup(&v, va, &r2);
	EXPECT(f, l1 == l2 && (l1 != PGT_OK || (r1.pte == r2.pte && r1.level == r2.level)),
	       "view lookup %#" PRIx64 ": status %d, the space's %d", va, l2, l1);
	int t1 = pgt_translate(&s->sp, va, PGT_ACC_READ, &p1, &f1), t2 = pgt_translate(&v, va, PGT_ACC_READ, &p2, &f2);
	EXPECT(f, t1 == t2 && p1 == p2 && f1.kind == f2.kind && f1.level == f2.level,
	       "view translate %#" PRIx64 ": status %d, the space's %d", va, t2, t1);
	rc = pgt_unmap(&v, va & ~0xfffull, 0x1000);
	EXPECT(f, rc == PGT_EINVAL, "unmap on a view: status %d", rc);
	pgt_space_destroy(&v);
}

/** A lookup answers as the extent model does, with its output address. */
static void op_range_lookup(struct fuzz *f, struct slot *s)
{
	pgt_vaddr_t va = pick_va(f, &s->md, 0) + (get8(f) & 0x0f) * 0x111;
	bool ok = m_va_ok(&s->md, va);
	const struct ext *x = ok ? ext_find(&s->ext, va) : NULL;
	int want = !ok ? PGT_ERANGE : x ? PGT_OK : PGT_ENOENT;
	pgt_ref_t ref;
	uint64_t pa = 0;
	int rc = pgt_lookup(&s->sp, va, &ref);

	EXPECT(f, rc == want, "lookup %#" PRIx64 ": status %d, extent model says %d", va, rc, want);
	check_translate(f, s, va, x);
	check_view(f, s, va);
	if (rc != PGT_OK)
		return;
	rc = pgt_get_field(&s->sp, ref, PGT_FIELD_PADDR, &pa);
	uint64_t want_pa = (x->pa + (va - x->va)) & ~(m_size(ref.page_shift) - 1);
	EXPECT(f, rc == PGT_OK && pa == want_pa,
	       "lookup %#" PRIx64 ": output address %#" PRIx64 ", model %#" PRIx64, va, pa, want_pa);
}

/** The peer's model gets this space's mappings in the shared range (they are the same tables). */
static void sync_peer(struct slot *s)
{
	struct slot *p = s->peer;

#if FUZZ_SELFTEST == 3
	p = NULL; /* a planted bug, the models ignore sharing: run.sh checks the fuzzer finds it */
#endif
	if (!p)
		return;
	ext_unmap(&p->ext, s->sh_lo, s->sh_last);
	for (size_t i = 0; i < s->ext.n; i++) {
		const struct ext *x = &s->ext.v[i];
		pgt_vaddr_t lo = x->va > s->sh_lo ? x->va : s->sh_lo;
		pgt_vaddr_t last = x->last < s->sh_last ? x->last : s->sh_last;
		if (lo <= last)
			ext_map(&p->ext, lo, last, x->pa + (lo - x->va), x->prot);
	}
}

/** Can pgt_share link @p dst to @p src at all: same descriptor, flags and allocator. */
static bool share_compatible(const struct slot *dst, const struct slot *src)
{
	return dst != src && dst->md.a == src->md.a && dst->md.flags == src->md.flags && dst->mode == src->mode;
}

/**
 * The status pgt_share(dst, src, va, size) must give for compatible spaces
 * with sharing marks and a valid range of whole root entries: a conflict
 * when dst has anything in one of them (a mapping, or a table an old share
 * left pinned) or src has something there that is not a table.
 */
static int share_status(struct fuzz *f, const struct slot *dst, const struct slot *src, pgt_vaddr_t va,
			uint64_t size)
{
	const struct pgt_level *R = &src->md.a->level[src->md.a->levels - 1u];
	const pgt_pte_t *d = root_table(f, dst), *t = root_table(f, src);
	uint64_t mask = ((uint64_t)1 << R->bits) - 1;

	for (uint64_t k = 0; k < size >> R->shift; k++) {
		size_t i = (size_t)(((va >> R->shift) + k) & mask);
		if (d[i] != 0 || (t[i] != 0 && !test_is_table(R, src->md.a->levels - 1u, t[i])))
			return PGT_ECONFLICT;
	}
	return PGT_OK;
}

/**
 * A range of one or two root entries at the bottom, the top or just below
 * the middle of the range (the x86-64 hole), and now and then one that is
 * not whole or not aligned.
 */
static void pick_share_range(struct fuzz *f, const struct model *md, pgt_vaddr_t *va, uint64_t *size)
{
	const struct pgt_arch *a = md->a;
	uint64_t entry = (uint64_t)1 << a->level[a->levels - 1u].shift;
	uint8_t b = get8(f);
	uint64_t k = (b >> 2) & 3;

	*size = (b & 0x10) ? 2 * entry : entry;
	switch (b & 3) {
	case 0: *va = range_bottom(md) + k * entry; break;
	case 1: *va = range_top(md) - (k + 2) * entry + 1; break;
	case 2: *va = range_bottom(md) + (1ull << (a->va_bits - 1)) - (k + 2) * entry; break;
	default: *va = get64(f); break;
	}
	if ((b & 0xe0) == 0xe0)
		*size = entry / 2;
}

/**
 * The space to share from: mostly the first one from a chosen index that
 * pgt_share can link to (same descriptor, flags and allocator, driven by
 * ranges), sometimes whichever slot is there, to test the refusals; NULL
 * when there is none to pick.
 */
static struct slot *pick_share_source(struct fuzz *f, const struct slot *dst)
{
	uint8_t b = get8(f);
	unsigned from = b % NSPACES;

	if (b & 0x80)
		return &f->s[from];
	for (unsigned i = 0; i < NSPACES; i++) {
		struct slot *src = &f->s[(from + i) % NSPACES];
		if (src->live && src->ranges && share_compatible(dst, src))
			return src;
	}
	return NULL;
}

/** Whether the call changed neither tree nor the allocator's books; frees the snapshots. */
static bool share_changed_nothing(struct fuzz *f, struct slot *dst, struct slot *src, pgt_pte_t *sd, size_t nd,
				  pgt_pte_t *ss, size_t ns, size_t frames)
{
	bool same_dst = tree_unchanged(&dst->sp, dst->md.a, slot_mm(f, dst), sd, nd);
	bool same_src = tree_unchanged(&src->sp, src->md.a, slot_mm(f, src), ss, ns);

	return same_dst && same_src && test_mm_outstanding(slot_mm(f, dst)) == frames;
}

/**
 * pgt_share between this space (the borrower) and another: refused for the
 * same space, other descriptors, flags or allocators, ranges that are not
 * whole root entries, and conflicts, with nothing changed in either space;
 * sharing again what is shared changes nothing. On success the borrower's
 * model gets the owner's mappings there, and from then on every change
 * made through either space in the range shows in both.
 */
static void op_share(struct fuzz *f, struct slot *dst)
{
	struct slot *src = pick_share_source(f, dst);
	pgt_vaddr_t va;
	uint64_t size;

	if (!src || !src->live || !src->ranges || src->orphan)
		return;
	pick_share_range(f, &dst->md, &va, &size);
	const struct pgt_level *R = &dst->md.a->level[dst->md.a->levels - 1u];
	uint64_t entry = (uint64_t)1 << R->shift;
	bool again = dst->peer == src && !dst->owner && va >= dst->sh_lo && va + (size - 1) <= dst->sh_last;
	if (!again && (dst->peer || src->peer))
		return; /* one shared pair at a time */
	int want = PGT_OK;
	if (!share_compatible(dst, src))
		want = PGT_EINVAL;
	else if (!R->table_borrowed || !R->table_pinned)
		want = PGT_ENOTSUP;
	else if (range_status_in(&dst->md, va, size, entry) != PGT_OK)
		want = range_status_in(&dst->md, va, size, entry);
	else if (!again)
		want = share_status(f, dst, src, va, size);

	size_t nd, ns, frames = test_mm_outstanding(slot_mm(f, dst));
	pgt_pte_t *sd = tree_snapshot(&dst->sp, dst->md.a, slot_mm(f, dst), &nd);
	pgt_pte_t *ss = tree_snapshot(&src->sp, src->md.a, slot_mm(f, src), &ns);
	int rc = pgt_share(&dst->sp, &src->sp, va, size);
	EXPECT(f, rc == want, "share %#" PRIx64 " size %#" PRIx64 ": status %d, model says %d", va, size, rc,
	       want);
	if (rc != PGT_OK || again) {
		EXPECT(f, share_changed_nothing(f, dst, src, sd, nd, ss, ns, frames),
		       "share (%d) changed a tree or the books", rc);
		return;
	}
	free(sd);
	free(ss);
	*dst = (struct slot){ .live = dst->live, .mode = dst->mode, .sp = dst->sp, .md = dst->md,
			      .ranges = true, .ext = dst->ext, .tables = dst->tables, .peer = src,
			      .sh_lo = va, .sh_last = va + (size - 1) };
	src->peer = dst;
	src->owner = true;
	src->sh_lo = dst->sh_lo;
	src->sh_last = dst->sh_last;
	sync_peer(src);
}

static void run_range_op(struct fuzz *f, struct slot *s, uint8_t op)
{
	switch (op & 0x0f) {
	case 1: slot_destroy(f, s); break;
	case 2:
	case 3:
	case 4:
	case 5: op_map(f, s); break;
	case 6:
	case 7:
	case 8: op_unmap(f, s); break;
	case 9:
	case 10:
	case 11: op_protect(f, s); break;
	case 12: op_share(f, s); break;
	default: op_range_lookup(f, s); break;
	}
	sync_peer(s);
}

/* --- the program --- */

static void run_op(struct fuzz *f)
{
	uint8_t op = get8(f);
	struct slot *s = &f->s[(op >> 4) % NSPACES];

	if (!s->live || (op & 0x0f) == 0 || s->orphan) {
		op_create(f, s); /* an orphan may only be destroyed: it is, and made anew */
	} else if (s->ranges) {
		run_range_op(f, s, op);
	} else {
		switch (op & 0x0f) {
		case 1: slot_destroy(f, s); break;
		case 2:
		case 3:
		case 4:
		case 5: op_insert(f, s); break;
		case 6:
		case 7: op_lookup(f, s); break;
		case 8:
		case 9:
		case 10: op_set_field(f, s); break;
		case 11:
		case 12: op_link(f, s); break;
		default: op_bad_ref(f, s); break;
		}
	}
	if (s->live)
		verify_slot(f, s);
	if (s->peer)
		verify_slot(f, s->peer);
	verify_books(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz *f = calloc(1, sizeof *f);

	if (!f)
		abort();
	f->in = (struct input){ data, size };
	test_mm_init(&f->mm[TEST_MM_OFFSET], TEST_MM_OFFSET);
	test_mm_init(&f->mm[TEST_MM_HOOK], TEST_MM_HOOK);
	f->mm[TEST_MM_OFFSET].fill = f->mm[TEST_MM_HOOK].fill = get8(f);
	while (f->in.n) {
		f->op++;
		run_op(f);
	}
	for (unsigned i = 0; i < NSPACES; i++)
		if (f->s[i].live)
			slot_destroy(f, &f->s[i]);
	for (unsigned k = 0; k < 2; k++) {
		EXPECT(f, test_mm_outstanding(&f->mm[k]) == 0 && f->mm[k].errors == 0, "allocator %u leaked",
		       k);
		test_mm_fini(&f->mm[k]);
	}
	free(f);
	return 0;
}
