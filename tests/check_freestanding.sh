#!/bin/sh
# SPDX-License-Identifier: MIT
# libpgtable-freestanding.a, as `make install` installs it (staged under
# tests/stage by make check), must be safe in a kernel:
#  - the only symbols it needs from outside are the four the compiler itself
#    emits (memset memcpy memmove memcmp): no libc, no libgcc, no
#    __stack_chk_fail;
#  - no SIMD or FP register anywhere (a kernel runs with them off or unsaved);
#  - x86-64: nothing stored below %rsp (an interrupt would overwrite a red
#    zone), no stack-protector canary read (%fs:0x28), and every relocation
#    fits a kernel linked at -2 GiB.
# The archives the QEMU test kernels link for other architectures (PGT_HW_ARCHIVES:
# "archive objdump nm" triples separated by ";") are held to the same rules.
set -eu
NM=${NM:-nm}
OBJDUMP=${OBJDUMP:-objdump}
CC=${CC:-cc}
srcdir=${srcdir:-.}
stage_lib=${pgt_stage_libdir:-${top_builddir:-.}}/libpgtable-freestanding.a
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

fail() {
	echo "FAIL: $*"
	failed=1
}

# Operands of every instruction: address, mnemonic, branch targets ("1c4 <sym+0x10>")
# and comments taken out.
operands() { # objdump, archive
	"$1" -d --no-show-raw-insn "$2" | sed -n 's/^ *[0-9a-f]*:\t//p' |
		sed -e 's/^[^[:space:]]*//' -e 's/[0-9a-f]* *<[^>]*>//g' -e 's/[#;] .*$//' -e 's@//.*$@@'
}

# Lines of the disassembly that use a register of the kind named by the pattern.
uses() { # file, extended regular expression, what
	n=$(grep -c -E -e "$2" "$1" || true)
	if [ "$n" != 0 ]; then
		fail "$n instructions use $3, e.g.:"
		grep -E -e "$2" "$1" | head -5
	fi
}

# Symbol lists are split into words on purpose.
# shellcheck disable=SC2046,SC2086
check_symbols() { # archive, nm
	# NM may carry options ("nm -B"): not quoted.
	defined=$($2 --defined-only "$1" | awk 'NF == 3 { print $3 }' | sort -u)
	undefined=$($2 -u "$1" | awk '$1 == "U" { print $2 }' | sort -u)
	# _GLOBAL_OFFSET_TABLE_ is defined by the linker itself (position-independent code).
	outside=$(printf '%s\n' $undefined | grep -vxF -e memset -e memcpy -e memmove -e memcmp \
		-e _GLOBAL_OFFSET_TABLE_ $(printf -- '-e %s ' $defined) || true)
	[ -z "$outside" ] || fail "$1 needs symbols from outside:" $outside
	if printf '%s\n' $undefined | grep -q -e '__stack_chk' -e '_chk$'; then
		fail "$1 has stack-protector or fortified calls"
	fi
}

check_x86_64_link() { # archive
	# Only when the compiler here targets x86-64: link every object of the
	# archive into an image at -2 GiB, as a higher-half kernel is.
	$CC -dM -E - </dev/null | grep -q '__x86_64__ 1' || return 0
	flags="-std=c11 -O0 -ffreestanding -fno-stack-protector -fno-pie -mcmodel=kernel -mno-red-zone -mgeneral-regs-only"
	$CC $flags -I"$srcdir/include" -c "$srcdir/tests/nostdlib/kmain.c" -o "$tmp/kmain.o"
	if ! $CC -static -nostdlib -no-pie -Wl,-Ttext-segment=0xffffffff80000000 -o "$tmp/high" "$tmp/kmain.o" \
		-Wl,--whole-archive "$1" -Wl,--no-whole-archive >"$tmp/link.log" 2>&1; then
		head -5 "$tmp/link.log"
		fail "$1 does not link into a kernel at -2 GiB"
	else
		echo "$1 links into a kernel at -2 GiB"
	fi
}

# A copy of the archive to disassemble: without debug information and without
# the assembler's local labels, which leaves every instruction as it was. The
# RISC-V assembler keeps a label for each relaxable reference (some 125,000 in
# the compiled walks' object), and objdump looked through them at every
# instruction: a minute and a half for that archive, three seconds for the copy.
# The archive itself when the matching objcopy is missing or fails.
disassembly_copy() { # archive, objdump
	objcopy=${2%objdump}objcopy
	if command -v "$objcopy" >/dev/null 2>&1 && cp "$1" "$tmp/disassembled.a" &&
		"$objcopy" --strip-debug --discard-locals "$tmp/disassembled.a" 2>/dev/null; then
		echo "$tmp/disassembled.a"
	else
		echo "$1"
	fi
}

check_archive() { # archive, objdump, nm
	[ -f "$1" ] || { fail "missing $1"; return; }
	format=$("$2" -a "$1" | sed -n 's/.*file format //p' | sort -u | head -1)
	check_symbols "$1" "$3"
	operands "$2" "$(disassembly_copy "$1" "$2")" >"$tmp/ops"
	case $format in
	elf64-x86-64)
		uses "$tmp/ops" '%([xyz]mm[0-9]|mm[0-7]|st|k[0-7])' "SIMD or x87 registers"
		uses "$tmp/ops" '-0x[0-9a-f]+\(%rsp\)' "the red zone below %rsp"
		uses "$tmp/ops" '%fs:0x28' "the stack-protector canary"
		check_x86_64_link "$1" ;;
	elf32-i386)
		# No 32-bit x86 kernel is a target (the formats are 64-bit MMUs'): the
		# 32-bit build tests the library on a narrow host, where 64-bit
		# atomic entries take SSE or x87 registers (m4/pgt_kernel_cflags.m4).
		echo "note: $1 is $format, a host test build: symbols checked, registers not" ;;
	elf64-littleaarch64)
		uses "$tmp/ops" '(^|[^[:alnum:]_.])[bhsdqvzp]([0-9]|[12][0-9]|3[01])([^[:alnum:]_]|$)' "FP/SIMD registers" ;;
	elf64-littleriscv)
		uses "$tmp/ops" '(^|[^[:alnum:]_])(f([0-9]|[12][0-9]|3[01])|f[ts]([0-9]|1[01])|fa[0-7])([^[:alnum:]_]|$)' "F/D registers" ;;
	*)
		echo "note: $1 is $format: symbols checked, registers not" ;;
	esac
	echo "checked $1 ($format): $(wc -l <"$tmp/ops") instructions"
}

check_archive "$stage_lib" "$OBJDUMP" "$NM"
old_ifs=$IFS
IFS=';'
for hw in ${PGT_HW_ARCHIVES:-}; do
	IFS=$old_ifs
	# shellcheck disable=SC2086
	set -- $hw
	[ $# = 0 ] || check_archive "$@"
done
IFS=$old_ifs
[ "$failed" = 0 ] || exit 1
echo "PASS: every archive needs only memset memcpy memmove memcmp and no SIMD/FP register"
