/* SPDX-License-Identifier: MIT */
/*
 * The cases every test kernel runs, whatever the architecture: each builds
 * mappings with the public API, then lets the MMU judge them with real
 * loads, stores and instruction fetches. Addresses come from the layout;
 * page sizes come from the descriptor, so the same cases run on every
 * granule.
 */
#include "cases.h"

static const struct hw_layout *L;
static pgt_space_t *ksp;

static int map_page(enum slot s, unsigned prot)
{
	return hw_install(ksp, hw_slot_va(s), hw_slot_frame(s), hw_page_shift(), prot);
}

/* ---- translation reaches the right frame ---------------------------------- */

static int case_alias_page(void)
{
	pgt_vaddr_t va = hw_slot_va(S_ALIAS);
	int rc = hw_install_victim(ksp, va, hw_slot_frame(S_ALIAS), hw_page_shift(), RW);

	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	return hw_same_memory(va + 8, hw_slot_frame(S_ALIAS) + 8) &&
	       hw_same_memory(va + hw_page() - 8, hw_slot_frame(S_ALIAS) + hw_page() - 8);
}

static int case_two_aliases(void)
{
	pgt_vaddr_t lo = hw_slot_va(S_TWO), hi = L->va_high + (uint64_t)S_TWO * hw_page();
	int rc = map_page(S_TWO, RW);

	if (rc == PGT_OK)
		rc = hw_install(ksp, hi, hw_slot_frame(S_TWO), hw_page_shift(), RW);
	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	if (!hw_store_ok(lo + 0x40, hw_pattern(lo), 0))
		return 0;
	return hw_load_is(hi + 0x40, hw_pattern(lo), 0) &&
	       hw_same_memory(hi + 0x80, hw_slot_frame(S_TWO) + 0x80);
}

/** The largest leaf size of the descriptor. */
static uint64_t max_leaf_size(void)
{
	uint64_t size = 0;

	for (unsigned l = 0; l < L->arch->levels; l++)
		if (L->arch->level[l].leaf_ok)
			size = 1ull << L->arch->level[l].shift;
	return size;
}

/** One case per leaf size above the smallest: an alias of the RAM at the test area. */
static int super_at(unsigned level)
{
	unsigned shift = L->arch->level[level].shift;
	uint64_t size = 1ull << shift;
	pgt_paddr_t base = L->test_area & ~(size - 1);
	/* Apart from the other kernel-half cases, aligned to every leaf size, and past the
	 * range the share case shares on 2-level formats (a root-level leaf cannot be shared). */
	pgt_vaddr_t va = L->va_high + (40 + 2 * (uint64_t)level) * max_leaf_size();
	int rc = hw_install(ksp, va, base, shift, RW);

	HW_EXPECT(rc == PGT_OK, "install %lx bytes at %lx: %s", size, va, pgt_strerror(rc));
	pgt_paddr_t data = hw_slot_frame(S_SUPER_DATA);
	pgt_vaddr_t at = va + (data - base);
	if (!hw_same_memory(at + 0x10, data + 0x10))
		return 0;
	/* The far end of the page, when it is RAM: the whole page reaches. */
	pgt_paddr_t last = base + size - 8;
	if (last >= L->test_area && last < L->test_area + L->test_size)
		return hw_same_memory(va + size - 8, last);
	return 1;
}

static unsigned super_levels[PGT_MAX_LEVELS];
static unsigned super_next;

static int case_super(void)
{
	return super_at(super_levels[super_next++]);
}

/* ---- what must fault, and how --------------------------------------------- */

static int case_unmapped(void)
{
	struct hw_fault f;
	pgt_vaddr_t va = hw_slot_va(S_UNMAPPED) + 0x28;

	hw_arch_probe(HW_READ, 0, va, 0, &f);
	if (!hw_expect_fault(&f, va, PGT_FAULT_NOT_PRESENT, PGT_ACC_READ))
		return 0;
	hw_arch_probe(HW_READ, 0, L->va_far, 0, &f);
	return hw_expect_fault(&f, L->va_far, PGT_FAULT_NOT_PRESENT, PGT_ACC_READ);
}

static int case_reserved(void)
{
	struct hw_fault f;
	pgt_vaddr_t va = hw_slot_va(S_RESERVED);
	int rc = pgt_insert(ksp, va, hw_page_shift(), NULL);

	HW_EXPECT(rc == PGT_OK, "insert: %s", pgt_strerror(rc));
	hw_arch_probe(HW_WRITE, 0, va, 1, &f);
	return hw_expect_fault(&f, va, PGT_FAULT_NOT_PRESENT, PGT_ACC_WRITE);
}

static int case_write_ok(void)
{
	pgt_vaddr_t va = hw_slot_va(S_WRITE);
	int rc = hw_install_victim(ksp, va, hw_slot_frame(S_WRITE), hw_page_shift(), RW);

	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	return hw_same_memory(va, hw_slot_frame(S_WRITE));
}

static int case_read_only(void)
{
	struct hw_fault f;
	pgt_vaddr_t va = hw_slot_va(S_RO) + 0x30;
	int rc = map_page(S_RO, PGT_PROT_READ);

	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	*hw_ident(hw_slot_frame(S_RO) + 0x30) = 7;
	if (!hw_load_is(va, 7, 0))
		return 0;
	hw_arch_probe(HW_WRITE, 0, va, 8, &f);
	if (!hw_expect_fault(&f, va, PGT_FAULT_PERMISSION, PGT_ACC_WRITE))
		return 0;
	HW_EXPECT(*hw_ident(hw_slot_frame(S_RO) + 0x30) == 7, "a faulting store changed memory");
	return 1;
}

static int case_no_exec(void)
{
	struct hw_fault f;
	pgt_vaddr_t va = hw_slot_va(S_NX);
	int rc = map_page(S_NX, RW);

	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	hw_put_code(S_NX, 0);
	hw_arch_probe(HW_EXEC, 0, va, 0, &f);
	return hw_expect_fault(&f, va, PGT_FAULT_PERMISSION, PGT_ACC_EXEC);
}

static int case_exec_ok(void)
{
	struct hw_fault f;
	pgt_vaddr_t va = hw_slot_va(S_EXEC);
	int rc = map_page(S_EXEC, RX);

	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	hw_put_code(S_EXEC, 0);
	uint64_t got = hw_arch_probe(HW_EXEC, 0, va, 0, &f);
	HW_EXPECT(!f.faulted, "fetch at %lx faulted (kind %d, syndrome %lx)", va, f.kind, f.syndrome);
	HW_EXPECT(got == HW_MAGIC, "code at %lx returned %lx", va, got);
	return hw_translate_ok(va, PGT_ACC_EXEC, hw_slot_frame(S_EXEC));
}

/* ---- user and supervisor ------------------------------------------------- */

static int user_stubs_mapped;

/** Maps the arch's user-mode probe stubs into a user-executable page, once. */
static int map_user_stubs(void)
{
	size_t len;
	const void *stubs = hw_arch_user_stubs(&len);

	if (user_stubs_mapped)
		return PGT_OK;
	memcpy((void *)(uintptr_t)hw_slot_frame(S_STUBS), stubs, len);
	hw_arch_sync_code((void *)(uintptr_t)hw_slot_frame(S_STUBS), len);
	int rc = map_page(S_STUBS, RX | PGT_PROT_USER);
	if (rc == PGT_OK) {
		hw_arch_set_user_stubs(hw_slot_va(S_STUBS));
		user_stubs_mapped = 1;
	}
	return rc;
}

static int case_user_access(void)
{
	pgt_vaddr_t va = hw_slot_va(S_UREAD) + 0x18;
	int rc = map_user_stubs();

	if (rc == PGT_OK)
		rc = map_page(S_UREAD, RW | PGT_PROT_USER);
	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	if (!hw_store_ok(va, 0x1234, 1) || !hw_load_is(va, 0x1234, 1))
		return 0;
	HW_EXPECT(*hw_ident(hw_slot_frame(S_UREAD) + 0x18) == 0x1234, "user store missed its frame");
	return 1;
}

static int case_user_read_only(void)
{
	struct hw_fault f;
	pgt_vaddr_t va = hw_slot_va(S_URO) + 0x20;
	int rc = map_user_stubs();

	if (rc == PGT_OK)
		rc = map_page(S_URO, PGT_PROT_READ | PGT_PROT_USER);
	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	*hw_ident(hw_slot_frame(S_URO) + 0x20) = 99;
	if (!hw_load_is(va, 99, 1))
		return 0;
	hw_arch_probe(HW_WRITE, 1, va, 5, &f);
	return hw_expect_fault(&f, va, PGT_FAULT_PERMISSION, PGT_ACC_WRITE | PGT_ACC_USER);
}

static int case_user_to_kernel(void)
{
	struct hw_fault f;
	pgt_vaddr_t va = hw_slot_va(S_KERNEL) + 0x8;
	int rc = map_user_stubs();

	if (rc == PGT_OK)
		rc = map_page(S_KERNEL, RW);
	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	if (!hw_store_ok(va, 3, 0))
		return 0;
	hw_arch_probe(HW_READ, 1, va, 0, &f);
	if (!hw_expect_fault(&f, va, PGT_FAULT_PERMISSION, PGT_ACC_READ | PGT_ACC_USER))
		return 0;
	hw_arch_probe(HW_WRITE, 1, va, 4, &f);
	return hw_expect_fault(&f, va, PGT_FAULT_PERMISSION, PGT_ACC_WRITE | PGT_ACC_USER);
}

static int case_user_exec(void)
{
	struct hw_fault f;
	pgt_vaddr_t va = hw_slot_va(S_UEXEC);
	int rc = map_user_stubs();

	if (rc == PGT_OK)
		rc = map_page(S_UEXEC, RX | PGT_PROT_USER);
	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	hw_put_code(S_UEXEC, 1);
	uint64_t got = hw_arch_probe(HW_EXEC, 1, va, 0, &f);
	HW_EXPECT(!f.faulted, "user fetch at %lx faulted (kind %d, syndrome %lx)", va, f.kind, f.syndrome);
	HW_EXPECT(got == HW_MAGIC, "user code at %lx returned %lx", va, got);
	return hw_translate_ok(va, PGT_ACC_EXEC | PGT_ACC_USER, hw_slot_frame(S_UEXEC));
}

/* User-executable leaves carry PXN on ARM; x86 leaves this to SMEP, which the kernel enables when it can. */
static int case_kernel_exec_user(void)
{
	struct hw_fault f;
	pgt_vaddr_t va = hw_slot_va(S_KEXEC);

	if (!L->kernel_never_runs_user) {
		hw_fail("this CPU runs user pages in the kernel (no SMEP)");
		return -1;
	}
	int rc = map_page(S_KEXEC, RX | PGT_PROT_USER);
	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	hw_put_code(S_KEXEC, 0);
	hw_arch_probe(HW_EXEC, 0, va, 0, &f);
	if (!L->user_nx_in_tables) /* SMEP is a CR4 bit: pgt_translate cannot know it */
		return hw_expect_mmu_fault(&f, va, PGT_FAULT_PERMISSION, PGT_ACC_EXEC);
	return hw_expect_fault(&f, va, PGT_FAULT_PERMISSION, PGT_ACC_EXEC);
}

/*
 * A privileged load or store on a user page: RISC-V faults while
 * sstatus.SUM is clear (privileged spec 4.3.1), as pgt_translate models it;
 * x86-64 without SMAP and ARMv8 without PAN allow it, and so does pgt_translate.
 */
static int case_kernel_to_user(void)
{
	struct hw_fault f;
	pgt_vaddr_t va = hw_slot_va(S_KUSER) + 0x30;
	int rc = map_user_stubs();

	if (rc == PGT_OK)
		rc = map_page(S_KUSER, RW | PGT_PROT_USER);
	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	if (!hw_store_ok(va, 0x77, 1))
		return 0;
	if (!L->kernel_no_user_data)
		return hw_load_is(va, 0x77, 0) && hw_store_ok(va, 0x78, 0);
	hw_arch_probe(HW_READ, 0, va, 0, &f);
	if (!hw_expect_fault(&f, va, PGT_FAULT_PERMISSION, PGT_ACC_READ))
		return 0;
	hw_arch_probe(HW_WRITE, 0, va, 0x79, &f);
	if (!hw_expect_fault(&f, va, PGT_FAULT_PERMISSION, PGT_ACC_WRITE))
		return 0;
	HW_EXPECT(*hw_ident(hw_slot_frame(S_KUSER) + 0x30) == 0x77, "a faulting store changed memory");
	return 1;
}

/*
 * PGT_PROT_EXEC alone: where the format has execute-only leaves (RISC-V),
 * the kernel runs the code and cannot read it (sstatus.MXR clear); where it
 * has none (x86-64, ARMv8 stage 1), pgt_map refuses it and maps nothing.
 */
static int case_exec_only(void)
{
	struct hw_fault f;
	pgt_vaddr_t va = hw_slot_va(S_XONLY);
	pgt_paddr_t pa = hw_slot_frame(S_XONLY);
	int rc = pgt_map(ksp, va, pa, hw_page(), PGT_PROT_EXEC, 0);

	if (!L->exec_only) {
		HW_EXPECT(rc == PGT_ENOTSUP, "%s mapped execute-only: %s", L->arch->name, pgt_strerror(rc));
		HW_EXPECT(pgt_lookup(ksp, va, NULL) != PGT_OK, "the refused pgt_map left a leaf at %lx", va);
		return 1;
	}
	HW_EXPECT(rc == PGT_OK, "pgt_map: %s", pgt_strerror(rc));
	hw_record(ksp, va, pa, hw_page(), PGT_PROT_EXEC);
	hw_put_code(S_XONLY, 0);
	uint64_t got = hw_arch_probe(HW_EXEC, 0, va, 0, &f);
	HW_EXPECT(!f.faulted, "fetch at %lx faulted (kind %d, syndrome %lx)", va, f.kind, f.syndrome);
	HW_EXPECT(got == HW_MAGIC, "code at %lx returned %lx", va, got);
	if (!hw_translate_ok(va, PGT_ACC_EXEC, pa))
		return 0;
	hw_arch_probe(HW_READ, 0, va + 8, 0, &f);
	return hw_expect_fault(&f, va + 8, PGT_FAULT_PERMISSION, PGT_ACC_READ);
}

/* Device memory (ARM AttrIndx 1) or UC (x86 PCD|PWT): still the same frame. */
static int case_uncached(void)
{
	pgt_vaddr_t va = hw_slot_va(S_UNCACHED);
	int rc = map_page(S_UNCACHED, RW | PGT_PROT_UNCACHED);

	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	return hw_same_memory(va + 0x100, hw_slot_frame(S_UNCACHED) + 0x100);
}

/* ---- changing a live entry, with the TLB hook's invalidation ------------- */

static int lookup_ref(pgt_vaddr_t va, pgt_ref_t *ref)
{
	int rc = pgt_lookup(ksp, va, ref);

	HW_EXPECT(rc == PGT_OK, "lookup %lx: %s", va, pgt_strerror(rc));
	return 1;
}

static int case_downgrade(void)
{
	struct hw_fault f;
	pgt_ref_t ref;
	pgt_vaddr_t va = hw_slot_va(S_DOWN);
	int rc = map_page(S_DOWN, RW);

	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	if (!hw_store_ok(va, 1, 0) || !lookup_ref(va, &ref)) /* the store fills the TLB */
		return 0;
	rc = pgt_set_field(ksp, ref, PGT_FIELD_PROT, PGT_PROT_READ);
	HW_EXPECT(rc == PGT_OK, "set PROT: %s", pgt_strerror(rc));
	hw_record(ksp, va, hw_slot_frame(S_DOWN), hw_page(), PGT_PROT_READ);
	hw_arch_flush(va, hw_page());
	hw_arch_probe(HW_WRITE, 0, va, 2, &f);
	return hw_expect_fault(&f, va, PGT_FAULT_PERMISSION, PGT_ACC_WRITE) && hw_load_is(va, 1, 0);
}

static int case_revoke(void)
{
	struct hw_fault f;
	pgt_ref_t ref;
	pgt_vaddr_t va = hw_slot_va(S_REVOKE);
	int rc = map_page(S_REVOKE, RW);

	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	if (!hw_store_ok(va, 1, 0) || !lookup_ref(va, &ref))
		return 0;
	rc = pgt_set_field(ksp, ref, PGT_FIELD_PROT, 0);
	HW_EXPECT(rc == PGT_OK, "set PROT 0: %s", pgt_strerror(rc));
	hw_forget(ksp, va, hw_page());
	hw_arch_flush(va, hw_page());
	hw_arch_probe(HW_READ, 0, va, 0, &f);
	return hw_expect_fault(&f, va, PGT_FAULT_NOT_PRESENT, PGT_ACC_READ);
}

static int case_remap(void)
{
	pgt_ref_t ref;
	pgt_vaddr_t va = hw_slot_va(S_REMAP);
	int rc = map_page(S_REMAP, PGT_PROT_READ);

	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	*hw_ident(hw_slot_frame(S_REMAP)) = 0xaaaa;
	*hw_ident(hw_slot_frame(S_REMAP_TO)) = 0xbbbb;
	if (!hw_load_is(va, 0xaaaa, 0) || !lookup_ref(va, &ref))
		return 0;
	rc = pgt_set_field(ksp, ref, PGT_FIELD_PADDR, hw_slot_frame(S_REMAP_TO));
	HW_EXPECT(rc == PGT_OK, "set PADDR: %s", pgt_strerror(rc));
	hw_record(ksp, va, hw_slot_frame(S_REMAP_TO), hw_page(), PGT_PROT_READ);
	hw_arch_flush(va, hw_page());
	return hw_load_is(va, 0xbbbb, 0);
}

static int field_is(pgt_vaddr_t va, enum pgt_field field, uint64_t want, const char *name)
{
	pgt_ref_t ref;
	uint64_t got;

	if (!lookup_ref(va, &ref))
		return 0;
	int rc = pgt_get_field(ksp, ref, field, &got);
	HW_EXPECT(rc == PGT_OK, "get %s: %s", name, pgt_strerror(rc));
	HW_EXPECT(got == want, "%s of %lx is %lu, expected %lu", name, va, got, want);
	return 1;
}

static int set_status(pgt_vaddr_t va, uint64_t accessed, uint64_t dirty)
{
	pgt_ref_t ref;

	if (!lookup_ref(va, &ref))
		return 0;
	int rc = pgt_set_field(ksp, ref, PGT_FIELD_ACCESSED, accessed);
	if (rc == PGT_OK)
		rc = pgt_set_field(ksp, ref, PGT_FIELD_DIRTY, dirty);
	HW_EXPECT(rc == PGT_OK, "set ACCESSED/DIRTY: %s", pgt_strerror(rc));
	hw_arch_flush(va, hw_page());
	return 1;
}

/*
 * Accessed and dirty, read back through pgt_get_field: an x86 walker sets
 * them in the leaf (SDM 4.8); an ARMv8.0 walker without hardware AF
 * management takes an access flag fault on a clear AF instead (D8.4.5).
 */
static int case_status_bits(void)
{
	struct hw_fault f;
	pgt_vaddr_t va = hw_slot_va(S_STATUS);
	int rc = map_page(S_STATUS, RW);

	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	if (!set_status(va, 0, 0))
		return 0;
	if (L->walker_sets_accessed) {
		return hw_load_is(va, *hw_ident(hw_slot_frame(S_STATUS)), 0) &&
		       field_is(va, PGT_FIELD_ACCESSED, 1, "ACCESSED") &&
		       field_is(va, PGT_FIELD_DIRTY, 0, "DIRTY") && hw_store_ok(va, 5, 0) &&
		       field_is(va, PGT_FIELD_DIRTY, 1, "DIRTY");
	}
	hw_arch_probe(HW_READ, 0, va + 0x60, 0, &f);
	if (!hw_expect_fault(&f, va + 0x60, PGT_FAULT_ACCESS_FLAG, PGT_ACC_READ))
		return 0;
	return set_status(va, 1, 0) && hw_same_memory(va + 0x60, hw_slot_frame(S_STATUS) + 0x60);
}

/* ---- the runner ------------------------------------------------------------ */

static const struct hw_case cases[] = {
	{ "alias_page", case_alias_page },
	{ "two_aliases", case_two_aliases },
	{ "unmapped", case_unmapped },
	{ "reserved_leaf", case_reserved },
	{ "write_ok", case_write_ok },
	{ "read_only", case_read_only },
	{ "no_exec", case_no_exec },
	{ "exec_ok", case_exec_ok },
	{ "user_access", case_user_access },
	{ "user_read_only", case_user_read_only },
	{ "user_to_kernel", case_user_to_kernel },
	{ "user_exec", case_user_exec },
	{ "kernel_exec_user", case_kernel_exec_user },
	{ "kernel_to_user", case_kernel_to_user },
	{ "exec_only", case_exec_only },
	{ "uncached", case_uncached },
	{ "downgrade", case_downgrade },
	{ "revoke", case_revoke },
	{ "remap", case_remap },
	{ "status_bits", case_status_bits },
};

static unsigned report(const char *name, int result)
{
	if (result > 0)
		hw_printf("@case %s pass\n", name);
	else if (result < 0)
		hw_printf("@case %s skip %s\n", name, hw_fail_msg);
	else
		hw_printf("@case %s fail %s\n", name, hw_fail_msg);
	return result == 0;
}

unsigned hw_run_one(const char *name, int (*run)(void))
{
	hw_fail_msg[0] = 0;
	return report(name, run());
}

static unsigned run_supers(void)
{
	unsigned failed = 0;
	char name[32];

	for (unsigned l = 1; l < L->arch->levels; l++) {
		if (!L->arch->level[l].leaf_ok)
			continue;
		super_levels[super_next] = l;
		unsigned shift = L->arch->level[l].shift;
		if (shift >= 40)
			hw_format(name, sizeof name, "super_%uT", 1u << (shift - 40));
		else if (shift >= 30)
			hw_format(name, sizeof name, "super_%uG", 1u << (shift - 30));
		else
			hw_format(name, sizeof name, "super_%uM", 1u << (shift - 20));
		failed += hw_run_one(name, case_super);
	}
	return failed;
}

unsigned hw_run_cases(pgt_space_t *kernel)
{
	unsigned failed = 0;

	L = hw_arch_layout();
	ksp = kernel;
	for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++)
		failed += hw_run_one(cases[i].name, cases[i].run);
	failed += run_supers();
	hw_checkpoint("kernel");
	failed += hw_run_range_cases(kernel);
	return failed;
}
