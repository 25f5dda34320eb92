#!/usr/bin/env python3
"""Markdown tables of criterion medians, one table per benchmark group, one row per claims type.

Reads `<target>/criterion/**/new/{benchmark,estimates}.json`, as left by the last `cargo bench`.
Benchmark ids are `GROUP/TYPE: WHAT` (the shape benches' naming). Ratios are given as
`NAME=NUMERATOR/DENOMINATOR`, with WHAT names on both sides.

    scripts/bench-table.py --target target --group '^shapes/' \\
        --ratio 'decode ÷ layer=jsonwebtoken decode (aws_lc_rs)/ours JwtAuthLayer'
"""

import argparse
import json
import pathlib
import re
import sys


def fmt(ns):
    if ns >= 1000:
        us = ns / 1000
        return f"{us:.3g} µs" if us < 100 else f"{us:.0f} µs"
    return f"{ns:.0f} ns"


# Column order: the floor first, then ours, then the others.
ORDER = ["serde_json", "raw", "Verifier::verify", "JwtAuthLayer", "TokenCache", "JwtAuthLayer + cache",
         "decode", "decode + extension", "jwt-authorizer"]


def rank(what):
    """The position of the longest ORDER entry found in `what`."""
    found = [(len(key), i) for i, key in enumerate(ORDER) if key in what]
    return (max(found)[1] if found else len(ORDER)), what


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", default="target", help="cargo's target directory")
    ap.add_argument("--group", default=".", help="regex on the group id")
    ap.add_argument("--ratio", action="append", default=[], help="NAME=NUMERATOR/DENOMINATOR")
    args = ap.parse_args()

    groups = {}
    for bench in pathlib.Path(args.target, "criterion").glob("**/new/benchmark.json"):
        meta = json.loads(bench.read_text())
        if not re.search(args.group, meta["group_id"]):
            continue
        est = json.loads((bench.parent / "estimates.json").read_text())
        ty, _, what = meta["function_id"].partition(": ")
        groups.setdefault(meta["group_id"], {}).setdefault(ty, {})[what] = est["median"]["point_estimate"]
    if not groups:
        sys.exit("no criterion results match")

    ratios = []
    for r in args.ratio:
        name, _, expr = r.partition("=")
        num, _, den = expr.rpartition("/")
        ratios.append((name, num, den))

    for group in sorted(groups):
        rows = groups[group]
        whats = []
        for ty in rows:
            whats += [w for w in rows[ty] if w not in whats]
        whats.sort(key=rank)
        print(f"`{group}`:\n")
        head = ["`C`"] + whats + [name for name, _, _ in ratios]
        print("| " + " | ".join(head) + " |")
        print("|---|" + "---:|" * (len(head) - 1))
        for ty in sorted(rows, key=lambda t: (t == "Value", t)):
            cells = [ty] + [fmt(rows[ty][w]) if w in rows[ty] else "" for w in whats]
            for _, num, den in ratios:
                n, d = rows[ty].get(num), rows[ty].get(den)
                cells.append(f"{n / d:.2f}×" if n and d else "")
            print("| " + " | ".join(cells) + " |")
        print()


if __name__ == "__main__":
    main()
