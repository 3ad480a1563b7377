# SPDX-License-Identifier: MIT
# One hardware test, sourced by a tests/hw_*.hw script that sets hw_label,
# hw_arch (x86_64, aarch64, riscv64), hw_kernel (built under tests/hw/), and may set
# hw_cpu (QEMU's -cpu), hw_machine (QEMU -M, aarch64), hw_selftest (a broken build's kind), hw_selftest_monitor,
# hw_no_info_mem and hw_smp (CPUs, x86-64). There is no limit on a run's
# time: a kernel that prints nothing for PGT_HW_STALL seconds (default 60)
# has hung. Under `make check-valgrind` (VALGRIND set) a case that already
# ran in `make check` is not booted again: its TAP output is replayed.
# Prints TAP; a missing tool makes the whole test a TAP skip (automake's
# TAP driver has no exit status 77: "1..0 # SKIP" is its skip).
skip() {
	echo "1..0 # SKIP $*"
	exit 0
}

kernel=${top_builddir:-.}/tests/hw/$hw_kernel
python=${PYTHON3:-$(command -v python3)}
case $hw_arch in
x86_64)
	qemu=${QEMU_X86_64:-$(command -v qemu-system-x86_64)}
	# Several CPUs get a host thread each (multi-threaded TCG; the default for x86-64
	# guests on x86-64 hosts, said anyway), so they really run at the same time.
	accel="-accel tcg"
	[ -z "$hw_smp" ] || accel="-accel tcg,thread=multi -smp $hw_smp"
	# -cpu max: 1G pages (pdpe1gb) and NX; isa-debug-exit gives the kernel its exit status.
	qemu_args="$accel -cpu max -m 128M -device isa-debug-exit,iobase=0xf4,iosize=4" ;;
aarch64)
	qemu=${QEMU_AARCH64:-$(command -v qemu-system-aarch64)}
	qemu_args="-M ${hw_machine:-virt} -cpu ${hw_cpu:-cortex-a57} -m 128M -semihosting" ;;
riscv64)
	qemu=${QEMU_RISCV64:-$(command -v qemu-system-riscv64)}
	# -bios none: the kernel starts in M-mode at 0x80000000 (no firmware); svpbmt=on: QEMU 7.2
	# honours Svpbmt's PBMT field, which the library sets for uncached memory, only when asked.
	qemu_args="-M virt -cpu ${hw_cpu:-rv64,svpbmt=on} -m 128M -bios none" ;;
*)
	echo "Bail out! unknown hw_arch '$hw_arch'"
	exit 1 ;;
esac

# CI boots each case once, in the quick start's make check; the other builds it
# checks (other compilers and flags, the tarball) set PGT_HW_SKIP to say so.
[ -z "${PGT_HW_SKIP:-}" ] || skip "$PGT_HW_SKIP"
[ -n "$python" ] && [ -x "$python" ] || skip "python3 not found"
[ -n "$qemu" ] && [ -x "$qemu" ] || skip "no QEMU for $hw_arch (install qemu-system-x86 / qemu-system-arm / qemu-system-misc)"
[ -f "$kernel" ] || skip "$hw_kernel not built (configure found no compiler for $hw_arch, or ran with --disable-hw-tests)"

# pgtdump reads a dump of the guest's RAM at the first checkpoint (hwrun.py), when built.
pgtdump=${top_builddir:-.}/tools/pgtdump
[ -x "$pgtdump" ] || pgtdump=

# The last run's output, kept for check-valgrind (Valgrind has nothing to say about QEMU).
cache=${top_builddir:-.}/tests/hw/$hw_label.tap
if [ -n "${VALGRIND:-}" ] && [ -f "$cache" ] && [ "$cache" -nt "$kernel" ]; then
	echo "# replayed: these cases ran in make check ($(date -r "$cache" '+%F %T')); QEMU runs each once"
	cat "$cache"
	exit 0
fi
"$python" "${srcdir:-.}/tests/hw/hwrun.py" --arch "$hw_arch" --label "$hw_label" \
	--qemu "$qemu" --qemu-args "$qemu_args" --kernel "$kernel" --stall "${PGT_HW_STALL:-60}" \
	${hw_selftest:+--selftest "$hw_selftest"} ${hw_selftest_monitor:+--selftest-monitor} \
	${hw_no_info_mem:+--no-info-mem} ${pgtdump:+--pgtdump "$pgtdump" "--pgtdump-exec=${PGT_EXEC:-}"} >"$cache.new"
status=$?
cat "$cache.new"
mv "$cache.new" "$cache"
exit $status
