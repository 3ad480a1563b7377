#!/bin/sh
# SPDX-License-Identifier: MIT
# Generates configure and the Makefile templates; vendors the autoconf-archive
# macros into m4/ (ACLOCAL_AMFLAGS has --install).
set -e
cd "$(dirname "$0")"
autoreconf --force --install --verbose
