#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench's report: rows from the guest logs, pooled, derived, judged.

Reads the "@@kecpuhp:bench {json}@@" rows and "@@kecpuhp:bench-samples
{json}@@" samples of one or more benchmark boots. A row with samples is
recomputed from the samples of every boot (median, minimum, maximum, count);
any other row is taken from the first boot that printed it, whatever its
name, so rows this script does not know pass through. Adds the derived
rows (cost per registration in the notification states: the slope over R)
and the targets, prints the table, and writes the JSON and an SVG plot.
"""
import argparse
import json
import re
import sys

ROW = re.compile(r"@@kecpuhp:bench (\{.*\})@@")
SAMPLES = re.compile(r"@@kecpuhp:bench-samples (\{.*\})@@")
ACCEL = re.compile(r"^host: accel (\w+) \((.*)\)$")
STATES = re.compile(r"^hot-add states, R=(\d+)$")
ONLINE = re.compile(r"^hot-add online, R=(\d+)$")
REGDEREG = re.compile(r"^register\+deregister, R=(\d+)$")
QUERIES = ("KeGetCurrentProcessorNumberEx", "KeGetProcessorNumberFromIndex",
           "KeQueryActiveProcessorCountEx")


def median(v):
    """The upper median, as the bench module computes it."""
    s = sorted(v)
    return s[len(s) // 2]


def ratio(nat, ke):
    return round(ke / nat, 3) if nat else 0.0


def make_row(name, unit, nat, ke, note):
    """A row in the bench schema from the samples of both sides."""
    return {"name": name, "unit": unit, "native": median(nat), "kecpuhp": median(ke),
            "ratio": ratio(median(nat), median(ke)),
            "native_min": min(nat), "native_max": max(nat),
            "kecpuhp_min": min(ke), "kecpuhp_max": max(ke),
            "n": min(len(nat), len(ke)), "note": note}


def read_logs(paths):
    rows, order, samples, accels = {}, [], {}, []
    for path in paths:
        for line in open(path, errors="replace"):
            line = line.rstrip("\n")
            m = ACCEL.match(line)
            if m:
                accels.append({"accel": m.group(1), "why": m.group(2)})
                continue
            m = SAMPLES.search(line)
            if m:
                s = json.loads(m.group(1))
                samples.setdefault(s["name"], {}).setdefault(s["side"], []).extend(s["v"])
                continue
            m = ROW.search(line)
            if m:
                row = json.loads(m.group(1))
                if row["name"] not in rows:
                    rows[row["name"]] = row
                    order.append(row["name"])
    for name, sides in samples.items():
        if name in rows and sides.get("native") and sides.get("kecpuhp"):
            r = rows[name]
            rows[name] = make_row(name, r.get("unit", "ns"), sides["native"],
                                  sides["kecpuhp"], r.get("note", ""))
    return [rows[n] for n in order], samples, accels


def fit(xs, ys):
    """Least-squares line through (xs, ys): (slope, intercept)."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0
    return slope, my - slope * mx


def by_r(rows, pattern):
    out = {}
    for r in rows:
        m = pattern.match(r["name"])
        if m:
            out[int(m.group(1))] = r
    return dict(sorted(out.items()))


def derive(rows):
    """The slope row and the targets, from the state and online rows."""
    states, online = by_r(rows, STATES), by_r(rows, ONLINE)
    derived, targets = [], []
    if len(states) >= 2:
        rs = list(states)
        fits = {side: fit(rs, [states[r][side] for r in rs]) for side in ("native", "kecpuhp")}
        slope = {side: round(fits[side][0], 3) for side in fits}
        lo_r, hi_r = rs[0], rs[-1]
        for side in ("native", "kecpuhp"):
            # The spread: the flattest and the steepest line between a sample
            # at the smallest R and one at the largest.
            lo, hi = states[lo_r], states[hi_r]
            slope[side + "_min"] = round((hi[side + "_min"] - lo[side + "_max"]) /
                                         (hi_r - lo_r), 3)
            slope[side + "_max"] = round((hi[side + "_max"] - lo[side + "_min"]) /
                                         (hi_r - lo_r), 3)
        row = {"name": "hot-add states, cost per registration", "unit": "ns",
               "native": slope["native"], "kecpuhp": slope["kecpuhp"],
               "ratio": ratio(slope["native"], slope["kecpuhp"]),
               "native_min": slope["native_min"], "native_max": slope["native_max"],
               "kecpuhp_min": slope["kecpuhp_min"], "kecpuhp_max": slope["kecpuhp_max"],
               "n": min(states[r]["n"] for r in rs),
               "note": f"least-squares slope over R={','.join(map(str, rs))} of the medians "
                       f"(spread: extreme samples at R={lo_r} and R={hi_r}); intercepts "
                       f"{fits['native'][1]:.0f} and {fits['kecpuhp'][1]:.0f} ns"}
        derived.append(row)
        targets.append({"target": "marginal cost per registration <= 1.05x native",
                        "value": row["ratio"], "limit": 1.05, "met": row["ratio"] <= 1.05,
                        "figure": f"{slope['kecpuhp']:.1f} vs {slope['native']:.1f} ns "
                                  "per registration per hot-add"})
    r1 = min(states) if states else None
    if r1 is not None and r1 in online:
        fixed = states[r1]["kecpuhp"] - states[r1]["native"]
        whole = online[r1]["kecpuhp"]
        share = fixed / whole if whole else 0.0
        targets.append({"target": f"fixed cost per hot-add (state time at R={r1}, "
                                  "kecpuhp - native) <= 1% of the whole online",
                        "value": round(100 * share, 4), "limit": 1.0, "met": share <= 0.01,
                        "figure": f"{fixed / 1000:.1f} us = {100 * share:.3f}% of a "
                                  f"{whole / 1e6:.1f} ms online"})
    for r, row in by_r(rows, REGDEREG).items():
        if r >= 100:
            targets.append({"target": f"register+deregister at R={r} <= 1.5x native",
                            "value": row["ratio"], "limit": 1.5, "met": row["ratio"] <= 1.5,
                            "figure": f"{row['kecpuhp']} vs {row['native']} ns"})
    for row in rows:
        if row["name"] in QUERIES:
            targets.append({"target": f"{row['name']} <= 1.2x the floor",
                            "value": row["ratio"], "limit": 1.2, "met": row["ratio"] <= 1.2,
                            "figure": f"{row['kecpuhp'] / 1000:.2f} vs "
                                      f"{row['native'] / 1000:.2f} ns"})
    return derived, targets


def fmt(v):
    return f"{v:.1f}" if isinstance(v, float) else str(v)


def print_table(rows, targets, accel):
    w = max(len(r["name"]) for r in rows)
    print(f"accelerator: {accel}")
    print(f"{'measurement':<{w}}  {'unit':>5}  {'native':>11}  {'kecpuhp':>11}  {'ratio':>6}"
          f"  {'native min..max':>23}  {'kecpuhp min..max':>23}  {'n':>3}")
    for r in rows:
        spread = ["", ""]
        for i, side in enumerate(("native", "kecpuhp")):
            if f"{side}_min" in r:
                spread[i] = f"{fmt(r[side + '_min'])}..{fmt(r[side + '_max'])}"
        print(f"{r['name']:<{w}}  {r.get('unit', ''):>5}  {fmt(r.get('native', '')):>11}  "
              f"{fmt(r.get('kecpuhp', '')):>11}  {r.get('ratio', 0):>6.3f}  {spread[0]:>23}  "
              f"{spread[1]:>23}  {r.get('n', ''):>3}")
    print("targets:")
    for t in targets:
        print(f"  {'met   ' if t['met'] else 'MISSED'} {t['target']}: {t['value']} ({t['figure']})")


def plot(rows, dest, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    states, online = by_r(rows, STATES), by_r(rows, ONLINE)
    panels = [(states, "time in the notification states per hot-add (µs)", 1e3, "log"),
              (online, "whole online, add_cpu() (ms)", 1e6, "linear")]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, (data, label, scale, yscale) in zip(axes, panels):
        rs = list(data)
        for side, colour, shift in (("native", "tab:blue", 0.93), ("kecpuhp", "tab:red", 1.07)):
            med = [data[r][side] / scale for r in rs]
            lo = [(data[r][side] - data[r][side + "_min"]) / scale for r in rs]
            hi = [(data[r][side + "_max"] - data[r][side]) / scale for r in rs]
            ax.errorbar([r * shift for r in rs], med, yerr=[lo, hi], color=colour, marker="o",
                        capsize=4, label=f"{side} (median, min..max)")
        ax.set_xscale("log")
        ax.set_yscale(yscale)
        ax.set_xlabel("R: registrations (kecpuhp) or instances per state (native)")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    n = min((r["n"] for r in states.values()), default=0)
    fig.suptitle(f"{title}; {n} hot-adds per side and R", fontsize=10)
    fig.tight_layout()
    fig.savefig(dest, format="svg", metadata={"Date": None})


def compare(rows, other_path):
    """How far the state-level medians of this run are from another run's."""
    other = {r["name"]: r for r in json.load(open(other_path, encoding="utf-8"))["rows"]}
    print(f"state-level medians against {other_path}:")
    for r in rows:
        o = other.get(r["name"])
        keys = [side + sfx for side in ("native", "kecpuhp") for sfx in ("", "_min", "_max")]
        if "state" not in r["name"] or not o or not all(k in r and k in o for k in keys):
            continue
        for side in ("native", "kecpuhp"):
            a, b = r[side], o[side]
            within = (r[side + "_min"] <= b <= r[side + "_max"] and
                      o[side + "_min"] <= a <= o[side + "_max"])
            apart = 100 * (a - b) / b if b else 0.0
            print(f"  {r['name']:<40} {side:<8} {fmt(a):>10} vs {fmt(b):>10}  "
                  f"{apart:+6.1f}%  {'within' if within else 'OUTSIDE'} the other's spread")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--kernel", required=True)
    p.add_argument("--cpus", type=int, required=True)
    p.add_argument("--json", required=True)
    p.add_argument("--svg")
    p.add_argument("--compare", help="another run's bench.json: how far the state rows are")
    p.add_argument("logs", nargs="+")
    args = p.parse_args()
    rows, _, accels = read_logs(args.logs)
    if not rows:
        sys.exit("no benchmark rows in " + " ".join(args.logs))
    derived, targets = derive(rows)
    rows += derived
    names = sorted({a["accel"] for a in accels}) or ["unknown"]
    accel = "+".join(names)
    print_table(rows, targets, accel + (f" ({accels[0]['why']})" if accels else ""))
    with open(args.json, "w", encoding="utf-8") as f:
        json.dump({"kernel": args.kernel, "accel": accel,
                   "accel_why": accels[0]["why"] if accels else "",
                   "boots": len(args.logs), "cpus": args.cpus,
                   "rows": rows, "targets": targets}, f, indent=1)
    print(f"JSON: {args.json}")
    if args.compare:
        compare(rows, args.compare)
    if args.svg and by_r(rows, STATES):
        plot(rows, args.svg, f"kecpuhp vs native cpuhp multi-instance, {accel}, "
                             f"{args.kernel.rsplit('/', 1)[-1]}")
        print(f"plot: {args.svg}")


if __name__ == "__main__":
    main()
