#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The tables of bench/profiles.sh from one or more of its summary.tsv files.

    profiles-report.py SUMMARY.tsv...

Idle fleets: per profile, the medians over the runs.  GET
/api/system/info: per scenario, the median server CPU per request over
all runs, [min-max], and the ratio to the same scenario on a pluto-legacy
and a pluto-new daemon: the median of the ratios of runs measured one
after the other in the same round (same file, same run number),
[min-max].  A NerdQAxe+ closes every connection, so its one-device row is
also compared with the pluto rows whose requests said `Connection: close`.
"""

import statistics
import sys

PLUTO = ("pluto-legacy", "pluto-new")


def load(paths):
    rows = []
    for path in paths:
        with open(path) as summary:
            for line in summary:
                fields = line.rstrip("\n").split("\t")
                if len(fields) < 2:
                    continue
                row = dict(f.split("=", 1) for f in fields[1:])
                row["kind"] = fields[0]
                row["file"] = path
                rows.append(row)
    return rows


def spread(values):
    return f"[{min(values):.1f}–{max(values):.1f}]" if len(values) > 1 else ""


def idle_table(rows):
    idle = [r for r in rows if r["kind"] == "idle"]
    if not idle:
        return
    by_profile = {}
    for r in idle:
        by_profile.setdefault(r["profile"], []).append(r)

    def med(profile, key):
        return statistics.median(float(r[key]) for r in by_profile[profile])

    reference = "pluto-legacy,pluto-new"
    print("| profile | devices | runs | start-up | idle CPU, % of one core | "
          "context switches/s | RSS after start | RSS after the idle time | "
          "RSS per device | above pluto |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for profile, runs in by_profile.items():
        cpu = [float(r["cpu_pct"]) for r in runs]
        devices = int(runs[0]["devices"])
        extra = ""
        if profile != reference and reference in by_profile:
            extra = f"{med(profile, 'rss_per_device_kb') - med(reference, 'rss_per_device_kb'):+.2f} kB"
        print(f"| `{profile}` | {devices} | {len(runs)} | {med(profile, 'start_ms'):.0f} ms | "
              f"{statistics.median(cpu):.3f} % {spread(cpu)} | "
              f"{med(profile, 'switches_per_s'):.2f} | {med(profile, 'rss_start_kb'):.0f} kB | "
              f"{med(profile, 'rss_end_kb'):.0f} kB | {med(profile, 'rss_per_device_kb'):.2f} kB | {extra} |")
    print()


def paired_ratios(rows, row_filter, pluto_filter):
    """Ratios of a scenario's CPU per request to a pluto scenario's, run by run."""
    pluto = {(r["file"], r["run"]): float(r["cpu_us_per_req"]) for r in rows if pluto_filter(r)}
    ratios = []
    for r in rows:
        if row_filter(r) and (r["file"], r["run"]) in pluto:
            ratios.append(float(r["cpu_us_per_req"]) / pluto[(r["file"], r["run"])])
    return ratios


def fmt_ratio(ratios):
    if not ratios:
        return "–"
    text = f"{statistics.median(ratios):.2f}x"
    if len(ratios) > 1:
        text += f" [{min(ratios):.2f}–{max(ratios):.2f}]"
    return text


def get_table(rows):
    get = [r for r in rows if r["kind"] == "get"]
    if not get:
        return
    scenarios = {}
    for r in get:
        scenarios.setdefault(r["scenario"], []).append(r)

    print("| scenario | reply bytes | server keeps alive | runs | req/s | server CPU per request | "
          "vs pluto-legacy | vs pluto-new |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    notes = []
    for name, runs in scenarios.items():
        first = runs[0]
        cpu = [float(r["cpu_us_per_req"]) for r in runs]
        rps = statistics.median(float(r["rps"]) for r in runs)
        label = name
        if "requests_per_connect" in first:
            per = statistics.median(float(r["requests_per_connect"]) for r in runs)
            label += f" ({per:.1f} req/connection)"
        ratios = []
        for pluto in PLUTO:
            if first["profile"] in PLUTO:
                ratios.append("")
                continue
            ratios.append(fmt_ratio(paired_ratios(
                get, lambda r: r["scenario"] == name,
                lambda r, p=pluto: (r["profile"] == p and r["spread"] == first["spread"] and
                                    r["client"] == first["client"]))))
        alive = "/".join(sorted({r["server_keeps_alive"] for r in runs}))
        errors = sum(int(r["errors"]) for r in runs)
        print(f"| {label} | {first['reply_bytes']} | {alive} | {len(runs)} | {rps:.0f} | "
              f"{statistics.median(cpu):.1f} µs {spread(cpu)} | {ratios[0]} | {ratios[1]} |")
        if errors:
            notes.append(f"{name}: {errors} errors or non-2xx replies")
        if (first["profile"] not in PLUTO and alive == "no" and first["spread"] == "1" and
                first["client"] == "keepalive"):
            close = [fmt_ratio(paired_ratios(
                get, lambda r: r["scenario"] == name,
                lambda r, p=pluto: (r["profile"] == p and r["spread"] == "1" and r["client"] == "close")))
                for pluto in PLUTO]
            notes.append(f"{name} (the device closes every connection) against the pluto rows with "
                         f"`Connection: close`: {close[0]} (pluto-legacy), {close[1]} (pluto-new)")
    print()
    for note in notes:
        print(f"- {note}")


def main():
    rows = load(sys.argv[1:])
    idle_table(rows)
    get_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
