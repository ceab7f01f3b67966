#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn guest console logs into one verdict; the last line is
"N passed, M failed" (", K skipped" appended when K > 0).

  ktap-summary.py [--boot NAME=STATUS]... [--kunit-py PATH] [--expect-kunit LOG]...
                  [--console-ktap LOG]... LOG...

Counted as tests:
  - each KUnit test case of every suite the guest printed between
    "@@kecpuhp:ktap-begin SUITE@@" and "@@kecpuhp:ktap-end SUITE@@" (the
    suite's debugfs results file): leaf results, so a parameterized case
    counts once per parameter. Each block is also run through the kernel's
    "kunit.py parse"; a disagreement with our own count is a failure. A block
    with no test case, a block that never ends, and a suite the kernel log
    announced (printk'd "    # Subtest: SUITE") without a block are failures;
  - each "@@kecpuhp:result ok|fail|skip NAME [REASON]@@" line (guest
    scenarios, host-side checks);
  - each --boot NAME=STATUS: failed when STATUS != 0;
  - per log, kernel splats (WARNING, BUG, KASAN, lockdep reports, hung task,
    Oops, panic, UBSAN, kmemleak leak reports, ...) are one failed test
    "splat: FIRST LINE"; up to 20 matching lines are listed.
--expect-kunit LOG: LOG must hold at least one KUnit test case.
--console-ktap LOG: LOG is the console of a kernel that ran the suites
built in (kunit.py run, no debugfs blocks): each suite the kernel announced
is counted from its console KTAP, as a block would be.
No passed test at all is a failure. Exit status 0 iff nothing failed.
Python standard library only.
"""
import argparse
import os
import re
import subprocess
import sys

BEGIN = re.compile(r"@@kecpuhp:ktap-begin (\S+)@@")
END = re.compile(r"@@kecpuhp:ktap-end (\S+)@@")
RESULT = re.compile(r"@@kecpuhp:result (ok|fail|skip) (\S+)[ \t]*(.*?)@@")
PRINTK = re.compile(r"^\[\s*\d+\.\d+\] ?")
TEST = re.compile(r"^(\s*)(ok|not ok) (\d+)(?: -)? ?([^#]*?)\s*(?:#\s*(\S+).*)?$")
# printk'd KTAP, outside the blocks: module-load plan and suite headers.
CONSOLE_PLAN = re.compile(r"^1\.\.(\d+)$")
CONSOLE_SUITE = re.compile(r"^ {4}# Subtest: (\S+)$")
KUNIT_TOTALS = re.compile(r"Ran (\d+) tests?(?:: (.*))?$")
TOTALS = re.compile(r"^# Totals: pass:(\d+) fail:(\d+) skip:(\d+) total:(\d+)")
SPLAT = re.compile(
    r"WARNING:|BUG:|kernel BUG at|KASAN:|Kernel panic|Oops:|"
    r"general protection fault|UBSAN:|"
    r"INFO: task .* blocked|INFO: possible|INFO: trying to register|"
    r"INFO: lockdep is turned off|turning off the locking correctness validator|"
    r"DEBUG_LOCKS_WARN_ON|possible recursive locking|possible circular locking|"
    r"inconsistent lock state|sleeping function called from invalid context|"
    r"unreferenced object|kmemleak: \d+ new suspected memory leaks|"
    r"Call Trace:")
MAX_SPLAT_LINES = 20


def default_kunit_py():
    """tools/testing/kunit/kunit.py of the tree lib.sh's kernel_source uses."""
    cache = os.environ.get("KECPUHP_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "kecpuhp")
    kver = os.environ.get("KVER", "6.12")
    return os.path.join(cache, "src", f"linux-source-{kver}", "tools", "testing", "kunit",
                        "kunit.py")


def scan(lines):
    """Split a console log into KTAP blocks and the rest.

    Returns (blocks, unterminated, rest): blocks is a list of (suite, lines),
    unterminated the suites whose block never ended, rest the other lines.
    """
    blocks, unterminated, rest = [], [], []
    suite, block = None, []
    for line in lines:
        m = BEGIN.search(line)
        if m:
            if suite:
                unterminated.append(suite)
            suite, block = m.group(1), []
            continue
        m = END.search(line)
        if m and suite:
            if m.group(1) != suite:
                unterminated.append(suite)
            else:
                blocks.append((suite, block))
            suite = None
            continue
        if suite:
            block.append(PRINTK.sub("", line))
        else:
            rest.append(line)
    if suite:
        unterminated.append(suite)
    return blocks, unterminated, rest


def leaf_results(block, suite=None):
    """[(ok, name, directive)] for results of tests without subtests.

    In KTAP a test's subtests come before its own result line and are
    indented deeper; the outermost result (depth 0, the wrapper around the
    suite) is never a test case. A parameter's name is prefixed with its
    test's: "test.param". A test that failed although none of the subtests
    shown failed (lost log lines) is returned as a failed leaf too.
    """
    results = []
    for line in block:
        m = TEST.match(line)
        if m:
            results.append((len(m.group(1).expandtabs()), m.group(2) == "ok",
                            m.group(4).strip(), (m.group(5) or "").upper()))
    leaves = []
    for i, (depth, ok, name, directive) in enumerate(results):
        if depth == 0:
            continue
        parents, level = [], depth
        for pdepth, _, pname, _ in results[i + 1:]:
            if pdepth < level:
                level = pdepth
                if pdepth > 0 and pname != suite:
                    parents.insert(0, pname)
        full = ".".join(parents + [name])
        if i > 0 and results[i - 1][0] > depth:
            # A parent: its subtests precede it, up to the previous sibling.
            if ok or directive == "SKIP":
                continue
            j, child_failed = i - 1, False
            while j >= 0 and results[j][0] > depth:
                child_failed |= not results[j][1] and results[j][3] != "SKIP"
                j -= 1
            if not child_failed:
                leaves.append((False, f"{full} (failed; failing subtest not in the log)",
                               directive))
            continue
        leaves.append((ok, full, directive))
    return leaves


def counts(leaves):
    """(passed, failed, skipped) of leaf results."""
    p = sum(1 for ok, _, d in leaves if ok and d != "SKIP")
    s = sum(1 for _, _, d in leaves if d == "SKIP")
    return p, len(leaves) - p - s, s


def kernel_totals(block):
    """The kernel's own "# Totals: pass:P fail:F skip:S total:T" (P, F, S)."""
    found = None
    for line in block:
        m = TOTALS.match(line)
        if m:
            found = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
    return found


def console_copy(kernel, suite):
    """The suite's KTAP as the kernel printed it on the console (printk
    timestamps removed), or []: "    # Subtest: SUITE" to "ok N SUITE"."""
    text = [PRINTK.sub("", line) for line in kernel]
    start = None
    for i, line in enumerate(text):
        if start is None and CONSOLE_SUITE.match(line) and line.split()[-1] == suite:
            start = i
        elif start is not None:
            m = re.match(rf"^(ok|not ok) \d+ ({re.escape(suite)}\b.*)$", line)
            if m:
                # Renumbered: the suite is test 1 of this one-suite plan.
                if start > 0 and text[start - 1].strip() == "KTAP version 1":
                    start -= 1
                return (["KTAP version 1", "1..1"] + text[start:i] +
                        [f"{m.group(1)} 1 {m.group(2)}"])
    return []


def announced_suites(kernel):
    """The suites the kernel announced ("    # Subtest: SUITE"), in order."""
    announced = []
    for line in kernel:
        m = CONSOLE_SUITE.match(PRINTK.sub("", line))
        if m and m.group(1) not in announced:
            announced.append(m.group(1))
    return announced


def kunit_parse(kunit_py, block):
    """Run kunit.py parse on BLOCK; return (returncode, total or None, summary)."""
    try:
        proc = subprocess.run([sys.executable, kunit_py, "parse"],
                              input="\n".join(block) + "\n", capture_output=True,
                              text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return 1, None, f"could not run kunit.py: {e}"
    total, summary = None, (proc.stdout.strip().splitlines() or ["(no output)"])[-1]
    for line in proc.stdout.splitlines():
        m = KUNIT_TOTALS.search(line)
        if m:
            total, summary = int(m.group(1)), m.group(0)
    return proc.returncode, total, summary


class Tally:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.failures = []

    def add(self, ok, name, skip=False):
        if skip:
            self.skipped += 1
        elif ok:
            self.passed += 1
        else:
            self.failed += 1
            self.failures.append(name)


def summarize_log(path, args, tally):
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = [line.rstrip("\r\n").rstrip("\r") for line in f]
    name = os.path.basename(path)
    blocks, unterminated, rest = scan(lines)

    # The kernel's own KTAP on the console: the printk-timestamped lines
    # (found even inside a block that never ended), else the lines outside
    # the blocks.
    kernel = [line for line in lines if PRINTK.match(line)] or rest
    if path in args.console_ktap:
        # Suites built into the kernel (kunit.py): their KTAP is on the
        # console only, one copy per suite the kernel announced.
        for suite in announced_suites(kernel):
            copy = console_copy(kernel, suite)
            if copy:
                blocks.append((suite, copy))
            else:
                unterminated.append(suite)

    cases = 0
    for suite, block in blocks:
        leaves = leaf_results(block, suite)
        totals = kernel_totals(block)
        note = None
        if totals and counts(leaves) != totals:
            # Older kernels (6.1) keep a bounded log per test: debugfs loses
            # subtest lines. The console copy of the suite is complete; use
            # it only for results that went missing, never to hide one.
            copy = console_copy(kernel, suite)
            lost = len(leaves) < sum(totals) and counts(leaves)[1] <= totals[1]
            if lost and copy and counts(leaf_results(copy, suite)) == totals:
                block, leaves = copy, leaf_results(copy, suite)
                note = "debugfs results incomplete, counted from the console copy"
            else:
                note = f"debugfs results incomplete: kernel totals pass/fail/skip {totals}"
        cases += len(leaves)
        p, f, s = counts(leaves)
        print(f"kunit {suite} ({name}): {p} passed, {f} failed, {s} skipped")
        if note:
            print(f"    note: {note}")
        for ok, n, d in leaves:
            if not ok and d != "SKIP":
                print(f"    not ok: {n}")
            tally.add(ok, f"kunit {suite}.{n}", skip=(d == "SKIP"))
        if not leaves:
            tally.add(False, f"kunit {suite}: no test case in its results ({name})")
            continue
        if totals and counts(leaves) != totals:
            missing = totals[1] - f
            tally.add(False, f"kunit {suite}: results disagree with the kernel's # Totals: "
                             f"pass/fail/skip {totals}, found {(p, f, s)}"
                             + (f" ({missing} failures not shown)" if missing > 0 else ""))
        if args.kunit_py:
            rc, total, summary = kunit_parse(args.kunit_py, block)
            print(f"    kunit.py parse: {summary}")
            # kunit.py parse (6.12) exits 1 when every test skipped.
            if total != len(leaves) or (rc != 0 and not f and s < len(leaves)):
                tally.add(False, f"kunit {suite}: kunit.py parse disagrees "
                                 f"({summary}; counted {len(leaves)}, exit {rc})")
    for suite in unterminated:
        tally.add(False, f"kunit {suite}: results block not terminated ({name})")

    # Suites the kernel announced while running them vs the blocks printed.
    announced, planned = announced_suites(kernel), 0
    for line in kernel:
        text = PRINTK.sub("", line)
        m = CONSOLE_PLAN.match(text)
        if m:
            planned += int(m.group(1))
    printed = {s for s, _ in blocks} | set(unterminated)
    for suite in announced:
        if suite not in printed:
            tally.add(False, f"kunit {suite}: ran but its results block is missing ({name})")
    if planned > len(printed | set(announced)):
        tally.add(False, f"kunit: the kernel log planned {planned} suites, "
                         f"{len(printed | set(announced))} seen ({name})")
    if path in args.expect_kunit and cases == 0:
        tally.add(False, f"kunit: no KUnit test case in {name}")

    for line in lines:
        m = RESULT.search(line)
        if m:
            what = f"{m.group(2)} {m.group(3)}".strip()
            tally.add(m.group(1) == "ok", what, skip=(m.group(1) == "skip"))
            if m.group(1) == "fail":
                print(f"scenario ({name}): FAIL {what}")

    splats = [line for line in lines
              if SPLAT.search(line) and "@@kecpuhp:" not in line
              and not line.startswith("host: ")]
    if splats:
        print(f"kernel splat in {path}:")
        for line in splats[:MAX_SPLAT_LINES]:
            print(f"    {line}")
        if len(splats) > MAX_SPLAT_LINES:
            print(f"    ... {len(splats) - MAX_SPLAT_LINES} more matching lines")
        tally.add(False, f"splat: {splats[0].strip()}")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("logs", nargs="*", help="console logs (and *.result files)")
    ap.add_argument("--boot", action="append", default=[], metavar="NAME=STATUS",
                    help="a boot's exit status (qemu.py); nonzero is a failure")
    ap.add_argument("--kunit-py", default=None,
                    help="kunit.py to cross-check each block with ('' to skip); "
                         "default: the extracted kernel source of lib.sh")
    ap.add_argument("--expect-kunit", action="append", default=[], metavar="LOG",
                    help="LOG must contain at least one KUnit test case")
    ap.add_argument("--console-ktap", action="append", default=[], metavar="LOG",
                    help="LOG is the console of a kernel with the suites built in "
                         "(kunit.py): count each announced suite from its KTAP there")
    args = ap.parse_args()

    if args.kunit_py is None:
        args.kunit_py = default_kunit_py()
        if not os.path.isfile(args.kunit_py):
            print(f"note: {args.kunit_py} not found, KTAP blocks not cross-checked "
                  "with kunit.py")
            args.kunit_py = ""
    elif args.kunit_py and not os.path.isfile(args.kunit_py):
        ap.error(f"--kunit-py {args.kunit_py}: no such file")
    # Compare --expect-kunit paths with the positional ones as given.
    args.expect_kunit = set(args.expect_kunit)
    args.console_ktap = set(args.console_ktap)

    tally = Tally()
    for path in args.logs:
        try:
            summarize_log(path, args, tally)
        except OSError as e:
            tally.add(False, f"log {path}: {e.strerror}")
    for path in args.expect_kunit - set(args.logs):
        tally.add(False, f"kunit: expected log {path} was not given")

    for boot in args.boot:
        name, sep, status = boot.partition("=")
        ok = sep and status.strip() == "0"
        if not ok:
            why = {"124": "timeout", "125": "QEMU ended without the guest's exit status"}
            print(f"boot {name}: exit status {status} {why.get(status, '')}".rstrip())
        tally.add(ok, f"boot {name} (exit status {status or '?'})")

    if tally.passed == 0:
        tally.add(False, "no test passed")
    if tally.failures:
        print("failed tests:")
        for n in tally.failures:
            print(f"  FAILED: {n}")
    tail = f", {tally.skipped} skipped" if tally.skipped else ""
    print(f"{tally.passed} passed, {tally.failed} failed{tail}")
    return 0 if tally.failed == 0 and tally.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
