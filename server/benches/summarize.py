#!/usr/bin/env python3
"""Prints criterion medians as points/s and the ratios between benchmarks of one group, as Markdown.

Usage: python3 server/benches/summarize.py [GROUP] [--dir target/criterion]
Reads each benchmark's new/estimates.json (median) and new/benchmark.json (throughput).
"""
import argparse
import json
import pathlib


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("group", nargs="?", default="locate")
    ap.add_argument("--dir", default="target/criterion")
    args = ap.parse_args()
    root = pathlib.Path(args.dir) / args.group
    rates = {}
    for bench in sorted(p for p in root.iterdir() if (p / "new" / "estimates.json").exists()):
        est = json.loads((bench / "new" / "estimates.json").read_text())
        meta = json.loads((bench / "new" / "benchmark.json").read_text())
        median_s = est["median"]["point_estimate"] / 1e9
        elements = (meta.get("throughput") or {}).get("Elements")
        rates[bench.name] = (elements, median_s, elements / median_s if elements else None)
    print(f"| {args.group} | elements / iteration | median time / iteration | median throughput |")
    print("|---|---:|---:|---:|")
    for name, (elements, median_s, rate) in rates.items():
        print(f"| {name} | {elements:,} | {median_s * 1e3:,.1f} ms | {rate:,.0f} /s |")
    names = list(rates)
    ratios = [(a, b) for a in names for b in names if a != b and a.startswith(("in_process", "http", "h3o")) and b.startswith("postgis")]
    if ratios:
        print()
        for a, b in ratios:
            print(f"- {a} / {b}: **{rates[a][2] / rates[b][2]:,.1f}×**")


if __name__ == "__main__":
    main()
