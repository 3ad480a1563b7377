#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boots one test kernel under QEMU and turns what it prints into TAP.

The kernel (tests/hw/kernel.c) prints one line per event on its console:

  @case NAME pass | fail WHY | skip WHY   one result per case
  @format NAME                             the kernel's page-table format (pgt_arch_by_name)
  @space TAG ROOT                          a monitor checkpoint starts
  @leaf VA PA SIZE PROT PAGE               valid leaves it installed: a run of SIZE
                                           bytes in leaves of PAGE bytes (hex)
  @walk VA PA SIZE PROT LEVEL              a mapping the library's pgt_walk reports
  @walkdone STATUS                         the walk ended (its return value)
  @xlate VA PA | VA none KIND LEVEL        what pgt_translate says for a read at VA (privileged,
                                           else as a user: what a debugger's read sees)
  @dump LINE / @dumpdone STATUS            pgt_dump's lines: QEMU's `info mem` layout, page size, type
  @problem VA LEVEL TEXT / @verify COUNT   pgt_verify's findings on the live tree
  @sync TAG                                compare now, then send a byte back
  @sabotage KIND                           (broken builds) the next case was sabotaged
  @note TEXT                               figures worth keeping: a TAP comment
  @panic WHY                               the kernel gave up
  @done FAILED                             every case ran

At a checkpoint the harness asks QEMU's own page walker, through QMP's
human-monitor-command, what the active tables say: `info tlb` on x86-64
(every leaf must match exactly, no more, no fewer), `gva2gpa` samples on
ARMv8 (where `info tlb` does not exist) and `info mem` on RISC-V (every
mapped range, its rights and Svpbmt NC; see compare_riscv). The library's
own pgt_walk is held to both the kernel's records and QEMU's walk, and
pgt_translate to QEMU's gva2gpa. Standard library only.

At the first checkpoint the harness also dumps the guest's RAM through QMP's
dump-guest-memory (paging off: an ELF core of physical memory) and runs the
just-built pgtdump on it with the kernel's format and root: its walk must be
the kernel's own @walk records, leaf for leaf (the case pgtdump_TAG).
"""
import argparse
import json
import os
import queue
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import threading
import time

PROT_READ, PROT_WRITE, PROT_EXEC, PROT_USER, PROT_GLOBAL, PROT_UNCACHED = 1, 2, 4, 8, 16, 32
PROT_NONCACHEABLE = 64
EXIT_COMPLETED = 99  # both kernels' status for "ran to the end" (not a triple fault's 0)


class Qmp:
    """A QMP client on a unix socket: one command at a time, events skipped."""

    def __init__(self, path, deadline):
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        self.sock.settimeout(max(1.0, deadline - time.monotonic()))
        self.buf = b""
        self._read()  # the greeting
        self.execute("qmp_capabilities")

    def _read(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("QMP closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def execute(self, cmd, **args):
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self._read()
            if "return" in reply:
                return reply["return"]
            if "error" in reply:
                raise RuntimeError(reply["error"].get("desc", str(reply)))

    def hmp(self, line):
        return self.execute("human-monitor-command", **{"command-line": line})


def x86_flags(va, pa, size, prot):
    """The flag columns QEMU's `info tlb` prints for a leaf (target/i386/monitor.c), A and D left out."""
    return "".join([
        "-" if prot & PROT_EXEC else "X",
        "G" if prot & PROT_GLOBAL else "-",
        "P" if size > 4096 else "-",
        "C" if prot & PROT_UNCACHED else "-",
        "T" if prot & PROT_UNCACHED else "-",
        "U" if prot & PROT_USER else "-",
        "W" if prot & PROT_WRITE else "-",
    ])


TLB_LINE = re.compile(r"^([0-9a-f]+): ([0-9a-f]+) ([-X])([-G])([-P])[-D][-A]([-C])([-T])([-U])([-W])$")


def info_tlb(qmp):
    """QEMU's walk of the active x86 tables: {va: (pa, flags)}."""
    seen = {}
    for line in qmp.hmp("info tlb").splitlines():
        m = TLB_LINE.match(line.strip())
        if m:
            seen[int(m.group(1), 16)] = (int(m.group(2), 16), "".join(m.group(i) for i in range(3, 10)))
    return seen


def expand(leaves):
    """Runs (va, pa, size, prot, page) as single leaves {va: (pa, page, prot)}."""
    out = {}
    for va, pa, size, prot, page in leaves:
        for off in range(0, size, page):
            out[va + off] = (pa + off, page, prot)
    return out


def compare_x86(qmp, leaves, seen=None):
    """Every leaf QEMU walks against every leaf of @leaves."""
    if seen is None:
        seen = info_tlb(qmp)
    want = {va: (pa, x86_flags(va, pa, page, prot)) for va, (pa, page, prot) in expand(leaves).items()}
    problems = []
    for va in sorted(set(want) | set(seen)):
        if va not in seen:
            problems.append("%x: missing in QEMU's walk" % va)
        elif va not in want:
            problems.append("%x: QEMU sees an extra leaf -> %x %s" % (va, seen[va][0], seen[va][1]))
        elif want[va] != seen[va]:
            problems.append("%x: expected %x %s, QEMU %x %s" % (va, want[va][0], want[va][1], seen[va][0], seen[va][1]))
    return len(want), problems


def gva2gpa(qmp, va):
    out = qmp.hmp("gva2gpa 0x%x" % va).strip()
    m = re.match(r"gpa: (0x[0-9a-f]+|0)$", out)  # printf's %#x prints zero as "0"
    return int(m.group(1), 16) if m else None


def samples(leaves):
    """First, a middle and last word of up to 8 leaves of every run, and the word past the run
    when nothing is recorded there (then it must be unmapped)."""
    def covering(va):
        return next((l for l in leaves if l[0] <= va < l[0] + l[2]), None)
    out = []
    for va, pa, size, _, page in leaves:
        count = size // page
        for k in sorted({i * (count - 1) // 7 for i in range(8)} if count > 8 else range(count)):
            for off in (k * page, k * page + page // 2 + 0x18, (k + 1) * page - 8):
                out.append((va + off, pa + off))
        past = va + size
        if past < 2**64 and covering(past) is None:
            out.append((past, None))
    return out


def runs(leaves):
    """Single leaves (va, pa, size, prot) joined into runs where va, pa and rights continue."""
    out = []
    for va, pa, size, prot in sorted(leaves):
        if out:
            rva, rpa, rsize, rprot, rpage = out[-1]
            if rpage == size and rprot == prot and rva + rsize == va and rpa + rsize == pa:
                out[-1] = (rva, rpa, rsize + size, rprot, rpage)
                continue
        out.append((va, pa, size, prot, size))
    return out


def compare_walk(qmp, oracle, walk, records):
    """pgt_walk's valid mappings: exactly the recorded leaves (then QEMU's walk, which the
    monitor comparison held to the records, agrees too); else also what QEMU walks."""
    valid = [m for m in walk if m[3] & (PROT_READ | PROT_WRITE | PROT_EXEC)]
    mine = {m[0]: (m[1], m[2], m[3]) for m in valid}
    want = expand(records)
    problems = []
    for va in sorted(set(mine) | set(want)):
        if mine.get(va) != want.get(va):
            problems.append("%x: pgt_walk %s, installed %s" % (va, fmt(mine.get(va)), fmt(want.get(va))))
    if not problems:  # the same leaves as the records: the monitor comparison has judged them
        return len(mine), []
    _, more = oracle.monitor(qmp, runs(valid))
    return len(mine), problems + ["QEMU: " + p for p in more]


def fmt(leaf):
    return "nothing" if leaf is None else "%x/%x/%x" % leaf


def compare_xlate(qmp, xlates):
    """pgt_translate's answers against QEMU's gva2gpa, address by address."""
    problems = []
    for va, pa in xlates:
        got = gva2gpa(qmp, va)
        if got != pa:
            problems.append("%x: pgt_translate %s, QEMU %s" % (va, "fault" if pa is None else "%x" % pa,
                                                            "unmapped" if got is None else "%x" % got))
    return len(xlates), problems


def compare_dump(qmp, dump):
    """pgt_dump against `info mem`, which has no x column, page size or memory type and so merges
    runs that differ only there, and which leaves out what is not present (pgt_dump prints
    reserved leaves as ----)."""
    merged = []
    for span, size, letters, page, memtype in dump:
        if "r" not in letters:
            continue
        start, end = (int(x, 16) for x in span.split("-"))
        if merged and merged[-1][1] == start and merged[-1][2] == letters[:3]:
            merged[-1][1] = end
        else:
            merged.append([start, end, letters[:3]])
    mine = ["%016x-%016x %016x %s" % (a, b, (b - a) % 2**64, l) for a, b, l in merged]
    theirs = [l.strip() for l in qmp.hmp("info mem").splitlines() if l.strip()]
    problems = []
    for i in range(max(len(mine), len(theirs))):
        a = mine[i] if i < len(mine) else "nothing"
        b = theirs[i] if i < len(theirs) else "nothing"
        if a != b:
            problems.append("line %d: pgt_dump %s, QEMU %s" % (i + 1, a, b))
    return len(theirs), problems


def compare_arm(qmp, leaves):
    problems = []
    todo = samples(leaves)
    for va, want in todo:
        got = gva2gpa(qmp, va)
        if got != want:
            problems.append("%x: expected %s, QEMU %s" % (va, "unmapped" if want is None else "%x" % want,
                                                        "unmapped" if got is None else "%x" % got))
    return len(todo), problems


# RISC-V `info mem` (target/riscv/monitor.c): "VADDR PADDR SIZE rwxugad", one line per run of
# leaves that QEMU found contiguous, VADDR sign-extended.
RISCV_MEM_LINE = re.compile(r"^([0-9a-f]{16}) ([0-9a-f]{16}) ([0-9a-f]{16}) ([-r][-w][-x][-u][-g])([-a][-d])$")
# PADDR is the raw entry's PPN field shifted left by 12, with the bits above it: Svpbmt's PBMT
# (entry bits 62:61) lands at 64:63, so NC shows as bit 63 and IO is shifted out of the word.
# Physical addresses have 56 bits.
RISCV_PA_MASK = (1 << 56) - 1
RISCV_PADDR_NC = 1 << 63


def riscv_flags(prot):
    """The rwxug columns of `info mem` for a leaf (A and D left out), then n for Svpbmt NC.
    PROT_UNCACHED is Svpbmt IO, which `info mem` cannot show."""
    return "".join([
        "r" if prot & PROT_READ else "-",
        "w" if prot & PROT_WRITE else "-",
        "x" if prot & PROT_EXEC else "-",
        "u" if prot & PROT_USER else "-",
        "g" if prot & PROT_GLOBAL else "-",
        "n" if prot & PROT_NONCACHEABLE else "-",
    ])


def info_mem_riscv(qmp):
    """QEMU's walk of the active RISC-V tables: [(va, pa, size, flags)], and the ranges whose
    leaves lack A or D."""
    seen, no_ad = [], []
    for line in qmp.hmp("info mem").splitlines():
        m = RISCV_MEM_LINE.match(line.strip())
        if m:
            raw = int(m.group(2), 16)
            flags = m.group(4) + ("n" if raw & RISCV_PADDR_NC else "-")
            seen.append((int(m.group(1), 16), raw & RISCV_PA_MASK, int(m.group(3), 16), flags))
            if m.group(5) != "ad":
                no_ad.append(seen[-1][:3] + (m.group(4) + m.group(5),))
    return seen, no_ad


def merge_ranges(ranges):
    """(va, pa, size, flags) joined wherever va and pa both continue with the same flags: the one
    form both sides share (QEMU breaks its runs where a table ends; leaf sizes are the walk's job)."""
    out = []
    for va, pa, size, flags in sorted(ranges):
        if out and out[-1][3] == flags and out[-1][0] + out[-1][2] == va and out[-1][1] + out[-1][2] == pa:
            out[-1] = (out[-1][0], out[-1][1], out[-1][2] + size, flags)
        else:
            out.append((va, pa, size, flags))
    return out


def fmt_range(r):
    return "%x-%x -> %x %s" % (r[0], r[0] + r[2] - 1, r[1], r[3])


def compare_riscv(qmp, leaves):
    """Every range QEMU walks against every leaf of @leaves: addresses, rights, global, NC. And
    A and D in every leaf: the library sets both on every valid leaf (QEMU 7.2 would set them
    itself; a hart that faults on a clear A or D, Svade, would not)."""
    want = merge_ranges([(va, pa, size, riscv_flags(prot)) for va, pa, size, prot, _ in leaves])
    walked, no_ad = info_mem_riscv(qmp)
    seen = merge_ranges(walked)
    problems = ["recorded %s, not in QEMU's walk" % fmt_range(r) for r in want if r not in seen]
    problems += ["QEMU walks %s, not recorded" % fmt_range(r) for r in seen if r not in want]
    problems += ["QEMU walks %s: A or D clear" % fmt_range(r) for r in no_ad]
    return len(want), problems


class Oracle:
    """How one architecture's checkpoints are judged: the monitor comparison, what it counts,
    and whether QEMU's `info mem` has the layout pgt_dump prints (x86-64's)."""

    def __init__(self, monitor, unit, dump):
        self.monitor, self.unit, self.dump = monitor, unit, dump


ORACLES = {
    "x86_64": Oracle(compare_x86, "leaves", True),
    "aarch64": Oracle(compare_arm, "samples", False),  # no `info mem` or `info tlb` on ARM
    "riscv64": Oracle(compare_riscv, "ranges", False),  # `info mem` has its own layout
}


class Run:
    """One QEMU run: results in order, as (name, status, detail, sabotaged)."""

    def __init__(self):
        self.results = []
        self.leaves = []
        self.walk = []
        self.walk_levels = []
        self.walk_status = None
        self.format = None
        self.root = None
        self.pgtdump = None  # (command prefix, path) of the pgtdump to run at the first checkpoint
        self.tmp = None
        self.pgtdump_done = False
        self.xlates = []
        self.dump = []
        self.dump_status = None
        self.problems = []
        self.verify = None
        self.no_info_mem = False
        self.sabotage = None
        self.done = None
        self.panic = None
        self.status = None
        self.elapsed = 0.0
        self.log = []
        self.notes = []


def reader(stream, q):
    for raw in iter(stream.readline, b""):
        q.put(raw.decode(errors="replace").rstrip("\r\n"))
    q.put(None)


def result(run, name, count, problems, unit):
    detail = "; ".join(problems[:4]) + (" (+%d more)" % (len(problems) - 4) if len(problems) > 4 else "")
    what = "%s %d %s" % (unit, count, "match" if not problems else "checked")
    run.results.append((name, "fail" if problems else "pass", detail if problems else what, run.sabotage))


def checkpoint(tag, run, qmp, arch):
    """The kernel's records, its pgt_walk and its pgt_translate answers, each against QEMU."""
    oracle = ORACLES[arch]
    count, problems = oracle.monitor(qmp, run.leaves)
    result(run, "monitor_" + tag, count, problems, oracle.unit)
    if run.walk_status is not None:
        count, problems = compare_walk(qmp, oracle, run.walk, run.leaves)
        if run.walk_status != 0:
            problems.insert(0, "pgt_walk returned %d" % run.walk_status)
        result(run, "walk_" + tag, count, problems, "leaves")
    if run.xlates:
        count, problems = compare_xlate(qmp, run.xlates)
        result(run, "translate_" + tag, count, problems, "addresses")
    # On x86 with LA57, QEMU 7.2's `info mem` never answers.
    if run.dump_status is not None and oracle.dump and not run.no_info_mem:
        count, problems = compare_dump(qmp, run.dump)
        if run.dump_status != 0:
            problems.insert(0, "pgt_dump returned %d" % run.dump_status)
        result(run, "dump_" + tag, count, problems, "lines")
    if run.verify is not None:
        problems = run.problems + (["pgt_verify returned %d" % run.verify] if run.verify != 0 else [])
        result(run, "verify_" + tag, 1, problems, "tree")
    if run.pgtdump and not run.pgtdump_done and run.walk_status == 0:
        run.pgtdump_done = True
        count, problems = compare_pgtdump(qmp, run)
        result(run, "pgtdump_" + tag, count, problems, "leaves")


PROT_NAMES = {"read": PROT_READ, "write": PROT_WRITE, "exec": PROT_EXEC, "user": PROT_USER,
              "global": PROT_GLOBAL, "uncached": PROT_UNCACHED, "noncacheable": PROT_NONCACHEABLE,
              "writecombine": 128}


def pgtdump_leaf(obj):
    prot = 0
    for name in obj["prot"]:
        prot |= PROT_NAMES[name]
    return (int(obj["va"], 16), int(obj["pa"], 16), int(obj["size"], 16), prot), obj["level"]


def compare_pgtdump(qmp, run):
    """The guest's RAM dumped by QEMU (dump-guest-memory, paging off: physical addresses in the
    PT_LOAD headers), read by pgtdump with the kernel's format and root: its walk against the
    kernel's own pgt_walk, every leaf with its level."""
    if run.format is None or run.root is None:
        return 0, ["the kernel printed no @format or @space root"]
    core = os.path.join(run.tmp, "guest.core")
    prefix, path = run.pgtdump
    try:
        qmp.execute("dump-guest-memory", paging=False, protocol="file:" + core)
        p = subprocess.run(prefix + [path, "--arch", run.format, "--root", "0x%x" % run.root, core, "walk", "--json"],
                           capture_output=True, timeout=120)
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as e:
        return 0, ["pgtdump on the dump: %s" % e]
    finally:
        if os.path.exists(core):
            os.unlink(core)
    if p.returncode != 0:
        return 0, ["pgtdump exit status %d: %s" % (p.returncode, p.stderr.decode(errors="replace").strip()[:200])]
    got = [pgtdump_leaf(json.loads(l)) for l in p.stdout.decode().splitlines()]
    want = list(zip(run.walk, run.walk_levels))
    problems = []
    for i in range(max(len(got), len(want))):
        g = got[i] if i < len(got) else None
        w = want[i] if i < len(want) else None
        if g != w:
            problems.append("leaf %d: pgtdump %s, kernel's pgt_walk %s" % (i, fmt_level(g), fmt_level(w)))
    return len(want), problems


def fmt_level(leaf):
    return "nothing" if leaf is None else "%x/%x/%x/%x level %d" % (leaf[0] + (leaf[1],))


def handle(line, run, qmp, proc, arch):
    words = line.split(" ", 3)
    tag = words[0]
    if tag == "@case":
        status = words[2] if len(words) > 2 else "fail"
        detail = words[3] if len(words) > 3 else ""
        run.results.append((words[1], status, detail, run.sabotage))
        run.sabotage = None
    elif tag == "@format":
        run.format = words[1]
    elif tag == "@space":
        run.root = int(words[2], 16)
        run.leaves, run.walk, run.walk_levels, run.walk_status, run.xlates = [], [], [], None, []
        run.dump, run.dump_status, run.problems, run.verify = [], None, [], None
    elif tag == "@leaf":
        run.leaves.append(tuple(int(w, 16) for w in line.split()[1:6]))
    elif tag == "@walk":
        run.walk.append(tuple(int(w, 16) for w in line.split()[1:5]))
        run.walk_levels.append(int(line.split()[5]))
    elif tag == "@walkdone":
        run.walk_status = int(words[1])
    elif tag == "@dump":
        run.dump.append(line.split()[1:])
    elif tag == "@dumpdone":
        run.dump_status = int(words[1])
    elif tag == "@problem":
        run.problems.append(line[len("@problem "):])
    elif tag == "@verify":
        run.verify = int(words[1])
    elif tag == "@xlate":
        f = line.split()
        run.xlates.append((int(f[1], 16), None if f[2] == "none" else int(f[2], 16)))
    elif tag == "@sync":
        checkpoint(words[1], run, qmp, arch)
        proc.stdin.write(b"g")
        proc.stdin.flush()
    elif tag == "@sabotage":
        run.sabotage = words[1]
    elif tag == "@note":
        run.notes.append(line[len("@note "):])
    elif tag == "@panic":
        run.panic = line[len("@panic "):]
    elif tag == "@done":
        run.done = int(words[1])


def boot(args):
    run = Run()
    run.no_info_mem = args.no_info_mem
    with tempfile.TemporaryDirectory(prefix="pgt-hw-") as tmp:
        run.tmp = tmp
        if args.pgtdump:
            run.pgtdump = (shlex.split(args.pgtdump_exec or ""), args.pgtdump)
        sock = os.path.join(tmp, "qmp")
        cmd = [args.qemu] + args.qemu_args.split() + [
            "-nodefaults", "-display", "none", "-no-reboot", "-serial", "stdio",
            "-qmp", "unix:%s,server=on,wait=off" % sock, "-kernel", args.kernel]
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        q = queue.Queue()
        threading.Thread(target=reader, args=(proc.stdout, q), daemon=True).start()
        errq = queue.Queue()
        threading.Thread(target=reader, args=(proc.stderr, errq), daemon=True).start()
        # No limit on the whole run, which a loaded machine may slow down at
        # will: a hang is a kernel that prints nothing for args.stall seconds
        # (every case prints its result), counted from its last line.
        last = "(nothing yet)"
        try:
            qmp = Qmp(sock, time.monotonic() + args.stall)
            while True:
                line = q.get(timeout=args.stall)
                if line is None:
                    break
                last = line
                run.log.append(line)
                handle(line, run, qmp, proc, args.arch)
            run.status = proc.wait(timeout=args.stall)
        except (queue.Empty, subprocess.TimeoutExpired):
            run.panic = ("hung: no output for %.0f s after %.0f s, the last line being %r (the kernel stopped, "
                         "or a table the MMU cannot walk livelocks it; PGT_HW_STALL sets the limit)"
                         % (args.stall, time.monotonic() - start, last[:80]))
        except (OSError, EOFError, RuntimeError, ValueError) as e:
            run.panic = "harness: %s" % e
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        run.elapsed = time.monotonic() - start
        while not errq.empty():
            err = errq.get()
            if err:
                run.log.append("qemu: " + err)
    return run


class Tap:
    def __init__(self, label):
        self.label, self.n, self.failed, self.skipped = label, 0, 0, 0

    def result(self, ok, name, detail="", skip=False):
        self.n += 1
        self.failed += 0 if ok else 1
        self.skipped += 1 if skip else 0
        line = "%s %d - %s: %s" % ("ok" if ok else "not ok", self.n, self.label, name)
        if skip:
            line += " # SKIP " + detail
        elif detail:
            line += " # " + detail if not ok else " (" + detail + ")"
        print(line)

    def finish(self):
        print("1..%d" % self.n)
        # The Check-style tally that .ci/run sums over every suite.
        print("# %s: Checks: %d, Failures: %d, Errors: 0" % (self.label, self.n - self.skipped, self.failed))
        return 1 if self.failed else 0


def completed(run):
    ok = run.panic is None and run.done is not None and run.status == EXIT_COMPLETED
    detail = "status %s, %.2f s" % (run.status, run.elapsed)
    if run.panic:
        detail = run.panic + "; " + detail
    elif run.done is None:
        detail = "no @done line; " + detail
    return ok, detail


def report_normal(args, run, tap):
    for name, status, detail, _ in run.results:
        tap.result(status != "fail", name, detail, skip=status == "skip")
    ok, detail = completed(run)
    tap.result(ok, "kernel ran to completion", detail)


def report_selftest(args, run, tap):
    """A broken kernel: its sabotaged case and the monitor must fail, nothing else may."""
    victims = [r for r in run.results if r[3]]
    tap.result(bool(victims), "the broken build sabotaged a case", "kind %s" % args.selftest)
    for name, status, detail, _ in victims:
        tap.result(status == "fail", "broken %s caught by case %s" % (args.selftest, name), detail)
    def failed(prefix):
        return [r for r in run.results if r[0].startswith(prefix) and r[1] == "fail"]
    if args.selftest_monitor:
        caught = failed("monitor_")
        tap.result(bool(caught), "broken %s caught by the monitor comparison" % args.selftest,
                   "; ".join(r[2] for r in caught)[:200])
    # pgt_walk reports what is really there, which is not what the kernel recorded.
    caught = failed("walk_")
    tap.result(bool(caught), "broken %s caught by the pgt_walk comparison" % args.selftest,
               "; ".join(r[2] for r in caught)[:200])
    checkpoint_kinds = ("monitor_", "walk_")  # the others (translate_, dump_, verify_) must pass
    others = [r for r in run.results if not r[3] and not r[0].startswith(checkpoint_kinds) and r[1] == "fail"]
    tap.result(not others, "the other cases still pass", ", ".join(r[0] for r in others))
    # pgtdump reads the tables as they are, which is what the broken kernel's own pgt_walk saw.
    for name, status, detail, _ in (r for r in run.results if r[0].startswith("pgtdump_")):
        tap.result(status != "fail", name, detail)
    ok, detail = completed(run)
    tap.result(ok, "broken kernel ran to completion", detail)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arch", required=True, choices=sorted(ORACLES))
    p.add_argument("--label", required=True)
    p.add_argument("--qemu", required=True)
    p.add_argument("--qemu-args", default="")
    p.add_argument("--kernel", required=True)
    p.add_argument("--stall", type=float, default=60.0,
                   help="seconds without a console line after which the kernel counts as hung")
    p.add_argument("--selftest", help="the kernel is a broken build of this kind; it must be caught")
    p.add_argument("--selftest-monitor", action="store_true", help="the monitor comparison must catch it too")
    p.add_argument("--no-info-mem", action="store_true", help="QEMU's `info mem` does not work for this kernel")
    p.add_argument("--pgtdump", help="pgtdump to run on a memory dump at the first checkpoint")
    p.add_argument("--pgtdump-exec", default="", help="a command that runs pgtdump (qemu-user)")
    args = p.parse_args()

    run = boot(args)
    tap = Tap(args.label)
    (report_selftest if args.selftest else report_normal)(args, run, tap)
    for note in run.notes:
        print("# " + note)
    status = tap.finish()
    if status:
        print("# console and QEMU output:")
        for line in run.log[-80:]:
            print("#   " + line)
    return status


if __name__ == "__main__":
    sys.exit(main())
