/* SPDX-License-Identifier: MIT */
/*
 * Cases for the range operations and sharing: pgt_map picks the page sizes,
 * pgt_unmap and pgt_protect take effect through the tlb_flush hook alone
 * (the cases never flush for them), splits keep the rest of a superpage
 * where it was, and two spaces borrowing the kernel's tables see the same
 * kernel and different user memory across CR3/TTBR0 switches.
 */
#include "cases.h"

static const struct hw_layout *L;
static pgt_space_t *ksp;

/** Bytes of a leaf at @p level. */
static uint64_t leaf_size(unsigned level)
{
	return 1ull << L->arch->level[level].shift;
}

/** The largest leaf size of the descriptor. */
static uint64_t max_leaf(void)
{
	uint64_t size = hw_page();

	for (unsigned l = 0; l < L->arch->levels; l++)
		if (L->arch->level[l].leaf_ok)
			size = leaf_size(l);
	return size;
}

/** Free kernel-half regions, one per case, aligned to every leaf size. */
static pgt_vaddr_t region(unsigned n)
{
	return L->va_high + (64 + 2 * (uint64_t)n) * max_leaf();
}

static int expect_shift(pgt_vaddr_t va, uint64_t size)
{
	pgt_ref_t ref;
	int rc = pgt_lookup(ksp, va, &ref);

	HW_EXPECT(rc == PGT_OK, "lookup %lx: %s", va, pgt_strerror(rc));
	HW_EXPECT((1ull << ref.page_shift) == size, "%lx is in a leaf of %lx bytes, expected %lx", va,
		  1ull << ref.page_shift, size);
	return 1;
}

static int in_test_area(pgt_paddr_t pa)
{
	return pa >= L->test_area && pa < L->test_area + L->test_size;
}

/* ---- pgt_map ---------------------------------------------------------------- */

/* A superpage and a tail of small pages: the largest sizes alignment allows. */
static int case_map_mixed(void)
{
	uint64_t big = leaf_size(1), small = hw_page();
	pgt_paddr_t base = L->test_area & ~(big - 1), data = hw_slot_frame(S_MAP_DATA);
	pgt_vaddr_t va = region(0);
	int rc = pgt_map(ksp, va, base, big + 3 * small, RW, 0);

	HW_EXPECT(rc == PGT_OK, "pgt_map: %s", pgt_strerror(rc));
	hw_record(ksp, va, base, big, RW);
	hw_record_run(ksp, va + big, base + big, 3 * small, small, RW);
	if (!expect_shift(va, big) || !expect_shift(va + big + 2 * small, small))
		return 0;
	if (!hw_same_memory(va + (data - base) + 0x20, data + 0x20))
		return 0;
	if (in_test_area(base + big) && !hw_same_memory(va + big + 2 * small + 8, base + big + 2 * small + 8))
		return 0;
	/* Mapping over it is refused and changes nothing. */
	rc = pgt_map(ksp, va + big, base, small, RW, 0);
	HW_EXPECT(rc == PGT_ECONFLICT, "pgt_map over a mapping: %s", pgt_strerror(rc));
	return hw_same_memory(va + (data - base) + 0x28, data + 0x28);
}

/* The largest leaf, when above the superpage level (1G on the 4K granules). */
static int case_map_top(void)
{
	uint64_t top = max_leaf();
	pgt_paddr_t base = L->ram_base & ~(top - 1), data = hw_slot_frame(S_MAP_DATA);
	pgt_vaddr_t va = region(1);

	if (top == leaf_size(1)) {
		hw_fail("no leaf above %lx bytes", top);
		return -1;
	}
	int rc = pgt_map(ksp, va, base, top, RW, 0);
	HW_EXPECT(rc == PGT_OK, "pgt_map: %s", pgt_strerror(rc));
	hw_record(ksp, va, base, top, RW);
	return expect_shift(va, top) && hw_same_memory(va + (data - base) + 0x30, data + 0x30);
}

/* ---- pgt_unmap --------------------------------------------------------------- */

static int case_unmap_pages(void)
{
	uint64_t p = hw_page();
	pgt_vaddr_t va = hw_slot_va(S_UNMAP);
	pgt_paddr_t pa = hw_slot_frame(S_UNMAP);
	struct hw_fault f;
	int rc = pgt_map(ksp, va, pa, 4 * p, RW, PGT_MAP_NOSUPER);

	HW_EXPECT(rc == PGT_OK, "pgt_map: %s", pgt_strerror(rc));
	hw_record_run(ksp, va, pa, 4 * p, p, RW);
	for (unsigned i = 0; i < 4; i++) /* every translation is in the TLB now */
		if (!hw_same_memory(va + i * p, pa + i * p))
			return 0;
	unsigned long flushes = hw_flushes;
	rc = pgt_unmap(ksp, va + p, 2 * p);
	HW_EXPECT(rc == PGT_OK, "pgt_unmap: %s", pgt_strerror(rc));
	hw_forget(ksp, va + p, 2 * p);
	HW_EXPECT(hw_flushes > flushes, "pgt_unmap did not call tlb_flush");
	for (unsigned i = 1; i < 3; i++) {
		hw_arch_probe(HW_READ, 0, va + i * p + 0x10, 0, &f);
		if (!hw_expect_fault(&f, va + i * p + 0x10, PGT_FAULT_NOT_PRESENT, PGT_ACC_READ))
			return 0;
	}
	return hw_same_memory(va + 8, pa + 8) && hw_same_memory(va + 3 * p + 8, pa + 3 * p + 8);
}

/* Unmapping one page of a superpage: the rest stays, at the same physical addresses. */
static int case_unmap_split(void)
{
	uint64_t big = leaf_size(1), p = hw_page();
	pgt_paddr_t base = L->test_area & ~(big - 1), data = hw_slot_frame(S_SPLIT_DATA);
	pgt_vaddr_t va = region(2), hole = va + (data - base);
	struct hw_fault f;
	int rc = pgt_map(ksp, va, base, big, RW, 0);

	HW_EXPECT(rc == PGT_OK, "pgt_map: %s", pgt_strerror(rc));
	hw_record(ksp, va, base, big, RW);
	if (!expect_shift(va, big) || !hw_same_memory(hole, data))
		return 0;
	rc = pgt_unmap(ksp, hole, p);
	HW_EXPECT(rc == PGT_OK, "pgt_unmap: %s", pgt_strerror(rc));
	hw_split_record(ksp, va, p);
	hw_forget(ksp, hole, p);
	hw_arch_probe(HW_WRITE, 0, hole + 0x40, 1, &f);
	if (!hw_expect_fault(&f, hole + 0x40, PGT_FAULT_NOT_PRESENT, PGT_ACC_WRITE))
		return 0;
	return expect_shift(va, p) && hw_same_memory(hole - p + 8, data - p + 8) &&
	       hw_same_memory(hole + p + 8, data + p + 8);
}

/* ---- pgt_protect ------------------------------------------------------------- */

static int case_protect_pages(void)
{
	uint64_t p = hw_page();
	pgt_vaddr_t va = hw_slot_va(S_PROT);
	pgt_paddr_t pa = hw_slot_frame(S_PROT);
	struct hw_fault f;
	int rc = pgt_map(ksp, va, pa, 2 * p, RW, PGT_MAP_NOSUPER);

	HW_EXPECT(rc == PGT_OK, "pgt_map: %s", pgt_strerror(rc));
	hw_record_run(ksp, va, pa, 2 * p, p, RW);
	if (!hw_same_memory(va, pa) || !hw_same_memory(va + p, pa + p))
		return 0;
	unsigned long flushes = hw_flushes;
	rc = pgt_protect(ksp, va, p, PGT_PROT_READ);
	HW_EXPECT(rc == PGT_OK, "pgt_protect: %s", pgt_strerror(rc));
	hw_record(ksp, va, pa, p, PGT_PROT_READ);
	HW_EXPECT(hw_flushes > flushes, "pgt_protect did not call tlb_flush");
	uint64_t before = *hw_ident(pa + 0x18);
	hw_arch_probe(HW_WRITE, 0, va + 0x18, ~before, &f);
	if (!hw_expect_fault(&f, va + 0x18, PGT_FAULT_PERMISSION, PGT_ACC_WRITE))
		return 0;
	return hw_load_is(va + 0x18, before, 0) && hw_same_memory(va + p + 0x18, pa + p + 0x18);
}

/* Downgrading one page of a superpage splits it; the other pages keep their rights. */
static int case_protect_split(void)
{
	uint64_t big = leaf_size(1), p = hw_page();
	pgt_paddr_t base = L->test_area & ~(big - 1), data = hw_slot_frame(S_PSPLIT_DATA);
	pgt_vaddr_t va = region(3), at = va + (data - base);
	struct hw_fault f;
	int rc = pgt_map(ksp, va, base, big, RW, 0);

	HW_EXPECT(rc == PGT_OK, "pgt_map: %s", pgt_strerror(rc));
	hw_record(ksp, va, base, big, RW);
	if (!hw_same_memory(at, data))
		return 0;
	rc = pgt_protect(ksp, at, p, PGT_PROT_READ);
	HW_EXPECT(rc == PGT_OK, "pgt_protect: %s", pgt_strerror(rc));
	hw_split_record(ksp, va, p);
	hw_record(ksp, at, data, p, PGT_PROT_READ);
	hw_arch_probe(HW_WRITE, 0, at + 0x50, 1, &f);
	if (!hw_expect_fault(&f, at + 0x50, PGT_FAULT_PERMISSION, PGT_ACC_WRITE))
		return 0;
	return expect_shift(va, p) && hw_same_memory(at - p, data - p) && hw_same_memory(at + p, data + p);
}

/* ---- pgt_share ---------------------------------------------------------------- */

static pgt_space_t space_a, space_b;

/** Bytes of one root entry: what pgt_share shares at a time. */
static uint64_t root_entry(void)
{
	return leaf_size(L->arch->levels - 1u);
}

/*
 * The kernel half, or as much of it as 1 MiB of new tables covers: sharing
 * creates the owner's missing table under every root entry of the range
 * (the 16K and 64K granules have 1024 and 4096 of them in their upper half).
 * Where the root holds leaves, only the entries below the superpage cases
 * (va_high + 40 largest leaves on): a root-level leaf cannot be shared.
 */
static uint64_t kernel_share_size(void)
{
	unsigned root = L->arch->levels - 1u;
	uint64_t per_entry = L->arch->level[root - 1].table_size;
	uint64_t size = (1ull << 20) / per_entry * root_entry();

	if (L->arch->level[root].leaf_ok && size > 32 * max_leaf())
		size = 32 * max_leaf();
	return L->kernel_half < size ? L->kernel_half : size;
}

/** Borrows the kernel's RAM, console and kernel half, as every process would. */
static int share_kernel(pgt_space_t *sp)
{
	uint64_t e = root_entry();
	pgt_vaddr_t ram = L->ram_base & ~(e - 1), dev = L->device_base & ~(e - 1);
	int rc = pgt_share(sp, ksp, ram, e);

	if (rc == PGT_OK && dev != ram)
		rc = pgt_share(sp, ksp, dev, e);
	if (rc == PGT_OK)
		rc = pgt_share(sp, ksp, L->va_high, kernel_share_size());
	HW_EXPECT(rc == PGT_OK, "pgt_share: %s", pgt_strerror(rc));
	hw_note_share(sp, ksp, ram, e);
	if (dev != ram)
		hw_note_share(sp, ksp, dev, e);
	hw_note_share(sp, ksp, L->va_high, kernel_share_size());
	return 1;
}

static pgt_vaddr_t kernel_va(enum slot s)
{
	return L->va_high + (uint64_t)s * hw_page();
}

static int map_one(pgt_space_t *sp, pgt_vaddr_t va, pgt_paddr_t pa)
{
	int rc = pgt_map(sp, va, pa, hw_page(), RW, 0);

	HW_EXPECT(rc == PGT_OK, "pgt_map %lx: %s", va, pgt_strerror(rc));
	hw_record(sp, va, pa, hw_page(), RW);
	*hw_ident(pa) = hw_pattern(pa);
	return 1;
}

/** In @p sp: the user page holds @p user's pattern, the kernel pages theirs. */
static int sees(pgt_space_t *sp, pgt_paddr_t user, const char *tag)
{
	hw_switch(sp);
	int ok = hw_load_is(hw_slot_va(S_SHARE_U), hw_pattern(user), 0) &&
		 hw_load_is(kernel_va(S_SHARE_K1), hw_pattern(hw_slot_frame(S_SHARE_K1)), 0) &&
		 hw_load_is(kernel_va(S_SHARE_K2), hw_pattern(hw_slot_frame(S_SHARE_K2)), 0);
	if (ok && tag)
		hw_checkpoint(tag);
	return ok;
}

static int share_spaces(void)
{
	int rc = pgt_space_init(&space_a, L->arch, &hw_mm, 0);

	if (rc == PGT_OK) {
		rc = pgt_space_init(&space_b, L->arch, &hw_mm, 0);
		if (rc != PGT_OK)
			pgt_space_destroy(&space_a);
	}
	HW_EXPECT(rc == PGT_OK, "pgt_space_init: %s", pgt_strerror(rc));
	return share_kernel(&space_a) && share_kernel(&space_b);
}

static void drop_spaces(void)
{
	hw_switch(ksp);
	hw_forget_space(&space_a);
	hw_forget_space(&space_b);
	hw_drop_shares(&space_a);
	hw_drop_shares(&space_b);
	pgt_space_destroy(&space_b); /* borrowers before the owner */
	pgt_space_destroy(&space_a);
	hw_arch_flush(0, ~0ull);
}

static int case_share(void)
{
	if (!share_spaces())
		return 0;
	/* Later kernel mappings, through the owner and through a borrower, reach all three. */
	int ok = map_one(ksp, kernel_va(S_SHARE_K1), hw_slot_frame(S_SHARE_K1)) &&
		 map_one(&space_a, kernel_va(S_SHARE_K2), hw_slot_frame(S_SHARE_K2));
	long tables = hw_tables_live;
	/* The same user address, a different frame in each space. */
	ok = ok && map_one(&space_a, hw_slot_va(S_SHARE_U), hw_slot_frame(S_SHARE_A)) &&
	     map_one(&space_b, hw_slot_va(S_SHARE_U), hw_slot_frame(S_SHARE_B));
	ok = ok && sees(&space_a, hw_slot_frame(S_SHARE_A), "space_a") &&
	     sees(&space_b, hw_slot_frame(S_SHARE_B), "space_b") &&
	     sees(&space_a, hw_slot_frame(S_SHARE_A), NULL);
	drop_spaces();
	if (!ok)
		return 0;
	/* Destroying the borrowers freed their own tables (2 roots here) and none of the kernel's. */
	HW_EXPECT(hw_tables_live == tables - 2, "%ld tables live after destroy, expected %ld", hw_tables_live,
		  tables - 2);
	return hw_load_is(kernel_va(S_SHARE_K2), hw_pattern(hw_slot_frame(S_SHARE_K2)), 0) &&
	       hw_load_is(kernel_va(S_SHARE_K1), hw_pattern(hw_slot_frame(S_SHARE_K1)), 0);
}

/* ---- the mapping database (cases_mdb.c) ---------------------------------------- */

static int case_mdb_revoke(void)
{
	return hw_case_mdb_revoke(ksp);
}

/* ---- the runner --------------------------------------------------------------- */

static const struct hw_case cases[] = {
	{ "map_mixed", case_map_mixed },
	{ "map_top", case_map_top },
	{ "unmap_pages", case_unmap_pages },
	{ "unmap_split", case_unmap_split },
	{ "protect_pages", case_protect_pages },
	{ "protect_split", case_protect_split },
	{ "share", case_share },
	{ "mdb_revoke", case_mdb_revoke },
};

unsigned hw_run_range_cases(pgt_space_t *kernel)
{
	unsigned failed = 0;

	L = hw_arch_layout();
	ksp = kernel;
	for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++)
		failed += hw_run_one(cases[i].name, cases[i].run);
	hw_checkpoint("kernel_ranges");
	return failed;
}
