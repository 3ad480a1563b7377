/* SPDX-License-Identifier: MIT */
/*
 * The walks each shipped format compiled with its own masks as constants
 * (defined beside its descriptors), by descriptor. A copy of a descriptor
 * is not found here and gets the engine's walk for its shape.
 */
#include "shape.h"

extern const struct pgt__shape_ops *const pgt__x86_64_walks[2], *const pgt__x86_64_la57_walks[2];
extern const struct pgt__shape_ops *const pgt__armv8_4k_39_walks[2], *const pgt__armv8_4k_48_walks[2];
extern const struct pgt__shape_ops *const pgt__armv8_16k_47_walks[2], *const pgt__armv8_64k_42_walks[2];

static const struct {
	const struct pgt_arch *arch;
	const struct pgt__shape_ops *const *walks; /**< [0] p2v offset, [1] p2v hook */
} formats[] = {
	{ &pgt_arch_x86_64, pgt__x86_64_walks },
	{ &pgt_arch_x86_64_la57, pgt__x86_64_la57_walks },
	{ &pgt_arch_armv8_4k_39, pgt__armv8_4k_39_walks },
	{ &pgt_arch_armv8_4k_48, pgt__armv8_4k_48_walks },
	{ &pgt_arch_armv8_16k_47, pgt__armv8_16k_47_walks },
	{ &pgt_arch_armv8_64k_42, pgt__armv8_64k_42_walks },
};

const struct pgt__shape_ops *pgt__arch_walks(const struct pgt_arch *a, bool hook)
{
	for (unsigned i = 0; i < sizeof formats / sizeof formats[0]; i++)
		if (formats[i].arch == a)
			return formats[i].walks[hook ? 1 : 0];
	return NULL;
}
