/* SPDX-License-Identifier: MIT */
/*
 * AMD nested paging (NPT) kernel: the host builds a guest's nested page
 * table with pgt_map on pgt_arch_x86_64, runs a guest under SVM with that
 * table as nCR3, lets the guest touch one guest-physical address per run,
 * and holds what the hardware did (a #VMEXIT for VMMCALL when the access
 * completed, a nested page fault otherwise) against pgt_translate on the
 * host's space with PGT_ACC_USER: every nested access is a user access.
 *
 * AMD64 Architecture Programmer's Manual, vol. 2, chapter 15 "Secure
 * Virtual Machine": "Enabling SVM" (EFER.SVME), "VMRUN Instruction" (its
 * consistency checks: the VMRUN intercept, a non-zero ASID), "Nested
 * Paging" (nCR3, NP_ENABLE; nested walks are user accesses; #NPF with
 * EXITINFO1 a page-fault error code plus bit 32, the fault was on the final
 * guest-physical address, or bit 33, on a guest page-table access, and
 * EXITINFO2 the guest-physical address), "VM_HSAVE_PA MSR", and appendix B
 * "Layout of VMCB". The guest first runs in 32-bit protected mode with
 * paging off, its linear addresses guest-physical ones (pgt_translate on
 * the nested table alone), then in 64-bit mode with 4-level paging of its
 * own, built by the host in guest memory (pgt_translate_nested over a view
 * of those tables and the nested table: guest #PF, #NPF on the access, and
 * #NPF on a guest table read).
 */
#include "../cases.h"

#include <pgtable/x86_64.h>

/* ---- SVM -------------------------------------------------------------------- */

#define MSR_EFER        0xc0000080u
#define EFER_SVME       (1ull << 12)
#define MSR_VM_HSAVE_PA 0xc0010117u

/* CPUID Fn8000_0001 ECX bit 2: SVM; Fn8000_000A EDX bit 0: nested paging. */
#define CPUID_SVM_BIT 2
#define CPUID_NP_BIT  0

/* VMCB control area (appendix B, table B-1): byte offsets. */
#define VMCB_INTERCEPT_EXC  0x008 /* exception intercepts, one bit per vector */
#define VMCB_INTERCEPT_MISC 0x00c /* 64 bits: vector 3 (bits 31:0), vector 4 (bits 63:32) */
#define VMCB_ASID           0x058
#define VMCB_TLB_CONTROL    0x05c
#define VMCB_EXITCODE       0x070
#define VMCB_EXITINFO1      0x078
#define VMCB_EXITINFO2      0x080
#define VMCB_NP_CONTROL     0x090
#define VMCB_NCR3           0x0b0
/* VMCB state save area (table B-2). */
#define VMCB_ES             0x400
#define VMCB_CS             0x410
#define VMCB_SS             0x420
#define VMCB_DS             0x430
#define VMCB_CPL            0x4cb
#define VMCB_EFER           0x4d0
#define VMCB_CR4            0x548
#define VMCB_CR3            0x550
#define VMCB_CR0            0x558
#define VMCB_DR7            0x560
#define VMCB_DR6            0x568
#define VMCB_RFLAGS         0x570
#define VMCB_RIP            0x578
#define VMCB_RSP            0x5d8
#define VMCB_RAX            0x5f8
#define VMCB_G_PAT          0x668

#define INTERCEPT_SHUTDOWN (1ull << 31) /* vector 3 */
#define INTERCEPT_VMRUN    (1ull << 32) /* vector 4 bit 0: VMRUN refuses to run without it */
#define INTERCEPT_VMMCALL  (1ull << 33) /* vector 4 bit 1 */
#define NP_ENABLE          1ull
#define TLB_FLUSH_ALL      1u /* TLB_CONTROL: flush every ASID's entries on VMRUN */

#define EXIT_EXCP_BASE 0x40
#define EXIT_SHUTDOWN  0x7f
#define EXIT_VMMCALL   0x81
#define EXIT_NPF       0x400

/* EXITINFO1 of a #NPF: the page-fault error code bits, and where the fault happened. */
#define NPF_P     (1ull << 0)
#define NPF_RW    (1ull << 1)
#define NPF_US    (1ull << 2)
#define NPF_RSVD  (1ull << 3)
#define NPF_ID    (1ull << 4)
#define NPF_FINAL (1ull << 32) /* on the final guest-physical address */
#define NPF_TABLE (1ull << 33) /* on a guest page-table access */

static uint8_t vmcb[4096] __attribute__((aligned(4096)));
static uint8_t hsave[4096] __attribute__((aligned(4096)));

static void vmcb_put(unsigned off, uint64_t v, unsigned bytes)
{
	memcpy(vmcb + off, &v, bytes);
}

static uint64_t vmcb_get(unsigned off)
{
	uint64_t v;

	memcpy(&v, vmcb + off, 8);
	return v;
}

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/** Why SVM with nested paging cannot run here, or NULL when it can. */
static const char *svm_missing(void)
{
	uint32_t a, b, c, d;

	cpuid(0x80000001u, &a, &b, &c, &d);
	if (!(c & (1u << CPUID_SVM_BIT)))
		return "no SVM (CPUID 8000_0001 ECX bit 2)";
	cpuid(0x80000000u, &a, &b, &c, &d);
	if (a < 0x8000000au)
		return "no CPUID leaf 8000_000A";
	cpuid(0x8000000au, &a, &b, &c, &d);
	if (!(d & (1u << CPUID_NP_BIT)))
		return "no nested paging (CPUID 8000_000A EDX bit 0)";
	return NULL;
}

/* A flat 4 GiB segment, VMCB attribute format (descriptor bits 47:40 and 55:52). */
static void flat_segment(unsigned off, uint16_t sel, uint16_t attrib)
{
	vmcb_put(off, sel, 2);
	vmcb_put(off + 2, attrib, 2);
	vmcb_put(off + 4, 0xffffffffu, 4);
	vmcb_put(off + 8, 0, 8);
}

#define ATTR_CODE32 0xc9b /* present, DPL 0, code execute/read accessed, D = 1, G = 1 */
#define ATTR_DATA32 0xc93 /* present, DPL 0, data read/write accessed, B = 1, G = 1 */

/**
 * The VMCB of a 32-bit guest with paging off, nested paging through
 * @p ncr3, VMRUN and VMMCALL intercepted, and every exception and a
 * shutdown too, so a guest gone wrong ends in a #VMEXIT, not a reset.
 */
static void vmcb_setup(pgt_paddr_t ncr3)
{
	memset(vmcb, 0, sizeof vmcb);
	vmcb_put(VMCB_INTERCEPT_EXC, 0xffffffffu, 4);
	vmcb_put(VMCB_INTERCEPT_MISC, INTERCEPT_SHUTDOWN | INTERCEPT_VMRUN | INTERCEPT_VMMCALL, 8);
	vmcb_put(VMCB_ASID, 1, 4);
	vmcb_put(VMCB_NP_CONTROL, NP_ENABLE, 8);
	vmcb_put(VMCB_NCR3, ncr3, 8);
	flat_segment(VMCB_CS, 0x08, ATTR_CODE32);
	flat_segment(VMCB_DS, 0x10, ATTR_DATA32);
	flat_segment(VMCB_ES, 0x10, ATTR_DATA32);
	flat_segment(VMCB_SS, 0x10, ATTR_DATA32);
	vmcb_put(VMCB_CPL, 0, 1);
	vmcb_put(VMCB_EFER, EFER_SVME, 8); /* a guest EFER without SVME fails VMRUN's checks */
	vmcb_put(VMCB_CR0, 0x11, 8);       /* PE and ET: protected mode, paging off */
	vmcb_put(VMCB_CR3, 0, 8);
	vmcb_put(VMCB_CR4, 0, 8);
	vmcb_put(VMCB_DR6, 0xffff0ff0u, 8);
	vmcb_put(VMCB_DR7, 0x400, 8);
	vmcb_put(VMCB_RFLAGS, 0x2, 8);
	vmcb_put(VMCB_G_PAT, 0x0007040600070406ull, 8); /* the power-on PAT */
}

/** One VMRUN from @p rip with @p rax; the host's registers survive the guest. */
static uint64_t guest_run(uint64_t rip, uint64_t rax)
{
	uint64_t pa = (uintptr_t)vmcb;

	vmcb_put(VMCB_RIP, rip, 8);
	vmcb_put(VMCB_RAX, rax, 8);
	vmcb_put(VMCB_RSP, 0, 8);
	vmcb_put(VMCB_TLB_CONTROL, TLB_FLUSH_ALL, 1); /* the nested table changed since the last run */
	/*
	 * VMRUN restores RSP and RAX from the host save area; every other
	 * register is what the guest left, so the callee-saved ones are kept
	 * by hand (the kernel has no red zone: pushing below RSP is safe).
	 */
	__asm__ volatile("push %%rbx; push %%rbp; push %%r12; push %%r13; push %%r14; push %%r15\n\t"
			 "clgi; vmrun; stgi\n\t"
			 "pop %%r15; pop %%r14; pop %%r13; pop %%r12; pop %%rbp; pop %%rbx"
			 : "+a"(pa)
			 :
			 : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "cc", "memory");
	return vmcb_get(VMCB_EXITCODE);
}

/* ---- the guest ---------------------------------------------------------------- */

/* 32-bit code at GUEST_CODE; each stub takes its address in EAX and ends with VMMCALL. */
#define GUEST_CODE    0x1000u
#define STUB_READ     (GUEST_CODE + 0x0)  /* mov (%eax), %eax; vmmcall */
#define STUB_WRITE    (GUEST_CODE + 0x8)  /* mov %eax, (%eax); vmmcall */
#define STUB_EXEC     (GUEST_CODE + 0x10) /* jmp *%eax */
#define GUEST_RET_OFF 0x100u              /* guest_ret, in the code page too */
static const uint8_t guest_stubs[] = {
	0x8b, 0x00, 0x0f, 0x01, 0xd9, 0x90, 0x90, 0x90, /* read */
	0x89, 0x00, 0x0f, 0x01, 0xd9, 0x90, 0x90, 0x90, /* write */
	0xff, 0xe0, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, /* exec */
	0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
	/* The same in 64-bit mode, at STUB64: REX.W forms of the loads and stores. */
	0x48, 0x8b, 0x00, 0x0f, 0x01, 0xd9, 0x90, 0x90, /* mov (%rax), %rax; vmmcall */
	0x48, 0x89, 0x00, 0x0f, 0x01, 0xd9, 0x90, 0x90, /* mov %rax, (%rax); vmmcall */
	0xff, 0xe0,                                     /* jmp *%rax */
};
#define STUB64 0x20u /* offset of the 64-bit stubs in the code page */
/* What an executable test page holds at its start: mov $HW_MAGIC, %eax; vmmcall. */
static const uint8_t guest_ret[] = { 0xb8, HW_MAGIC & 0xff, HW_MAGIC >> 8, 0, 0, 0x0f, 0x01, 0xd9 };

/* Host frames behind the guest: 4K ones, a 2M one, and host RAM itself behind a 1G page. */
#define NFRAMES 16
static uint8_t frames[NFRAMES][4096] __attribute__((aligned(4096)));
static uint8_t big_frame[2u << 20] __attribute__((aligned(2u << 20)));

/* ---- the cases ------------------------------------------------------------------ */

static pgt_space_t npt;

/** One guest-physical page and how the host maps it. */
struct gpage {
	const char *name;
	uint32_t gpa;   /**< start of the page */
	unsigned shift; /**< 12, 21 or 30 */
	unsigned prot;  /**< PGT_PROT_*; 0 with `how` NONE: nothing mapped */
	enum { MAP, INSERT, NONE } how;
	uint32_t probe; /**< offset the guest touches */
};

#define U PGT_PROT_USER
#define R PGT_PROT_READ
#define W PGT_PROT_WRITE
#define X PGT_PROT_EXEC

/* Pages in the 2M regions below have their level-1 table entry edited by hand (struct table_edit). */
#define GPA_PAGES   0x10000000u
#define GPA_NO_RW   0x10200000u
#define GPA_NO_US   0x10400000u
#define GPA_NX      0x10600000u
#define GPA_2M      0x20000000u
#define GPA_2M_RSVD 0x20200000u
#define GPA_1G      0x40000000u

static const struct gpage pages[] = {
	{ "rw", GPA_PAGES + 0x0000, 12, R | W | U, MAP, 0x18 },
	{ "ro", GPA_PAGES + 0x1000, 12, R | U, MAP, 0x20 },
	{ "rx", GPA_PAGES + 0x2000, 12, R | X | U, MAP, 0 },
	{ "rwx", GPA_PAGES + 0x3000, 12, R | W | X | U, MAP, 0 },
	/* Without PGT_PROT_USER: the nested walk is a user access, so it always faults. */
	{ "supervisor", GPA_PAGES + 0x4000, 12, R | W | X, MAP, 0x28 },
	{ "reserved_leaf", GPA_PAGES + 0x5000, 12, 0, INSERT, 0 },
	{ "unmapped", GPA_PAGES + 0x6000, 12, 0, NONE, 0x30 },
	{ "uncached", GPA_PAGES + 0x7000, 12, R | W | U | PGT_PROT_UNCACHED, MAP, 0x38 },
	{ "table_no_rw", GPA_NO_RW, 12, R | W | X | U, MAP, 0 },
	{ "table_no_us", GPA_NO_US, 12, R | W | X | U, MAP, 0 },
	{ "table_nx", GPA_NX, 12, R | W | X | U, MAP, 0 },
	{ "page_2M", GPA_2M, 21, R | W | X | U, MAP, 0x12340 },
	{ "reserved_bit_2M", GPA_2M_RSVD, 21, R | W | U, MAP, 0x40 },
	{ "page_1G", GPA_1G, 30, R | U, MAP, 0 }, /* host RAM from 0: reads see the host's memory */
};
#define NPAGES (sizeof pages / sizeof pages[0])

/* Table entries the host edits after pgt_map: the level-1 entry over a 2M region. */
struct table_edit {
	uint32_t gpa;
	pgt_pte_t clear, set;
};

static const struct table_edit edits[] = {
	{ GPA_NO_RW, PGT_X86_RW,
	  0 }, /* writes below fault (SDM vol. 3A 4.6; APM vol. 2 chapter 5, page protection) */
	{ GPA_NO_US, PGT_X86_US, 0 }, /* every nested access below faults */
	{ GPA_NX, 0, PGT_X86_NX },    /* fetches below fault */
};

static unsigned next_frame;

/** The host-physical address behind page @p p (2M and 1G pages have theirs). */
static pgt_paddr_t backing(const struct gpage *p)
{
	if (p->shift == 30)
		return 0;
	if (p->shift == 21) /* the page with a reserved bit is never reached: any 2M frame does */
		return p->gpa == GPA_2M ? (uintptr_t)big_frame : 0x200000;
	if (next_frame == NFRAMES)
		hw_panic("npt: out of frames");
	return (uintptr_t)frames[next_frame++];
}

/* The level-1 entry over @p gpa, read from the tables as the MMU does (host pa == va). */
static pgt_pte_t *level1_entry(uint64_t gpa)
{
	pgt_pte_t *t = (pgt_pte_t *)(uintptr_t)pgt_space_root(&npt);

	for (unsigned l = 3; l > 1; l--)
		t = (pgt_pte_t *)(uintptr_t)(t[(gpa >> (12 + 9 * l)) & 511] & PGT_X86_ADDR_4K);
	return &t[(gpa >> 21) & 511];
}

static int map_page(const struct gpage *p)
{
	pgt_paddr_t pa = backing(p);
	uint64_t size = 1ull << p->shift;

	if (p->how == NONE)
		return PGT_OK;
	if (p->how == INSERT)
		return pgt_insert(&npt, p->gpa, p->shift, NULL);
	if (p->shift == 12) {
		memset((void *)(uintptr_t)pa, 0xa5, 4096);
		memcpy((void *)(uintptr_t)pa, guest_ret, sizeof guest_ret);
	} else if (p->gpa == GPA_2M) {
		memcpy(big_frame + p->probe, guest_ret, sizeof guest_ret);
	}
	return pgt_map(&npt, p->gpa, pa, size, p->prot, 0);
}

/** The nested table: the guest's code page, the test pages, the hand edits. */
static int build_npt(void)
{
	pgt_paddr_t code = (uintptr_t)frames[next_frame++];
	int rc = pgt_space_init(&npt, &pgt_arch_x86_64, &hw_mm, 0);

	if (rc != PGT_OK)
		return rc;
	memcpy((void *)(uintptr_t)code, guest_stubs, sizeof guest_stubs);
	memcpy((void *)(uintptr_t)(code + GUEST_RET_OFF), guest_ret, sizeof guest_ret);
	rc = pgt_map(&npt, GUEST_CODE, code, 4096, R | X | U, 0);
	for (unsigned i = 0; i < NPAGES && rc == PGT_OK; i++)
		rc = map_page(&pages[i]);
	if (rc != PGT_OK)
		return rc;
	for (unsigned i = 0; i < sizeof edits / sizeof edits[0]; i++) {
		pgt_pte_t *e = level1_entry(edits[i].gpa);
		*e = (*e & ~edits[i].clear) | edits[i].set;
	}
	/* 2M bits 20:13 are reserved (SDM vol. 3A table 4-18; APM vol. 2 chapter 5, 2-Mbyte PDE): the walk
	 * faults with RSVD. */
	pgt_pte_t *big = level1_entry(GPA_2M_RSVD);
	*big |= 1ull << 13;
	return PGT_OK;
}

/* ---- one probe ------------------------------------------------------------------ */

static const char *const op_names[] = { "read", "write", "exec" };
/* What the hardware did over all probes: completions, then #NPF by pgt_fault_kind. */
static unsigned completed_probes, npf_probes[PGT_FAULT_MISCONFIG + 1];
static const unsigned op_access[] = { PGT_ACC_READ, PGT_ACC_WRITE, PGT_ACC_EXEC };

/* The fault kind a #NPF's EXITINFO1 names: not present, a reserved bit, else the rights. */
static int npf_kind(uint64_t info1)
{
	if (info1 & NPF_RSVD)
		return PGT_FAULT_RESERVED_BIT;
	return (info1 & NPF_P) ? PGT_FAULT_PERMISSION : PGT_FAULT_NOT_PRESENT;
}

/** The #NPF the access must have taken: the error code of pgt_translate's fault, on the final GPA. */
static int check_npf(unsigned op, uint32_t gpa, const struct pgt_fault *f)
{
	uint64_t code = vmcb_get(VMCB_EXITCODE), info1 = vmcb_get(VMCB_EXITINFO1);
	uint64_t info2 = vmcb_get(VMCB_EXITINFO2);
	uint64_t want_rw = op == 1 ? NPF_RW : 0, want_id = op == 2 ? NPF_ID : 0;

	HW_EXPECT(code == EXIT_NPF, "exit %lx, pgt_translate: fault kind %d at level %u", code, f->kind,
		  f->level);
	HW_EXPECT(info2 == gpa && f->va == gpa, "EXITINFO2 %lx, fault va %lx, gpa %x", info2, f->va, gpa);
	HW_EXPECT(npf_kind(info1) == f->kind, "EXITINFO1 %lx: kind %d, pgt_translate %d", info1,
		  npf_kind(info1), f->kind);
	HW_EXPECT((info1 & (NPF_FINAL | NPF_TABLE)) == NPF_FINAL, "EXITINFO1 %lx: not on the final GPA",
		  info1);
	HW_EXPECT((info1 & NPF_US) && (info1 & NPF_RW) == want_rw && (info1 & NPF_ID) == want_id,
		  "EXITINFO1 %lx: not a user %s", info1, op_names[op]);
	return 1;
}

/* Host RAM the 1G page and the frames reach: inside the kernel's identity map. */
static const void *host_ptr(pgt_paddr_t pa)
{
	return pa + 8 <= hw_arch_layout()->ident_size ? (const void *)(uintptr_t)pa : NULL;
}

/** The access completed: VMMCALL, with what it read, wrote or ran at pgt_translate's address. */
static int check_done(unsigned op, uint64_t addr, pgt_paddr_t pa)
{
	uint64_t code = vmcb_get(VMCB_EXITCODE), rax = vmcb_get(VMCB_RAX);
	uint32_t seen;

	HW_EXPECT(code == EXIT_VMMCALL, "exit %lx (info1 %lx, info2 %lx), pgt_translate: pa %lx", code,
		  vmcb_get(VMCB_EXITINFO1), vmcb_get(VMCB_EXITINFO2), pa);
	const void *host = host_ptr(pa);
	if (op == 2)
		HW_EXPECT((uint32_t)rax == HW_MAGIC, "ran %lx at pa %lx, no magic", rax, pa);
	else if (host) {
		memcpy(&seen, host, 4);
		HW_EXPECT((uint32_t)rax == (op == 0 ? seen : (uint32_t)addr) &&
				  (op == 0 || seen == (uint32_t)addr),
			  "%s: guest eax %lx, host memory %x at pa %lx", op_names[op], rax, seen, pa);
	}
	return 1;
}

static int probe(const struct gpage *p, unsigned op)
{
	uint32_t gpa = p->gpa + p->probe;
	static const uint32_t stubs[] = { STUB_READ, STUB_WRITE, STUB_EXEC };
	pgt_paddr_t pa = 0;
	struct pgt_fault f = { 0 };
	int rc = pgt_translate(&npt, gpa, op_access[op] | PGT_ACC_USER, &pa, &f);
	uint8_t saved[8];
	const void *host = rc == PGT_OK ? host_ptr(pa) : NULL;

	HW_EXPECT(rc == PGT_OK || rc == PGT_EFAULT, "pgt_translate: %s", pgt_strerror(rc));
	if (host && op == 1)
		memcpy(saved, host, 8);
	guest_run(stubs[op], gpa);
	int ok = rc == PGT_OK ? check_done(op, gpa, pa) : check_npf(op, gpa, &f);
	if (vmcb_get(VMCB_EXITCODE) == EXIT_NPF)
		npf_probes[npf_kind(vmcb_get(VMCB_EXITINFO1))]++;
	else
		completed_probes++;
	if (host && op == 1)
		memcpy((void *)(uintptr_t)pa, saved, 8); /* the page's code stays runnable */
	return ok;
}

static unsigned report(const char *name, int result)
{
	hw_printf("@case %s %s %s\n", name, result > 0 ? "pass" : result < 0 ? "skip" : "fail", hw_fail_msg);
	hw_fail_msg[0] = 0;
	return result == 0;
}

/* The guest's own stubs run and return: SVM, the VMCB and the nested table work at all. */
static int case_guest_runs(void)
{
	uint64_t code = guest_run(STUB_EXEC, GUEST_CODE + GUEST_RET_OFF);

	HW_EXPECT(code == EXIT_VMMCALL && (uint32_t)vmcb_get(VMCB_RAX) == HW_MAGIC,
		  "first VMRUN: exit %lx (info1 %lx, info2 %lx), eax %lx", code, vmcb_get(VMCB_EXITINFO1),
		  vmcb_get(VMCB_EXITINFO2), vmcb_get(VMCB_RAX));
	return 1;
}

/* ---- the guest's own paging: pgt_translate_nested ------------------------------------ */

/*
 * The guest runs in 64-bit mode with 4-level paging whose tables the host
 * builds with the library in guest memory: GPA_GTABLES, backed by gt_mem
 * and mapped by the nested table page by page. pgt_translate_nested over a
 * view of those tables and the nested table must say what the hardware
 * does: a guest #PF (intercepted, exit 0x4e, EXITINFO2 the linear address)
 * for a stage-1 fault, a #NPF for a stage-2 one, with EXITINFO1 bit 33 set
 * and EXITINFO2 the guest-physical address of the stage-1 entry when the
 * walk itself missed (s1ptw).
 */
#define GPA_GTABLES 0x00400000u
#define EXIT_PF     (EXIT_EXCP_BASE + 14)
#define GVA_DATA    0x0000008000000000ull /* PML4 slot 1 */
#define GVA_PTW     0x0000010000000000ull /* PML4 slot 2: its level-0 table is not in the nested table */
static uint8_t gt_mem[2u << 20] __attribute__((aligned(2u << 20)));
static pgt_paddr_t gt_next = GPA_GTABLES;
static pgt_space_t gspace, gview;

static pgt_paddr_t gt_alloc(void *ctx, size_t size, unsigned level)
{
	pgt_paddr_t pa = (gt_next + size - 1) & ~(pgt_paddr_t)(size - 1);

	(void)ctx;
	(void)level;
	if (pa + size > GPA_GTABLES + sizeof gt_mem)
		return PGT_PADDR_NONE;
	gt_next = pa + size;
	return pa;
}

static void gt_free(void *ctx, pgt_paddr_t pa, size_t size, unsigned level)
{
	(void)ctx;
	(void)pa;
	(void)size;
	(void)level;
}

static void *gt_p2v(void *ctx, pgt_paddr_t gpa)
{
	(void)ctx;
	return gpa >= GPA_GTABLES && gpa < GPA_GTABLES + sizeof gt_mem ? gt_mem + (gpa - GPA_GTABLES) : NULL;
}

static const struct pgt_mm gt_mm = { .alloc_table = gt_alloc, .free_table = gt_free, .p2v = gt_p2v };

/** One guest-virtual page: the guest's mapping of it onto a guest-physical page of phase 1. */
struct vpage {
	const char *name;
	uint64_t gva;
	uint32_t gpa;  /**< 0: the guest maps nothing there */
	unsigned prot; /**< the guest's own rights */
};

static const struct vpage vpages[] = {
	{ "s1_rw_s2_rw", GVA_DATA + 0x0000, GPA_PAGES + 0x0000, R | W },
	{ "s1_rwx_s2_ro", GVA_DATA + 0x1000, GPA_PAGES + 0x1000, R | W | X },
	{ "s1_r_s2_rx", GVA_DATA + 0x2000, GPA_PAGES + 0x2000, R },
	{ "s1_rwx_s2_unmapped", GVA_DATA + 0x3000, GPA_PAGES + 0x6000, R | W | X },
	{ "s1_unmapped", GVA_DATA + 0x4000, 0, 0 },
	{ "s1_rwx_s2_rwx", GVA_DATA + 0x5000, GPA_PAGES + 0x3000, R | W | X },
	{ "s1_rwx_s2_supervisor", GVA_DATA + 0x6000, GPA_PAGES + 0x4000, R | W | X },
	{ "s1_table_not_in_s2", GVA_PTW, GPA_PAGES + 0x3000, R | W | X },
};
#define NVPAGES (sizeof vpages / sizeof vpages[0])

/*
 * A and D set in every present guest entry: the hardware then never writes
 * a guest table (a write the nested table might refuse, where
 * pgt_translate_nested reads the tables only). D is ignored in table entries.
 */
static void guest_preset_ad(void)
{
	pgt_pte_t *e = (pgt_pte_t *)(void *)gt_mem;

	for (size_t i = 0; i < (gt_next - GPA_GTABLES) / 8; i++)
		if (e[i] & PGT_X86_P)
			e[i] |= PGT_X86_A | PGT_X86_D;
}

/** The guest-physical address of the level-0 table the guest's walk of @p gva reads. */
static pgt_paddr_t guest_level0_table(uint64_t gva)
{
	pgt_paddr_t t = pgt_space_root(&gspace);

	for (unsigned l = 3; l > 0; l--) {
		const pgt_pte_t *e = gt_p2v(NULL, t);
		t = e[(gva >> (12 + 9 * l)) & 511] & PGT_X86_ADDR_4K;
	}
	return t;
}

/** The guest's tables and their view; the nested table maps them, all but GVA_PTW's level-0 table. */
static int build_guest(void)
{
	int rc = pgt_space_init(&gspace, &pgt_arch_x86_64, &gt_mm, 0);

	if (rc == PGT_OK)
		rc = pgt_map(&gspace, GUEST_CODE, GUEST_CODE, 4096, R | X, 0);
	for (unsigned i = 0; i < NVPAGES && rc == PGT_OK; i++)
		if (vpages[i].gpa)
			rc = pgt_map(&gspace, vpages[i].gva, vpages[i].gpa, 4096, vpages[i].prot, 0);
	if (rc == PGT_OK)
		rc = pgt_map(&npt, GPA_GTABLES, (uintptr_t)gt_mem, sizeof gt_mem, R | W | U, PGT_MAP_NOSUPER);
	if (rc == PGT_OK)
		rc = pgt_protect(&npt, guest_level0_table(GVA_PTW), 4096, 0);
	if (rc == PGT_OK)
		rc = pgt_space_view(&gview, &pgt_arch_x86_64, &gt_mm, pgt_space_root(&gspace), 0);
	guest_preset_ad();
	return rc;
}

#define EFER_LME    (1ull << 8)
#define EFER_LMA    (1ull << 10)
#define EFER_NXE    (1ull << 11)
#define ATTR_CODE64 0xa9b /* present, DPL 0, code execute/read accessed, L = 1, G = 1 */

/** The VMCB switched to a 64-bit guest with its own paging (CR3 a guest-physical address). */
static void vmcb_long_mode(void)
{
	flat_segment(VMCB_CS, 0x08, ATTR_CODE64);
	vmcb_put(VMCB_EFER, EFER_SVME | EFER_LME | EFER_LMA | EFER_NXE, 8);
	vmcb_put(VMCB_CR0, 0x80010011u, 8); /* PG, WP, ET, PE */
	vmcb_put(VMCB_CR4, 1u << 5, 8);     /* PAE */
	vmcb_put(VMCB_CR3, pgt_space_root(&gspace), 8);
}

/* The stage-1 fault kind of a guest #PF's error code (SDM vol. 3A 4.7; APM vol. 2 chapter 8, page-fault error
 * code). */
static int pf_kind(uint64_t code)
{
	if (code & NPF_RSVD)
		return PGT_FAULT_RESERVED_BIT;
	return (code & NPF_P) ? PGT_FAULT_PERMISSION : PGT_FAULT_NOT_PRESENT;
}

/** The exit a faulting two-stage access must have taken, by pgt_translate_nested's fault. */
static int check_nested_fault(unsigned op, uint64_t gva, const struct pgt_fault *f)
{
	uint64_t code = vmcb_get(VMCB_EXITCODE), info1 = vmcb_get(VMCB_EXITINFO1);
	uint64_t info2 = vmcb_get(VMCB_EXITINFO2);

	HW_EXPECT(f->va == gva, "fault va %lx, gva %lx", f->va, gva);
	if (f->stage == 1) {
		HW_EXPECT(code == EXIT_PF,
			  "exit %lx (info1 %lx, info2 %lx), pgt_translate_nested: stage 1 kind %d", code,
			  info1, info2, f->kind);
		HW_EXPECT(info2 == gva && pf_kind(info1) == f->kind,
			  "#PF error %lx at %lx: kind %d, expected %d", info1, info2, pf_kind(info1),
			  f->kind);
		return 1;
	}
	HW_EXPECT(code == EXIT_NPF,
		  "exit %lx (info1 %lx, info2 %lx), pgt_translate_nested: stage 2 kind %d ipa %lx", code,
		  info1, info2, f->kind, f->ipa);
	HW_EXPECT(info2 == f->ipa && npf_kind(info1) == f->kind,
		  "#NPF %lx at %lx: kind %d, expected %d at %lx", info1, info2, npf_kind(info1), f->kind,
		  f->ipa);
	HW_EXPECT(!!(info1 & NPF_TABLE) == !!f->s1ptw && !!(info1 & NPF_FINAL) == !f->s1ptw,
		  "#NPF %lx: table walk %d, pgt_translate_nested s1ptw %u", info1, !!(info1 & NPF_TABLE),
		  f->s1ptw);
	if (!f->s1ptw)
		HW_EXPECT(!!(info1 & NPF_RW) == (op == 1) && !!(info1 & NPF_ID) == (op == 2),
			  "#NPF %lx: not a %s", info1, op_names[op]);
	return 1;
}

static unsigned nested_faults[3]; /* stage 1, stage 2 on the access, stage 2 on a table read */

static int probe_nested(const struct vpage *v, unsigned op)
{
	static const uint32_t stubs[] = { GUEST_CODE + STUB64, GUEST_CODE + STUB64 + 8,
					  GUEST_CODE + STUB64 + 16 };
	pgt_paddr_t pa = 0;
	struct pgt_fault f = { 0 };
	int rc = pgt_translate_nested(&gview, &npt, v->gva, op_access[op], &pa, &f);
	uint8_t saved[8];
	const void *host = rc == PGT_OK ? host_ptr(pa) : NULL;

	HW_EXPECT(rc == PGT_OK || rc == PGT_EFAULT, "pgt_translate_nested: %s", pgt_strerror(rc));
	if (host && op == 1)
		memcpy(saved, host, 8);
	guest_run(stubs[op], v->gva);
	int ok = rc == PGT_OK ? check_done(op, v->gva, pa) : check_nested_fault(op, v->gva, &f);
	if (host && op == 1)
		memcpy((void *)(uintptr_t)pa, saved, 8);
	if (rc != PGT_OK)
		nested_faults[f.stage == 1 ? 0 : f.s1ptw ? 2 : 1]++;
	return ok;
}

/** Phase two: the guest's own paging on, every page of vpages[] read, written and run. */
static unsigned run_nested(void)
{
	unsigned failed = 0;
	char name[64];
	int rc = build_guest();

	if (rc != PGT_OK) {
		hw_format(hw_fail_msg, sizeof hw_fail_msg, "guest tables: %s", pgt_strerror(rc));
		return report("guest_paging_built", 0);
	}
	vmcb_long_mode();
	for (unsigned i = 0; i < NVPAGES; i++)
		for (unsigned op = 0; op < 3; op++) {
			hw_format(name, sizeof name, "nested_%s_%s", vpages[i].name, op_names[op]);
			failed += report(name, probe_nested(&vpages[i], op));
		}
	hw_printf("@note nested: %u guest-virtual probes against pgt_translate_nested: %u stage-1 faults, %u "
		  "stage-2 on the access, %u stage-2 on a stage-1 table read\n",
		  (unsigned)NVPAGES * 3, nested_faults[0], nested_faults[1], nested_faults[2]);
	return failed;
}

unsigned hw_run_cases(pgt_space_t *kernel)
{
	const char *missing = svm_missing();
	unsigned failed = 0;
	char name[48];

	(void)kernel;
	if (missing) {
		hw_format(hw_fail_msg, sizeof hw_fail_msg, "%s", missing);
		return report("svm_nested_paging", -1);
	}
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, (uintptr_t)hsave);
	int rc = build_npt();
	if (rc != PGT_OK) {
		hw_format(hw_fail_msg, sizeof hw_fail_msg, "nested table: %s", pgt_strerror(rc));
		return report("npt_built", 0);
	}
	vmcb_setup(pgt_space_root(&npt));
	failed += report("guest_runs", case_guest_runs());
	for (unsigned i = 0; i < NPAGES; i++)
		for (unsigned op = 0; op < 3; op++) {
			hw_format(name, sizeof name, "npt_%s_%s", pages[i].name, op_names[op]);
			failed += report(name, probe(&pages[i], op));
		}
	hw_printf("@note npt: %u guest-physical probes against pgt_translate: %u completed, #NPF %u not "
		  "present, "
		  "%u permission, %u reserved bit\n",
		  (unsigned)NPAGES * 3, completed_probes, npf_probes[PGT_FAULT_NOT_PRESENT],
		  npf_probes[PGT_FAULT_PERMISSION], npf_probes[PGT_FAULT_RESERVED_BIT]);
	return failed + run_nested();
}
