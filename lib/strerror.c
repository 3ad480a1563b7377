/* SPDX-License-Identifier: MIT */
/*
 * Status codes as text: a sentence fragment, and the enumerator's name.
 */
#include "internal.h"

const char *pgt_strerror(int status)
{
	switch (status) {
	case PGT_OK: return "success";
	case PGT_EXISTS: return "a mapping containing the page already exists";
	case PGT_ENOENT: return "no mapping at that address";
	case PGT_ECONFLICT: return "overlaps an existing mapping";
	case PGT_ENOMEM: return "out of page-table memory";
	case PGT_EINVAL: return "invalid argument";
	case PGT_ENOTSUP: return "not supported by the architecture";
	case PGT_EFAULT: return "translation fault";
	case PGT_EALIGN: return "address or size not aligned to the page or table";
	case PGT_ERANGE: return "address outside the space or the physical address width";
	case PGT_EWRAP: return "range wraps around the end of the address space";
	case PGT_ESIZE: return "size not usable here (zero, not a power of two, or no such page size)";
	case PGT_EFLAGS: return "unknown flag, right, access or field";
	case PGT_ENOHOOK: return "a required hook is missing";
	case PGT_EHOOK: return "a hook returned an unusable answer";
	default: return "unknown status";
	}
}

const char *pgt_errname(int status)
{
	switch (status) {
	case PGT_OK: return "PGT_OK";
	case PGT_EXISTS: return "PGT_EXISTS";
	case PGT_ENOENT: return "PGT_ENOENT";
	case PGT_ECONFLICT: return "PGT_ECONFLICT";
	case PGT_ENOMEM: return "PGT_ENOMEM";
	case PGT_EINVAL: return "PGT_EINVAL";
	case PGT_ENOTSUP: return "PGT_ENOTSUP";
	case PGT_EFAULT: return "PGT_EFAULT";
	case PGT_EALIGN: return "PGT_EALIGN";
	case PGT_ERANGE: return "PGT_ERANGE";
	case PGT_EWRAP: return "PGT_EWRAP";
	case PGT_ESIZE: return "PGT_ESIZE";
	case PGT_EFLAGS: return "PGT_EFLAGS";
	case PGT_ENOHOOK: return "PGT_ENOHOOK";
	case PGT_EHOOK: return "PGT_EHOOK";
	default: return "PGT_UNKNOWN";
	}
}
