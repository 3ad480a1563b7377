#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""pgtdump(1) against the library's own answers, and on corrupted images.

For every shipped format (and ARMv8's upper range), tests/pgtdump_fixture
builds spaces with the library in a buffer standing for physical memory,
writes it as a raw image and as a minimal ELF core, and prints what the
library answers on the live spaces: every leaf of a walk, translations of
the first and last word of every leaf and of the word past it for six
accesses, verify's problems. pgtdump must reproduce each on the images:
walk (text, JSON lines, JSON array), dump (runs computed here from the
walk), translate, verify, and diff (two images, two roots) whose expected
output is computed here from the two walks. Corrupted images (truncated,
root outside, a table pointing outside, a malformed leaf, garbage ELF
headers, random bytes in the tables) must give a clear message and exit
status, never a crash or a hang: every run has a timeout.

Prints TAP, and the Check-style tally line that CI sums. Standard library only.
"""
import argparse
import json
import os
import random
import shlex
import subprocess
import sys
import tempfile

PROT_BITS = {"read": 1, "write": 2, "exec": 4, "user": 8, "global": 16, "uncached": 32,
             "noncacheable": 64, "writecombine": 128}
MEMTYPES = {0: "wb", 32: "uc", 64: "nc", 128: "wc"}
FAULTS = ["none", "not-present", "permission", "access-flag", "reserved-bit", "dirty", "misconfig"]
TIMEOUT = 120  # seconds for one run: generous for a loaded machine or an emulated build
MEM_SIZE = 4 << 20  # the fixture's buffer


class Tap:
    def __init__(self):
        self.n = self.failed = 0

    def check(self, ok, name, detail=""):
        self.n += 1
        self.failed += 0 if ok else 1
        print("%s %d - %s%s" % ("ok" if ok else "not ok", self.n, name, "" if ok or not detail else " # " + detail))
        sys.stdout.flush()
        return ok

    def finish(self):
        print("1..%d" % self.n)
        print("# check_pgtdump: Checks: %d, Failures: %d, Errors: 0" % (self.n, self.failed))
        return 1 if self.failed else 0


class Runner:
    def __init__(self, pgtdump, fixture, wrapper):
        self.pgtdump, self.fixture, self.wrapper = pgtdump, fixture, shlex.split(wrapper or "")

    def run(self, prog, args):
        """(status, stdout, stderr); status None after a timeout, negative for a signal."""
        try:
            p = subprocess.run(self.wrapper + [prog] + args, capture_output=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            return None, "", "timed out after %d s" % TIMEOUT
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")

    def dump(self, args):
        return self.run(self.pgtdump, args)


def hexes(words):
    return tuple(int(w, 16) for w in words)


def parse_fixture(text):
    """The fixture's records: {tag: [fields...]}, scalars for the one-line ones."""
    rec = {}
    for line in text.splitlines():
        tag, _, rest = line.partition(" ")
        rec.setdefault(tag, []).append(rest)
    return rec


def leaves(rec, tag):
    return [hexes(r.split()) for r in rec.get(tag, [])]


def one(rec, tag, base=16):
    return int(rec[tag][0].split()[0], base)


# ---- what pgtdump should print, computed from the library's walk ---------------------------

def size_name(size):
    units, u = "BKMGTPE", 0
    while u < 6 and size >= 1024 and size % 1024 == 0:
        size //= 1024
        u += 1
    return "%d%s" % (size, units[u])


def letters(prot):
    return "".join(c if prot & b else "-" for c, b in zip("urwxg", (8, 1, 2, 4, 16)))


def text_leaf(va, pa, size, prot, level):
    return "%016x %016x %s %s %s %d" % (va, pa, size_name(size), letters(prot), MEMTYPES[prot & 224], level)


def runs(walk):
    """dump's runs: virtually and physically contiguous leaves of one page size and prot."""
    out = []
    for va, pa, size, prot, _ in walk:
        if out:
            s, e, spa, page, sprot = out[-1]
            if e == va and spa + (e - s) == pa and page == size and sprot == prot:
                out[-1][1] = (va + size) % 2**64
                continue
        out.append([va, (va + size) % 2**64, pa, size, prot])
    return ["%016x-%016x %016x %016x %s %s %s" % (s, e, pa, (e - s) % 2**64, size_name(page), letters(prot),
                                                  MEMTYPES[prot & 224]) for s, e, pa, page, prot in out]


def expected_diff(a, b):
    key = lambda m: (m[0], m[2])
    a, b = sorted(a, key=key), sorted(b, key=key)
    out, i, j = [], 0, 0
    while i < len(a) or j < len(b):
        if j == len(b) or (i < len(a) and key(a[i]) < key(b[j])):
            out.append("- " + text_leaf(*a[i]))
            i += 1
        elif i == len(a) or key(b[j]) < key(a[i]):
            out.append("+ " + text_leaf(*b[j]))
            j += 1
        else:
            if a[i] != b[j]:
                out += ["< " + text_leaf(*a[i]), "> " + text_leaf(*b[j])]
            i += 1
            j += 1
    return out


def json_leaf(obj):
    prot = 0
    for name in obj["prot"]:
        prot |= PROT_BITS[name]
    return (int(obj["va"], 16), int(obj["pa"], 16), int(obj["size"], 16), prot, obj["level"])


def first_difference(got, want):
    for i in range(max(len(got), len(want))):
        g = got[i] if i < len(got) else "nothing"
        w = want[i] if i < len(want) else "nothing"
        if g != w:
            return "line %d: got %s, expected %s" % (i + 1, g, w)
    return ""


# ---- one format ---------------------------------------------------------------------------

class Format:
    def __init__(self, tap, runner, name, upper, tmp):
        self.tap, self.runner, self.name, self.upper, self.tmp = tap, runner, name, upper, tmp
        self.label = name + (" upper" if upper else "")

    def path(self, f):
        return os.path.join(self.tmp, f)

    def common(self, root, image="image.raw", base=None):
        args = ["--arch", self.name, "--root", "0x%x" % root]
        if self.upper:
            args.append("--upper")
        if base is not None:
            args += ["--base", "0x%x" % base]
        return args + [self.path(image)]

    def expect_ok(self, what, status, err, allowed=(0,)):
        if status in allowed:
            return True
        self.tap.check(False, "%s: %s" % (self.label, what), "status %s: %s" % (status, err.strip()[:200]))
        return False

    def compare(self, what, got, want):
        self.tap.check(got == want, "%s: %s (%d lines)" % (self.label, what, len(want)), first_difference(got, want))

    def setup(self):
        status, out, err = self.runner.run(self.runner.fixture, [self.name] + (["upper"] if self.upper else []) +
                                           [self.tmp])
        if not self.tap.check(status == 0, "%s: the fixture builds the spaces and writes the images" % self.label,
                              err.strip()[:200]):
            return False
        self.rec = parse_fixture(out)
        self.base, self.rootA, self.rootB = one(self.rec, "base"), one(self.rec, "rootA"), one(self.rec, "rootB")
        self.walkA, self.walkB, self.walkA2 = (leaves(self.rec, t) for t in ("walkA", "walkB", "walkA2"))
        return True

    def test_walk(self):
        for image, form in (("image.raw", "--json"), ("image.elf", "--json-array")):
            status, out, err = self.runner.dump(self.common(self.rootA, image, self.base) + ["walk", form])
            if not self.expect_ok("walk %s %s" % (image, form), status, err):
                continue
            objs = json.loads(out) if form == "--json-array" else [json.loads(l) for l in out.splitlines()]
            self.compare("walk %s %s = pgt_walk" % (form, image), [json_leaf(o) for o in objs], self.walkA)
        status, out, err = self.runner.dump(self.common(self.rootA, "image.raw", self.base) + ["walk"])
        if self.expect_ok("walk text", status, err):
            self.compare("walk text = pgt_walk", out.splitlines(), [text_leaf(*m) for m in self.walkA])

    def test_dump(self):
        for image in ("image.raw", "image.elf"):
            status, out, err = self.runner.dump(self.common(self.rootA, image, self.base) + ["dump"])
            if self.expect_ok("dump " + image, status, err):
                self.compare("dump %s = runs of pgt_walk" % image, out.splitlines(), runs(self.walkA))

    def translations(self, tag, root, image):
        by_access = {}
        for r in self.rec.get(tag, []):
            access, va, rest = r.split(" ", 2)
            by_access.setdefault(access, []).append((int(va, 16), rest.split()))
        for access, items in sorted(by_access.items()):
            status, out, err = self.runner.dump(self.common(root, image, self.base) +
                                                ["translate", "--access", access] + ["0x%x" % va for va, _ in items])
            want = []
            for va, r in items:
                if r[0] == "fault":
                    want.append("%016x fault %s level %s" % (va, FAULTS[int(r[1])], r[2]))
                elif r[0] == "error":
                    want = None  # the library could not translate: pgtdump must say why, not guess
                    break
                else:
                    want.append("%016x %016x" % (va, int(r[0], 16)))
            if want is None:
                self.tap.check(status == 3 and "outside the image" in err,
                               "%s: translate %s under a table outside the image: a clear error" % (self.label, access),
                               "status %s: %s" % (status, err.strip()[:200]))
                continue
            faults = any(" fault " in w for w in want)
            if self.expect_ok("translate " + access, status, err, (1,) if faults else (0,)):
                self.compare("translate --access %s %s (%s) = pgt_translate" % (access, image, tag),
                             out.splitlines(), want)

    def verify(self, tag, root, image):
        problems = ["%016x level %s: %s" % (int(va, 16), level, text)
                    for va, level, text in (r.split(" ", 2) for r in self.rec.get(tag + "problem", []))]
        count = int(self.rec[tag][0])
        status, out, err = self.runner.dump(self.common(root, image, self.base) + ["verify"])
        if self.expect_ok("verify " + image, status, err, (1,) if count else (0,)):
            want = problems + ["%d problem%s" % (count, "" if count == 1 else "s")]
            self.compare("verify %s (%s) = pgt_verify" % (image, tag), out.splitlines(), want)

    def test_diff(self):
        cases = (("two images", self.common(self.rootA, "image.raw", self.base) +
                  ["diff", "--base", "0x%x" % self.base, self.path("image2.raw")], self.walkA2),
                 ("two roots", self.common(self.rootA, "image.elf") + ["diff", "--root", "0x%x" % self.rootB],
                  self.walkB),
                 ("the same", self.common(self.rootA, "image.raw", self.base) + ["diff", self.path("image.elf")],
                  self.walkA))
        for what, args, after in cases:
            want = expected_diff(self.walkA, after)
            status, out, err = self.runner.dump(args)
            if self.expect_ok("diff " + what, status, err, (1,) if want else (0,)):
                self.compare("diff %s: added, removed, changed" % what, out.splitlines(), want)

    def test_empty(self):
        status, out, err = self.runner.dump(self.common(one(self.rec, "empty"), "image.raw", self.base) + ["walk"])
        self.tap.check(status == 0 and out == "", "%s: an empty root table walks to nothing" % self.label,
                       "status %s, %r %s" % (status, out[:80], err[:80]))

    def test_bad(self):
        """bad.raw: a malformed leaf in A, a root entry of B pointing outside the image."""
        badA = leaves(self.rec, "badAwalk")
        status, out, err = self.runner.dump(self.common(self.rootA, "bad.raw", self.base) + ["walk"])
        if self.expect_ok("walk over a malformed leaf", status, err):
            self.compare("walk over a malformed leaf = pgt_walk", out.splitlines(),
                         [text_leaf(*m) for m in badA])
        self.verify("badAverify", self.rootA, "bad.raw")
        self.translations("badAxlate", self.rootA, "bad.raw")
        for command in (["walk"], ["dump"], ["diff", "--root", "0x%x" % self.rootA]):
            status, out, err = self.runner.dump(self.common(self.rootB, "bad.raw", self.base) + command)
            self.tap.check(status == 3 and "outside the image" in err and "0x" in err,
                           "%s: %s with a table entry pointing outside the image: exit 3, says where" %
                           (self.label, command[0]), "status %s: %s" % (status, err.strip()[:200]))
        self.verify("badBverify", self.rootB, "bad.raw")
        self.translations("badBxlate", self.rootB, "bad.raw")

    def test_fuzz(self, seed):
        """Random bytes in the table frames and the ELF headers: an answer or a clear error, never a crash."""
        rng = random.Random(seed)
        raw = bytearray(open(self.path("image.raw"), "rb").read())
        elf = bytearray(open(self.path("image.elf"), "rb").read())
        used = max(m for m in (self.rootA - self.base, self.rootB - self.base)) + 0x10000
        bad = []
        for k in range(12):
            img, name = (bytearray(raw), "fuzz.raw") if k % 2 == 0 else (bytearray(elf), "fuzz.elf")
            lo, hi = (0x10000, min(used + 0x40000, len(img))) if k % 2 == 0 else (4, 0x200)
            for _ in range(rng.randint(1, 24)):
                img[rng.randrange(lo, hi)] = rng.randrange(256)
            open(self.path(name), "wb").write(img)
            for command in (["walk", "--json"], ["dump"], ["verify"], ["translate", "0x%x" % self.walkA[0][0]]):
                status, out, err = self.runner.dump(self.common(self.rootA, name, self.base) + command)
                if (status is None or status < 0 or status > 3 or (status >= 2 and not err.strip()) or
                        "Sanitizer" in err or "runtime error" in err):
                    bad.append("%s %s: status %s %s" % (name, command[0], status, err.strip()[:80]))
        self.tap.check(not bad, "%s: 12 randomly corrupted images x 4 commands: no crash, no hang" % self.label,
                       "; ".join(bad[:3]))


# ---- errors that do not depend on the format -------------------------------------------------

def expect_error(tap, runner, name, args, status, *words):
    got, out, err = runner.dump(args)
    ok = got == status and all(w in err for w in words) and err.startswith("pgtdump: ")
    tap.check(ok, "error: %s: exit %d, says %s" % (name, status, " / ".join(repr(w) for w in words)),
              "status %s: %s" % (got, err.strip()[:200]))


def patched(src, dst, edits, size=None):
    data = bytearray(open(src, "rb").read())
    for off, value in edits:
        data[off:off + len(value)] = value
    open(dst, "wb").write(data if size is None else data[:size])
    return dst


def test_errors(tap, runner, fmt):
    """Clear messages and exit codes: unreadable files, truncated and garbage ELF, root outside,
    unknown format, bad numbers (on one format's images)."""
    t = fmt.tmp
    elf = fmt.path("image.elf")
    common = ["--arch", fmt.name, "--root", "0x%x" % fmt.rootA]
    cases = [
        ("no such file", common + [os.path.join(t, "missing.raw"), "walk"], 3, "cannot read", "missing.raw"),
        ("a directory", common + [t, "walk"], 3, "not a regular file"),
        ("an empty file", common + [patched(elf, os.path.join(t, "empty"), [], 0), "walk"], 3, "empty file"),
        ("ELF cut inside its header", common + [patched(elf, os.path.join(t, "t1.elf"), [], 30), "walk"], 3,
         "truncated ELF", "header"),
        ("ELF cut inside its program headers", common + [patched(elf, os.path.join(t, "t2.elf"), [], 100), "walk"],
         3, "truncated ELF", "program headers"),
        ("ELF cut inside a segment", common + [patched(elf, os.path.join(t, "t3.elf"), [], 0x1000 + 4096), "walk"],
         3, "truncated ELF", "segment"),
        ("ELF32 class", common + [patched(elf, os.path.join(t, "g1.elf"), [(4, b"\x01")]), "walk"], 3, "not an ELF64"),
        ("big-endian ELF", common + [patched(elf, os.path.join(t, "g2.elf"), [(5, b"\x02")]), "walk"], 3,
         "little-endian"),
        ("program header size", common + [patched(elf, os.path.join(t, "g3.elf"), [(54, b"\x99\x00")]), "walk"], 3,
         "bad ELF header"),
        ("program headers beyond the file",
         common + [patched(elf, os.path.join(t, "g4.elf"), [(32, (1 << 40).to_bytes(8, "little"))]), "walk"], 3,
         "truncated ELF"),
        ("65534 program headers in a 4K file",
         common + [patched(elf, os.path.join(t, "g5.elf"), [(56, b"\xfe\xff")], 0x1000), "walk"], 3, "truncated ELF"),
        ("PN_XNUM without a section header",
         common + [patched(elf, os.path.join(t, "g6.elf"), [(56, b"\xff\xff"), (40, (1 << 33).to_bytes(8, "little"))]),
                   "walk"], 3, "truncated ELF", "section header"),
        ("a segment's offset beyond the file",
         common + [patched(elf, os.path.join(t, "g7.elf"), [(64 + 56 + 8, (1 << 45).to_bytes(8, "little"))]), "walk"],
         3, "truncated ELF", "segment 1"),
        ("no PT_LOAD segment",
         common + [patched(elf, os.path.join(t, "g8.elf"), [(64 + 56, b"\x04"), (64 + 112, b"\x04")]), "walk"], 3,
         "no PT_LOAD"),
        ("overlapping segments",
         common + [patched(elf, os.path.join(t, "g9.elf"), [(64 + 112 + 24, fmt.base.to_bytes(8, "little"))]),
                   "walk"], 3, "overlap"),
        ("raw image cut before the root",
         ["--arch", fmt.name, "--root", "0x%x" % fmt.rootA, "--base", "0x%x" % fmt.base,
          patched(fmt.path("image.raw"), os.path.join(t, "cut.raw"), [], fmt.rootA - fmt.base), "walk"], 3,
         "root table", "outside the image", "holds physical"),
        ("root outside the image", ["--arch", fmt.name, "--root", "0x%x" % (fmt.base + MEM_SIZE + (1 << 20)),
                                    "--base", "0x%x" % fmt.base, fmt.path("image.raw"), "verify"], 3,
         "outside the image"),
        ("raw image at the wrong base", common + [fmt.path("image.raw"), "walk"], 3, "outside the image"),
        ("misaligned root", ["--arch", fmt.name, "--root", "0x%x" % (fmt.rootA + 8), "--base", "0x%x" % fmt.base,
                             fmt.path("image.raw"), "walk"], 2, "not aligned"),
        ("unknown format", ["--arch", "vax", "--root", "0", elf, "walk"], 2, "unknown format 'vax'", fmt.name),
        ("root not a number", ["--arch", fmt.name, "--root", "0x1g", elf, "walk"], 2, "--root", "'0x1g' is not a number"),
        ("root too wide", ["--arch", fmt.name, "--root", "99999999999999999999999", elf, "walk"], 2, "64 bits"),
        ("negative base", ["--arch", fmt.name, "--root", "0", "--base", "-1", elf, "walk"], 2, "'-1' is not a number"),
        ("empty number", ["--arch", fmt.name, "--root=", elf, "walk"], 2, "is not a number"),
        ("no root", ["--arch", fmt.name, elf, "walk"], 2, "--root"),
        ("no arch", ["--root", "0", elf, "walk"], 2, "--arch"),
        ("unknown command", common + [elf, "frobnicate"], 2, "unknown command 'frobnicate'"),
        ("unknown option", common + ["--frob", elf, "walk"], 2, "unknown option '--frob'"),
        ("translate without an address", common + [elf, "translate"], 2, "virtual address"),
        ("translate with a bad access", common + [elf, "translate", "--access", "rw", "0"], 2, "--access"),
        ("translate a bad number", common + [elf, "translate", "12z"], 2, "'12z' is not a number"),
        ("upper on a format without it", ["--arch", "x86_64", "--root", "0x%x" % fmt.rootA, "--upper", elf, "walk"],
         2, "--upper"),
        ("diff with a second image that is not there", common + [elf, "diff", os.path.join(t, "nothing.raw")], 3,
         "nothing.raw", "cannot read"),
    ]
    for name, args, status, *words in cases:
        expect_error(tap, runner, name, args, status, *words)
    status, out, _ = runner.dump(["--help"])
    tap.check(status == 0 and out.startswith("usage: pgtdump") and "translate" in out, "--help: the usage, exit 0")


def format_names(runner):
    """The shipped formats, as pgtdump lists them for an unknown --arch."""
    _, _, err = runner.dump(["--arch", "?", "--root", "0", "x", "walk"])
    _, _, names = err.partition("the formats are:")
    return names.split()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pgtdump", required=True)
    p.add_argument("--fixture", required=True)
    p.add_argument("--exec", default="", help="a command that runs the programs (qemu-user, valgrind)")
    p.add_argument("--quick", action="store_true", help="three formats, no random images (under valgrind)")
    args = p.parse_args()
    tap = Tap()
    runner = Runner(args.pgtdump, args.fixture, args.exec)
    names = format_names(runner)
    tap.check(len(names) >= 9 and "x86_64" in names and "armv8-4k-48" in names and "riscv-sv39" in names,
              "an unknown --arch lists the formats (%s)" % " ".join(names))
    fuzzed = {"x86_64", "armv8-4k-48", "riscv-sv39"}
    variants = [(n, False) for n in names] + [("armv8-4k-39", True)]
    if args.quick:
        variants, fuzzed = [(n, False) for n in names if n in fuzzed], set()
    with tempfile.TemporaryDirectory(prefix="pgtdump-") as tmp:
        for seed, (name, upper) in enumerate(variants):
            d = os.path.join(tmp, name + ("-upper" if upper else ""))
            os.mkdir(d)
            f = Format(tap, runner, name, upper, d)
            if not f.setup():
                continue
            f.test_walk()
            f.test_dump()
            f.translations("xlateA", f.rootA, "image.raw")
            f.translations("xlateA", f.rootA, "image.elf")
            f.verify("verifyA", f.rootA, "image.elf")
            f.test_diff()
            f.test_empty()
            f.test_bad()
            if name in fuzzed and not upper:
                f.test_fuzz(seed)
            if name == "x86_64":
                test_errors(tap, runner, f)
            for leftover in os.listdir(d):  # keep the temporary space small
                os.unlink(os.path.join(d, leftover))
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
