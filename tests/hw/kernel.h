/* SPDX-License-Identifier: MIT */
/*
 * The test kernels: what the architecture-independent part (kernel.c and
 * the case files) needs from each architecture's part (tests/hw/<arch>/),
 * and the small runtime the cases share. Freestanding: no libc anywhere here.
 *
 * A kernel prints one line per event on its console; tests/hw/hwrun.py
 * reads them (see the protocol at the top of that file).
 */
#ifndef PGT_TESTS_HW_KERNEL_H
#define PGT_TESTS_HW_KERNEL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <pgtable/arch.h>
#include <pgtable/pgtable.h>

/* ---- provided by the architecture ------------------------------------- */

/** Where things are in this machine's physical and virtual memory. */
struct hw_layout {
	const struct pgt_arch *arch;
	const char *name;           /**< printed in result lines */
	pgt_paddr_t ram_base;       /**< start of RAM; the identity map starts here */
	uint64_t ident_size;        /**< bytes identity-mapped (rounded up to a leaf) */
	pgt_paddr_t test_area;      /**< physical frames the cases may use ... */
	uint64_t test_size;         /**< ... this many bytes, inside the identity map */
	pgt_vaddr_t va_low;         /**< free window in the lower half (user side) */
	pgt_vaddr_t va_high;        /**< free window in the kernel half */
	pgt_vaddr_t va_far;         /**< an address under no table at all */
	uint64_t kernel_half;       /**< bytes of the kernel half, from va_high */
	pgt_paddr_t device_base;    /**< console registers, identity-mapped (0: none) */
	int kernel_never_runs_user; /**< kernel fetches from user pages fault (ARM PXN, x86 SMEP) */
	int user_nx_in_tables;      /**< ... because the leaves say so (ARM PXN), not a control bit */
	int walker_sets_accessed;   /**< the walker sets A and D (x86); else a clear AF faults (ARMv8.0) */
	int exec_only;              /**< execute-only leaves (RISC-V); else PGT_PROT_EXEC is refused */
	int kernel_no_user_data;    /**< kernel loads and stores on user pages fault (RISC-V SUM 0) */
};

/** Kinds of probe access. */
enum hw_op { HW_READ, HW_WRITE, HW_EXEC };

/** What the hardware said about one probe. */
struct hw_fault {
	int faulted;       /**< 0: the access completed */
	int kind;          /**< enum pgt_fault_kind, decoded from the syndrome; or HW_KIND_UNKNOWN */
	unsigned access;   /**< PGT_ACC_READ/WRITE/EXEC | PGT_ACC_USER, from the syndrome */
	pgt_vaddr_t addr;  /**< faulting address (CR2, FAR_EL1) */
	uint64_t syndrome; /**< raw: x86 error code, ARM ESR_EL1 */
	int level;         /**< library level of the faulting walk step; -1 if not reported */
};

/**
 * hw_fault.kind when the hardware does not say why a page faulted (RISC-V
 * raises one exception for an invalid entry and a forbidding one): the
 * case's expected kind is then held against pgt_translate alone.
 */
#define HW_KIND_UNKNOWN (-1)

const struct hw_layout *hw_arch_layout(void);
/** Console and exception vectors; called first, MMU in its boot state. */
void hw_arch_init(void);
void hw_arch_putc(char c);
/** Waits for one byte from the console (the harness's go-ahead). */
int hw_arch_getc(void);
/** Maps what the kernel needs besides RAM (console registers) into @p sp. */
int hw_arch_map_devices(pgt_space_t *sp);
/** Addresses the kernel must find in a space before switching to it. */
void hw_arch_vital(pgt_vaddr_t out[], unsigned *n);
/** Makes @p root the active translation (enables the MMU the first time). */
void hw_arch_switch(pgt_paddr_t root);
/** Invalidates the TLB for [va, va+size) (invlpg, tlbi): the tlb_flush hook. */
void hw_arch_flush(pgt_vaddr_t va, uint64_t size);
/**
 * One access at @p va, privileged or (@p user) unprivileged; a fault is
 * recorded by the exception handler, which resumes at a fixup. Returns the
 * value read, or what the code at @p va returned (HW_EXEC).
 */
uint64_t hw_arch_probe(enum hw_op op, int user, pgt_vaddr_t va, uint64_t val, struct hw_fault *f);
/** Machine code that returns HW_MAGIC (for kernel or user mode), copied into test pages. */
const void *hw_arch_ret_code(int user, size_t *len);
/** Makes code written at @p wva (through a writable alias) visible for fetches anywhere. */
void hw_arch_sync_code(void *wva, size_t len);
/** Where the user-mode probe stubs live; the common code maps them there. */
const void *hw_arch_user_stubs(size_t *len);
void hw_arch_set_user_stubs(pgt_vaddr_t va);
/** Ends the run: distinctive status for a completed run, another for a crash. */
_Noreturn void hw_arch_exit(int completed);

/* SMP kernels only (tests/hw/x86_64/smp.c, smp.S). */

/**
 * Starts the second CPU on the active space's tables, running @p fn (which
 * never returns) on a stack of its own. PGT_OK once it runs.
 */
int hw_arch_start_cpu(void (*fn)(void));
/** Set in hw_arch_try_store's result when the store faulted (the rest is the syndrome). */
#define HW_STORE_FAULTED (1ull << 32)
/**
 * One store of @p v at @p va by the calling CPU, which first drops its own
 * cached translation of @p va (nobody else invalidates it): 0 when the
 * store completed, else HW_STORE_FAULTED | the fault's syndrome.
 */
uint64_t hw_arch_try_store(pgt_vaddr_t va, uint64_t v);
/** Wall-clock seconds within the hour, for time budgets (the host's time under QEMU). */
unsigned hw_arch_seconds(void);

/** What the test code returns when it runs. */
#define HW_MAGIC 0x5a17u

/* ---- provided by kernel.c --------------------------------------------- */

void hw_printf(const char *fmt, ...);
void hw_vformat(char *buf, size_t size, const char *fmt, va_list ap);
void hw_format(char *buf, size_t size, const char *fmt, ...);
_Noreturn void hw_panic(const char *fmt, ...);

/** The frame allocator and hooks every space of the kernel uses. */
extern struct pgt_mm hw_mm;
/** tlb_flush hook calls so far. */
extern unsigned long hw_flushes;
/** Tables handed out and not given back. */
extern long hw_tables_live;
/** When set, told what hw_mm's leaf_ad hook is told (every space's mm is a copy of hw_mm). */
extern void (*hw_leaf_ad)(pgt_vaddr_t va, pgt_paddr_t pa, uint64_t size, unsigned ad);

/** Leaves the kernel installed, as the monitor should see them: a run of equal pages. */
struct hw_leaf {
	const pgt_space_t *sp; /**< the space whose tables hold them */
	pgt_vaddr_t va;
	pgt_paddr_t pa;
	uint64_t size; /**< bytes of the run */
	uint64_t page; /**< bytes of each leaf in it */
	unsigned prot;
};

/** Installs a leaf with pgt_insert + pgt_set_field and records it. */
int hw_install(pgt_space_t *sp, pgt_vaddr_t va, pgt_paddr_t pa, unsigned shift, unsigned prot);
/**
 * As hw_install, but a broken build (HW_BROKEN) installs something else
 * than it records: the self-test kernels that the harness must catch.
 */
int hw_install_victim(pgt_space_t *sp, pgt_vaddr_t va, pgt_paddr_t pa, unsigned shift, unsigned prot);
/** Records one leaf made by another call, replacing what was recorded there. */
void hw_record(const pgt_space_t *sp, pgt_vaddr_t va, pgt_paddr_t pa, uint64_t size, unsigned prot);
/** Records a run of leaves of @p page bytes each (what pgt_map makes). */
void hw_record_run(const pgt_space_t *sp, pgt_vaddr_t va, pgt_paddr_t pa, uint64_t size, uint64_t page,
		   unsigned prot);
/** Forgets [va, va+size) of @p sp; runs that stick out keep their outer parts. */
void hw_forget(const pgt_space_t *sp, pgt_vaddr_t va, uint64_t size);
/** The record holding @p va is now a run of @p page leaves (a superpage the library split). */
void hw_split_record(const pgt_space_t *sp, pgt_vaddr_t va, uint64_t page);
/** @p dst borrows @p src's tables for [va, va+size) (pgt_share), until hw_drop_shares(dst). */
void hw_note_share(const pgt_space_t *dst, const pgt_space_t *src, pgt_vaddr_t va, uint64_t size);
void hw_drop_shares(const pgt_space_t *dst);
/** Forgets every record of @p sp (before destroying it). */
void hw_forget_space(const pgt_space_t *sp);

/** The space that is active now, and switching to another. */
extern pgt_space_t *hw_active;
void hw_switch(pgt_space_t *sp);
/**
 * Monitor checkpoint: prints the active space's leaves (and samples),
 * then waits for the harness to compare them with QEMU's own walk.
 */
void hw_checkpoint(const char *tag);

/* ---- cases ------------------------------------------------------------ */

/** Fails the current case with a message (kept for its result line); returns 0. */
int hw_fail(const char *fmt, ...);
#define HW_EXPECT(cond, ...)                         \
	do {                                         \
		if (!(cond))                         \
			return hw_fail(__VA_ARGS__); \
	} while (0)

struct hw_case {
	const char *name;
	int (*run)(void); /**< 1: pass, 0: fail (hw_fail said why), -1: skip */
};

/** Runs the cases of cases.c in the kernel space; returns the number that failed. */
unsigned hw_run_cases(pgt_space_t *kernel);

void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif /* PGT_TESTS_HW_KERNEL_H */
