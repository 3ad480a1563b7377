/* SPDX-License-Identifier: MIT */
/*
 * What the cases share: page slots and frames, probes that expect success
 * or a given fault, and the message of the case that failed.
 */
#include "cases.h"

char hw_fail_msg[160];

int hw_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hw_vformat(hw_fail_msg, sizeof hw_fail_msg, fmt, ap);
	va_end(ap);
	return 0;
}

unsigned hw_page_shift(void)
{
	return hw_arch_layout()->arch->level[0].shift;
}

uint64_t hw_page(void)
{
	return 1ull << hw_page_shift();
}

pgt_vaddr_t hw_slot_va(enum slot s)
{
	return hw_arch_layout()->va_low + (uint64_t)s * hw_page();
}

pgt_paddr_t hw_slot_frame(enum slot s)
{
	return hw_arch_layout()->test_area + (uint64_t)s * hw_page();
}

/** The frame through the identity map: how the cases check where a store landed. */
volatile uint64_t *hw_ident(pgt_paddr_t pa)
{
	return (volatile uint64_t *)(uintptr_t)pa;
}

/** A value that names the address it was written to, so a wrong frame shows. */
uint64_t hw_pattern(pgt_vaddr_t va)
{
	return (va * 0x9e3779b97f4a7c15ull) ^ 0xc0ffee;
}

/** Checks that @p f is the fault the architecture defines for this access. */
/* The library's walk (pgt_translate) is held to what the MMU did at every probe. */

/**
 * pgt_translate faults where the MMU did: the kind the case expects (which
 * the MMU confirmed where it reports one), the address, and the level
 * where the MMU reports one.
 */
static int translate_faults(pgt_vaddr_t va, const struct hw_fault *f, int kind)
{
	struct pgt_fault lf;
	int rc = pgt_translate(hw_active, va, f->access, NULL, &lf);

	HW_EXPECT(rc == PGT_EFAULT, "pgt_translate(%lx, %x): %s, but the MMU faulted", va, f->access,
		  pgt_strerror(rc));
	HW_EXPECT(lf.kind == kind, "pgt_translate(%lx) fault kind %d, expected %d", va, lf.kind, kind);
	HW_EXPECT(lf.va == va, "pgt_translate fault address %lx, expected %lx", lf.va, va);
	HW_EXPECT(f->level < 0 || lf.level == (unsigned)f->level,
		  "pgt_translate(%lx) stopped at level %u, the MMU at %d", va, lf.level, f->level);
	return 1;
}

int hw_translate_ok(pgt_vaddr_t va, unsigned access, pgt_paddr_t want)
{
	struct pgt_fault lf = { 0 };
	pgt_paddr_t pa = PGT_PADDR_NONE;
	int rc = pgt_translate(hw_active, va, access, &pa, &lf);

	HW_EXPECT(rc == PGT_OK, "pgt_translate(%lx, %x): %s (kind %d, level %u), but the MMU allowed it", va,
		  access, pgt_strerror(rc), lf.kind, lf.level);
	HW_EXPECT(want == PGT_PADDR_NONE || pa == want, "pgt_translate(%lx) gives %lx, the MMU reached %lx",
		  va, pa, want);
	return 1;
}

int hw_expect_mmu_fault(const struct hw_fault *f, pgt_vaddr_t va, int kind, unsigned access)
{
	HW_EXPECT(f->faulted, "access to %lx did not fault", va);
	HW_EXPECT(f->addr == va, "fault address %lx, expected %lx", f->addr, va);
	HW_EXPECT(f->kind == kind || f->kind == HW_KIND_UNKNOWN, "fault kind %d (syndrome %lx), expected %d",
		  f->kind, f->syndrome, kind);
	HW_EXPECT(f->access == access, "fault access %x (syndrome %lx), expected %x", f->access, f->syndrome,
		  access);
	return 1;
}

int hw_expect_fault(const struct hw_fault *f, pgt_vaddr_t va, int kind, unsigned access)
{
	return hw_expect_mmu_fault(f, va, kind, access) && translate_faults(va, f, kind);
}

static unsigned user_bit(int user)
{
	return user ? PGT_ACC_USER : 0;
}

int hw_store_ok(pgt_vaddr_t va, uint64_t v, int user)
{
	struct hw_fault f;

	hw_arch_probe(HW_WRITE, user, va, v, &f);
	HW_EXPECT(!f.faulted, "store to %lx faulted (kind %d, syndrome %lx)", va, f.kind, f.syndrome);
	return hw_translate_ok(va, PGT_ACC_WRITE | user_bit(user), PGT_PADDR_NONE);
}

int hw_load_is(pgt_vaddr_t va, uint64_t want, int user)
{
	struct hw_fault f;
	uint64_t got = hw_arch_probe(HW_READ, user, va, 0, &f);

	HW_EXPECT(!f.faulted, "load from %lx faulted (kind %d, syndrome %lx)", va, f.kind, f.syndrome);
	HW_EXPECT(got == want, "load from %lx read %lx, expected %lx", va, got, want);
	return hw_translate_ok(va, PGT_ACC_READ | user_bit(user), PGT_PADDR_NONE);
}

/** Writes through @p va, reads the frame @p pa directly, and the other way round. */
int hw_same_memory(pgt_vaddr_t va, pgt_paddr_t pa)
{
	uint64_t v = hw_pattern(va);

	if (!hw_store_ok(va, v, 0))
		return 0;
	HW_EXPECT(*hw_ident(pa) == v, "store through %lx did not reach frame %lx", va, pa);
	*hw_ident(pa) = ~v;
	return hw_load_is(va, ~v, 0) && hw_translate_ok(va, PGT_ACC_READ, pa);
}

/** Copies the return-magic routine into a frame through the identity map. */
void hw_put_code(enum slot s, int user)
{
	size_t len;
	const void *code = hw_arch_ret_code(user, &len);
	void *dst = (void *)(uintptr_t)hw_slot_frame(s);

	memcpy(dst, code, len);
	hw_arch_sync_code(dst, len);
}
