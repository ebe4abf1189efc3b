#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Prints the results table of one or more bench/run.sh runs.

    python3 bench/report.py bench/results/*/summary.tsv

With several summaries, the runs of every scenario are pooled: the table
shows medians over all of them, and [min-max] of the per-run values.
"""

import statistics
import sys


def load(paths):
    rows = []
    for path in paths:
        with open(path) as summary:
            for line in summary:
                line = line.rstrip("\n")
                if not line:
                    continue
                kind, name, *fields = line.split("\t")
                rows.append((kind, name, dict(f.split("=", 1) for f in fields if "=" in f)))
    return rows


def median(values):
    return statistics.median(values) if values else float("nan")


def spread(values, fmt):
    if len(values) < 2:
        return ""
    return f" [{fmt.format(min(values))}-{fmt.format(max(values))}]"


def main(paths):
    rows = load(paths)
    n_files = len(paths)

    startups = {}
    for kind, _, d in rows:
        if kind == "startup":
            startups.setdefault(int(d["devices"]), []).append(d)
    if startups:
        print(f"Start-up and memory (median of {n_files} run(s), [min-max])")
        print(f"{'devices':>8} {'start ms':>18} {'RSS kB':>22} {'kB/device':>18} {'fds':>6}")
        base = [int(d["rss_kb"]) for d in startups.get(10, [])]
        for n, ds in sorted(startups.items()):
            start = [int(d["start_ms"]) for d in ds]
            rss = [int(d["rss_kb"]) for d in ds]
            per = "-"
            if base and n != 10:
                # pair each run with the 10-device baseline of the same run
                pers = [(r - b) / (n - 10) for r, b in zip(rss, base)]
                per = f"{median(pers):.2f}" + spread(pers, "{:.2f}")
            print(f"{n:>8} {median(start):>6.0f}{spread(start, '{:.0f}'):<12}"
                  f" {median(rss):>8.0f}{spread(rss, '{:.0f}'):<14} {per:>18} {ds[0]['fds']:>6}")
        print()

    scenarios = []
    for kind, name, _ in rows:
        if kind == "wrk" and name not in scenarios:
            scenarios.append(name)
    if scenarios:
        print("HTTP with wrk (median of all runs, [min-max] over runs)")
        print(f"{'scenario':<18} {'runs':>4} {'req/s':>17} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7}"
              f" {'max ms':>7} {'CPU us/req':>18} {'non2xx':>6} {'errors':>6} {'read err':>9}"
              f" {'requests':>9}")
        for s in scenarios:
            runs = [d for kind, name, d in rows if kind == "wrk" and name == s]

            def col(key):
                return [float(r[key]) for r in runs]

            rps = col("rps")
            cpu = col("cpu_us_per_req")
            errors = sum(int(r["connect_err"]) + int(r["write_err"]) + int(r["timeouts"])
                         for r in runs)
            print(f"{s:<18} {len(runs):>4} {median(rps):>5.0f}{spread(rps, '{:.0f}'):<12}"
                  f" {median(col('p50_ms')):>7.2f} {median(col('p90_ms')):>7.2f}"
                  f" {median(col('p99_ms')):>7.2f} {median(col('max_ms')):>7.1f}"
                  f" {median(cpu):>6.0f}{spread(cpu, '{:.0f}'):<12}"
                  f" {sum(int(r['non2xx']) for r in runs):>6} {errors:>6}"
                  f" {sum(int(r['read_err']) for r in runs):>9}"
                  f" {sum(int(r['requests']) for r in runs):>9}")
            growth = [int(r["rss_after_kb"]) - int(r["rss_before_kb"]) for r in runs]
            print(f"{'':<18} daemon RSS change per run, kB: {' '.join(map(str, growth))}")
        print("(errors = connect + write + timeout; 'read err' = wrk's socket read errors,"
              " which a reply that closes its connection without saying so would cause)")
        print()

    ws = [(name, d) for kind, name, d in rows if kind == "websocket"]
    if ws:
        print("WebSocket log clients (one column per round of each run)")
        print(f"  {'':<32} " + " ".join(f"{name:>8}" for name, _ in ws))
        keys = ("clients_opened", "clients_failed", "deflate_negotiated", "connect_seconds",
                "clients_with_frame", "first_frame_wait_median_s", "first_frame_wait_max_s",
                "bad_frames", "rss_before_kb", "rss_connected_kb", "rss_after_frames_kb",
                "rss_closed_kb", "rss_per_client_kb", "rss_per_client_after_frames_kb",
                "daemon_connected_logged", "daemon_disconnected_logged",
                "daemon_client_failed_logged", "exit")
        for key in keys:
            print(f"  {key:<32} " + " ".join(f"{d.get(key, '-'):>8}" for _, d in ws))
        print()

    dbus_startups = [d for kind, _, d in rows if kind == "startup-dbus"]
    dbus = [d for kind, _, d in rows if kind == "dbus"]
    if dbus_startups or dbus:
        print("D-Bus control on a private session bus (one column per run)")
        for d in dbus_startups:
            plain = [int(s["rss_kb"]) for s in startups.get(int(d["devices"]), [])]
            d["rss_vs_no_dbus_kb_per_device"] = (
                f"{(int(d['rss_kb']) - median(plain)) / int(d['devices']):.2f}" if plain else "-")
        table = [("devices", dbus_startups), ("start_ms", dbus_startups), ("rss_kb", dbus_startups),
                 ("rss_vs_no_dbus_kb_per_device", dbus_startups)]
        if dbus:
            table += [(key, dbus) for key in dbus[0]]
        for key, ds in table:
            print(f"  {key:<32} " + " ".join(f"{str(d.get(key, '-')):>9}" for d in ds))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
