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
int hw_expect_fault(const struct hw_fault *f, pgt_vaddr_t va, int kind, unsigned access)
{
	HW_EXPECT(f->faulted, "access to %lx did not fault", va);
	HW_EXPECT(f->addr == va, "fault address %lx, expected %lx", f->addr, va);
	HW_EXPECT(f->kind == kind, "fault kind %d (syndrome %lx), expected %d", f->kind, f->syndrome, kind);
	HW_EXPECT(f->access == access, "fault access %x (syndrome %lx), expected %x", f->access, f->syndrome,
		  access);
	return 1;
}

int hw_store_ok(pgt_vaddr_t va, uint64_t v, int user)
{
	struct hw_fault f;

	hw_arch_probe(HW_WRITE, user, va, v, &f);
	HW_EXPECT(!f.faulted, "store to %lx faulted (kind %d, syndrome %lx)", va, f.kind, f.syndrome);
	return 1;
}

int hw_load_is(pgt_vaddr_t va, uint64_t want, int user)
{
	struct hw_fault f;
	uint64_t got = hw_arch_probe(HW_READ, user, va, 0, &f);

	HW_EXPECT(!f.faulted, "load from %lx faulted (kind %d, syndrome %lx)", va, f.kind, f.syndrome);
	HW_EXPECT(got == want, "load from %lx read %lx, expected %lx", va, got, want);
	return 1;
}

/** Writes through @p va, reads the frame @p pa directly, and the other way round. */
int hw_same_memory(pgt_vaddr_t va, pgt_paddr_t pa)
{
	uint64_t v = hw_pattern(va);

	if (!hw_store_ok(va, v, 0))
		return 0;
	HW_EXPECT(*hw_ident(pa) == v, "store through %lx did not reach frame %lx", va, pa);
	*hw_ident(pa) = ~v;
	return hw_load_is(va, ~v, 0);
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
