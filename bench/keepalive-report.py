#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The table of bench/keepalive.sh from one or more of its summary.tsv
files: per scenario, the median requests/s and server CPU per request over
all runs, [min-max], and the CPU per request against the floor serving the
same bytes, with connections kept alive and closed.

    keepalive-report.py SUMMARY.tsv...
"""

import statistics
import sys


def main():
    rows = {}
    for path in sys.argv[1:]:
        with open(path) as summary:
            for line in summary:
                fields = line.rstrip("\n").split("\t")
                rows.setdefault(fields[0], []).append(dict(f.split("=", 1) for f in fields[1:]))

    def median(name, key):
        values = [float(r[key]) for r in rows.get(name, [])]
        return statistics.median(values) if values else None

    print("| scenario | server keeps alive | runs | req/s | server CPU per request | "
          "vs floor (same bytes): keep-alive / close |")
    print("|---|---|---:|---:|---:|---:|")
    for name, runs in rows.items():
        cpu = [float(r["cpu_us_per_req"]) for r in runs]
        kind = "servers" if "servers" in name else "info"
        ratios = ""
        if not name.startswith("floor"):
            keepalive = median(f"floor-{kind}-keepalive", "cpu_us_per_req")
            close = median(f"floor-{kind}-close", "cpu_us_per_req")
            if keepalive and close:
                ratios = f"{statistics.median(cpu) / keepalive:.2f}x / {statistics.median(cpu) / close:.2f}x"
        label = name
        if "requests_per_connect" in runs[0]:
            per = statistics.median(float(r["requests_per_connect"]) for r in runs)
            label += f" ({per:.1f} req/connection)"
        alive = "/".join(sorted({r["server_keeps_alive"] for r in runs}))
        errors = sum(int(r["errors"]) for r in runs)
        print(f"| {label} | {alive} | {len(runs)} | {median(name, 'rps'):.0f} | "
              f"{statistics.median(cpu):.1f} µs [{min(cpu):.1f}–{max(cpu):.1f}] | {ratios} |"
              + (f" {errors} errors |" if errors else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
