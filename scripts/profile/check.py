#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Checks of a "make profile" results directory, as TAP lines.

    check.py RESULTS

make check (scripts/check.sh) runs "make profile" in short mode and takes
these lines over: the report exists and links its parts, every latency
section and the function graph and callers have data, trace.dat is a
trace-cmd file, and every plot is a valid PNG (signature, IHDR with a
nonzero size, and matplotlib reads it).  Exit status 1 if any failed.
"""

import os
import re
import struct
import sys
import zlib

# report.py, beside this file (sys.path[0]), without leaving a
# __pycache__ in the tree.
sys.dont_write_bytecode = True
from report import PATHS, read_text  # noqa: E402 (after dont_write_bytecode)

PNG_SIG = b"\x89PNG\r\n\x1a\n"
TRACE_MAGIC = b"\x17\x08\x44tracing"
SECTIONS = [("ioctl", "per ioctl command"),
            ("invalidate", "per invalidation event and action"),
            ("map", "per map path"),
            ("fault", "per fault round")]
# The map paths the workload must reach: all of guestmap_trace.h's but
# "none", a map that failed.
MAP_PATHS = [p for p in PATHS if p != "none"]
LATENCY_PLOTS = ["latency-%s" % s for s, _ in SECTIONS]
BENCH_PLOTS = ["bench-scaling", "bench-kvm"]


def png_problem(path):
    """Why PATH is not a valid PNG, or None."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return str(e)
    if data[:8] != PNG_SIG:
        return "no PNG signature"
    if len(data) < 45:
        return "%d bytes: too short for IHDR and IEND" % len(data)
    length, ctype = struct.unpack(">I4s", data[8:16])
    if ctype != b"IHDR" or length != 13:
        return "first chunk is not IHDR"
    width, height = struct.unpack(">II", data[16:24])
    if not width or not height:
        return "IHDR size %dx%d" % (width, height)
    if zlib.crc32(data[12:29]) != struct.unpack(">I", data[29:33])[0]:
        return "IHDR CRC mismatch"
    if b"IEND" not in data[-12:]:
        return "no IEND chunk"
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.image
        img = matplotlib.image.imread(path)
        if img.shape[0] != height or img.shape[1] != width:
            return "decoded %s, IHDR %dx%d" % (img.shape, width, height)
    except Exception as e:  # pylint: disable=broad-except
        return "matplotlib cannot read it: %s" % e
    return None


def latency_sections(text):
    """{section: [(group, count), ...]} of latency.txt's tables."""
    out, cur = {}, None
    for line in text.splitlines():
        m = re.match(r"== (\w+) latency, ", line)
        if m:
            cur = out.setdefault(m.group(1), [])
            continue
        if line.startswith("== "):
            cur = None
        if cur is None or line.startswith(" "):
            continue
        m = re.match(r"(.+?)\s+(\d+)\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+", line)
        if m:
            cur.append((m.group(1).strip(), int(m.group(2))))
    return out


class Tap:
    """Numbered TAP result lines."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def __call__(self, ok, desc, why=None, note=None):
        """One result; WHY explains a failure, NOTE a success (as comments,
        so that the descriptions stay the same from run to run)."""
        self.n += 1
        print("%sok %d %s" % ("" if ok else "not ", self.n, desc))
        if not ok:
            self.failed += 1
        if (why if not ok else note):
            print("# %s: %s" % (re.split(r" has | are ", desc)[0], why if not ok else note))


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    res = sys.argv[1]
    tap = Tap()
    print("TAP version 13")

    html = read_text(os.path.join(res, "report.html"))
    missing = [f for f in ["latency.txt", "graph.txt", "callers.txt", "trace.dat"] +
               [p + ".png" for p in LATENCY_PLOTS + BENCH_PLOTS] if f not in html]
    tap(html and not missing, "report.html exists and links the text, the plots and trace.dat",
        "missing links: %s" % " ".join(missing) if html else "no report.html")

    try:
        with open(os.path.join(res, "trace.dat"), "rb") as f:
            magic = f.read(len(TRACE_MAGIC))
    except OSError:
        magic = b""
    tap(magic == TRACE_MAGIC, "trace.dat is a trace-cmd file", "magic %r" % magic)

    sections = latency_sections(read_text(os.path.join(res, "latency.txt")))
    for name, desc in SECTIONS:
        groups = [(g, n) for g, n in sections.get(name, []) if n > 0]
        why = "no events" if not groups else None
        if name == "map" and groups:
            seen = {g.split(" ")[0] for g, _ in groups}
            lacking = [p for p in MAP_PATHS if p not in seen]
            if lacking:
                why = "no events on the path(s) %s" % " ".join(lacking)
        tap(why is None, "latency %s has data" % desc, why,
            "%d groups, %d events" % (len(groups), sum(n for _, n in groups)))

    graph = read_text(os.path.join(res, "graph.txt"))
    rows = re.findall(r"^(\w+)\s+(\d+)\s+[\d.]+\s+[\d.]+\s+[\d.]+(?:\s.*)?$", graph, re.M)
    trees = graph.count("\n## ")
    tap(rows and trees, "function graph has data",
        "no timed functions or no call tree in graph.txt",
        "%d functions, %d call trees" % (len(rows), trees))

    callers = read_text(os.path.join(res, "callers.txt"))
    calls = re.findall(r"^\s+(\d+)\s+(\S.*)$", callers, re.M)
    rust = [c for _, c in calls if "guestmap::" in c]
    mangled = [c for _, c in calls if c.startswith("_R")]
    tap(calls and rust and not mangled, "callers has data, Rust callers demangled",
        "no callers" if not calls else "%d mangled, %d demangled" % (len(mangled), len(rust)),
        "%d callers, %d in guestmap's Rust" % (len(calls), len(rust)))

    for group, names in (("latency", LATENCY_PLOTS), ("bench", BENCH_PLOTS)):
        bad = []
        for name in names:
            why = png_problem(os.path.join(res, name + ".png"))
            svg = os.path.join(res, name + ".svg")
            if not why and not (os.path.exists(svg) and os.path.getsize(svg)):
                why = "no SVG beside it"
            if why:
                bad.append("%s.png: %s" % (name, why))
        tap(not bad, "%s plots are valid PNG files (%s)" % (group, ", ".join(names)),
            "; ".join(bad))
    print("1..%d" % tap.n)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
