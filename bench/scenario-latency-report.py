#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The tables of bench/scenario-latency.sh from one of its result
directories: every request of the scenario fleet classed by the faults its
device had in the snapshots just before and just after it, against the
fleet without a scenario polled at the same time.

    scenario-latency-report.py RESULTS_DIR

A request is "unfaulted" when both snapshots around it show no fault on
its device that touches HTTP answers; ws-drop, ws-silent and the miner
faults do not (they act on WebSockets or on the numbers in the JSON), so
a device with only those counts as unfaulted, and is shown apart too.  A
request whose device gained or lost an HTTP fault between the two
snapshots is counted as "changing".  Percentiles are nearest-rank over
every request of a class, failed ones included (with the time they took).
Prints Markdown tables and writes RESULTS_DIR/summary.tsv.
"""

import bisect
import datetime
import json
import math
import os
import re
import sys

NOT_HTTP = {"ws-drop", "ws-silent", "overheat", "fan-failure", "asic-failure",
            "pool-down", "power-fault"}


def read_kv(path):
    values = {}
    with open(path) as source:
        for line in source:
            if "=" in line:
                key, value = line.rstrip("\n").split("=", 1)
                values[key] = value
    return values


def read_requests(path):
    rows = []
    with open(path) as source:
        next(source)
        for line in source:
            port, _, start, end, latency, outcome, status, reused = line.rstrip("\n").split("\t")
            rows.append({"port": int(port), "start": float(start), "end": float(end),
                         "ms": float(latency), "outcome": outcome})
    return rows


def read_snapshots(path):
    snaps = []
    with open(path) as source:
        for line in source:
            record = json.loads(line)
            if "error" not in record:
                snaps.append(record)
    snaps.sort(key=lambda s: s["t0"])
    return snaps


def read_cpu(path):
    with open(path) as source:
        return [(float(t), int(ticks)) for t, ticks in (line.split() for line in source)]


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


LOG_TIME = re.compile(r"(\d\d):(\d\d):(\d\d)\.(\d\d\d): (.*)")


def log_monotonic(match, poller):
    """CLOCK_MONOTONIC time of a log line's local HH:MM:SS.mmm."""
    h, m, s, ms = (int(g) for g in match.groups()[:4])
    wall = float(poller["wall_at_monotonic"])
    day = datetime.datetime.fromtimestamp(wall).date()
    candidates = []
    for shift in (-1, 0, 1):
        moment = datetime.datetime.combine(day + datetime.timedelta(days=shift),
                                           datetime.time(h, m, s, ms * 1000))
        candidates.append(moment.timestamp())
    line_wall = min(candidates, key=lambda c: abs(c - wall))
    return line_wall - wall + float(poller["monotonic_at_wall"])


def read_log(log_path, poller):
    """-> (the scenario's start, {port: [(time, kind or None, set?)]}) from
    the daemon's messages: the devices' own "fault KIND set/cleared"."""
    ports = {}
    events = {}
    start = None
    listening = re.compile(r"^(\S+) \(.*\) listening on http://[^:]+:(\d+)")
    fault = re.compile(r"^(\S+): fault (\S+) (set|cleared)$")
    cleared = re.compile(r"^(\S+): faults cleared$")
    with open(log_path) as log:
        for line in log:
            match = LOG_TIME.search(line.rstrip("\n"))
            if not match:
                continue
            text = match.group(5)
            if start is None and re.match(r"Scenario .* started", text):
                start = log_monotonic(match, poller)
            elif m := listening.match(text):
                ports[m.group(1)] = int(m.group(2))
            elif m := fault.match(text):
                events.setdefault(ports[m.group(1)], []).append(
                    (log_monotonic(match, poller), m.group(2), m.group(3) == "set"))
            elif m := cleared.match(text):
                events.setdefault(ports[m.group(1)], []).append(
                    (log_monotonic(match, poller), None, False))
    if start is None:
        raise SystemExit(f"no 'Scenario ... started' line in {log_path}")
    return start, events


def http_fault_in_log(events, port, start, end):
    """Whether the log shows an HTTP fault on PORT at any time in [start, end]."""
    kinds = set()
    for t, kind, on in events.get(port, []):
        if t > end:
            break
        if t >= start and kinds - NOT_HTTP:
            return True
        if kind is None:
            kinds.clear()
        elif on:
            kinds.add(kind)
        else:
            kinds.discard(kind)
    return bool(kinds - NOT_HTTP)


class Faults:
    """The HTTP and other faults of each port around a moment."""

    def __init__(self, snaps):
        self.snaps = snaps
        self.ends = [s["t1"] for s in snaps]
        self.starts = [s["t0"] for s in snaps]

    def around(self, start, end):
        i = bisect.bisect_right(self.ends, start) - 1       # last ended before start
        j = bisect.bisect_left(self.starts, end)            # first begun after end
        before = self.snaps[i] if i >= 0 else None
        after = self.snaps[j] if j < len(self.snaps) else None
        return before or after, after or before

    def classify(self, port, start, end):
        before, after = self.around(start, end)
        kinds_before = set(before["faults"].get(str(port), []))
        kinds_after = set(after["faults"].get(str(port), []))
        http_before = kinds_before - NOT_HTTP
        http_after = kinds_after - NOT_HTTP
        if http_before != http_after:
            return "changing"
        if http_before:
            return "+".join(sorted(http_before))
        if kinds_before or kinds_after:
            return "ws-only"
        return "none"


def cpu_percent(samples, hz, t_from=None, t_to=None):
    """Mean CPU % of one core over the samples between t_from and t_to."""
    ticks = 0
    seconds = 0.0
    for (t0, c0), (t1, c1) in zip(samples, samples[1:]):
        middle = (t0 + t1) / 2
        if (t_from is None or middle >= t_from) and (t_to is None or middle < t_to):
            ticks += c1 - c0
            seconds += t1 - t0
    return 100 * ticks / hz / seconds if seconds > 0 else float("nan")


def peak_cpu(samples, hz):
    return max((100 * (c1 - c0) / hz / (t1 - t0)
                for (t0, c0), (t1, c1) in zip(samples, samples[1:]) if t1 > t0),
               default=float("nan"))


def stats(rows):
    latencies = sorted(r["ms"] for r in rows)
    outcomes = {}
    for r in rows:
        outcomes[r["outcome"]] = outcomes.get(r["outcome"], 0) + 1
    return {
        "requests": len(rows),
        "devices": len({r["port"] for r in rows}),
        "ok": outcomes.get("ok", 0),
        "outcomes": outcomes,
        "p50": percentile(latencies, 50),
        "p90": percentile(latencies, 90),
        "p99": percentile(latencies, 99),
        "max": latencies[-1] if latencies else float("nan"),
        "ok_latencies": sorted(r["ms"] for r in rows if r["outcome"] == "ok"),
    }


def fmt(value):
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.1f}" if value < 100 else f"{value:.0f}"
    return str(value)


def not_ok(st):
    return ", ".join(f"{k} {v}" for k, v in sorted(st["outcomes"].items()) if k != "ok") or "0"


def main():
    results = sys.argv[1]
    params = read_kv(os.path.join(results, "params.txt"))
    hz = int(params["clk_tck"])
    scale = float(params["time_scale"])
    fleets = {}
    for name in ("baseline", "scenario"):
        prefix = os.path.join(results, name)
        fleets[name] = {
            "requests": read_requests(f"{prefix}-requests.tsv"),
            "faults": Faults(read_snapshots(f"{prefix}-snapshots.jsonl")),
            "cpu": read_cpu(f"{prefix}-cpu.tsv"),
            "poller": read_kv(f"{prefix}-poller.txt"),
        }
    t_zero, log_events = read_log(os.path.join(results, "daemon-scenario.log"),
                                  fleets["scenario"]["poller"])

    def minute(t):
        return int((t - t_zero) / (60 * scale))

    # The moments a snapshot ran, on either fleet: plutomockctl list keeps a
    # daemon busy while it answers, and takes CPU from everything else.
    windows = sorted((s["t0"], s["t1"]) for fleet in fleets.values()
                     for s in fleet["faults"].snaps)
    window_starts = [w[0] for w in windows]
    longest = max((w[1] - w[0] for w in windows), default=0.0)

    def during_snapshot(r):
        i = bisect.bisect_right(window_starts, r["end"]) - 1
        while i >= 0 and window_starts[i] >= r["start"] - longest:
            if windows[i][1] >= r["start"]:
                return True
            i -= 1
        return False

    classes = {}
    for name, fleet in fleets.items():
        for r in fleet["requests"]:
            r["class"] = fleet["faults"].classify(r["port"], r["start"], r["end"])
            r["minute"] = minute(r["start"])
            r["quiet"] = not during_snapshot(r)
            classes.setdefault((name, r["class"]), []).append(r)

    summary = open(os.path.join(results, "summary.tsv"), "w")

    def row(label, rows, key):
        st = stats(rows)
        summary.write(f"{key}\trequests={st['requests']}\tdevices={st['devices']}\tok={st['ok']}"
                      f"\tp50_ms={st['p50']:.2f}\tp90_ms={st['p90']:.2f}\tp99_ms={st['p99']:.2f}"
                      f"\tmax_ms={st['max']:.2f}\tnot_ok={not_ok(st)}\n")
        print(f"| {label} | {st['requests']} | {st['devices']} | {not_ok(st)} | "
              f"{fmt(st['p50'])} | {fmt(st['p90'])} | {fmt(st['p99'])} | {fmt(st['max'])} |")
        return st

    base_all = fleets["baseline"]["requests"]
    base_faulted = [r for r in base_all if r["class"] != "none"]
    unfaulted = classes.get(("scenario", "none"), []) + classes.get(("scenario", "ws-only"), [])

    print("Devices unfaulted for HTTP, against the same fleet without the scenario "
          "(latency in ms, connect to last byte):\n")
    print("| fleet, devices | requests | devices | failed | p50 | p90 | p99 | max |")
    print("|---|---:|---:|---|---:|---:|---:|---:|")
    row("no scenario, all", base_all, "baseline-all")
    row("scenario, unfaulted", unfaulted, "scenario-unfaulted")
    row("  of which no fault at all", classes.get(("scenario", "none"), []), "scenario-no-fault")
    row("  of which ws-drop only", classes.get(("scenario", "ws-only"), []), "scenario-ws-only")
    row("no scenario, all, while no snapshot ran", [r for r in base_all if r["quiet"]],
        "baseline-all-quiet")
    row("scenario, unfaulted, while no snapshot ran", [r for r in unfaulted if r["quiet"]],
        "scenario-unfaulted-quiet")
    durations = sorted(1000 * (w[1] - w[0]) for w in windows)
    print(f"\n{len(windows)} snapshots (plutomockctl list --json) took "
          f"{fmt(percentile(durations, 50))} ms each (median), "
          f"{fmt(durations[-1] if durations else float('nan'))} ms at most.")
    if base_faulted:
        print(f"\n(the fleet without a scenario showed faults on {len(base_faulted)} requests)")
    # A check of the snapshots against the daemon's log, which times every
    # fault set and cleared to the millisecond.
    missed = [r for r in unfaulted if http_fault_in_log(log_events, r["port"], r["start"], r["end"])]
    summary.write(f"check-log\tunfaulted_requests_with_a_logged_http_fault={len(missed)}\n")
    print(f"\nUnfaulted requests whose device the daemon's log shows with an HTTP fault "
          f"at some moment of the request: {len(missed)}")

    print("\nDevices with an HTTP fault (the whole request between two snapshots that "
          "show it), and requests whose device changed:\n")
    print("| fault | requests | devices | ok | failed | ok p50 | ok p90 | ok p99 | ok max |")
    print("|---|---:|---:|---:|---|---:|---:|---:|---:|")
    for (name, cls), rows in sorted(classes.items()):
        if name != "scenario" or cls in ("none", "ws-only"):
            continue
        st = stats(rows)
        ok = st["ok_latencies"]
        summary.write(f"scenario-fault-{cls}\trequests={st['requests']}\tdevices={st['devices']}"
                      f"\tok={st['ok']}\tnot_ok={not_ok(st)}\tok_p50_ms={percentile(ok, 50):.2f}"
                      f"\tok_p99_ms={percentile(ok, 99):.2f}\n")
        print(f"| {cls} | {st['requests']} | {st['devices']} | {st['ok']} | {not_ok(st)} | "
              f"{fmt(percentile(ok, 50))} | {fmt(percentile(ok, 90))} | {fmt(percentile(ok, 99))} | "
              f"{fmt(ok[-1] if ok else float('nan'))} |")

    print("\nBy minute of scenario time (unfaulted devices; ms), and each daemon's CPU "
          "(% of one core); the few requests after the last minute count in the totals "
          "only:\n")
    print("| minute | no scenario p50 / p99 / max | scenario unfaulted p50 / p99 / max | "
          "faulted requests (failed) | CPU no scenario | CPU scenario |")
    print("|---:|---|---|---|---:|---:|")
    for m in range(0, int(params["minutes"])):
        t_from = t_zero + m * 60 * scale
        t_to = t_from + 60 * scale
        base = sorted(r["ms"] for r in base_all if r["minute"] == m)
        scen = sorted(r["ms"] for r in unfaulted if r["minute"] == m)
        faulted = [r for r in fleets["scenario"]["requests"]
                   if r["minute"] == m and r["class"] not in ("none", "ws-only")]
        failed = sum(1 for r in faulted if r["outcome"] != "ok")
        print(f"| {m} | {fmt(percentile(base, 50))} / {fmt(percentile(base, 99))} / "
              f"{fmt(base[-1] if base else float('nan'))} | {fmt(percentile(scen, 50))} / "
              f"{fmt(percentile(scen, 99))} / {fmt(scen[-1] if scen else float('nan'))} | "
              f"{len(faulted)} ({failed}) | "
              f"{fmt(cpu_percent(fleets['baseline']['cpu'], hz, t_from, t_to))} | "
              f"{fmt(cpu_percent(fleets['scenario']['cpu'], hz, t_from, t_to))} |")

    print("\nDaemon CPU over the whole run (% of one core), mean and highest "
          "snapshot interval; the pollers' own CPU and schedule lag:\n")
    for name, fleet in fleets.items():
        mean = cpu_percent(fleet["cpu"], hz)
        peak = peak_cpu(fleet["cpu"], hz)
        poller = fleet["poller"]
        summary.write(f"cpu-{name}\tdaemon_mean_percent={mean:.1f}\tdaemon_peak_percent={peak:.1f}"
                      f"\tpoller_percent={poller['poller_cpu_percent']}"
                      f"\tschedule_lag_p99_ms={poller['schedule_lag_p99_ms']}\n")
        print(f"- {'no scenario' if name == 'baseline' else 'scenario'}: daemon {mean:.1f} % "
              f"(highest {peak:.1f} %), poller {poller['poller_cpu_percent']} %, "
              f"schedule lag p99 {poller['schedule_lag_p99_ms']} ms, "
              f"max {poller['schedule_lag_max_ms']} ms")
    summary.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
