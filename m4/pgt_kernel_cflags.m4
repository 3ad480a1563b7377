# SPDX-License-Identifier: MIT
dnl PGT_CHECK_KERNEL_CFLAGS(COMPILER, PREFIX)
dnl
dnl The flags libpgtable-freestanding.a is compiled with, for the target of
dnl COMPILER (a command, flags allowed). They come after the user's CFLAGS,
dnl so a packager's flags cannot turn them off. Sets:
dnl   PREFIX_TARGET       x86_64, i386, aarch64, riscv64 or other
dnl   PREFIX_ABI_CFLAGS   what code calling into the archive is compiled with
dnl                       too (pgtable-freestanding.pc): no SIMD/FP registers,
dnl                       and on riscv64 the soft-float ABI and code model
dnl   PREFIX_CFLAGS       those, plus what only the archive's own objects need
dnl Fails when COMPILER does not take one of them: an archive built without
dnl them would crash a kernel. Not cached: it runs once per compiler.
AC_DEFUN([PGT_CHECK_KERNEL_CFLAGS], [
pgt_kc_cc="$1"
AC_MSG_CHECKING([what $pgt_kc_cc targets])
pgt_kc_macros=`$pgt_kc_cc -dM -E - </dev/null 2>/dev/null`
AS_CASE([$pgt_kc_macros],
	[*" __x86_64__ 1"*], [pgt_kc_target=x86_64],
	[*" __i386__ 1"*], [pgt_kc_target=i386],
	[*" __aarch64__ 1"*], [pgt_kc_target=aarch64],
	[*" __riscv_xlen 64"*], [pgt_kc_target=riscv64],
	[pgt_kc_target=other])
AC_MSG_RESULT([$pgt_kc_target])
dnl x86-64: traps and interrupts push onto the stack below %rsp, so no red
dnl zone; kernels run with SSE off, so general registers only. Objects are
dnl position-independent (small code model, -fpie): RIP-relative references
dnl reach a kernel linked at any address, in the low 2 GiB or at -2 GiB.
dnl AArch64: no FP/SIMD registers; no unaligned accesses, which fault while
dnl the MMU is off (when a kernel builds its first tables); atomics inline,
dnl as libgcc's outline ones need the C library.
dnl RISC-V: no F/D registers (soft-float ABI, as Linux builds its kernel),
dnl code anywhere within 2 GiB of its data (medany).
dnl i386: no kernel target (the formats are 64-bit MMUs'); the 32-bit build
dnl tests the library on a narrow host, and its 64-bit atomic entries need
dnl SSE or x87 registers there (general registers only: libatomic calls).
AS_CASE([$pgt_kc_target],
	[x86_64], [pgt_kc_abi="-mno-red-zone -mgeneral-regs-only"; pgt_kc_own="-fpie"],
	[i386], [pgt_kc_abi=; pgt_kc_own=],
	[aarch64], [pgt_kc_abi="-mgeneral-regs-only -mstrict-align -mno-outline-atomics"; pgt_kc_own=],
	[riscv64], [pgt_kc_abi="-march=rv64imac -mabi=lp64 -mcmodel=medany"; pgt_kc_own=],
	[pgt_kc_abi=; pgt_kc_own=])
dnl Whatever the user's flags: no libc, no stack protector (its canary and
dnl __stack_chk_fail are the C library's), no sanitizer runtime, no fortified
dnl string calls (__memcpy_chk), no LTO bytecode in place of machine code.
pgt_kc_all=`echo "-ffreestanding -fno-stack-protector -fno-sanitize=all -U_FORTIFY_SOURCE -fno-lto $pgt_kc_abi $pgt_kc_own" | sed 's/  *$//'`
AC_MSG_CHECKING([whether $pgt_kc_cc takes $pgt_kc_all])
echo 'int pgt_kc_probe(int *p) { return *p + *(p + 1); }' >conftest-kc.c
AS_IF([$pgt_kc_cc -Werror $pgt_kc_all -c conftest-kc.c -o conftest-kc.o >&AS_MESSAGE_LOG_FD 2>&1],
	[AC_MSG_RESULT([yes])], [
	rm -f conftest-kc.c conftest-kc.o
	AC_MSG_RESULT([no])
	AC_MSG_ERROR([$pgt_kc_cc cannot build the freestanding archive with $pgt_kc_all])])
rm -f conftest-kc.c conftest-kc.o
$2_TARGET=$pgt_kc_target
$2_ABI_CFLAGS=$pgt_kc_abi
$2_CFLAGS=$pgt_kc_all
])
