# SPDX-License-Identifier: MIT
# Hardware tests (tests/hw/): kernels that QEMU boots, linked with the
# freestanding archive as `make install` installs it (tests/stage, made by
# Makefile.am), and the TAP tests that run them. Included by Makefile.am;
# configure finds the compilers and QEMU (HW_* conditionals).

hw_common = tests/hw/kernel.h tests/hw/kernel.c tests/hw/cases.h tests/hw/cases.c tests/hw/cases_range.c \
	tests/hw/cases_mdb.c tests/hw/expect.c
hw_x86_64_src = tests/hw/x86_64/boot.S tests/hw/x86_64/arch.c
hw_aarch64_src = tests/hw/aarch64/boot.S tests/hw/aarch64/arch.c
hw_riscv64_src = tests/hw/riscv64/boot.S tests/hw/riscv64/arch.c
# The RISC-V hypervisor kernel: its G-stage cases instead of cases*.c.
hw_riscv64_hs_src = tests/hw/riscv64/hs.c
# The SMP kernel (x86-64 only): the second CPU's start, and its one case instead of cases*.c.
hw_smp_src = tests/hw/x86_64/smp.S tests/hw/x86_64/smp.c tests/hw/smp_dirty.c
# The AMD nested-paging kernel (x86-64 only): SVM, a guest, and its cases instead of cases*.c.
hw_npt_src = tests/hw/x86_64/npt.c
# The EL2 kernel (AArch64): a hypervisor's stage 2 under a guest at EL1, a kernel of its own.
hw_el2_src = tests/hw/aarch64/el2.S tests/hw/el2.c
EXTRA_DIST += $(hw_common) $(hw_x86_64_src) $(hw_aarch64_src) $(hw_riscv64_src) $(hw_smp_src) $(hw_npt_src) $(hw_el2_src) \
	$(hw_riscv64_hs_src) tests/hw/x86_64/kernel.ld tests/hw/aarch64/kernel.ld tests/hw/riscv64/kernel.ld \
	tests/hw/hw.mk tests/hw/run.sh tests/hw/hwrun.py

# The kernels' own C files, compiled as a kernel is (no PIC, no unwind tables)
# against the installed headers.
hw_kernel_c = $(srcdir)/tests/hw/kernel.c $(srcdir)/tests/hw/expect.c $(srcdir)/tests/hw/cases.c \
	$(srcdir)/tests/hw/cases_range.c $(srcdir)/tests/hw/cases_mdb.c
hw_cflags = $(PGT_WARN_CFLAGS) -I$(pgt_stage_includedir) \
	-ffreestanding -fno-stack-protector -fno-pic -fno-asynchronous-unwind-tables -O2 -g
hw_ldflags = -nostdlib -static -Wl,--build-id=none -Wl,--no-warn-rwx-segments

# The archive for the architecture the library was not configured for: the
# objects of libpgtable-freestanding.a, compiled by the cross compiler with
# the kernel flags configure chose for it (PGT_KERNEL_CFLAGS), after the
# CFLAGS a plain `./configure --host=...` uses, into the directory $$d.
hw_lib_build = rm -rf $$d && $(MKDIR_P) $$d && for f in $(pgt_c_sources); do \
	o=`echo "$$f" | tr / _`; \
	$$cc $(pgt_fs_cppflags) $(PGT_WARN_CFLAGS) -g -O2 $$flags -c -o "$$d/$${o%.c}.o" "$(srcdir)/$$f" || exit 1; \
	done && rm -f $@ && $$ar crs $@ $$d/*.o
hw_check_archives =

# x86-64: no red zone (traps push on the kernel stack), no SSE registers: the
# kernel runs with SSE off (boot.S), so SSE in the archive faults.
# -m64 last: the kernels are 64-bit even when the tests are built as a 32-bit program
hw_x86_64_flags = -mno-red-zone -mgeneral-regs-only -m64
if HW_X86_64_INSTALLED
hw_x86_64_archive = $(pgt_stage_libdir)/libpgtable-freestanding.a
hw_x86_64_archive_dep =
else
hw_x86_64_archive = tests/hw/lib-x86_64/libpgtable-freestanding.a
hw_x86_64_archive_dep = $(hw_x86_64_archive)
if HW_X86_64
hw_check_archives += $(hw_x86_64_archive) $(HW_X86_64_OBJDUMP) $(HW_X86_64_NM);
endif
endif
hw_x86_64_link = $(HW_X86_64_CC) $(hw_cflags) $(hw_x86_64_flags) $(hw_ldflags) \
	-Wl,-T,$(srcdir)/tests/hw/x86_64/kernel.ld -o $@ $(srcdir)/tests/hw/x86_64/boot.S \
	$(srcdir)/tests/hw/x86_64/arch.c
hw_x86_64_build = $(hw_x86_64_link) $(hw_kernel_c) $(hw_x86_64_archive) -lgcc
hw_x86_64_smp_build = $(hw_x86_64_link) $(srcdir)/tests/hw/x86_64/smp.S $(srcdir)/tests/hw/x86_64/smp.c \
	$(srcdir)/tests/hw/kernel.c $(srcdir)/tests/hw/expect.c $(srcdir)/tests/hw/smp_dirty.c \
	$(hw_x86_64_archive) -lgcc
hw_x86_64_npt_build = $(hw_x86_64_link) $(srcdir)/tests/hw/x86_64/npt.c $(srcdir)/tests/hw/kernel.c \
	$(srcdir)/tests/hw/expect.c $(hw_x86_64_archive) -lgcc
hw_x86_64_deps = $(hw_common) $(hw_x86_64_src) tests/hw/x86_64/kernel.ld tests/stage.stamp $(hw_x86_64_archive_dep)
tests/hw/lib-x86_64/libpgtable-freestanding.a: $(pgt_sources) $(pkginclude_HEADERS)
	$(AM_V_GEN)d=tests/hw/lib-x86_64 cc='$(HW_X86_64_CC) -m64' flags='$(HW_X86_64_KERNEL_CFLAGS)' \
	ar='$(HW_X86_64_AR)'; $(hw_lib_build)

# AArch64: the kernel builds its tables with the MMU off, where unaligned
# accesses fault (the archive is built with -mstrict-align too).
hw_aarch64_flags = -mgeneral-regs-only -mstrict-align -mno-outline-atomics
if HW_AARCH64_INSTALLED
hw_aarch64_archive = $(pgt_stage_libdir)/libpgtable-freestanding.a
hw_aarch64_archive_dep =
else
hw_aarch64_archive = tests/hw/lib-aarch64/libpgtable-freestanding.a
hw_aarch64_archive_dep = $(hw_aarch64_archive)
if HW_AARCH64
hw_check_archives += $(hw_aarch64_archive) $(HW_AARCH64_OBJDUMP) $(HW_AARCH64_NM);
endif
endif
hw_aarch64_build = $(HW_AARCH64_CC) $(hw_cflags) $(hw_aarch64_flags) $(hw_ldflags) \
	-Wl,-T,$(srcdir)/tests/hw/aarch64/kernel.ld -o $@ $(srcdir)/tests/hw/aarch64/boot.S \
	$(srcdir)/tests/hw/aarch64/arch.c $(hw_kernel_c) $(hw_aarch64_archive) -lgcc
hw_aarch64_el2_build = $(HW_AARCH64_CC) $(hw_cflags) $(hw_aarch64_flags) $(hw_ldflags) \
	-Wl,-T,$(srcdir)/tests/hw/aarch64/kernel.ld -o $@ $(srcdir)/tests/hw/aarch64/el2.S \
	$(srcdir)/tests/hw/el2.c $(hw_aarch64_archive) -lgcc
hw_aarch64_deps = $(hw_common) $(hw_aarch64_src) tests/hw/aarch64/kernel.ld tests/stage.stamp $(hw_aarch64_archive_dep)
tests/hw/lib-aarch64/libpgtable-freestanding.a: $(pgt_sources) $(pkginclude_HEADERS)
	$(AM_V_GEN)d=tests/hw/lib-aarch64 cc='$(HW_AARCH64_CC)' flags='$(HW_AARCH64_KERNEL_CFLAGS)' \
	ar='$(HW_AARCH64_AR)'; $(hw_lib_build)

# RISC-V: the archive's flags (soft-float lp64, medany) plus the CSR and
# fence.i instructions the kernel's own code uses (Zicsr, Zifencei).
hw_riscv64_flags = -march=rv64imac_zicsr_zifencei -mabi=lp64 -mcmodel=medany
if HW_RISCV64_INSTALLED
hw_riscv64_archive = $(pgt_stage_libdir)/libpgtable-freestanding.a
hw_riscv64_archive_dep =
else
hw_riscv64_archive = tests/hw/lib-riscv64/libpgtable-freestanding.a
hw_riscv64_archive_dep = $(hw_riscv64_archive)
if HW_RISCV64
hw_check_archives += $(hw_riscv64_archive) $(HW_RISCV64_OBJDUMP) $(HW_RISCV64_NM);
endif
endif
hw_riscv64_build = $(HW_RISCV64_CC) $(hw_cflags) $(hw_riscv64_flags) $(hw_ldflags) \
	-Wl,-T,$(srcdir)/tests/hw/riscv64/kernel.ld -o $@ $(srcdir)/tests/hw/riscv64/boot.S \
	$(srcdir)/tests/hw/riscv64/arch.c $(hw_kernel_c) $(hw_riscv64_archive) -lgcc
hw_riscv64_deps = $(hw_common) $(hw_riscv64_src) tests/hw/riscv64/kernel.ld tests/stage.stamp $(hw_riscv64_archive_dep)
hw_riscv64_hs_build = $(HW_RISCV64_CC) $(hw_cflags) $(hw_riscv64_flags) $(hw_ldflags) \
	-Wl,-T,$(srcdir)/tests/hw/riscv64/kernel.ld -o $@ $(srcdir)/tests/hw/riscv64/boot.S \
	$(srcdir)/tests/hw/riscv64/arch.c $(srcdir)/tests/hw/kernel.c $(srcdir)/tests/hw/expect.c \
	$(srcdir)/tests/hw/riscv64/hs.c $(hw_riscv64_archive) -lgcc -DHW_SV=39 -DHW_HS
tests/hw/lib-riscv64/libpgtable-freestanding.a: $(pgt_sources) $(pkginclude_HEADERS)
	$(AM_V_GEN)d=tests/hw/lib-riscv64 cc='$(HW_RISCV64_CC)' flags='$(HW_RISCV64_KERNEL_CFLAGS)' \
	ar='$(HW_RISCV64_AR)'; $(hw_lib_build)

hw_kernels =
if HW_X86_64
hw_kernels += tests/hw/x86_64.elf tests/hw/x86_64-la57.elf tests/hw/x86_64-broken1.elf tests/hw/x86_64-broken2.elf \
	tests/hw/x86_64-smp.elf tests/hw/x86_64-npt.elf
endif
if HW_AARCH64
hw_kernels += tests/hw/aarch64-4k.elf tests/hw/aarch64-4k-39.elf tests/hw/aarch64-16k.elf tests/hw/aarch64-64k.elf \
	tests/hw/aarch64-broken1.elf tests/hw/aarch64-broken2.elf tests/hw/aarch64-el2.elf
endif
if HW_RISCV64
hw_kernels += tests/hw/riscv64-sv39.elf tests/hw/riscv64-sv48.elf tests/hw/riscv64-sv57.elf \
	tests/hw/riscv64-broken1.elf tests/hw/riscv64-broken2.elf tests/hw/riscv64-hs.elf \
	tests/hw/riscv64-hs48.elf tests/hw/riscv64-hs57.elf
endif
check_DATA += $(hw_kernels)
CLEANFILES += $(hw_kernels)
# tests/check_freestanding.sh checks the cross-built archives as it checks the installed one.
AM_TESTS_ENVIRONMENT += PGT_HW_ARCHIVES='$(hw_check_archives)'; export PGT_HW_ARCHIVES;

hw-clean-local:
	-rm -rf tests/hw/lib-x86_64 tests/hw/lib-aarch64 tests/hw/lib-riscv64
	-rm -f tests/hw/*.tap tests/hw/*.tap.new

tests/hw/x86_64.elf: $(hw_x86_64_deps)
	$(AM_V_GEN)$(hw_x86_64_build)
tests/hw/x86_64-la57.elf: $(hw_x86_64_deps)
	$(AM_V_GEN)$(hw_x86_64_build) -DHW_LA57
tests/hw/x86_64-broken1.elf: $(hw_x86_64_deps)
	$(AM_V_GEN)$(hw_x86_64_build) -DHW_BROKEN=1
tests/hw/x86_64-broken2.elf: $(hw_x86_64_deps)
	$(AM_V_GEN)$(hw_x86_64_build) -DHW_BROKEN=2
tests/hw/x86_64-smp.elf: $(hw_x86_64_deps) $(hw_smp_src)
	$(AM_V_GEN)$(hw_x86_64_smp_build)
tests/hw/x86_64-npt.elf: $(hw_x86_64_deps) $(hw_npt_src)
	$(AM_V_GEN)$(hw_x86_64_npt_build)
tests/hw/aarch64-4k.elf: $(hw_aarch64_deps)
	$(AM_V_GEN)$(hw_aarch64_build) -DHW_GRANULE=4
tests/hw/aarch64-4k-39.elf: $(hw_aarch64_deps)
	$(AM_V_GEN)$(hw_aarch64_build) -DHW_GRANULE=4 -DHW_VA39
tests/hw/aarch64-16k.elf: $(hw_aarch64_deps)
	$(AM_V_GEN)$(hw_aarch64_build) -DHW_GRANULE=16
tests/hw/aarch64-64k.elf: $(hw_aarch64_deps)
	$(AM_V_GEN)$(hw_aarch64_build) -DHW_GRANULE=64
tests/hw/aarch64-broken1.elf: $(hw_aarch64_deps)
	$(AM_V_GEN)$(hw_aarch64_build) -DHW_GRANULE=4 -DHW_BROKEN=1
tests/hw/aarch64-broken2.elf: $(hw_aarch64_deps)
	$(AM_V_GEN)$(hw_aarch64_build) -DHW_GRANULE=4 -DHW_BROKEN=2
tests/hw/aarch64-el2.elf: $(hw_aarch64_deps) $(hw_el2_src)
	$(AM_V_GEN)$(hw_aarch64_el2_build)
tests/hw/riscv64-sv39.elf: $(hw_riscv64_deps)
	$(AM_V_GEN)$(hw_riscv64_build) -DHW_SV=39
tests/hw/riscv64-sv48.elf: $(hw_riscv64_deps)
	$(AM_V_GEN)$(hw_riscv64_build) -DHW_SV=48
tests/hw/riscv64-sv57.elf: $(hw_riscv64_deps)
	$(AM_V_GEN)$(hw_riscv64_build) -DHW_SV=57
tests/hw/riscv64-broken1.elf: $(hw_riscv64_deps)
	$(AM_V_GEN)$(hw_riscv64_build) -DHW_SV=39 -DHW_BROKEN=1
tests/hw/riscv64-broken2.elf: $(hw_riscv64_deps)
	$(AM_V_GEN)$(hw_riscv64_build) -DHW_SV=39 -DHW_BROKEN=2
tests/hw/riscv64-hs.elf: $(hw_riscv64_deps) $(hw_riscv64_hs_src)
	$(AM_V_GEN)$(hw_riscv64_hs_build)
tests/hw/riscv64-hs48.elf: $(hw_riscv64_deps) $(hw_riscv64_hs_src)
	$(AM_V_GEN)$(hw_riscv64_hs_build) -DHW_GSTAGE=48
tests/hw/riscv64-hs57.elf: $(hw_riscv64_deps) $(hw_riscv64_hs_src)
	$(AM_V_GEN)$(hw_riscv64_hs_build) -DHW_GSTAGE=57

# The tests: TAP, one result per case. They run under the shell, never under
# Valgrind (check-valgrind replaces LOG_COMPILER only, not HW_LOG_COMPILER).
hw_tests = tests/hw_x86_64.hw tests/hw_x86_64_la57.hw tests/hw_x86_64_broken_frame.hw tests/hw_x86_64_broken_write.hw \
	tests/hw_x86_64_smp.hw tests/hw_x86_64_npt.hw \
	tests/hw_armv8_4k.hw tests/hw_armv8_4k_39.hw tests/hw_armv8_16k.hw tests/hw_armv8_64k.hw \
	tests/hw_armv8_broken_frame.hw tests/hw_armv8_broken_write.hw tests/hw_armv8_el2.hw \
	tests/hw_riscv_sv39.hw tests/hw_riscv_sv48.hw tests/hw_riscv_sv57.hw \
	tests/hw_riscv_broken_frame.hw tests/hw_riscv_broken_write.hw tests/hw_riscv_hs.hw \
	tests/hw_riscv_hs48.hw tests/hw_riscv_hs57.hw
dist_check_SCRIPTS += $(hw_tests)
TEST_EXTENSIONS += .hw
HW_LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
HW_LOG_COMPILER = env PYTHON3='$(PYTHON3)' QEMU_X86_64='$(QEMU_X86_64)' QEMU_AARCH64='$(QEMU_AARCH64)' \
	QEMU_RISCV64='$(QEMU_RISCV64)' $(SHELL)
