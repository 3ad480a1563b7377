/* SPDX-License-Identifier: MIT */
/*
 * Test harness: book-keeping frame allocator with failure injection, and a
 * tree walker that checks the invariants of seed 001 section 3.4 (no loops,
 * lookup is a function, every valid leaf reaches a physical page).
 */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct pgt_arch *const test_archs[] = {
	&pgt_arch_x86_64,      &pgt_arch_x86_64_la57,  &pgt_arch_x86_64_ept,   &pgt_arch_x86_64_ept5, &pgt_arch_armv8_4k_39,
	&pgt_arch_armv8_4k_48, &pgt_arch_armv8_16k_47, &pgt_arch_armv8_64k_42,
	&pgt_arch_riscv_sv39,  &pgt_arch_riscv_sv48,   &pgt_arch_riscv_sv57,
	&pgt_arch_armv8_s2_4k_40, &pgt_arch_armv8_s2_4k_48, &pgt_arch_armv8_s2_16k_40, &pgt_arch_armv8_s2_64k_42,
	&pgt_arch_riscv_sv39x4, &pgt_arch_riscv_sv48x4, &pgt_arch_riscv_sv57x4,
};
const size_t test_narchs = sizeof test_archs / sizeof test_archs[0];

/* What each shipped family can encode (pgt_arch(3)): stage-1 ARMv8 and x86-64 need READ with
 * any right; RISC-V, EPT and ARMv8 stage 2 have execute-only pages, ARMv8 stage 2 every
 * combination of rights; only x86-64 and EPT have a write-combining type. */
static bool arm_stage2(const struct pgt_arch *a)
{
	return strncmp(a->name, "armv8-s2-", 9) == 0;
}

bool test_exec_only(const struct pgt_arch *a)
{
	return strncmp(a->name, "riscv", 5) == 0 || strncmp(a->name, "x86_64-ept", 10) == 0 || arm_stage2(a);
}

bool test_write_only(const struct pgt_arch *a)
{
	return arm_stage2(a);
}

/*
 * Nothing at stage 2 is per user or global: ARMv8 stage 2, EPT and the
 * RISC-V G-stage (which checks every access as a U-mode one, privileged
 * spec 8.5.1) accept USER and GLOBAL and drop them.
 */
unsigned test_prot_dropped(const struct pgt_arch *a)
{
	return a->stage == 2 ? PGT_PROT_USER | PGT_PROT_GLOBAL : 0;
}

bool test_has_upper(const struct pgt_arch *a)
{
	return a->canon == PGT_CANON_SPLIT && a->stage != 2; /* a second stage's input starts at 0 */
}

bool test_user_pages_private(const struct pgt_arch *a)
{
	return strncmp(a->name, "riscv", 5) == 0 && a->stage != 2;
}

unsigned test_no_memtypes(const struct pgt_arch *a)
{
	return strncmp(a->name, "x86_64", 6) == 0 ? 0 : PGT_PROT_WRITECOMBINE;
}

bool test_rights_expressible(const struct pgt_arch *a, unsigned rights)
{
	rights &= PGT_PROT_READ | PGT_PROT_WRITE | PGT_PROT_EXEC;
	if (!rights || (rights & PGT_PROT_READ) || test_write_only(a))
		return true;
	return test_exec_only(a) && rights == PGT_PROT_EXEC;
}

bool test_prot_expressible(const struct pgt_arch *a, unsigned prot)
{
	return test_rights_expressible(a, prot) && !(prot & test_no_memtypes(a));
}

uint64_t test_rand(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* --- outstanding-frame set (open addressing, linear probing, backward-shift delete) --- */

static size_t slot_of(const struct test_mm *t, pgt_paddr_t pa)
{
	uint64_t h = (pa >> 12) * 0x9e3779b97f4a7c15ull;
	return (size_t)(h >> 20) & (t->nslots - 1);
}

static struct test_frame *frame_find(const struct test_mm *t, pgt_paddr_t pa)
{
	for (size_t i = slot_of(t, pa);; i = (i + 1) & (t->nslots - 1)) {
		if (!t->slots[i].mem)
			return NULL;
		if (t->slots[i].pa == pa)
			return &t->slots[i];
	}
}

static void frame_put(struct test_mm *t, struct test_frame f);

static void frames_grow(struct test_mm *t)
{
	struct test_frame *old = t->slots;
	size_t n = t->nslots;

	t->nslots = n ? 2 * n : 1024;
	t->slots = calloc(t->nslots, sizeof *t->slots);
	if (!t->slots)
		abort();
	t->live = 0;
	for (size_t i = 0; i < n; i++)
		if (old[i].mem)
			frame_put(t, old[i]);
	free(old);
}

static void frame_put(struct test_mm *t, struct test_frame f)
{
	if (2 * (t->live + 1) > t->nslots)
		frames_grow(t);
	size_t i = slot_of(t, f.pa);
	while (t->slots[i].mem)
		i = (i + 1) & (t->nslots - 1);
	t->slots[i] = f;
	t->live++;
}

static void frame_del(struct test_mm *t, struct test_frame *f)
{
	size_t i = (size_t)(f - t->slots), j = i;

	t->slots[i].mem = NULL;
	t->live--;
	for (;;) {
		j = (j + 1) & (t->nslots - 1);
		if (!t->slots[j].mem)
			return;
		size_t home = slot_of(t, t->slots[j].pa);
		/* move j back to i unless its home lies cyclically in (i, j] */
		if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
			t->slots[i] = t->slots[j];
			t->slots[j].mem = NULL;
			i = j;
		}
	}
}

/* --- hooks --- */

static pgt_paddr_t pa_of(const struct test_mm *t, void *mem)
{
	uint64_t p = (uint64_t)(uintptr_t)mem;
	return t->mm.p2v ? p ^ TEST_PA_XOR : p;
}

static pgt_paddr_t hook_alloc(void *ctx, size_t size, unsigned level)
{
	struct test_mm *t = ctx;

	t->attempts++;
	if (t->fail_at && (t->attempts == t->fail_at || (t->fail_after && t->attempts > t->fail_at)))
		return PGT_PADDR_NONE;
	void *mem = NULL;
	if (posix_memalign(&mem, size, size))
		abort();
	memset(mem, t->fill, size);
	struct test_frame f = { .pa = pa_of(t, mem) + t->misalign, .size = size, .level = level, .mem = mem };
	frame_put(t, f);
	t->allocs++;
	return f.pa;
}

static void hook_free(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	struct test_mm *t = ctx;
	struct test_frame *f = frame_find(t, pa);

	t->frees++;
	if (!f || f->size != size || f->level != level) {
		fprintf(stderr, "harness: bad free of %#llx size %zu level %u\n", (unsigned long long)pa, size, level);
		t->errors++;
		return;
	}
	free(f->mem);
	frame_del(t, f);
}

void *test_mm_p2v(const struct test_mm *t, pgt_paddr_t pa)
{
	if (t->mm.p2v)
		return (void *)(uintptr_t)(pa ^ TEST_PA_XOR);
	return (void *)(uintptr_t)(pa + t->mm.p2v_offset);
}

size_t test_mm_frame_size(const struct test_mm *t, pgt_paddr_t pa)
{
	for (size_t i = 0; i < t->nslots; i++)
		if (t->slots[i].mem && t->slots[i].pa == pa)
			return t->slots[i].size;
	return 0;
}

static void *hook_p2v(void *ctx, pgt_paddr_t pa)
{
	struct test_mm *t = ctx;

	t->p2v_calls++;
	return t->p2v_null ? NULL : test_mm_p2v(t, pa);
}

static void hook_flush(void *ctx, pgt_vaddr_t va, uint64_t size)
{
	struct test_mm *t = ctx;

	if (t->flushes < TEST_FLUSH_LOG) {
		t->flush_log[t->flushes].va = va;
		t->flush_log[t->flushes].size = size;
	}
	t->flushes++;
	if (t->on_flush)
		t->on_flush(t, va, size);
}

/** owns_table: an outstanding frame of this size and level (for pgt_verify). */
static int hook_owns(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	const struct test_frame *f = frame_find(ctx, pa);
	return f && f->size == size && f->level == level;
}

void test_mm_init(struct test_mm *t, enum test_mm_mode mode)
{
	memset(t, 0, sizeof *t);
	t->fill = 0xa5; /* garbage: the library must clear new tables itself */
	t->mm.alloc_table = hook_alloc;
	t->mm.free_table = hook_free;
	t->mm.p2v = mode == TEST_MM_HOOK ? hook_p2v : NULL;
	t->mm.tlb_flush = hook_flush;
	t->mm.owns_table = hook_owns;
	t->mm.ctx = t;
}

size_t test_mm_outstanding(const struct test_mm *t)
{
	return t->live;
}

bool test_mm_owns(const struct test_mm *t, pgt_paddr_t pa, unsigned level)
{
	const struct test_frame *f = t->nslots ? frame_find(t, pa) : NULL;
	return f && f->level == level;
}

void test_mm_fini(struct test_mm *t)
{
	for (size_t i = 0; i < t->nslots; i++)
		free(t->slots[i].mem);
	free(t->slots);
	t->slots = NULL;
	t->nslots = t->live = 0;
}

/* --- tree walks --- */

struct walker {
	const struct pgt_arch *a;
	const struct test_mm *t;
	struct tree_stats st;
	unsigned long epoch; /* marks the frames this walk has visited */
	pgt_pte_t *snap;
	size_t nsnap, capsnap;
};

static void problem(struct walker *w, const char *what, unsigned level, pgt_pte_t pte)
{
	fprintf(stderr, "tree_check: %s at level %u (entry %#llx)\n", what, level, (unsigned long long)pte);
	w->st.problems++;
}

/* Appends @p n words to the snapshot, growing it by doubling. */
static void snap_append(struct walker *w, const pgt_pte_t *v, size_t n)
{
	if (w->nsnap + n > w->capsnap) {
		while (w->nsnap + n > w->capsnap)
			w->capsnap = w->capsnap ? 2 * w->capsnap : 1024;
		w->snap = realloc(w->snap, w->capsnap * sizeof *w->snap);
		if (!w->snap)
			abort();
	}
	memcpy(w->snap + w->nsnap, v, n * sizeof *v);
	w->nsnap += n;
}

static void check_leaf(struct walker *w, const struct pgt_level *L, unsigned level, pgt_pte_t pte)
{
	pgt_paddr_t oa = test_leaf_pa(L, pte);

	if (oa & ((1ull << L->shift) - 1))
		problem(w, "misaligned output address", level, pte);
	if (w->a->pa_bits < 64 && (oa >> w->a->pa_bits))
		problem(w, "output address beyond the physical width", level, pte);
}

static size_t walk_table(struct walker *w, unsigned level, pgt_paddr_t pa, int is_root);

/* The count a table entry keeps of its table's used entries (pgt_level.table_count), or -1 for none. */
static long entry_count(const struct pgt_level *L, pgt_pte_t pte)
{
	if (!L->table_count || (pte & (L->table_borrowed | L->table_pinned)))
		return -1;
	return (long)test_count_get(L, pte);
}

static void walk_entry(struct walker *w, unsigned level, pgt_pte_t pte)
{
	const struct pgt_level *L = &w->a->level[level];

	if (test_is_table(L, level, pte)) {
		size_t used = walk_table(w, level - 1, test_table_pa(L, pte), 0);
		long count = entry_count(L, pte);
		if (count >= 0 && (size_t)count != used)
			problem(w, "count differs from the table's used entries", level, pte);
	} else if (test_is_leaf(L, pte)) {
		w->st.leaves++;
		check_leaf(w, L, level, pte);
	} else if (!test_present(L, pte)) {
		if (test_is_reserved(L, pte))
			w->st.reserved++;
		else if (pte != 0)
			problem(w, "empty entry not zero", level, pte);
	} else {
		problem(w, "malformed entry", level, pte);
	}
}

/* Checks a table and what it links; returns how many of its entries are used (not 0). */
static size_t walk_table(struct walker *w, unsigned level, pgt_paddr_t pa, int is_root)
{
	const struct pgt_level *L = &w->a->level[level];

	struct test_frame *f = w->t->nslots ? frame_find(w->t, pa) : NULL;

	if (!f || f->level != level) {
		problem(w, "table not an outstanding frame of this level", level, pa);
		return 0;
	}
	if (f->visit == w->epoch) {
		problem(w, "table reachable twice", level, pa);
		return 0;
	}
	f->visit = w->epoch;
	w->st.tables++;
	const pgt_pte_t *tab = test_mm_p2v(w->t, pa);
	const pgt_pte_t where = pa; /* the snapshot records where each table is */
	size_t used = 0;

	snap_append(w, &where, 1);
	snap_append(w, tab, 1u << L->bits);
	/*
	 * A zero entry is empty in every format (no valid bit set) and walk_entry
	 * has nothing to check in it: skipping zeros keeps a walk of the sparse
	 * 16K and 64K tables, which the fault tests take twice per injected
	 * failure, from costing 8,192 classifications a table.
	 */
	for (unsigned i = 0; i < (1u << L->bits); i++) {
		if (tab[i] == 0)
			continue;
		used++;
		walk_entry(w, level, tab[i]);
	}
	if (!used && !is_root)
		w->st.empty_tables++;
	return used;
}

static void walk_all(struct walker *w, const pgt_space_t *sp)
{
	static unsigned long epochs;

	w->epoch = ++epochs;
	(void)walk_table(w, w->a->levels - 1u, pgt_space_root(sp), 1);
}

struct tree_stats tree_check(const pgt_space_t *sp, const struct pgt_arch *a, const struct test_mm *t)
{
	struct walker w = { .a = a, .t = t };

	walk_all(&w, sp);
	free(w.snap);
	return w.st;
}

pgt_pte_t *tree_snapshot(const pgt_space_t *sp, const struct pgt_arch *a, const struct test_mm *t, size_t *n)
{
	struct walker w = { .a = a, .t = t };

	walk_all(&w, sp);
	*n = w.nsnap;
	return w.snap;
}

bool tree_unchanged(const pgt_space_t *sp, const struct pgt_arch *a, const struct test_mm *t,
		    pgt_pte_t *before, size_t n)
{
	size_t m;
	pgt_pte_t *after = tree_snapshot(sp, a, t, &m);
	bool same = m == n && memcmp(before, after, n * sizeof *before) == 0;

	free(before);
	free(after);
	return same;
}

pgt_vaddr_t test_va_bottom(const struct pgt_arch *a, unsigned flags)
{
	if (a->canon == PGT_CANON_SPLIT && (flags & PGT_SPACE_UPPER))
		return ~0ull << a->va_bits;
	return 0;
}

pgt_vaddr_t test_va_top(const struct pgt_arch *a, unsigned flags)
{
	if (a->canon == PGT_CANON_SIGN_EXTEND || (flags & PGT_SPACE_UPPER))
		return ~0ull;
	return (1ull << a->va_bits) - 1;
}

bool test_slow_runner(void)
{
	return getenv("VALGRIND") || getenv("PGT_TEST_SLOW");
}

bool test_mark_points = true;

int test_run_suite(Suite *su)
{
	SRunner *sr = srunner_create(su);

	if (getenv("VALGRIND"))
		srunner_set_fork_status(sr, CK_NOFORK);
	test_mark_points = !test_slow_runner();
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed;
}

/* --- leaves, by an independent walk --- */

struct leaf_walk {
	const struct pgt_arch *a;
	const struct test_mm *t;
	struct test_leaf *v;
	size_t n, cap;
};

static void leaf_push(struct leaf_walk *w, pgt_vaddr_t va, unsigned level, pgt_pte_t pte)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 256;
		w->v = realloc(w->v, w->cap * sizeof *w->v);
		if (!w->v)
			abort();
	}
	w->v[w->n++] = (struct test_leaf){ .va = va, .level = level, .pte = pte };
}

/** Entry @p i of the table at @p level mapping from @p base; recursion bounded by the levels. */
static void leaves_of(struct leaf_walk *w, unsigned level, pgt_paddr_t pa, pgt_vaddr_t base)
{
	const struct pgt_level *L = &w->a->level[level];
	const pgt_pte_t *tab = test_mm_p2v(w->t, pa);

	for (uint64_t i = 0; i < (1ull << L->bits); i++) {
		pgt_pte_t pte = tab[i];
		pgt_vaddr_t va = base + (i << L->shift);
		if (test_is_table(L, level, pte))
			leaves_of(w, level - 1, test_table_pa(L, pte), va);
		else if (test_is_leaf(L, pte) || test_is_reserved(L, pte))
			leaf_push(w, va, level, pte);
	}
}

struct test_leaf *tree_leaves(const pgt_space_t *sp, const struct pgt_arch *a, const struct test_mm *t,
			      unsigned flags, size_t *n)
{
	struct leaf_walk w = { .a = a, .t = t };

	/* The root indexes the va bits below va_bits; the base supplies the rest. */
	leaves_of(&w, a->levels - 1u, pgt_space_root(sp), test_va_bottom(a, flags));
	/* x86-64 upper half: sign-extend (the walk order stays ascending) */
	for (size_t i = 0; a->canon == PGT_CANON_SIGN_EXTEND && i < w.n; i++)
		if ((w.v[i].va >> (a->va_bits - 1)) & 1)
			w.v[i].va |= ~0ull << a->va_bits;
	*n = w.n;
	return w.v;
}
