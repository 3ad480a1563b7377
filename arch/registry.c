/* SPDX-License-Identifier: MIT */
/*
 * The shipped descriptors by name.
 */
#include <pgtable/arch.h>

static const struct pgt_arch *const shipped[] = {
	&pgt_arch_x86_64,      &pgt_arch_x86_64_la57,  &pgt_arch_armv8_4k_39,
	&pgt_arch_armv8_4k_48, &pgt_arch_armv8_16k_47, &pgt_arch_armv8_64k_42,
};

/* Freestanding: no strcmp. */
static int same_name(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

const struct pgt_arch *pgt_arch_by_name(const char *name)
{
	if (!name)
		return 0;
	for (unsigned i = 0; i < sizeof shipped / sizeof shipped[0]; i++)
		if (same_name(shipped[i]->name, name))
			return shipped[i];
	return 0;
}
