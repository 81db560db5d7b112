#!/usr/bin/python3
"""test-summary.py — one line "N passed, M failed[, K skipped]" over all suites.

Reads meson's testlog.json (one JSON object per test) and pytest JUnit XML
files. A suite whose runner failed without leaving results (e.g. the test
stack did not start) counts as one failure, so it can never look green.
Exit status: 1 if anything failed, else 0.
"""
import argparse
import json
import re
import sys
import xml.etree.ElementTree as ET

PASS = {"OK", "EXPECTEDFAIL"}
SKIP = {"SKIP"}


CMOCKA = {
    "p": re.compile(r"^\[  PASSED  \] (\d+) test", re.M),
    "f": re.compile(r"^\[  FAILED  \] (\d+) test", re.M),
    "s": re.compile(r"^\[  SKIPPED \] (\d+) test", re.M),
}


def meson_counts(path):
    """Per test program; a cmocka program counts its individual tests."""
    p = f = s = 0
    with open(path) as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            t = json.loads(line)
            r = t.get("result", "")
            out = (t.get("stdout") or "") + "\n" + (t.get("stderr") or "")
            n = {k: sum(int(m) for m in rx.findall(out)) for k, rx in CMOCKA.items()}
            if r in SKIP:
                s += max(n["s"], 1) if not (n["p"] or n["f"]) else n["s"]
                p += n["p"]
                continue
            if n["p"] or n["f"] or n["s"]:
                p, f, s = p + n["p"], f + n["f"], s + n["s"]
                if r not in PASS and n["f"] == 0:
                    f += 1   # crashed/timed out after its cases passed
                continue
            if r in PASS:
                p += 1
            else:
                f += 1
    return p, f, s


def junit_counts(path):
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    p = f = s = 0
    for ts in suites:
        n = int(ts.get("tests", 0))
        fail = int(ts.get("failures", 0)) + int(ts.get("errors", 0))
        skip = int(ts.get("skipped", 0))
        f += fail
        s += skip
        p += max(n - fail - skip, 0)
    return p, f, s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--meson", action="append", default=[])
    ap.add_argument("--meson-rc", type=int, default=0)
    ap.add_argument("--junit", action="append", default=[])
    ap.add_argument("--junit-rc", type=int, action="append", default=[])
    ap.add_argument("--junit-name", action="append", default=[])
    # A runner that prints its own plain "N passed, M failed" line (the
    # browser test): NAME LOGFILE EXIT_STATUS.
    ap.add_argument("--plain", nargs=3, action="append", default=[], metavar=("NAME", "LOG", "RC"))
    a = ap.parse_args()
    total = [0, 0, 0]
    notes = []

    def add(c):
        for i in range(3):
            total[i] += c[i]

    for path in a.meson:
        try:
            c = meson_counts(path)
        except FileNotFoundError:
            c = (0, 0, 0)
        except (ValueError, OSError) as e:
            notes.append("unit: unreadable %s (%s)" % (path, e))
            c = (0, 1, 0)
        if a.meson_rc != 0 and c[1] == 0:
            notes.append("unit: meson test exited %d without a failed test" % a.meson_rc)
            c = (c[0], 1, c[2])
        add(c)
    for i, path in enumerate(a.junit):
        rc = a.junit_rc[i] if i < len(a.junit_rc) else 0
        name = a.junit_name[i] if i < len(a.junit_name) else path
        try:
            c = junit_counts(path)
        except FileNotFoundError:
            c = (0, 0, 0)
        except (ET.ParseError, ValueError, OSError) as e:
            notes.append("%s: unreadable %s (%s)" % (name, path, e))
            c = (0, 1, 0)
        if rc != 0 and c[1] == 0:
            notes.append("%s: runner exited %d without a failed test (stack start-up?)" % (name, rc))
            c = (c[0], 1, c[2])
        add(c)
    plain_rx = re.compile(r"^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$", re.M)
    for name, path, rc in a.plain:
        try:
            with open(path, errors="replace") as fh:
                found = plain_rx.findall(fh.read())
        except OSError:
            found = []
        c = (int(found[-1][0]), int(found[-1][1]), int(found[-1][2] or 0)) if found else (0, 0, 0)
        if int(rc) != 0 and c[1] == 0:
            notes.append("%s: runner exited %s without a failed test" % (name, rc))
            c = (c[0], 1, c[2])
        add(c)
    for n in notes:
        print("note: " + n)
    line = "%d passed, %d failed" % (total[0], total[1])
    if total[2]:
        line += ", %d skipped" % total[2]
    print(line)
    return 1 if total[1] else 0


if __name__ == "__main__":
    sys.exit(main())
