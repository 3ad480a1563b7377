#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs one shell-script test (SH_LOG_COMPILER: the shell, then the script).
# Under make check-valgrind (VALGRIND set) the script is a skip: no script
# runs anything under Valgrind, and each one ran in make check.
if [ -n "${VALGRIND:-}" ]; then
	echo "SKIP: $2 runs nothing under Valgrind; it ran in make check"
	exit 77
fi
exec "$@"
