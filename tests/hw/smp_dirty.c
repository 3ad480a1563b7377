/* SPDX-License-Identifier: MIT */
/*
 * The SMP kernel's case (issue 16): a status bit that the MMU of another
 * CPU sets is never lost when the library rewrites the leaf.
 *
 * The second CPU stores into pages that the library mapped writable and
 * clean; each store walks the live tables, so that CPU's MMU sets accessed
 * and dirty in the leaf (atomically, SDM vol. 3A 4.8). Meanwhile this CPU
 * downgrades the same pages to read-only with pgt_protect, one page per
 * call. A leaf rewritten with a plain load and store drops a bit set
 * between the two: the page was written, yet its leaf says clean, and a
 * kernel would never write it back. After every round each page must be
 * dirty (and accessed) exactly when the other CPU's store completed, and
 * the library's leaf_ad hook must have said so when it downgraded the page.
 *
 * Timing. A leaf's dirty bit is set once, by the first store after it was
 * made clean, so that store must come while pgt_protect rewrites this very
 * leaf: a CPU sweeping all pages would dirty them long before or fault long
 * after. The second CPU therefore chases the first: it stores into the page
 * the first CPU is about to protect. One CPU waits a little before it acts,
 * by an offset this CPU tunes page after page (the store completed: it came
 * early, so the second CPU waits longer or this one less; it faulted: the
 * other way round). The stores settle around the moment the leaf turns
 * read-only, whichever CPU is the faster, spread a little by a random part
 * so they fall all over the rewrite.
 */
#include "cases.h"

#define PAGES      256 /* 4K leaves: one table of them */
#define SUPERS     32  /* 2M leaves, aliases of one 2M frame, each with its own marker word */
#define TARGETS    (PAGES + SUPERS)
/* Rounds: at most ROUNDS, and no new one after BUDGET seconds unless fewer than MIN_ROUNDS ran
 * (a busy host slows both CPUs' waits on each other by whole time slices). */
#define ROUNDS     500
#define MIN_ROUNDS 20
#define BUDGET     8
#define SHIFT_4K   12
#define SHIFT_2M   21

enum { KIND_4K, KIND_2M, KINDS };
static const char *const kind_name[KINDS] = { "4K", "2M" };

/** A page of the case: its leaf, and the word the second CPU writes in it. */
struct target {
	pgt_vaddr_t va;
	uint64_t size;
	uint64_t marker; /**< offset of the word in the page; its frame is read through the identity map */
	pgt_paddr_t marker_pa;
	unsigned kind;
};

static const struct hw_layout *L;
static pgt_space_t *ksp;
static struct target targets[TARGETS];

/*
 * Shared between the CPUs, always through __atomic: this CPU posts a page
 * (index, value, delay, then a new sequence number, release); the second
 * waits the delay, stores, leaves its result and acknowledges the sequence
 * number.
 */
static unsigned go_index;
static uint64_t go_value, go_delay, go_seq, done_seq;
static uint64_t results[TARGETS];

/* ---- the second CPU ------------------------------------------------------- */

/** Empty loop iterations: a few ns each under TCG, where one pgt_protect takes thousands. */
static void spin(uint64_t n)
{
	while (n--)
		__asm__ volatile("" : : : "memory");
}

static uint64_t wait_for_post(uint64_t seen)
{
	uint64_t seq;

	while ((seq = __atomic_load_n(&go_seq, __ATOMIC_ACQUIRE)) == seen)
		;
	return seq;
}

/** The second CPU's loop: one store per posted page, never returns. */
static void second_cpu(void)
{
	for (uint64_t seen = 0;;) {
		seen = wait_for_post(seen);
		unsigned i = __atomic_load_n(&go_index, __ATOMIC_RELAXED);
		uint64_t value = __atomic_load_n(&go_value, __ATOMIC_RELAXED);
		spin(__atomic_load_n(&go_delay, __ATOMIC_RELAXED));
		uint64_t r = hw_arch_try_store(targets[i].va + targets[i].marker, value);
		__atomic_store_n(&results[i], r, __ATOMIC_RELAXED);
		__atomic_store_n(&done_seq, seen, __ATOMIC_RELEASE);
	}
}

/* ---- this CPU: setting up, one round, the checks ------------------------------ */

/*
 * What leaf_ad says of the page being downgraded: the state the library's
 * atomic exchange found, so dirty exactly when the store completed before
 * the leaf turned read-only. Outside a downgrade (the resets) it is not
 * asked about anything.
 */
static int reporting = -1;
static unsigned reported[TARGETS];
static unsigned long stray_reports;

static void note_ad(pgt_vaddr_t va, pgt_paddr_t pa, uint64_t size, unsigned ad)
{
	const struct target *t = reporting < 0 ? NULL : &targets[reporting];

	if (!t)
		return;
	if (va == t->va && size == t->size && pa == t->marker_pa - t->marker)
		reported[reporting] |= ad;
	else
		stray_reports++;
}

/** The value the second CPU stores into page @p i in round @p round: never 0, never repeated. */
static uint64_t marker_value(unsigned round, unsigned i)
{
	return (uint64_t)(round + 1) << 32 | (i + 1);
}

/* 4K pages and 2M pages under PDPT slots of their own in the low window; frames in the test area. */
static void place_targets(void)
{
	pgt_paddr_t frame_2m = L->test_area, frames_4k = L->test_area + (2ull << 20);

	for (unsigned i = 0; i < PAGES; i++)
		targets[i] = (struct target){ .va = L->va_low + (1ull << 30) + ((uint64_t)i << SHIFT_4K),
					      .size = 1ull << SHIFT_4K,
					      .marker = 0x80,
					      .marker_pa = frames_4k + ((uint64_t)i << SHIFT_4K) + 0x80,
					      .kind = KIND_4K };
	for (unsigned j = 0; j < SUPERS; j++) /* one frame: the markers sit 4K apart */
		targets[PAGES + j] =
			(struct target){ .va = L->va_low + (2ull << 30) + ((uint64_t)j << SHIFT_2M),
					 .size = 1ull << SHIFT_2M,
					 .marker = ((uint64_t)j << SHIFT_4K) + 0x80,
					 .marker_pa = frame_2m + ((uint64_t)j << SHIFT_4K) + 0x80,
					 .kind = KIND_2M };
}

static int map_targets(void)
{
	pgt_paddr_t frames_4k = L->test_area + (2ull << 20);
	int rc = pgt_map(ksp, targets[0].va, frames_4k, (uint64_t)PAGES << SHIFT_4K,
			 PGT_PROT_READ | PGT_PROT_WRITE, PGT_MAP_NOSUPER);

	HW_EXPECT(rc == PGT_OK, "pgt_map of the 4K pages: %s", pgt_strerror(rc));
	for (unsigned j = 0; j < SUPERS; j++) {
		const struct target *t = &targets[PAGES + j];
		rc = pgt_map(ksp, t->va, L->test_area, t->size, PGT_PROT_READ | PGT_PROT_WRITE, 0);
		HW_EXPECT(rc == PGT_OK, "pgt_map of 2M page %lx: %s", t->va, pgt_strerror(rc));
	}
	return 1;
}

/** Every page writable, clean and not accessed again, its marker cleared; the second CPU is idle. */
static int reset_targets(void)
{
	unsigned rw = PGT_PROT_READ | PGT_PROT_WRITE;
	int rc = pgt_protect(ksp, targets[0].va, (uint64_t)PAGES << SHIFT_4K, rw);

	if (rc == PGT_OK)
		rc = pgt_protect(ksp, targets[PAGES].va, (uint64_t)SUPERS << SHIFT_2M, rw);
	HW_EXPECT(rc == PGT_OK, "pgt_protect back to read-write: %s", pgt_strerror(rc));
	for (unsigned i = 0; i < TARGETS; i++) {
		pgt_ref_t ref;
		rc = pgt_lookup(ksp, targets[i].va, &ref);
		if (rc == PGT_OK)
			rc = pgt_set_field(ksp, ref, PGT_FIELD_ACCESSED, 0);
		if (rc == PGT_OK)
			rc = pgt_set_field(ksp, ref, PGT_FIELD_DIRTY, 0);
		HW_EXPECT(rc == PGT_OK, "clearing the status of %lx: %s", targets[i].va, pgt_strerror(rc));
		*hw_ident(targets[i].marker_pa) = 0;
		hw_arch_flush(targets[i].va, targets[i].size);
	}
	return 1;
}

/** Posts page @p i to the second CPU, which waits @p delay before its store. */
static uint64_t post(unsigned i, uint64_t value, uint64_t delay)
{
	uint64_t seq = __atomic_load_n(&go_seq, __ATOMIC_RELAXED) + 1;

	__atomic_store_n(&go_index, i, __ATOMIC_RELAXED);
	__atomic_store_n(&go_value, value, __ATOMIC_RELAXED);
	__atomic_store_n(&go_delay, delay, __ATOMIC_RELAXED);
	__atomic_store_n(&go_seq, seq, __ATOMIC_RELEASE);
	return seq;
}

/* The offset's step and the random spread, in spin() iterations. */
#define OFFSET_STEP 8
#define SPREAD      64

static uint64_t next_random(uint64_t *state)
{
	*state ^= *state << 13; /* xorshift64 */
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

/** Per page size: > 0, the second CPU waits that long; < 0, this CPU does. */
static int64_t offset[KINDS];
static uint64_t random_state = 0x9e3779b97f4a7c15ull;

/* Far longer than one store and its fault take, even on a loaded host. */
#define ANSWER_SPINS 4000000000ul

static int wait_for_answer(uint64_t seq)
{
	for (unsigned long spins = 0; __atomic_load_n(&done_seq, __ATOMIC_ACQUIRE) != seq; spins++)
		HW_EXPECT(spins < ANSWER_SPINS, "the second CPU stopped answering (page %u)", go_index);
	return 1;
}

/** One round: each page posted to the second CPU, then downgraded under it. */
static int downgrade_all(unsigned round)
{
	for (unsigned i = 0; i < TARGETS; i++) {
		int64_t *off = &offset[targets[i].kind];
		uint64_t jitter = next_random(&random_state) % SPREAD;
		uint64_t seq = post(i, marker_value(round, i), (uint64_t)(*off > 0 ? *off : 0) + jitter);
		spin((uint64_t)(*off < 0 ? -*off : 0));
		reported[i] = 0;
		reporting = (int)i;
		int rc = pgt_protect(ksp, targets[i].va, targets[i].size, PGT_PROT_READ);
		reporting = -1;
		HW_EXPECT(rc == PGT_OK, "pgt_protect %lx read-only: %s", targets[i].va, pgt_strerror(rc));
		if (!wait_for_answer(seq))
			return 0;
		*off += __atomic_load_n(&results[i], __ATOMIC_RELAXED) ? -OFFSET_STEP : OFFSET_STEP;
	}
	return 1;
}

struct tally {
	unsigned long written, lost_dirty, lost_accessed;
	unsigned long misreported;  /**< pages leaf_ad told wrong */
	unsigned long lossy_rounds; /**< rounds that lost a bit, in the totals */
};

static struct tally totals[KINDS];

/** What the library and the raw leaf say of page @p t after a round. */
static int read_leaf(const struct target *t, uint64_t *dirty, uint64_t *accessed, uint64_t *write,
		     pgt_pte_t *raw)
{
	pgt_ref_t ref;
	int rc = pgt_lookup(ksp, t->va, &ref);

	if (rc == PGT_OK)
		rc = pgt_get_field(ksp, ref, PGT_FIELD_DIRTY, dirty);
	if (rc == PGT_OK)
		rc = pgt_get_field(ksp, ref, PGT_FIELD_ACCESSED, accessed);
	if (rc == PGT_OK)
		rc = pgt_get_field(ksp, ref, PGT_FIELD_WRITE, write);
	HW_EXPECT(rc == PGT_OK, "reading the leaf of %lx: %s", t->va, pgt_strerror(rc));
	HW_EXPECT(ref.page_shift == (t->kind == KIND_4K ? SHIFT_4K : SHIFT_2M),
		  "%lx is in a leaf of shift %u", t->va, ref.page_shift);
	*raw = *ref.pte;
	return 1;
}

/* x86-64 leaf bits (SDM 4.5, table 4-20): read straight from the entry too. */
#define PTE_A               (1ull << 5)
#define PTE_D               (1ull << 6)
/* Page-fault error code of a supervisor write to a present read-only page (SDM 4.7): P | W. */
#define PF_WRITE_PROTECTION 0x3

/** Page @p i after round @p round: the second CPU's store, its memory and its leaf agree. */
static int check_page(unsigned round, unsigned i, struct tally *tally)
{
	const struct target *t = &targets[i];
	uint64_t result = __atomic_load_n(&results[i], __ATOMIC_RELAXED), memory = *hw_ident(t->marker_pa);
	uint64_t dirty = 0, accessed = 0, write = 0;
	pgt_pte_t raw = 0;
	int written = memory == marker_value(round, i);

	HW_EXPECT(written || memory == 0, "%lx holds %lx, neither 0 nor this round's %lx", t->va, memory,
		  marker_value(round, i));
	HW_EXPECT(written == (result == 0), "%lx: the store %s but the page %s", t->va,
		  result ? "faulted" : "completed", written ? "holds it" : "does not");
	HW_EXPECT(result == 0 || result == (HW_STORE_FAULTED | PF_WRITE_PROTECTION),
		  "%lx: the store faulted with error code %lx, not a write to a read-only page", t->va,
		  result);
	if (!read_leaf(t, &dirty, &accessed, &write, &raw))
		return 0;
	HW_EXPECT(!write, "%lx is still writable after pgt_protect", t->va);
	HW_EXPECT(dirty == !!(raw & PTE_D) && accessed == !!(raw & PTE_A),
		  "%lx: pgt_get_field says D %lu A %lu, the leaf %lx", t->va, dirty, accessed, raw);
	HW_EXPECT(written || !dirty, "%lx is dirty but the store faulted (leaf %lx)", t->va, raw);
	tally->written += (unsigned long)written;
	tally->lost_dirty += (unsigned long)(written && !dirty);
	tally->lost_accessed += (unsigned long)(written && !accessed);
	tally->misreported += (unsigned long)(written != !!(reported[i] & PGT_AD_DIRTY) ||
					      (written && !(reported[i] & PGT_AD_ACCESSED)));
	return 1;
}

static int check_round(unsigned round)
{
	struct tally r[KINDS] = { 0 };

	for (unsigned i = 0; i < TARGETS; i++)
		if (!check_page(round, i, &r[targets[i].kind]))
			return 0;
	hw_printf(
		"@note round %u: written 4K %lu/%u 2M %lu/%u; dirty lost 4K %lu 2M %lu; accessed lost %lu\n",
		round, r[KIND_4K].written, PAGES, r[KIND_2M].written, SUPERS, r[KIND_4K].lost_dirty,
		r[KIND_2M].lost_dirty, r[KIND_4K].lost_accessed + r[KIND_2M].lost_accessed);
	for (unsigned k = 0; k < KINDS; k++) {
		totals[k].written += r[k].written;
		totals[k].lost_dirty += r[k].lost_dirty;
		totals[k].lost_accessed += r[k].lost_accessed;
		totals[k].misreported += r[k].misreported;
		totals[k].lossy_rounds += r[k].lost_dirty || r[k].lost_accessed;
	}
	return 1;
}

/* ---- the cases ------------------------------------------------------------------ */

static int case_start(void)
{
	int rc = hw_arch_start_cpu(second_cpu);

	HW_EXPECT(rc == PGT_OK, "the second CPU did not come up: %s", pgt_strerror(rc));
	return 1;
}

static int rounds_done;

/** Whether another round fits: the time budget, counted from @p start. */
static int another_round(unsigned round, unsigned start)
{
	unsigned elapsed = (hw_arch_seconds() + 3600 - start) % 3600;

	return round < ROUNDS && (round < MIN_ROUNDS || elapsed < BUDGET);
}

static int case_race(void)
{
	unsigned start = hw_arch_seconds();

	hw_leaf_ad = note_ad;
	place_targets();
	if (!map_targets())
		return 0;
	for (unsigned round = 0; another_round(round, start); round++) {
		if (!reset_targets() || !downgrade_all(round) || !check_round(round))
			return 0;
		rounds_done = (int)round + 1;
	}
	hw_format(hw_fail_msg, sizeof hw_fail_msg, "%d rounds of %u pages", rounds_done, TARGETS);
	return 1;
}

/** The totals of one page size: some pages written and some not (the stores raced), none left clean. */
static int verdict(unsigned kind)
{
	const struct tally *t = &totals[kind];
	unsigned long pages = (unsigned long)rounds_done * (kind == KIND_4K ? PAGES : SUPERS);
	char stats[160];

	hw_format(stats, sizeof stats,
		  "%s pages written %lu of %lu; dirty lost %lu, accessed lost %lu, in %lu of %d rounds; "
		  "leaf_ad wrong %lu",
		  kind_name[kind], t->written, pages, t->lost_dirty, t->lost_accessed, t->lossy_rounds,
		  rounds_done, t->misreported);
	HW_EXPECT(rounds_done >= MIN_ROUNDS, "%s: too few rounds", stats);
	HW_EXPECT(t->written > 0 && t->written < pages, "%s: the stores never raced the downgrades", stats);
	HW_EXPECT(t->lost_dirty == 0 && t->lost_accessed == 0 && t->misreported == 0, "%s", stats);
	HW_EXPECT(stray_reports == 0, "%s; leaf_ad told of %lu other leaves", stats, stray_reports);
	hw_format(hw_fail_msg, sizeof hw_fail_msg, "%s", stats);
	return 1;
}

static unsigned report(const char *name, int result)
{
	hw_printf("@case %s %s %s\n", name, result > 0 ? "pass" : "fail", hw_fail_msg);
	hw_fail_msg[0] = 0;
	return result <= 0;
}

/** The pages as the last round left them, for QEMU's walk to confirm: read-only. */
static void record_targets(void)
{
	hw_record_run(ksp, targets[0].va, targets[0].marker_pa - targets[0].marker,
		      (uint64_t)PAGES << SHIFT_4K, 1ull << SHIFT_4K, PGT_PROT_READ);
	for (unsigned j = PAGES; j < TARGETS; j++)
		hw_record(ksp, targets[j].va, targets[j].marker_pa - targets[j].marker, targets[j].size,
			  PGT_PROT_READ);
}

unsigned hw_run_cases(pgt_space_t *kernel)
{
	unsigned failed;

	L = hw_arch_layout();
	ksp = kernel;
	failed = report("second_cpu_up", case_start());
	if (failed)
		return failed;
	int race = case_race();
	failed += report("race_rounds", race);
	failed += report("dirty_kept_4K", verdict(KIND_4K));
	failed += report("dirty_kept_2M", verdict(KIND_2M));
	if (race > 0) {
		record_targets();
		hw_checkpoint("smp");
	}
	return failed;
}
