/*
 * Status codes as text.
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
	default: return "unknown status";
	}
}
