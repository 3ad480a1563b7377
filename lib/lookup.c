/* SPDX-License-Identifier: MIT */
/*
 * Lookup (the L4 ADT's lookup): the space's walk (lib/walks.h), reached
 * through one indirect call.
 */
#include "walks.h"

int pgt_lookup(const pgt_space_t *sp, pgt_vaddr_t va, pgt_ref_t *out)
{
	if (!pgt__space_ok(sp))
		return PGT_EINVAL;
	return pgt__lookup_of(sp)(sp, va, out);
}
