/* SPDX-License-Identifier: MIT */
/*
 * Included first by tests/analyze.sh in a format's file whose compiled
 * walks an analyzer does not read: the walks are one template
 * (lib/walks_tpl.h), read whole through the files tests/analyze.sh names,
 * at over a minute a format. Here the file keeps its descriptors and its
 * own functions, which are what this analysis is for, and has no walk.
 */
#define PGT__WALKS(name, A, exported)                                                        \
	static const struct pgt_arch_walks name = { (exported), { NULL, NULL } };            \
	static const void *const name##_analyzed __attribute__((unused)) = (A);
