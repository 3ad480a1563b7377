/*
 * The cases every test kernel runs, whatever the architecture: each builds
 * mappings with the public API, then lets the MMU judge them with real
 * loads, stores and instruction fetches. Addresses come from the layout;
 * page sizes come from the descriptor, so the same cases run on every
 * granule.
 */
#include "kernel.h"

#define RW (PGT_PROT_READ | PGT_PROT_WRITE)
#define RX (PGT_PROT_READ | PGT_PROT_EXEC)

/* Page slots in the low window and frames in the test area, one per use. */
enum slot {
	S_ALIAS, S_TWO, S_UNMAPPED, S_RESERVED, S_WRITE, S_RO, S_NX, S_EXEC,
	S_UREAD, S_URO, S_KERNEL, S_DOWN, S_REVOKE, S_REMAP, S_REMAP_TO,
	S_STUBS, S_UEXEC, S_UNCACHED, S_KEXEC, S_SUPER_DATA = 40
};

static const struct hw_layout *L;
static pgt_space_t *ksp;
static char fail_msg[160];

int hw_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hw_vformat(fail_msg, sizeof fail_msg, fmt, ap);
	va_end(ap);
	return 0;
}

static unsigned page_shift(void)
{
	return L->arch->level[0].shift;
}

static uint64_t page(void)
{
	return 1ull << page_shift();
}

static pgt_vaddr_t slot_va(enum slot s)
{
	return L->va_low + (uint64_t)s * page();
}

static pgt_paddr_t slot_frame(enum slot s)
{
	return L->test_area + (uint64_t)s * page();
}

/** The frame through the identity map: how the cases check where a store landed. */
static volatile uint64_t *ident(pgt_paddr_t pa)
{
	return (volatile uint64_t *)(uintptr_t)pa;
}

/** A value that names the address it was written to, so a wrong frame shows. */
static uint64_t pattern(pgt_vaddr_t va)
{
	return (va * 0x9e3779b97f4a7c15ull) ^ 0xc0ffee;
}

static int map_page(enum slot s, unsigned prot)
{
	return hw_install(ksp, slot_va(s), slot_frame(s), page_shift(), prot);
}

/** Checks that @p f is the fault the architecture defines for this access. */
static int expect_fault(const struct hw_fault *f, pgt_vaddr_t va, int kind, unsigned access)
{
	HW_EXPECT(f->faulted, "access to %lx did not fault", va);
	HW_EXPECT(f->addr == va, "fault address %lx, expected %lx", f->addr, va);
	HW_EXPECT(f->kind == kind, "fault kind %d (syndrome %lx), expected %d", f->kind, f->syndrome, kind);
	HW_EXPECT(f->access == access, "fault access %x (syndrome %lx), expected %x", f->access, f->syndrome,
		  access);
	return 1;
}

static int store_ok(pgt_vaddr_t va, uint64_t v, int user)
{
	struct hw_fault f;

	hw_arch_probe(HW_WRITE, user, va, v, &f);
	HW_EXPECT(!f.faulted, "store to %lx faulted (kind %d, syndrome %lx)", va, f.kind, f.syndrome);
	return 1;
}

static int load_is(pgt_vaddr_t va, uint64_t want, int user)
{
	struct hw_fault f;
	uint64_t got = hw_arch_probe(HW_READ, user, va, 0, &f);

	HW_EXPECT(!f.faulted, "load from %lx faulted (kind %d, syndrome %lx)", va, f.kind, f.syndrome);
	HW_EXPECT(got == want, "load from %lx read %lx, expected %lx", va, got, want);
	return 1;
}

/** Writes through @p va, reads the frame @p pa directly, and the other way round. */
static int same_memory(pgt_vaddr_t va, pgt_paddr_t pa)
{
	uint64_t v = pattern(va);

	if (!store_ok(va, v, 0))
		return 0;
	HW_EXPECT(*ident(pa) == v, "store through %lx did not reach frame %lx", va, pa);
	*ident(pa) = ~v;
	return load_is(va, ~v, 0);
}

/* ---- translation reaches the right frame ---------------------------------- */

static int case_alias_page(void)
{
	pgt_vaddr_t va = slot_va(S_ALIAS);
	int rc = hw_install_victim(ksp, va, slot_frame(S_ALIAS), page_shift(), RW);

	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	return same_memory(va + 8, slot_frame(S_ALIAS) + 8) && same_memory(va + page() - 8, slot_frame(S_ALIAS) + page() - 8);
}

static int case_two_aliases(void)
{
	pgt_vaddr_t lo = slot_va(S_TWO), hi = L->va_high + (uint64_t)S_TWO * page();
	int rc = map_page(S_TWO, RW);

	if (rc == PGT_OK)
		rc = hw_install(ksp, hi, slot_frame(S_TWO), page_shift(), RW);
	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	if (!store_ok(lo + 0x40, pattern(lo), 0))
		return 0;
	return load_is(hi + 0x40, pattern(lo), 0) && same_memory(hi + 0x80, slot_frame(S_TWO) + 0x80);
}

/** One case per leaf size above the smallest: an alias of the RAM at the test area. */
static int super_at(unsigned level)
{
	unsigned shift = L->arch->level[level].shift;
	uint64_t size = 1ull << shift;
	pgt_paddr_t base = L->test_area & ~(size - 1);
	pgt_vaddr_t va = L->va_high + 4 * size; /* aligned: va_high is aligned to every leaf size */
	int rc = hw_install(ksp, va, base, shift, RW);

	HW_EXPECT(rc == PGT_OK, "install %lx bytes at %lx: %s", size, va, pgt_strerror(rc));
	pgt_paddr_t data = slot_frame(S_SUPER_DATA);
	pgt_vaddr_t at = va + (data - base);
	if (!same_memory(at + 0x10, data + 0x10))
		return 0;
	/* The far end of the page, when it is RAM: the whole page reaches. */
	pgt_paddr_t last = base + size - 8;
	if (last >= L->test_area && last < L->test_area + L->test_size)
		return same_memory(va + size - 8, last);
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
	pgt_vaddr_t va = slot_va(S_UNMAPPED) + 0x28;

	hw_arch_probe(HW_READ, 0, va, 0, &f);
	if (!expect_fault(&f, va, PGT_FAULT_NOT_PRESENT, PGT_ACC_READ))
		return 0;
	hw_arch_probe(HW_READ, 0, L->va_far, 0, &f);
	return expect_fault(&f, L->va_far, PGT_FAULT_NOT_PRESENT, PGT_ACC_READ);
}

static int case_reserved(void)
{
	struct hw_fault f;
	pgt_vaddr_t va = slot_va(S_RESERVED);
	int rc = pgt_insert(ksp, va, page_shift(), NULL);

	HW_EXPECT(rc == PGT_OK, "insert: %s", pgt_strerror(rc));
	hw_arch_probe(HW_WRITE, 0, va, 1, &f);
	return expect_fault(&f, va, PGT_FAULT_NOT_PRESENT, PGT_ACC_WRITE);
}

static int case_write_ok(void)
{
	pgt_vaddr_t va = slot_va(S_WRITE);
	int rc = hw_install_victim(ksp, va, slot_frame(S_WRITE), page_shift(), RW);

	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	return same_memory(va, slot_frame(S_WRITE));
}

static int case_read_only(void)
{
	struct hw_fault f;
	pgt_vaddr_t va = slot_va(S_RO) + 0x30;
	int rc = map_page(S_RO, PGT_PROT_READ);

	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	*ident(slot_frame(S_RO) + 0x30) = 7;
	if (!load_is(va, 7, 0))
		return 0;
	hw_arch_probe(HW_WRITE, 0, va, 8, &f);
	if (!expect_fault(&f, va, PGT_FAULT_PERMISSION, PGT_ACC_WRITE))
		return 0;
	HW_EXPECT(*ident(slot_frame(S_RO) + 0x30) == 7, "a faulting store changed memory");
	return 1;
}

/** Copies the return-magic routine into a frame through the identity map. */
static void put_code(enum slot s, int user)
{
	size_t len;
	const void *code = hw_arch_ret_code(user, &len);
	void *dst = (void *)(uintptr_t)slot_frame(s);

	memcpy(dst, code, len);
	hw_arch_sync_code(dst, len);
}

static int case_no_exec(void)
{
	struct hw_fault f;
	pgt_vaddr_t va = slot_va(S_NX);
	int rc = map_page(S_NX, RW);

	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	put_code(S_NX, 0);
	hw_arch_probe(HW_EXEC, 0, va, 0, &f);
	return expect_fault(&f, va, PGT_FAULT_PERMISSION, PGT_ACC_EXEC);
}

static int case_exec_ok(void)
{
	struct hw_fault f;
	pgt_vaddr_t va = slot_va(S_EXEC);
	int rc = map_page(S_EXEC, RX);

	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	put_code(S_EXEC, 0);
	uint64_t got = hw_arch_probe(HW_EXEC, 0, va, 0, &f);
	HW_EXPECT(!f.faulted, "fetch at %lx faulted (kind %d, syndrome %lx)", va, f.kind, f.syndrome);
	HW_EXPECT(got == HW_MAGIC, "code at %lx returned %lx", va, got);
	return 1;
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
	memcpy((void *)(uintptr_t)slot_frame(S_STUBS), stubs, len);
	hw_arch_sync_code((void *)(uintptr_t)slot_frame(S_STUBS), len);
	int rc = map_page(S_STUBS, RX | PGT_PROT_USER);
	if (rc == PGT_OK) {
		hw_arch_set_user_stubs(slot_va(S_STUBS));
		user_stubs_mapped = 1;
	}
	return rc;
}

static int case_user_access(void)
{
	pgt_vaddr_t va = slot_va(S_UREAD) + 0x18;
	int rc = map_user_stubs();

	if (rc == PGT_OK)
		rc = map_page(S_UREAD, RW | PGT_PROT_USER);
	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	if (!store_ok(va, 0x1234, 1) || !load_is(va, 0x1234, 1))
		return 0;
	HW_EXPECT(*ident(slot_frame(S_UREAD) + 0x18) == 0x1234, "user store missed its frame");
	return 1;
}

static int case_user_read_only(void)
{
	struct hw_fault f;
	pgt_vaddr_t va = slot_va(S_URO) + 0x20;
	int rc = map_user_stubs();

	if (rc == PGT_OK)
		rc = map_page(S_URO, PGT_PROT_READ | PGT_PROT_USER);
	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	*ident(slot_frame(S_URO) + 0x20) = 99;
	if (!load_is(va, 99, 1))
		return 0;
	hw_arch_probe(HW_WRITE, 1, va, 5, &f);
	return expect_fault(&f, va, PGT_FAULT_PERMISSION, PGT_ACC_WRITE | PGT_ACC_USER);
}

static int case_user_to_kernel(void)
{
	struct hw_fault f;
	pgt_vaddr_t va = slot_va(S_KERNEL) + 0x8;
	int rc = map_user_stubs();

	if (rc == PGT_OK)
		rc = map_page(S_KERNEL, RW);
	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	if (!store_ok(va, 3, 0))
		return 0;
	hw_arch_probe(HW_READ, 1, va, 0, &f);
	if (!expect_fault(&f, va, PGT_FAULT_PERMISSION, PGT_ACC_READ | PGT_ACC_USER))
		return 0;
	hw_arch_probe(HW_WRITE, 1, va, 4, &f);
	return expect_fault(&f, va, PGT_FAULT_PERMISSION, PGT_ACC_WRITE | PGT_ACC_USER);
}

static int case_user_exec(void)
{
	struct hw_fault f;
	pgt_vaddr_t va = slot_va(S_UEXEC);
	int rc = map_user_stubs();

	if (rc == PGT_OK)
		rc = map_page(S_UEXEC, RX | PGT_PROT_USER);
	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	put_code(S_UEXEC, 1);
	uint64_t got = hw_arch_probe(HW_EXEC, 1, va, 0, &f);
	HW_EXPECT(!f.faulted, "user fetch at %lx faulted (kind %d, syndrome %lx)", va, f.kind, f.syndrome);
	HW_EXPECT(got == HW_MAGIC, "user code at %lx returned %lx", va, got);
	return 1;
}

/* User-executable leaves carry PXN on ARM; x86 leaves this to SMEP, which the kernel enables when it can. */
static int case_kernel_exec_user(void)
{
	struct hw_fault f;
	pgt_vaddr_t va = slot_va(S_KEXEC);

	if (!L->kernel_never_runs_user) {
		hw_fail("this CPU runs user pages in the kernel (no SMEP)");
		return -1;
	}
	int rc = map_page(S_KEXEC, RX | PGT_PROT_USER);
	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	put_code(S_KEXEC, 0);
	hw_arch_probe(HW_EXEC, 0, va, 0, &f);
	return expect_fault(&f, va, PGT_FAULT_PERMISSION, PGT_ACC_EXEC);
}

/* Device memory (ARM AttrIndx 1) or UC (x86 PCD|PWT): still the same frame. */
static int case_uncached(void)
{
	pgt_vaddr_t va = slot_va(S_UNCACHED);
	int rc = map_page(S_UNCACHED, RW | PGT_PROT_UNCACHED);

	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	return same_memory(va + 0x100, slot_frame(S_UNCACHED) + 0x100);
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
	pgt_vaddr_t va = slot_va(S_DOWN);
	int rc = map_page(S_DOWN, RW);

	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	if (!store_ok(va, 1, 0) || !lookup_ref(va, &ref)) /* the store fills the TLB */
		return 0;
	rc = pgt_set_field(ksp, ref, PGT_FIELD_PROT, PGT_PROT_READ);
	HW_EXPECT(rc == PGT_OK, "set PROT: %s", pgt_strerror(rc));
	hw_record(ksp, va, slot_frame(S_DOWN), page(), PGT_PROT_READ);
	hw_arch_flush(va, page());
	hw_arch_probe(HW_WRITE, 0, va, 2, &f);
	return expect_fault(&f, va, PGT_FAULT_PERMISSION, PGT_ACC_WRITE) && load_is(va, 1, 0);
}

static int case_revoke(void)
{
	struct hw_fault f;
	pgt_ref_t ref;
	pgt_vaddr_t va = slot_va(S_REVOKE);
	int rc = map_page(S_REVOKE, RW);

	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	if (!store_ok(va, 1, 0) || !lookup_ref(va, &ref))
		return 0;
	rc = pgt_set_field(ksp, ref, PGT_FIELD_PROT, 0);
	HW_EXPECT(rc == PGT_OK, "set PROT 0: %s", pgt_strerror(rc));
	hw_forget(ksp, va, page());
	hw_arch_flush(va, page());
	hw_arch_probe(HW_READ, 0, va, 0, &f);
	return expect_fault(&f, va, PGT_FAULT_NOT_PRESENT, PGT_ACC_READ);
}

static int case_remap(void)
{
	pgt_ref_t ref;
	pgt_vaddr_t va = slot_va(S_REMAP);
	int rc = map_page(S_REMAP, PGT_PROT_READ);

	HW_EXPECT(rc == PGT_OK, "install: %s", pgt_strerror(rc));
	*ident(slot_frame(S_REMAP)) = 0xaaaa;
	*ident(slot_frame(S_REMAP_TO)) = 0xbbbb;
	if (!load_is(va, 0xaaaa, 0) || !lookup_ref(va, &ref))
		return 0;
	rc = pgt_set_field(ksp, ref, PGT_FIELD_PADDR, slot_frame(S_REMAP_TO));
	HW_EXPECT(rc == PGT_OK, "set PADDR: %s", pgt_strerror(rc));
	hw_record(ksp, va, slot_frame(S_REMAP_TO), page(), PGT_PROT_READ);
	hw_arch_flush(va, page());
	return load_is(va, 0xbbbb, 0);
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
	{ "uncached", case_uncached },
	{ "downgrade", case_downgrade },
	{ "revoke", case_revoke },
	{ "remap", case_remap },
};

static unsigned report(const char *name, int result)
{
	if (result > 0)
		hw_printf("@case %s pass\n", name);
	else if (result < 0)
		hw_printf("@case %s skip %s\n", name, fail_msg);
	else
		hw_printf("@case %s fail %s\n", name, fail_msg);
	return result == 0;
}

static unsigned run_one(const char *name, int (*run)(void))
{
	fail_msg[0] = 0;
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
		if (shift >= 30)
			hw_format(name, sizeof name, "super_%uG", 1u << (shift - 30));
		else
			hw_format(name, sizeof name, "super_%uM", 1u << (shift - 20));
		failed += run_one(name, case_super);
	}
	return failed;
}

unsigned hw_run_cases(pgt_space_t *kernel)
{
	unsigned failed = 0;

	L = hw_arch_layout();
	ksp = kernel;
	for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++)
		failed += run_one(cases[i].name, cases[i].run);
	failed += run_supers();
	hw_checkpoint("kernel");
	return failed;
}
