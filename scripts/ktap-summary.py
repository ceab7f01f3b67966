#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn guest console logs into one verdict, ending in "N passed, M failed".

Counted as tests:
  - each KUnit test case (leaf results) of every suite the guest printed
    between "@@kecpuhp:ktap-begin SUITE@@" and "@@kecpuhp:ktap-end SUITE@@";
    each block is also checked with the kernel's kunit.py parser;
  - each "@@kecpuhp:result ok|fail NAME [why]@@" line (guest scenarios and
    host checks);
  - each boot given as --boot NAME=STATUS: a failure when STATUS != 0;
  - per log, a kernel splat (lockdep, KASAN, WARNING, BUG, hung task,
    kmemleak report...) is one failure.
No test at all is a failure.
"""
import argparse
import re
import subprocess
import sys

BEGIN = re.compile(r"@@kecpuhp:ktap-begin (\S+)@@")
END = re.compile(r"@@kecpuhp:ktap-end (\S+)@@")
RESULT = re.compile(r"@@kecpuhp:result (ok|fail|skip) (\S+)\s*(.*?)@@")
PRINTK = re.compile(r"^\[\s*\d+\.\d+\]\s?")
TEST = re.compile(r"^(\s*)(ok|not ok) (\d+) (?:- )?([^#]*?)\s*(?:#\s*(\S+).*)?$")
SPLAT = re.compile(
    r"WARNING:|BUG:|Kernel panic|Oops:|general protection fault|"
    r"INFO: task .* blocked|INFO: possible|INFO: trying to register|"
    r"sleeping function called from invalid context|UBSAN:|"
    r"unreferenced object|kmemleak: \d+ new suspected|"
    r"possible recursive locking|possible circular locking|"
    r"inconsistent lock state|Call Trace:")


def ktap_blocks(lines):
    """Yield (suite, lines) for every begin/end block."""
    suite, block = None, []
    for line in lines:
        m = BEGIN.search(line)
        if m:
            suite, block = m.group(1), []
            continue
        m = END.search(line)
        if m and suite:
            yield suite, block
            suite = None
            continue
        if suite:
            block.append(PRINTK.sub("", line))


def leaf_results(block):
    """KTAP results of test cases: a result line with no nested results."""
    results = [(len(m.group(1)), m.group(2), m.group(4), (m.group(5) or "").upper())
               for m in map(TEST.match, block) if m]
    leaves = []
    for i, (depth, status, name, directive) in enumerate(results):
        # A test's own result line follows its subtests, one level shallower.
        has_children = i > 0 and results[i - 1][0] > depth
        if depth > 0 and not has_children:
            leaves.append((status, name, directive))
    return leaves


def kunit_parse_ok(kunit_py, block):
    if not kunit_py:
        return True
    text = "\n".join(block) + "\n"
    proc = subprocess.run([sys.executable, kunit_py, "parse"], input=text,
                          capture_output=True, text=True)
    return proc.returncode == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("logs", nargs="*")
    ap.add_argument("--boot", action="append", default=[], metavar="NAME=STATUS")
    ap.add_argument("--kunit-py")
    args = ap.parse_args()

    passed, failed, skipped, failures = 0, 0, 0, []

    def count(ok, name, skip=False):
        nonlocal passed, failed, skipped
        if skip:
            skipped += 1
        elif ok:
            passed += 1
        else:
            failed += 1
            failures.append(name)

    for path in args.logs:
        with open(path, errors="replace") as f:
            lines = [l.rstrip("\r\n") for l in f]
        for suite, block in ktap_blocks(lines):
            leaves = leaf_results(block)
            p = sum(1 for s, _, d in leaves if s == "ok" and d != "SKIP")
            s = sum(1 for _, _, d in leaves if d == "SKIP")
            bad = [n for st, n, d in leaves if st == "not ok" and d != "SKIP"]
            print(f"kunit {suite}: {p} passed, {len(bad)} failed, {s} skipped")
            for st, name, d in leaves:
                count(st == "ok", f"kunit {suite}.{name}", skip=(d == "SKIP"))
            if not leaves:
                count(False, f"kunit {suite}: no test case ran")
            if not kunit_parse_ok(args.kunit_py, block):
                count(False, f"kunit {suite}: kunit.py parse reported a failure")
        for line in lines:
            m = RESULT.search(line)
            if m:
                count(m.group(1) == "ok", f"{m.group(2)} {m.group(3)}".strip(),
                      skip=(m.group(1) == "skip"))
        splats = [l for l in lines if SPLAT.search(l) and "@@kecpuhp" not in l]
        if splats:
            print(f"{path}: kernel splat:")
            for l in splats[:20]:
                print("   ", l)
            count(False, f"splat in {path}: {splats[0].strip()}")

    for boot in args.boot:
        name, _, status = boot.partition("=")
        count(status == "0", f"boot {name} (exit status {status})")

    if passed + failed == 0:
        count(False, "no test ran")
    for name in failures:
        print(f"FAILED: {name}")
    tail = f", {skipped} skipped" if skipped else ""
    print(f"{passed} passed, {failed} failed{tail}")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
