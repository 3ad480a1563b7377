/* SPDX-License-Identifier: MIT */
/*
 * Shared by the case files: page slots (one per use, in the low window and
 * the test area) and the probe helpers of expect.c.
 */
#ifndef PGT_TESTS_HW_CASES_H
#define PGT_TESTS_HW_CASES_H

#include "kernel.h"

#define RW (PGT_PROT_READ | PGT_PROT_WRITE)
#define RX (PGT_PROT_READ | PGT_PROT_EXEC)

/* Page slots in the low window and frames in the test area, one per use. */
enum slot {
	S_ALIAS,
	S_TWO,
	S_UNMAPPED,
	S_RESERVED,
	S_WRITE,
	S_RO,
	S_NX,
	S_EXEC,
	S_UREAD,
	S_URO,
	S_KERNEL,
	S_DOWN,
	S_REVOKE,
	S_REMAP,
	S_REMAP_TO,
	S_STUBS,
	S_UEXEC,
	S_UNCACHED,
	S_KEXEC,
	S_STATUS,
	S_MDB,
	S_MDB_C,
	S_XONLY,
	S_KUSER,
	S_UNMAP = 24, /* four pages */
	S_PROT = 28,  /* two pages */
	S_SHARE_U = 30,
	S_SHARE_A,
	S_SHARE_B,
	S_SHARE_K1,
	S_SHARE_K2,
	S_SUPER_DATA = 40,
	S_MAP_DATA = 50,
	S_SPLIT_DATA = 60,
	S_PSPLIT_DATA = 70
};

/** Why the current case failed (or was skipped). */
extern char hw_fail_msg[160];

unsigned hw_page_shift(void);
/** Bytes of the smallest page. */
uint64_t hw_page(void);
pgt_vaddr_t hw_slot_va(enum slot s);
pgt_paddr_t hw_slot_frame(enum slot s);
/** The frame through the identity map: how the cases check where a store landed. */
volatile uint64_t *hw_ident(pgt_paddr_t pa);
/** A value that names the address it was written to, so a wrong frame shows. */
uint64_t hw_pattern(pgt_vaddr_t va);
/**
 * Checks that @p f is the fault the architecture defines for this access,
 * and that pgt_translate faults there the same way.
 */
int hw_expect_fault(const struct hw_fault *f, pgt_vaddr_t va, int kind, unsigned access);
/** As hw_expect_fault, for faults the tables do not decide (x86 SMEP): the MMU alone. */
int hw_expect_mmu_fault(const struct hw_fault *f, pgt_vaddr_t va, int kind, unsigned access);
/** pgt_translate allows @p access at @p va (reaching @p want unless PGT_PADDR_NONE). */
int hw_translate_ok(pgt_vaddr_t va, unsigned access, pgt_paddr_t want);
int hw_store_ok(pgt_vaddr_t va, uint64_t v, int user);
int hw_load_is(pgt_vaddr_t va, uint64_t want, int user);
/** Writes through @p va, reads the frame @p pa directly, and the other way round. */
int hw_same_memory(pgt_vaddr_t va, pgt_paddr_t pa);
/** Copies the return-magic routine into the frame of @p s through the identity map. */
void hw_put_code(enum slot s, int user);

/** Runs one case and prints its result line; returns 1 when it failed. */
unsigned hw_run_one(const char *name, int (*run)(void));
/** The cases of cases_range.c (pgt_map, pgt_unmap, pgt_protect, pgt_share); returns how many failed. */
unsigned hw_run_range_cases(pgt_space_t *kernel);
/** The case of cases_mdb.c (pgt_mdb_map and pgt_mdb_unmap across three spaces), run from @p kernel. */
int hw_case_mdb_revoke(pgt_space_t *kernel);

#endif /* PGT_TESTS_HW_CASES_H */
