/* SPDX-License-Identifier: MIT */
/*
 * The shipped descriptors by name (pgtable/formats.h). The only place that
 * refers to every format: a program that never calls pgt_arch_by_name
 * links only the formats it names.
 */
#include <pgtable/arch.h>

static const struct pgt_arch *const shipped[] = {
#define PGT_FORMAT(desc, name, what) &(desc),
#include <pgtable/formats.h>
#undef PGT_FORMAT
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
