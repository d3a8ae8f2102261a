#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The report of "make profile", from a results directory profile.sh filled.

Reads, in RESULTS:
  trace.dat       guestmap:* and the synthetic gm_*_lat latency events
  graph.dat       function_graph of the C part and the kernel functions it
                  calls, with guestmap's tracepoints; and in the instance
                  "callers" the function tracer on the same functions
                  (parents: the Rust callers)
  hist/*.hist     the kernel's own hist trigger output
  workload/*      the workload's output: fault_bench.txt, tdp.jsonl, ...
and writes there:
  latency.txt     per ioctl command, invalidation event and action, map
                  path and fault round: count, p50/p99/max, log2 buckets
                  (from the individual events in trace.dat), then the
                  kernel's histograms
  graph.txt       function_graph: time per function, one ioctl of each
                  command with the Rust caller of each C call, the call
                  trees outside ioctls (graph-full.txt: all of it)
  callers.txt     who called each traced function, Rust symbols demangled
  latency-*.png/.svg, bench-scaling.png/.svg, bench-kvm.png/.svg
  report.html     all of it, linked
and prints a summary.  Latencies under TCG are slow and noisy: compare
paths and ratios within one run, not absolute times.

Standard library and matplotlib only; trace-cmd reads the .dat files and
rustfilt demangles Rust's v0 symbols (left mangled without it).
"""

import argparse
import bisect
import collections
import glob
import html
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (after the backend is chosen)
from matplotlib.colors import LogNorm  # noqa: E402
from matplotlib.ticker import FuncFormatter, NullFormatter  # noqa: E402

# guestmap_trace.h's symbolic values.
EVENTS = ["unmap", "clear", "protection_vma", "protection_page",
          "soft_dirty", "release", "migrate", "exclusive"]
ACTIONS = ["zap_free", "zap", "wrprotect", "ignore", "release"]
PATHS = ["none", "pinned", "memremap", "cache_hit", "cache_refresh"]
KINDS = ["unknown", "page", "zero", "pfnmap"]

# The latency sections: synthetic event, title, what it pairs.
SECTIONS = [
    ("ioctl", "gm_ioctl_lat", "per ioctl command",
     "guestmap_ioctl_enter -> guestmap_ioctl_exit"),
    ("invalidate", "gm_invalidate_lat", "per invalidation event and action",
     "guestmap_invalidate_start -> guestmap_invalidate"),
    ("map", "gm_map_lat", "per map path (and what was mapped)",
     "guestmap_map_start -> guestmap_map"),
    ("fault", "gm_fault_lat", "per fault round, by the largest entry it installed",
     "guestmap_fault_start -> guestmap_fault"),
]

TCG_NOTE = "TCG: absolute times mean little, compare within the run"

# "trace-cmd report" lines; those of an instance start with its name.
LINE_RE = re.compile(r"^(?:\w+:)?\s*(?P<comm>.*?)-(?P<pid>\d+)\s+\[(?P<cpu>\d+)\]\s+"
                     r"(?:\S+\s+)?(?P<ts>\d+\.\d+):\s+(?P<event>[\w:]+):\s?(?P<rest>.*)$")
KV_RE = re.compile(r"(\w+)=([^\s,]+)")


def sym(table, value):
    """The name of a small enumerated value, or the number."""
    return table[value] if 0 <= value < len(table) else str(value)


def ioctl_names(uapi_dir):
    """{(type, nr): name} of the GUESTMAP_* ioctls the UAPI headers define."""
    names = {}
    pat = re.compile(r"#define\s+(GUESTMAP_\w+)\s*\\?\s*_IO[RW]*\(\s*GUESTMAP_IO\s*,\s*"
                     r"(0x[0-9a-fA-F]+|\d+)")
    io = 0xB9
    for path in sorted(glob.glob(os.path.join(uapi_dir, "guestmap*.h"))):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        m = re.search(r"#define\s+GUESTMAP_IO\s+(0x[0-9a-fA-F]+|\d+)", text)
        if m:
            io = int(m.group(1), 0)
        for m in pat.finditer(text):
            names[(io, int(m.group(2), 0))] = m.group(1)
    return names


def cmd_name(names, cmd):
    """GUESTMAP_* for an ioctl number, by its type and number bytes."""
    return names.get(((cmd >> 8) & 0xFF, cmd & 0xFF), "0x%x (unknown)" % cmd)


def fmt_ns(ns):
    """A duration in ns, in a unit that keeps it short."""
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= scale:
            v = ns / scale
            return ("%.0f" if v >= 100 else "%.1f" if v >= 10 else "%.2f") % v + unit
    return "%dns" % ns


def percentile(sorted_vals, p):
    """Nearest-rank percentile of an ascending list."""
    n = len(sorted_vals)
    return sorted_vals[min(n - 1, max(0, math.ceil(p / 100.0 * n) - 1))]


def log2_bucket(ns):
    """The kernel's .log2 key: ilog2(roundup_pow_of_two(ns))."""
    return (int(ns) - 1).bit_length() if ns > 1 else 0


def summarise(vals):
    """count, min, p50, p99, max, mean of a list of latencies."""
    v = sorted(vals)
    return {"count": len(v), "min": v[0], "p50": percentile(v, 50),
            "p99": percentile(v, 99), "max": v[-1], "mean": sum(v) / len(v)}


def run(cmd, **kw):
    """Output of a command, as text; "" and a warning if it fails."""
    try:
        return subprocess.run(cmd, check=True, capture_output=True, text=True,
                              errors="replace", **kw).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        print("report: %s: %s" % (" ".join(cmd), e), file=sys.stderr)
        return ""


def trace_lines(tracecmd, dat, *args):
    """trace-cmd report of DAT, line by line."""
    if not os.path.exists(dat):
        return
    with subprocess.Popen([tracecmd, "report", "-i", dat, *args], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True, errors="replace") as p:
        yield from p.stdout


class Demangler:
    """Rust v0 symbols to paths, through rustfilt, cached."""

    def __init__(self, rustfilt):
        self.rustfilt = rustfilt if rustfilt and os.access(rustfilt, os.X_OK) else None
        self.cache = {}

    def many(self, symbols):
        todo = sorted({s for s in symbols if s.startswith("_R") and s not in self.cache})
        if todo and self.rustfilt:
            out = run([self.rustfilt], input="\n".join(todo) + "\n").splitlines()
            if len(out) == len(todo):
                self.cache.update(zip(todo, out))
        for s in todo:
            self.cache.setdefault(s, s)

    def __call__(self, s):
        self.many([s])
        return self.cache.get(s, s)

    def text(self, text):
        """TEXT with every v0 symbol in it demangled."""
        syms = set(re.findall(r"_R[0-9A-Za-z_$.]+", text))
        self.many(syms)
        for s in sorted(syms, key=len, reverse=True):
            text = text.replace(s, self.cache.get(s, s))
        return text


# ---- latency ---------------------------------------------------------------

def group_key(section, f, names):
    """The group an event belongs to, in its section."""
    if section == "ioctl":
        return cmd_name(names, f["cmd"])
    if section == "invalidate":
        return "%s / %s" % (sym(EVENTS, f["ev"]), sym(ACTIONS, f["action"]))
    if section == "map":
        if f["ret"] != 0:
            return "error"
        return "%s (%s)" % (sym(PATHS, f["path"]), sym(KINDS, f["kind"]))
    if f["ret"] != 0:
        return "error"
    for field, label in (("entries_1g", "1G entries"), ("entries_2m", "2M entries"),
                         ("entries_4k", "4K entries")):
        if f[field]:
            return label
    return "nothing new"


def read_trace(tracecmd, dat, names):
    """Latencies per section and group, and counts of every guestmap event."""
    lat = {s[0]: collections.defaultdict(list) for s in SECTIONS}
    extra = {s[0]: collections.defaultdict(collections.Counter) for s in SECTIONS}
    counts = collections.Counter()
    by_event = {s[1]: s[0] for s in SECTIONS}
    for line in trace_lines(tracecmd, dat):
        m = LINE_RE.match(line)
        if not m:
            continue
        event = m.group("event").split(":")[-1]
        counts[event] += 1
        section = by_event.get(event)
        if not section:
            continue
        f = {k: int(v, 0) for k, v in KV_RE.findall(m.group("rest"))
             if re.fullmatch(r"-?(0x[0-9a-fA-F]+|\d+)", v)}
        if "lat_ns" not in f:
            continue
        key = group_key(section, f, names)
        lat[section][key].append(f["lat_ns"])
        x = extra[section][key]
        if section == "ioctl" and f.get("ret", 0) < 0:
            x["errors"] += 1
        if section == "fault":
            x["retries"] += f.get("retries", 0)
            x["pages"] += f.get("npages", 0)
        if section == "invalidate":
            x["zapped"] += f.get("zapped", 0)
            x["wrprotected"] += f.get("wrprotected", 0)
    return lat, extra, counts


def section_text(section, title, pairs, groups, extra):
    """The table and the log2 buckets of one section."""
    out = ["== %s latency, %s" % (section, title),
           "   (%s, from the individual synthetic events in trace.dat)" % pairs]
    if not groups:
        return out + ["   no events", ""]
    xnames = {"ioctl": ["errors"], "fault": ["pages", "retries"],
              "invalidate": ["zapped", "wrprotected"]}.get(section, [])
    width = max(24, max(len(g) for g in groups) + 1)
    out.append("%-*s %8s %8s %8s %8s %8s %8s" % (
        width, "", "count", "min", "p50", "p99", "max", "mean") +
        "".join(" %11s" % x for x in xnames))
    order = sorted(groups, key=lambda g: (-len(groups[g]), g))
    for g in order:
        s = summarise(groups[g])
        out.append("%-*s %8d %8s %8s %8s %8s %8s" % (
            width, g, s["count"], fmt_ns(s["min"]), fmt_ns(s["p50"]), fmt_ns(s["p99"]),
            fmt_ns(s["max"]), fmt_ns(s["mean"])) +
            "".join(" %11d" % extra[g][x] for x in xnames))
    if xnames:
        out.append("   (%s: totals over the group%s)" % (
            ", ".join(xnames), "; pages and zapped/wrprotected in 4 KiB pages"
            if section != "ioctl" else ", errors: negative returns"))
    out.append("")
    out.append("   log2 buckets: (2^(k-1), 2^k] ns, as the kernel's lat_ns.log2")
    for g in order:
        buckets = collections.Counter(log2_bucket(v) for v in groups[g])
        top = max(buckets.values())
        out.append("   %s" % g)
        for k in range(min(buckets), max(buckets) + 1):
            n = buckets.get(k, 0)
            out.append("     <= %-8s %-40s %d" % (fmt_ns(2 ** k), "#" * math.ceil(40 * n / top), n))
    out.append("")
    return out


def annotate_hist(text, names):
    """The kernel's hist output with the numbers of keys named."""
    def name_line(line):
        notes = []
        m = re.search(r"cmd: *(?:0x)?([0-9a-f]+)", line)
        if m:
            notes.append(cmd_name(names, int(m.group(1), 16)))
        for field, table in (("ev", EVENTS), ("action", ACTIONS), ("path", PATHS),
                             ("kind", KINDS)):
            m = re.search(r"\b%s: *(\d+)" % field, line)
            if m:
                notes.append("%s=%s" % (field, sym(table, int(m.group(1)))))
        return line + ("   # " + " ".join(notes) if notes else "")
    def key(line):
        return tuple(int(v, 16) if k == "cmd" else int(v)
                     for k, v in re.findall(r"(\w+): *~? *(?:2\^)?(?:0x)?([0-9a-f]+)", line))

    lines, block = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("{"):
            block.append(line)
            continue
        # Entries sorted by all their keys (the kernel sorts by two at most).
        lines += sorted(block, key=key) + [line]
        block = []
    return "\n".join(name_line(line) for line in lines[:-1])


def kernel_hists(results, names):
    """The kernel's hist files, synthetic ones first, with their hits."""
    files = sorted(glob.glob(os.path.join(results, "hist", "*.hist")),
                   key=lambda p: (not os.path.basename(p).startswith("synthetic."), p))
    out, hits = [], {}
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        name = os.path.basename(path)[:-len(".hist")]
        m = re.findall(r"Hits: (\d+)", text)
        hits[name] = [int(x) for x in m]
        out += ["== kernel hist: events/%s/hist" % name.replace(".", "/", 1),
                annotate_hist(text, names), ""]
    return out, hits


def kernel_buckets(results, section, synth, names):
    """{group: {log2 bucket: count}} of SYNTH's log2 histogram in the kernel."""
    text = read_text(os.path.join(results, "hist", "synthetic.%s.hist" % synth))
    block = text.split("# event histogram")[1] if "# event histogram" in text else ""
    groups = collections.defaultdict(collections.Counter)
    for line in block.splitlines():
        m = re.match(r"\{(.*)\} hitcount: *(\d+)", line)
        if not m:
            continue
        keys = dict(re.findall(r"(\w+): *~? *(?:2\^)?(\w+)", m.group(1)))
        if "lat_ns" not in keys:
            continue
        f = {k: int(v, 16) if k == "cmd" else int(v) for k, v in keys.items()}
        if section == "map":
            f["ret"] = 0 if f.get("path") else -1
        key = group_key(section, f, names) if section != "fault" else "all rounds"
        groups[key][f["lat_ns"]] += int(m.group(2))
    return groups


def kernel_table(section, groups):
    """Count and bucket percentiles per group, from the kernel's histogram."""
    if not groups:
        return []
    width = max(21, max(len(g) for g in groups) + 1)
    out = ["   Every phase, from the kernel's lat_ns.log2 histogram (percentiles are",
           "   the upper bounds of their buckets):",
           "   %-*s %8s %8s %8s %8s" % (width, "", "count", "p50 <=", "p99 <=", "max <=")]
    for g in sorted(groups, key=lambda g: (-sum(groups[g].values()), g)):
        b = groups[g]
        n = sum(b.values())
        cum, marks = 0, {}
        for k in sorted(b):
            cum += b[k]
            for p in (50, 99, 100):
                if p not in marks and cum >= math.ceil(p / 100.0 * n):
                    marks[p] = k
        out.append("   %-*s %8d %8s %8s %8s" % (width, g, n, fmt_ns(2 ** marks[50]),
                                             fmt_ns(2 ** marks[99]), fmt_ns(2 ** marks[100])))
    return out + [""]


# ---- plots -----------------------------------------------------------------

def save(fig, results, name):
    """NAME.png and NAME.svg in RESULTS."""
    for ext in ("png", "svg"):
        fig.savefig(os.path.join(results, "%s.%s" % (name, ext)), dpi=110,
                    bbox_inches="tight")
    plt.close(fig)
    return name + ".png"


def bucket_median(b):
    """The bucket that holds the median of a {bucket: count}."""
    n, cum = sum(b.values()), 0
    for k in sorted(b):
        cum += b[k]
        if cum * 2 >= n:
            return k
    return 0


def plot_latency(results, section, title, groups, kbuckets, mode):
    """Log2 buckets per group as a heat map (left: the kernel's histogram of
    every phase), p50/p99/max of the recorded events (right)."""
    # The kernel's groups must be the recorded ones (the fault rounds' are
    # by size there, by the entries installed here): else the recorded.
    from_kernel = bool(kbuckets) and bool(set(kbuckets) & set(groups))
    if not from_kernel:
        kbuckets = {g: collections.Counter(log2_bucket(v) for v in groups[g])
                    for g in groups}
    if not kbuckets:
        return None
    order = sorted(kbuckets, key=lambda g: (bucket_median(kbuckets[g]),
                                            statistics.median(groups[g]) if g in groups else 0))
    buckets = [kbuckets[g] for g in order]
    lo = min(min(b) for b in buckets)
    hi = max(max(b) for b in buckets)
    cols = list(range(lo, hi + 1))
    grid = [[b.get(k, 0) or float("nan") for k in cols] for b in buckets]
    fig, (ax1, ax2) = plt.subplots(
        1, 2, sharey=True, figsize=(max(14, 0.5 * len(cols) + 8), 0.38 * len(order) + 2.6),
        gridspec_kw={"width_ratios": [max(1.0, 0.09 * len(cols)), 1]})
    im = ax1.imshow(grid, aspect="auto", cmap="viridis", origin="lower",
                    norm=LogNorm(vmin=1, vmax=max(max(b.values()) for b in buckets)))
    for y, b in enumerate(buckets):
        for x, k in enumerate(cols):
            if b.get(k):
                ax1.text(x, y, str(b[k]), ha="center", va="center", fontsize=6,
                         color="black" if im.norm(b[k]) > 0.6 else "white")
    ax1.set_xticks(range(len(cols)))
    ax1.set_xticklabels(["≤" + fmt_ns(2 ** k).replace("us", "µs") for k in cols],
                        rotation=60, fontsize=7)
    ax1.set_yticks(range(len(order)))
    ax1.set_yticklabels(["%s  n=%d" % (g, sum(b.values())) for g, b in zip(order, buckets)],
                        fontsize=8)
    ax1.set_xlabel("latency, log2 bucket (2^(k-1), 2^k] ns")
    ax1.set_title("events per bucket, every phase (the kernel's histogram)" if from_kernel
                  else "events per bucket (trace.dat)", fontsize=10)
    cb = fig.colorbar(im, ax=ax1, pad=0.01, fraction=0.03)
    cb.set_label("events", fontsize=8)
    cb.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: "%g" % v))
    cb.ax.yaxis.set_minor_formatter(NullFormatter())
    y = [i for i, g in enumerate(order) if g in groups]
    st = [summarise(groups[order[i]]) for i in y]
    ax2.hlines(y, [s["min"] / 1e3 for s in st], [s["max"] / 1e3 for s in st],
               color="0.75", lw=3, label="min to max")
    ax2.plot([s["p50"] / 1e3 for s in st], y, "o", color="tab:blue", label="p50")
    ax2.plot([s["p99"] / 1e3 for s in st], y, ">", color="tab:orange", label="p99")
    ax2.plot([s["max"] / 1e3 for s in st], y, "x", color="tab:red", label="max")
    for i, s in zip(y, st):
        ax2.annotate("p50 %s (n=%d)" % (fmt_ns(s["p50"]).replace("us", "µs"), s["count"]),
                     (s["p50"] / 1e3, i), textcoords="offset points", xytext=(0, 5),
                     fontsize=6, ha="center")
    ax2.set_xscale("log")
    ax2.set_xlabel("latency (µs, log scale)")
    ax2.set_title("recorded events (trace.dat): p50 (●), p99 (▶), max (✕),\n"
                  "grey bar: min to max", fontsize=10)
    ax2.grid(True, which="both", axis="x", alpha=0.3)
    fig.suptitle("guestmap %s latency, %s\n(%s run; %s)" % (section, title, mode, TCG_NOTE),
                 fontsize=11)
    fig.tight_layout()
    return save(fig, results, "latency-" + section)


def read_fault_bench(path):
    """Per-run (one thread ms, two threads ms) of a fault_bench output."""
    runs = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = re.search(r"one thread\s+([\d.]+) ms, two threads\s+([\d.]+) ms", line)
                if m and line.startswith("# run"):
                    runs.append((float(m.group(1)), float(m.group(2))))
    except OSError:
        pass
    return runs


def read_jsonl(path):
    """The rows of a tdp_bench JSON-lines file."""
    rows = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        rows.append(json.loads(line))
                    except ValueError:
                        pass
    except OSError:
        pass
    return rows


def newest(pattern, test=None):
    """The newest file matching PATTERN (by name: they carry a UTC stamp) that TEST accepts."""
    for path in sorted(glob.glob(pattern), reverse=True):
        if os.path.getsize(path) and (test is None or test(path)):
            return path
    return None


def bench_sources(results, bench_dir):
    """(label, fault runs, tdp rows, map/nested ratio lines) per source."""
    srcs = []
    b = os.path.join(results, "workload")
    srcs.append(("this profile run", read_fault_bench(os.path.join(b, "fault_bench.txt")),
                 read_jsonl(os.path.join(b, "tdp.jsonl")),
                 bench_ratios([os.path.join(b, "map_bench.txt"),
                               os.path.join(b, "nested_bench.txt")]),
                 "workload/"))
    if bench_dir and os.path.isdir(bench_dir):
        fault = newest(os.path.join(bench_dir, "fault-*.txt"), lambda p: read_fault_bench(p))
        tdp = newest(os.path.join(bench_dir, "tdp-*.jsonl"), lambda p: read_jsonl(p))
        mp = newest(os.path.join(bench_dir, "map-*.txt"),
                    lambda p: bench_ratios([p]))
        ne = newest(os.path.join(bench_dir, "nested-*.txt"), lambda p: bench_ratios([p]))
        files = [p for p in (fault, tdp, mp, ne) if p]
        if files:
            srcs.append(("make bench",
                         read_fault_bench(fault) if fault else [],
                         read_jsonl(tdp) if tdp else [],
                         bench_ratios([p for p in (mp, ne) if p]), files))
    return srcs


def bench_ratios(paths):
    """{name: ratio} of the "bench: x.kvm_..._over_y R" lines: KVM over guestmap."""
    out = {}
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    m = re.match(r"bench: (\w+\.kvm\w*_over_(\w+)) ([\d.]+)", line)
                    if m and not m.group(2).startswith("kvm"):
                        out[m.group(1)] = float(m.group(3))
        except OSError:
            pass
    return out


def plot_scaling(results, srcs, mode):
    """fault_bench: two threads against one; tdp_bench: fault-in against size."""
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(17, 5),
                                        gridspec_kw={"width_ratios": [1.3, 0.7, 1.2]})
    have = False
    fault = [(label, runs) for label, runs, _, _, _ in srcs if runs]
    for i, (label, runs) in enumerate(fault):
        have = True
        ratios = [one / two for one, two in runs]
        med = statistics.median(ratios)
        line, = ax1.plot(range(1, len(runs) + 1), ratios, "o-", ms=4,
                         label="%s: median %.2f" % (label, med))
        ax1.axhline(med, color=line.get_color(), lw=1, alpha=0.5)
        one = statistics.median(r[0] for r in runs)
        two = statistics.median(r[1] for r in runs)
        bars = ax2.bar([i * 2.5, i * 2.5 + 1], [one, two], color=["tab:blue", "tab:green"],
                       edgecolor="k", linewidth=0.4)
        for bar, v in zip(bars, (one, two)):
            ax2.text(bar.get_x() + bar.get_width() / 2, v, "%.0f ms" % v, ha="center",
                     va="bottom", fontsize=7)
        ax2.text(i * 2.5 + 0.5, max(one, two) * 1.08, label, ha="center", va="bottom",
                 fontsize=7, style="italic")
    if not fault:
        for ax in (ax1, ax2):
            ax.text(0.5, 0.5, "no fault_bench output:\nfull mode or make bench has it",
                    ha="center", va="center", transform=ax.transAxes, fontsize=9)
    ax1.axhline(2.0, color="tab:green", ls="--", lw=1, label="perfect scaling, 2.0")
    ax1.axhline(1.0, color="tab:red", ls=":", lw=1, label="serialised, 1.0")
    ax1.set_xlabel("repetition")
    ax1.set_ylabel("throughput, two threads / one thread")
    ax1.set_title("fault_bench: faulting a 1 GiB memslot (4 KiB pages)\n"
                  "through one context, one thread against two", fontsize=9)
    ax1.legend(fontsize=7)
    ax1.grid(alpha=0.3)
    ax2.set_xticks([x for i in range(len(fault)) for x in (i * 2.5, i * 2.5 + 1)])
    ax2.set_xticklabels(["one\nthread", "two\nthreads"] * len(fault), fontsize=7)
    ax2.margins(y=0.15)
    ax2.set_ylabel("median time to fault 1 GiB (ms)")
    ax2.set_title("fault_bench medians", fontsize=9)
    ax2.grid(axis="y", alpha=0.3)
    markers = {"4k": "o", "thp": "s", "hugetlb": "^"}
    for label, _, rows, _, _ in srcs:
        fi = [r for r in rows if r.get("measure") == "fault_in"]
        for backing in sorted({r["backing"] for r in fi}):
            pts = sorted((r["size_mib"], r["kvm_median"], r["guestmap_median"])
                         for r in fi if r["backing"] == backing)
            colour = BACKING_COLOURS.get(backing, "0.5")
            alpha = 1.0 if label == "this profile run" else 0.45
            ax3.plot([p[0] for p in pts], [p[2] for p in pts], "-" + markers.get(backing, "o"),
                     color=colour, alpha=alpha, label="guestmap %s (%s)" % (backing, label))
            ax3.plot([p[0] for p in pts], [p[1] for p in pts], "--" + markers.get(backing, "o"),
                     color=colour, alpha=alpha, mfc="none",
                     label="KVM %s (%s)" % (backing, label))
            have = True
    ax3.set_xscale("log", base=2)
    sizes = sorted({r["size_mib"] for _, _, rows, _, _ in srcs for r in rows})
    if sizes:
        ax3.set_xticks(sizes)
        ax3.set_xticklabels([str(x) for x in sizes])
        ax3.set_xlim(sizes[0] / 1.5, sizes[-1] * 1.5)
    ax3.set_yscale("log")
    ax3.set_xlabel("buffer size (MiB, log scale)")
    ax3.set_ylabel("fault-in time, median (ms, log scale)")
    ax3.set_title("tdp_bench fault-in against size: guestmap (solid)\n"
                  "and KVM_PRE_FAULT_MEMORY (dashed)", fontsize=9)
    ax3.grid(True, which="both", alpha=0.3)
    if ax3.get_legend_handles_labels()[0]:
        ax3.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle("Scaling (%s run; %s, ratios matter)" % (mode, TCG_NOTE), fontsize=11)
    fig.tight_layout()
    return save(fig, results, "bench-scaling") if have else None


MEASURES = [("fault_in", "fault-in"), ("restore_mprotect", "restore after\nmprotect"),
            ("restore_softdirty", "restore after\nsoft-dirty clear"),
            ("restore_dontneed", "restore after\nMADV_DONTNEED"),
            ("table_kb_per_gib", "table memory\nper GiB")]
BACKING_COLOURS = {"4k": "tab:blue", "thp": "tab:orange", "hugetlb": "tab:green"}


def plot_tdp(ax, label, rows):
    """One source's tdp_bench ratios: measures along x, a bar per backing and size."""
    rows = [r for r in rows if r.get("ratio")]
    combos = sorted({(r["size_mib"], r["backing"]) for r in rows},
                    key=lambda c: (c[0], list(BACKING_COLOURS).index(c[1])
                                   if c[1] in BACKING_COLOURS else 9))
    w = 0.8 / max(1, len(combos))
    for j, (size, backing) in enumerate(combos):
        xs, vals, lo, hi = [], [], [], []
        for i, (m, _) in enumerate(MEASURES):
            r = next((r for r in rows if (r["size_mib"], r["backing"], r["measure"]) ==
                      (size, backing, m)), None)
            if r:
                xs.append(i - 0.4 + w * (j + 0.5))
                vals.append(r["ratio"])
                lo.append(r["ratio"] - (r.get("ratio_rep_min") or r["ratio"]))
                hi.append((r.get("ratio_rep_max") or r["ratio"]) - r["ratio"])
        ax.bar(xs, vals, width=w, yerr=[lo, hi], capsize=2, label="%s, %d MiB" % (backing, size),
               color=BACKING_COLOURS.get(backing, "0.5"), alpha=1.0 if size >= 512 else 0.55,
               edgecolor="k", linewidth=0.4)
        for x, v, h in zip(xs, vals, hi):
            ax.text(x, (v + h) * 1.08, "%.3g" % v, ha="center", va="bottom", fontsize=6,
                    rotation=90)
    ax.axhline(1.0, color="k", lw=1, ls="--")
    ax.set_yscale("log")
    ax.set_xticks(range(len(MEASURES)))
    ax.set_xticklabels([n for _, n in MEASURES], fontsize=8)
    ax.set_ylabel("KVM / guestmap (time or table memory; log)\n> 1: guestmap faster or smaller")
    reps = sorted({r.get("reps") for r in rows})
    ax.set_title("tdp_bench, %s (median of %s repetition(s); bars: min-max of the"
                 " per-repetition ratios)" % (label, "/".join(str(r) for r in reps)), fontsize=9)
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    ax.set_ylim(top=ax.get_ylim()[1] * 3)


def plot_kvm(results, srcs, mode):
    """KVM / guestmap ratios: tdp_bench per row, map and nested bench lines."""
    tdp_srcs = [s for s in srcs if s[2]]
    ratio_srcs = [s for s in srcs if s[3]]
    npanels = len(tdp_srcs) + (1 if ratio_srcs else 0)
    if not npanels:
        return None
    fig, axes = plt.subplots(1, npanels, figsize=(8 * npanels, 5.8), squeeze=False)
    axes = list(axes[0])
    for ax, (label, _, rows, _, _) in zip(axes, tdp_srcs):
        plot_tdp(ax, label, rows)
    if ratio_srcs:
        ax = axes[-1]
        keys = sorted({k for s in ratio_srcs for k in s[3]})
        w = 0.8 / len(ratio_srcs)
        for j, (label, _, _, ratios, _) in enumerate(ratio_srcs):
            ys = [i - 0.4 + w * (j + 0.5) for i in range(len(keys))]
            vals = [ratios.get(k, 0) for k in keys]
            ax.barh(ys, vals, height=w, label=label + (
                " (traced: the hist triggers slow the cheap paths)"
                if label == "this profile run" else ""))
            for y, v in zip(ys, vals):
                if v:
                    ax.text(v * 1.05, y, "%.3g" % v, va="center", fontsize=7)
        ax.axvline(1.0, color="k", lw=1, ls="--")
        ax.set_xscale("log")
        ax.set_yticks(range(len(keys)))
        ax.set_yticklabels([k.replace("_over_", "\n  over ") for k in keys], fontsize=7)
        ax.set_xlabel("kvm_vcpu_map() time / guestmap time (log; > 1: guestmap faster)")
        ax.set_title("map_bench, nested_bench: KVM's kvm_vcpu_map() against guestmap",
                     fontsize=9)
        ax.legend(fontsize=7)
        ax.grid(axis="x", which="both", alpha=0.3)
    fig.suptitle("guestmap against KVM (%s run; %s, ratios matter)" % (mode, TCG_NOTE),
                 fontsize=11)
    fig.tight_layout()
    return save(fig, results, "bench-kvm")


# ---- function tracer and function_graph -------------------------------------

# graph.dat: function_graph in the top instance, the function tracer in
# the instance "callers", whose lines trace-cmd report prefixes so.
CALLERS = "callers:"
FUNC_RE = re.compile(r"function:\s+(\S+)\s+<--\s+(\S+)")
GRAPH_RE = re.compile(r"^(?:\w+:)?\s*(?P<comm>.*?)-(?P<pid>\d+)\s+\[\d+\]\s+(?:\S+\s+)?"
                      r"(?P<ts>[\d.]+):\s+funcgraph_(?P<kind>entry|exit):\s+"
                      r"(?P<mark>[!+#*@$]?)\s*(?:(?P<dur>[\d.]+) us\s*)?\|(?P<body>.*)$")


def callers(tracecmd, results, demangle):
    """callers.txt from the function tracer; what graph() needs of it.

    Returns the summary, {function: [(caller, is Rust)], most frequent
    first}, and {(pid, function): ([timestamps], [callers])} for telling
    the caller of each call in the graph."""
    pairs = collections.Counter()
    calls = collections.defaultdict(lambda: ([], []))
    for line in trace_lines(tracecmd, os.path.join(results, "graph.dat"), "-O", "parent"):
        if not line.startswith(CALLERS):
            continue
        m, e = FUNC_RE.search(line), LINE_RE.match(line)
        if not m or not e:
            continue
        fn, parent = m.group(1), m.group(2).split("+")[0]
        pairs[(fn, parent)] += 1
        ts, who = calls[(e.group("pid"), fn)]
        ts.append(float(e.group("ts")))
        who.append(parent)
    demangle.many(p for _, p in pairs)
    by_func = collections.defaultdict(list)
    for (fn, parent), n in pairs.items():
        by_func[fn].append((n, demangle(parent), parent.startswith("_R")))
    out = ["# Who calls guestmap's C part and the kernel functions it leans on",
           "# (trace-cmd record -p function, beside graph.txt's function_graph).  The",
           "# caller is the function tracer's parent: Rust, v0-mangled in the",
           "# kernel, demangled with rustfilt, or C (marked [C]; callers of the",
           "# kernel functions outside guestmap, such as 9p's I/O, show up too).",
           "", "   calls  caller", ""]
    for fn in sorted(by_func, key=lambda f: -sum(n for n, _, _ in by_func[f])):
        total = sum(n for n, _, _ in by_func[fn])
        out.append("%s  (%d calls)" % (fn, total))
        for n, parent, rust in sorted(by_func[fn], reverse=True):
            # function_graph, on in the same run, hooks the return address of
            # the functions it traces: a tail call from one of them returns
            # to its hook, which the function tracer then names as parent.
            out.append("  %8d  %s%s" % (n, parent, "" if rust else
                                         "   [C: a tail call from a traced C function,"
                                         " graph.txt shows which]"
                                         if parent == "return_to_handler" else "   [C]"))
        out.append("")
    with open(os.path.join(results, "callers.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    by_count = {fn: [(p, rust) for _, p, rust in sorted(v, reverse=True)]
                for fn, v in by_func.items()}
    rust = sum(n for (fn, p), n in pairs.items() if p.startswith("_R"))
    return ({"calls": sum(pairs.values()), "functions": len(by_func), "rust_calls": rust,
             "demangled": bool(demangle.rustfilt)}, by_count, calls)


def short_rust(path):
    """A demangled Rust path without crate hashes."""
    return re.sub(r"\[[0-9a-f]{8,}\]", "", path)


def caller_at(calls, demangle, pid, fn, ts):
    """The caller the function tracer saw for the call of FN by PID at TS."""
    times, who = calls.get((pid, fn), ([], []))
    i = bisect.bisect_left(times, ts)
    best = min((j for j in (i - 1, i) if 0 <= j < len(times)),
               key=lambda j: abs(times[j] - ts), default=None)
    if best is None or abs(times[best] - ts) > 0.001:
        return None
    return short_rust(demangle(who[best]))


def graph_line(m, body, caller=None):
    """A function_graph line, shorter: time, duration, call."""
    dur = "%s%s us" % (m.group("mark") or " ", m.group("dur")) if m.group("dur") else ""
    return "  %s %-14s| %s%s" % (m.group("ts"), dur, body, "   <- " + caller if caller else "")


def graph(tracecmd, results, demangle, callers_of, calls, names):
    """graph.txt: time per function, one ioctl of each command, other trees."""
    raw = [line for line in trace_lines(tracecmd, os.path.join(results, "graph.dat"),
                                        "-O", "fgraph:tailprint")
           if not line.startswith(CALLERS)]
    raw = demangle.text("".join(raw)).splitlines()
    with open(os.path.join(results, "graph-full.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(raw) + "\n")
    # Tasks that reached guestmap: the kernel functions filtered in are
    # called by others too (9p's reads pin pages).
    ours = {m.group("pid") for m in map(GRAPH_RE.match, raw)
            if m and m.group("body").lstrip().startswith("gm_")}
    stacks = collections.defaultdict(list)
    times = collections.defaultdict(list)
    ioctl, examples, trees, tree = {}, {}, {}, {}
    for line in raw:
        m = GRAPH_RE.match(line)
        if not m:
            # guestmap's tracepoints: the ioctls' bounds, and what they did.
            e = LINE_RE.match(line)
            if not e or e.group("pid") not in ours:
                continue
            pid, event = e.group("pid"), e.group("event").split(":")[-1]
            shown = "  %s %-14s  /* %s: %s */" % (e.group("ts"), "", event, e.group("rest").strip())
            if event == "guestmap_ioctl_enter":
                # From the entry of gm_trace_ioctl_enter(), which fired it.
                cmd = re.search(r"cmd=(0x[0-9a-f]+)", e.group("rest"))
                ioctl[pid] = [cmd_name(names, int(cmd.group(1), 16)) if cmd else "?",
                              tree.pop(pid, []) + [shown]]
            elif event == "guestmap_ioctl_exit" and pid in ioctl:
                name, lines = ioctl.pop(pid)
                lines.append(shown)
                old = examples.get(name)
                if old is None or len(old) < len(lines) <= 60:
                    examples[name] = lines
            elif pid in ioctl:
                ioctl[pid][1].append(shown)
            elif pid in tree:
                tree[pid].append(shown)
            continue
        pid, body = m.group("pid"), m.group("body").rstrip()
        body = body[2:] if body.startswith("  ") else body
        if pid not in ours:
            continue
        st = stacks[pid]
        fn = body.strip().rstrip("{;() ").strip()
        caller = None
        if m.group("kind") == "entry" and not st:
            # Called from Rust (or from the kernel, for the mmu_notifier
            # paths): the function tracer saw the same call.
            caller = caller_at(calls, demangle, pid, fn, float(m.group("ts")))
        shown = graph_line(m, body, caller)
        if pid in ioctl:
            ioctl[pid][1].append(shown)
        elif st or body.endswith("{"):
            tree.setdefault(pid, []).append(shown)
        if m.group("kind") == "entry":
            if body.endswith("{"):
                st.append(fn)
            elif m.group("dur"):
                times[fn].append(float(m.group("dur")))
        elif body.lstrip().startswith("}"):
            fn = st.pop() if st else re.sub(r"[}/* ]", "", body)
            if m.group("dur"):
                times[fn].append(float(m.group("dur")))
            if not st and pid in tree:
                lines = tree.pop(pid)
                if fn not in trees or len(trees[fn]) < len(lines) <= 60:
                    trees[fn] = lines
    out = ["# function_graph of guestmap's C part (gm_*) and the kernel functions it",
           "# calls: hmm_range_fault, pin_user_pages_fast, memremap/memunmap,",
           "# follow_pfnmap_start, the mmu_notifier paths; guestmap's tracepoints",
           "# interleaved as /* comments */.  Rust functions are not traceable in 6.12:",
           "# a C function at depth 0 was called from Rust, and \"<-\" names its",
           "# caller, which the function tracer (callers.txt) saw for the same call,",
           "# demangled.  Only the tasks that reached guestmap.  Durations in us,",
           "# %s; function_graph's own overhead is in them." % TCG_NOTE,
           "", "%-40s %8s %11s %9s %10s  %s" % ("function", "calls", "total us", "mean us",
                                              "max us", "most frequent caller (+ others)")]
    for fn in sorted(times, key=lambda f: -sum(times[f])):
        t = times[fn]
        c = callers_of.get(fn, [])
        out.append("%-40s %8d %11.1f %9.2f %10.1f  %s" % (
            fn, len(t), sum(t), sum(t) / len(t), max(t),
            short_rust(c[0][0]) + (" (+%d)" % (len(c) - 1) if len(c) > 1 else "") if c else ""))
    out += ["", "# One ioctl of each command, tracepoint to tracepoint (the longest of",
            "# up to 60 lines; graph-full.txt has all)", ""]
    for name in sorted(examples):
        out.append("## %s" % name)
        out += examples[name] + [""]
    out += ["# Call trees outside the ioctls (invalidations, open and release)", ""]
    for fn in sorted(trees):
        out.append("## %s" % fn)
        out += trees[fn] + [""]
    with open(os.path.join(results, "graph.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    return {"functions": len(times), "calls": sum(len(t) for t in times.values()),
            "ioctls": len(examples), "trees": len(trees), "lines": len(raw)}


# ---- the report --------------------------------------------------------------

def lost_events(tracecmd, dat):
    """Events the ring buffer lost while recording, from trace-cmd's stats."""
    text = run([tracecmd, "report", "-i", dat, "--stat"]) if os.path.exists(dat) else ""
    return sum(int(x) for x in re.findall(r"overrun: (\d+)", text))


def read_text(path):
    """The text of PATH, or "" if there is none."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def write_html(results, mode, summary, plots, latency_tables, files):
    """report.html: the summary, the plots, the text and the raw files."""
    e = html.escape
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'>",
             "<title>guestmap profile %s</title>" % e(os.path.basename(results)),
             "<style>body{font-family:sans-serif;max-width:1400px;margin:auto}"
             "pre{background:#f6f6f6;padding:6px;overflow-x:auto;font-size:12px}"
             "img{max-width:100%;border:1px solid #ddd}</style></head><body>",
             "<h1>guestmap profile, %s mode</h1>" % e(mode),
             "<p>The guest is emulated (QEMU TCG) and traced while it runs: absolute"
             " times are slow and noisy; compare paths, and ratios within one run."
             " Results directory <code>%s</code>.</p>" % e(results),
             "<h2>Summary</h2><pre>%s</pre>" % e("\n".join(summary))]
    parts.append("<h2>Latency</h2><p>Full tables and the kernel's own histograms: "
                 "<a href='latency.txt'>latency.txt</a>.</p>")
    for section, table in latency_tables:
        parts.append("<h3>%s</h3><pre>%s</pre>" % (e(section), e(table)))
        p = plots.get("latency-" + section)
        if p:
            parts.append("<p><a href='%s'><img src='%s'></a> (<a href='%s'>SVG</a>)</p>"
                         % (p, p, p[:-4] + ".svg"))
    parts.append("<h2>Benchmarks</h2>")
    for name in ("bench-scaling", "bench-kvm"):
        p = plots.get(name)
        if p:
            parts.append("<p><a href='%s'><img src='%s'></a> (<a href='%s'>SVG</a>)</p>"
                         % (p, p, p[:-4] + ".svg"))
    parts.append("<h2>Function graph and callers</h2><ul>"
                 "<li><a href='graph.txt'>graph.txt</a>: time per function, one ioctl of"
                 " each command, call trees</li>"
                 "<li><a href='graph-full.txt'>graph-full.txt</a>: the whole graph</li>"
                 "<li><a href='callers.txt'>callers.txt</a>: the callers (Rust, demangled)"
                 " of the C part and of the kernel functions it calls</li></ul>")
    for name, stop in (("graph.txt", "# One ioctl"), ("callers.txt", None)):
        text = read_text(os.path.join(results, name))
        head = text.split(stop)[0] if stop else "\n".join(text.splitlines()[:60])
        parts.append("<h3>%s%s</h3><pre>%s</pre>" % (
            e(name), "" if stop else " (the first 60 lines)", e(head)))
    parts.append("<h2>Raw files</h2><p>Open <code>trace.dat</code> with KernelShark "
                 "(<code>kernelshark trace.dat</code>) or <code>trace-cmd report -i"
                 " trace.dat</code>.</p><ul>")
    for f in files:
        parts.append("<li><a href='%s'>%s</a> (%d kB)</li>" % (
            e(f), e(f), (os.path.getsize(os.path.join(results, f)) + 1023) // 1024))
    parts.append("</ul></body></html>")
    with open(os.path.join(results, "report.html"), "w", encoding="utf-8") as f:
        f.write("\n".join(parts) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results")
    ap.add_argument("--uapi", required=True, help="include/uapi/linux of the tree")
    ap.add_argument("--bench-dir", help="make bench's results, for the newest full run")
    ap.add_argument("--rustfilt", help="the rustfilt binary")
    ap.add_argument("--trace-cmd", default=shutil.which("trace-cmd") or "trace-cmd")
    ap.add_argument("--mode", default="full")
    a = ap.parse_args()
    results = os.path.abspath(a.results)
    names = ioctl_names(a.uapi)
    demangle = Demangler(a.rustfilt)

    lat, extra, counts = read_trace(a.trace_cmd, os.path.join(results, "trace.dat"), names)
    text = ["guestmap latency (%s mode, %s)" % (a.mode, TCG_NOTE), ""]
    tables, plots = [], {}
    for section, synth, title, pairs in SECTIONS:
        lines = section_text(section, title, pairs, lat[section], extra[section])
        # The benchmarks counted by the histograms only (full mode) are in
        # the kernel's histogram, not in trace.dat.
        at = next((i for i, x in enumerate(lines) if x.startswith("   log2 buckets")),
                  len(lines) - 1)
        lines[at:at] = kernel_table(section, kernel_buckets(results, section, synth, names))
        text += lines
        tables.append((section, "\n".join(lines)))
        p = plot_latency(results, section, title, lat[section],
                         kernel_buckets(results, section, synth, names), a.mode)
        if p:
            plots["latency-" + section] = p
    khist, hits = kernel_hists(results, names)
    text += ["", "The kernel's own histograms cover every phase, the benchmarks only",
             "counted by them (not in trace.dat) included.", ""] + khist
    with open(os.path.join(results, "latency.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(text) + "\n")

    srcs = bench_sources(results, a.bench_dir)
    for name, fn in (("bench-scaling", plot_scaling), ("bench-kvm", plot_kvm)):
        p = fn(results, srcs, a.mode)
        if p:
            plots[name] = p
    cs, callers_of, calls = callers(a.trace_cmd, results, demangle)
    gs = graph(a.trace_cmd, results, demangle, callers_of, calls, names)

    lost = lost_events(a.trace_cmd, os.path.join(results, "trace.dat"))
    summary = ["results: %s" % results,
               "trace.dat: %d guestmap and latency events recorded, %d lost" % (
                   sum(counts.values()), lost)]
    for section, synth, title, _ in SECTIONS:
        groups = lat[section]
        n = sum(len(v) for v in groups.values())
        summary.append("latency %-10s %7d pairs in %2d groups" % (section, n, len(groups)))
        for g in sorted(groups, key=lambda g: -len(groups[g]))[:4]:
            s = summarise(groups[g])
            summary.append("    %-36s n=%-6d p50 %-7s p99 %-7s max %s" % (
                g, s["count"], fmt_ns(s["p50"]), fmt_ns(s["p99"]), fmt_ns(s["max"])))
    svm = {k: v for k, v in counts.items() if k.startswith("guestmap_svm")}
    if svm:
        summary.append("nested SVM events: " + ", ".join(
            "%s %d" % (k[len("guestmap_svm_"):], v) for k, v in sorted(svm.items())))
    summary.append("function_graph: %d calls of %d functions; %d ioctl commands and %d call"
                   " trees shown" % (gs["calls"], gs["functions"], gs["ioctls"], gs["trees"]))
    summary.append("callers: %d calls of %d functions, %d from Rust%s" % (
        cs["calls"], cs["functions"], cs["rust_calls"],
        "" if cs["demangled"] else " (rustfilt missing: left mangled)"))
    for label, runs, rows, ratios, files in srcs:
        if isinstance(files, list):
            summary.append("%s: newest results %s" % (
                label, " ".join(os.path.basename(f) for f in files)))
        if runs:
            r = statistics.median(one / two for one, two in runs)
            summary.append("fault_bench (%s): two threads / one thread %.2f (median of %d)" % (
                label, r, len(runs)))
        fi = ["%d MiB %s %.3g" % (r["size_mib"], r["backing"], r["ratio"]) for r in rows
              if r.get("measure") == "fault_in" and r.get("ratio")]
        if fi:
            summary.append("tdp_bench (%s): fault-in KVM/guestmap: %s" % (label, ", ".join(fi)))
        if ratios:
            summary.append("map/nested_bench (%s): kvm_vcpu_map()/guestmap: %s" % (
                label, ", ".join("%s %.3g" % (k, v) for k, v in sorted(ratios.items()))))
    summary.append("plots: " + " ".join(sorted(plots.values())))
    summary.append("report: %s" % os.path.join(results, "report.html"))
    files = sorted(os.path.relpath(p, results) for p in
                   glob.glob(os.path.join(results, "*.dat")) +
                   glob.glob(os.path.join(results, "hist", "*")) +
                   glob.glob(os.path.join(results, "workload", "*")) +
                   glob.glob(os.path.join(results, "*.txt")) +
                   glob.glob(os.path.join(results, "*.log")))
    write_html(results, a.mode, summary, plots, tables, files)
    print("\n".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
