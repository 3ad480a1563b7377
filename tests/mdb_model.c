/* SPDX-License-Identifier: MIT */
/*
 * The mapping database's abstract model and its test helpers (mdb_model.h).
 */
#include "mdb_model.h"

#include <stdio.h>
#include <stdlib.h>

/* --- a descriptor with tiny tables, so that superpages fit in a model ------ */

/*
 * Eight entries per table: a level-1 leaf is eight 4 KiB pages, and a
 * window of the model holds several of them. Rights and status bits sit
 * above the address fields; tables are 64-byte aligned. The format
 * requires break-before-make, as ARMv8 does.
 */
#define TBIT(n) ((pgt_pte_t)1 << (n))
#define T_VALID TBIT(0)
#define T_TABLE TBIT(1)
#define T_RSV   TBIT(2)
#define T_R     TBIT(52)
#define T_W     TBIT(53)
#define T_X     TBIT(54)
#define T_U     TBIT(55)
#define T_G     TBIT(56)
#define T_UC    TBIT(57)
#define T_AF    TBIT(58)
#define T_DIRTY TBIT(59)
#define T_ATTRS (T_U | T_G | T_UC)
#define T_PROT  (T_VALID | T_TABLE | T_RSV | T_R | T_W | T_X | T_ATTRS)

static int tiny_encode(unsigned level, unsigned prot, pgt_pte_t *bits)
{
	unsigned rights = prot & RIGHTS;
	pgt_pte_t attrs = ((prot & PGT_PROT_USER) ? T_U : 0) | ((prot & PGT_PROT_GLOBAL) ? T_G : 0) |
			  ((prot & PGT_PROT_UNCACHED) ? T_UC : 0);

	if (level > 1 || (prot & ~PGT_PROT_ALL))
		return PGT_EINVAL;
	if (prot & (PGT_PROT_NONCACHEABLE | PGT_PROT_WRITECOMBINE))
		return PGT_ENOTSUP; /* device memory is the only other type */
	if (rights && !(rights & PGT_PROT_READ))
		return PGT_ENOTSUP;
	if (!rights) {
		*bits = T_RSV | attrs;
		return PGT_OK;
	}
	*bits = T_VALID | T_R | ((prot & PGT_PROT_WRITE) ? T_W : 0) | ((prot & PGT_PROT_EXEC) ? T_X : 0) |
		attrs;
	return PGT_OK;
}

static unsigned tiny_decode(unsigned level, pgt_pte_t pte)
{
	unsigned prot = 0;

	(void)level;
	if (pte & T_VALID)
		prot |= ((pte & T_R) ? PGT_PROT_READ : 0) | ((pte & T_W) ? PGT_PROT_WRITE : 0) |
			((pte & T_X) ? PGT_PROT_EXEC : 0);
	return prot | ((pte & T_U) ? PGT_PROT_USER : 0) | ((pte & T_G) ? PGT_PROT_GLOBAL : 0) |
	       ((pte & T_UC) ? PGT_PROT_UNCACHED : 0);
}

#define T_LEAF_RULES                                                                              \
	{                                                                                         \
		{ T_R, 0, PGT_RIGHT_PR | PGT_RIGHT_UR }, { T_W, 0, PGT_RIGHT_PW | PGT_RIGHT_UW }, \
			{ T_X, 0, PGT_RIGHT_PX | PGT_RIGHT_UX },                                  \
		{                                                                                 \
			T_U, 0, PGT_RIGHT_UR | PGT_RIGHT_UW | PGT_RIGHT_UX                        \
		}                                                                                 \
	}
#define T_OA(shift) ((((pgt_pte_t)1 << 48) - 1) & ~(((pgt_pte_t)1 << (shift)) - 1))

/** A level of 2^bits_ entries (tables of 64 bytes) whose leaves map 2^shift_ bytes. */
#define T_LEAF_LEVEL(shift_, bits_)                                                                      \
	{                                                                                                \
		.shift = (shift_), .bits = (bits_), .leaf_ok = 1, .table_size = 64, .valid = T_VALID,    \
		.type_mask = T_VALID | T_TABLE, .table_type = T_VALID | T_TABLE, .leaf_type = T_VALID,   \
		.reserved = T_RSV, .table_oa = T_OA(6), .leaf_oa = T_OA(shift_), .prot_mask = T_PROT,    \
		.accessed = T_AF, .dirty = T_DIRTY, .leaf_rules = T_LEAF_RULES,                         \
		.leaf_mbz = T_OA(12) & ~T_OA(shift_)                                                     \
	}

const struct pgt_arch tiny_arch = {
	.name = "tiny-3level",
	.levels = 3,
	.va_bits = 21,
	.pa_bits = 48,
	.canon = PGT_CANON_SPLIT,
	.break_before_make = 1,
	.level = {
		T_LEAF_LEVEL(12, 3),
		T_LEAF_LEVEL(15, 3),
		{ .shift = 18, .bits = 3, .leaf_ok = 0, .table_size = 64, .valid = T_VALID,
		  .type_mask = T_VALID | T_TABLE, .table_type = T_VALID | T_TABLE, .leaf_type = T_VALID,
		  .table_oa = T_OA(6) },
	},
	.prot_encode = tiny_encode,
	.prot_decode = tiny_decode,
};

/*
 * Two levels of eight entries, leaves in the root: a root-level leaf is
 * eight pages, so that a window holds several, in root entries 1 and up,
 * and root entry 0, which keeps the attachment mark, too.
 */
const struct pgt_arch tiny_root_arch = {
	.name = "tiny-2level-root-leaves",
	.levels = 2,
	.va_bits = 18,
	.pa_bits = 48,
	.canon = PGT_CANON_SPLIT,
	.break_before_make = 1,
	.level = {
		T_LEAF_LEVEL(12, 3),
		T_LEAF_LEVEL(15, 3),
	},
	.prot_encode = tiny_encode, /* leaves at levels 0 and 1, as tiny_arch's */
	.prot_decode = tiny_decode,
};

/* --- node memory with books and failure injection ------------------------ */

static void *node_alloc(void *ctx, size_t size)
{
	struct node_mm *m = ctx;

	if (++m->attempts == m->fail_at)
		return NULL;
	m->allocs++;
	return malloc(size);
}

static void node_free(void *ctx, void *p, size_t size)
{
	struct node_mm *m = ctx;

	if (!p || size == 0)
		m->errors++;
	m->frees++;
	free(p);
}

void node_mm_init(struct node_mm *m)
{
	*m = (struct node_mm){ .mm = { .alloc_node = node_alloc, .free_node = node_free } };
	m->mm.ctx = m;
}

/* --- the abstract model ---------------------------------------------------- */

/** s |- x ~>+ target: a path of one or more steps from page x to page target. */
static bool reaches(const struct model *m, int sp, int pg, int tsp, int tpg)
{
	for (int steps = 0; steps <= NSPACES * WINDOW; steps++) {
		const struct mpage *x = &m->p[sp][pg];
		if (!x->valid || x->sp < 0)
			return false;
		sp = x->sp;
		pg = x->pg;
		if (sp == tsp && pg == tpg)
			return true;
	}
	fprintf(stderr, "mdb model: a loop of origins\n"); /* theorem 1 says never */
	abort();
}

/** Removes every page without READ or whose virtual origin is gone, until none is left. */
static void model_clean(struct model *m)
{
	bool changed = true;

	while (changed) {
		changed = false;
		for (int s = 0; s < NSPACES; s++)
			for (int g = 0; g < WINDOW; g++) {
				struct mpage *x = &m->p[s][g];
				if (x->valid && (!(x->prot & PGT_PROT_READ) ||
						 (x->sp >= 0 && !m->p[x->sp][x->pg].valid))) {
					x->valid = false;
					changed = true;
				}
			}
	}
}

/** flush1 (self) and unmap1 (not self) of MDB.md. */
void model_revoke(struct model *m, int sp, int pg, unsigned r, bool self)
{
	bool hit[NSPACES][WINDOW];

	for (int s = 0; s < NSPACES; s++)
		for (int g = 0; g < WINDOW; g++)
			hit[s][g] = reaches(m, s, g, sp, pg);
	for (int s = 0; s < NSPACES; s++)
		for (int g = 0; g < WINDOW; g++)
			if (hit[s][g])
				m->p[s][g].prot &= ~r;
	if (self)
		m->p[sp][pg].prot &= ~r;
	model_clean(m);
}

static unsigned model_derived(unsigned from, unsigned p)
{
#ifdef MDB_MODEL_SELFTEST
	from |= RIGHTS; /* the fuzzer's self-test: a planted bug (map and grant ignore the source's rights) */
#endif
	return (p & from & RIGHTS) | (p & (PGT_PROT_USER | PGT_PROT_GLOBAL)) | (from & PGT_PROT_MEMTYPE);
}

void model_map(struct model *m, int sp, int pg, int dsp, int dpg, unsigned p)
{
	if (!m->p[sp][pg].valid)
		return;
	model_revoke(m, dsp, dpg, RIGHTS, true);
	if (!m->p[sp][pg].valid)
		return;
	m->p[dsp][dpg] = (struct mpage){
		.valid = true, .sp = sp, .pg = pg, .prot = model_derived(m->p[sp][pg].prot, p)
	};
}

void model_grant(struct model *m, int sp, int pg, int dsp, int dpg, unsigned p)
{
	struct mpage src = m->p[sp][pg];

	if (!src.valid)
		return;
	model_revoke(m, dsp, dpg, RIGHTS, true);
	if (src.sp < 0 || m->p[src.sp][src.pg].valid) {
		m->p[dsp][dpg] = src;
		m->p[dsp][dpg].prot = model_derived(src.prot, p);
	}
	model_revoke(m, sp, pg, RIGHTS, true);
}

void model_phys(struct model *m, int sp, int pg, uint64_t pa, unsigned p)
{
	model_revoke(m, sp, pg, RIGHTS, true);
	m->p[sp][pg] = (struct mpage){ .valid = true, .sp = -1, .pa = pa, .prot = p };
}

/** Lookup: the physical page at the end of the path, and the path's length. */
uint64_t model_lookup(const struct model *m, int sp, int pg, unsigned *depth)
{
	*depth = 0;
	while (m->p[sp][pg].sp >= 0) {
		const struct mpage *x = &m->p[sp][pg];
		sp = x->sp;
		pg = x->pg;
		++*depth;
	}
	return m->p[sp][pg].pa;
}
