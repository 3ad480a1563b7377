/* SPDX-License-Identifier: MIT */
/* The x86-64 attribute codec, shared by the 4- and 5-level descriptors. */
#ifndef PGT_ARCH_X86_64_DESC_H
#define PGT_ARCH_X86_64_DESC_H

#include <pgtable/arch.h>

int pgt_x86_64_prot_encode(unsigned level, unsigned prot, pgt_pte_t *bits);
unsigned pgt_x86_64_prot_decode(unsigned level, pgt_pte_t pte);

#endif
