/* SPDX-License-Identifier: MIT */
/*
 * Two-stage translation: what an MMU does with a guest's first stage and a
 * hypervisor's second stage both on (Arm ARM D8 "stage 2 translation" with
 * S1PTW; RISC-V two-stage translation, htval; Intel EPT guest-physical
 * addresses). Every stage-1 table entry is read at the host address stage 2
 * gives for a read of its guest-physical address, and the stage-1 leaf's
 * output address is then translated by stage 2 with the access itself.
 *
 * This is the slow, exact path a hypervisor takes on a fault and a
 * simulator on a guest TLB miss: one pgt_translate of stage 2 per stage-1
 * level, each walk bounded by its level count.
 */
#include "rights.h"

/** Access bits pgt_translate_nested accepts: no accessed/dirty update. */
#define NESTED_ACC (PGT__ACC_KIND | PGT_ACC_USER)

/** Exactly one access kind, and no unknown bit. */
static bool nested_access_ok(unsigned access)
{
	unsigned kind = access & PGT__ACC_KIND;

	return !(access & ~NESTED_ACC) && (kind == PGT_ACC_READ || kind == PGT_ACC_WRITE || kind == PGT_ACC_EXEC);
}

/**
 * The access stage 2 checks for a stage-1 access of kind @p kind. A
 * second-stage format sees the privilege of the access (FEAT_XNX, MBEC);
 * a first-stage format used as the second stage (AMD nested paging) sees
 * every access as a user access (AMD APM vol. 2, 15.25.5).
 */
static unsigned stage2_access(const pgt_space_t *s2, unsigned access, unsigned kind)
{
	unsigned user = s2->pgt__arch->stage == 2 ? access & PGT_ACC_USER : PGT_ACC_USER;

	return kind | user;
}

/**
 * Translates the guest-physical address @p ipa by stage 2. A fault (or an
 * address beyond stage 2's input range, which the MMU reports as a
 * translation fault at its first level) becomes a stage-2 fault of the
 * translation of @p va.
 */
static int stage2(const pgt_space_t *s2, pgt_paddr_t ipa, unsigned access, bool s1ptw, pgt_vaddr_t va,
		  pgt_paddr_t *hpa, struct pgt_fault *fault)
{
	struct pgt_fault f;
	int rc = pgt_translate(s2, ipa, access, hpa, &f);

	if (rc == PGT_ERANGE) {
		f = (struct pgt_fault){ .kind = PGT_FAULT_NOT_PRESENT, .level = pgt__root_level(s2) };
		rc = PGT_EFAULT;
	}
	if (rc == PGT_EFAULT && fault)
		*fault = (struct pgt_fault){
			.kind = f.kind, .level = f.level, .va = va, .stage = 2, .s1ptw = s1ptw, .ipa = ipa
		};
	return rc;
}

/**
 * Reads the stage-1 entry at guest-physical address @p ipa: stage 2
 * translates it as a read by the walker, which no privilege qualifies
 * (second-stage formats tell privileges apart only for execution), and
 * s2's p2v reaches the host frame.
 */
static int read_s1_entry(const pgt_space_t *s2, pgt_paddr_t ipa, pgt_vaddr_t va, pgt_pte_t *pte,
			 struct pgt_fault *fault)
{
	pgt_paddr_t hpa;
	int rc = stage2(s2, ipa, stage2_access(s2, 0, PGT_ACC_READ), true, va, &hpa, fault);

	if (rc != PGT_OK)
		return rc;
	const pgt_pte_t *p = pgt__p2v(s2, hpa);
	if (!p || ((uintptr_t)p & (sizeof(pgt_pte_t) - 1)))
		return PGT_EHOOK;
	*pte = pgt__pte_load(p);
	return PGT_OK;
}

/**
 * A fault of the first stage, whatever its format: a second-stage format
 * may be the first of two (a guest hypervisor's stage 2 under the host's),
 * and the fault still belongs to the first stage.
 */
static int stage1_fault(struct pgt_fault *fault, int kind, unsigned level, pgt_vaddr_t va)
{
	if (fault)
		*fault = (struct pgt_fault){ .kind = kind, .level = level, .va = va, .stage = 1 };
	return PGT_EFAULT;
}

/** Where a stage-1 walk ended: its last entry, that entry's level, and the rights the tables left. */
struct s1_stop {
	pgt_pte_t pte;
	unsigned level;
	unsigned rights;
	enum pgt__tr_end end;
};

/**
 * Walks stage 1 for @p va with every table read through stage 2; one step
 * per level, so a looping or malformed guest table ends the walk.
 */
static int walk_stage1(const pgt_space_t *s1, const pgt_space_t *s2, pgt_vaddr_t va, struct s1_stop *stop,
		       struct pgt_fault *fault)
{
	const struct pgt_arch *a = s1->pgt__arch;
	pgt_paddr_t table = s1->pgt__root_pa;
	unsigned rights = PGT_RIGHTS_ALL;

	for (unsigned l = pgt__root_level(s1);; l--) {
		const struct pgt_level *L = &a->level[l];
		pgt_pte_t pte;
		int rc = read_s1_entry(s2, table + pgt__index(L, va) * sizeof(pgt_pte_t), va, &pte, fault);

		if (rc != PGT_OK)
			return rc;
		*stop = (struct s1_stop){ .pte = pte, .level = l, .rights = rights, .end = PGT__TR_MALFORMED };
		if (!pgt__is_table(L, l, pte)) {
			stop->end = pgt__tr_stop(L, pte);
			return PGT_OK;
		}
		if (pgt__table_malformed(L, pte))
			return PGT_OK;
		rights &= ~pgt__rules_remove(L->table_rules, pte);
		table = pgt__table_pa(L, pte);
	}
}

int pgt_translate_nested(const pgt_space_t *s1, const pgt_space_t *s2, pgt_vaddr_t va, unsigned access,
			 pgt_paddr_t *pa, struct pgt_fault *fault)
{
	if (!pgt__space_ok(s1) || !pgt__space_ok(s2))
		return PGT_EINVAL;
	if (!nested_access_ok(access))
		return PGT_EFLAGS;
	if (!pgt__va_ok(s1, va))
		return PGT_ERANGE;

	const struct pgt_arch *a = s1->pgt__arch;
	struct s1_stop stop;
	int rc = walk_stage1(s1, s2, va, &stop, fault);
	if (rc != PGT_OK)
		return rc;
	if (stop.end != PGT__TR_LEAF)
		return stage1_fault(fault, pgt__walk_fault(a, stop.end), stop.level, va);
	int kind = pgt__leaf_fault(a, stop.level, stop.pte, stop.rights, access);
	if (kind != PGT_FAULT_NONE)
		return stage1_fault(fault, kind, stop.level, va);

	pgt_paddr_t ipa = pgt__leaf_pa(&a->level[stop.level], stop.pte, va);
	unsigned kind_bits = access & PGT__ACC_KIND;
	return stage2(s2, ipa, stage2_access(s2, access, kind_bits), false, va, pa, fault);
}
