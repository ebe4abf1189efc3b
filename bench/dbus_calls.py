#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""D-Bus costs of a running plutomock: GetManagedObjects over its whole
fleet, then CALLS AddDevice, GetInfo and RemoveDevice calls one after the
other, with their latency, the daemon's CPU time per call and its memory
per added device.  Prints key=value lines.

    dbus_calls.py --pid PID [--calls 1000]

Talks to the session bus in DBUS_SESSION_BUS_ADDRESS.
"""

import argparse
import os
import statistics
import sys
import time

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

NAME = "org.pluto.Mock1"
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(") ", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def call(bus, path, interface, method, args, reply_type):
    return bus.call_sync(NAME, path, interface, method, args,
                         GLib.VariantType.new(reply_type) if reply_type else None,
                         Gio.DBusCallFlags.NONE, 30000, None)


def timed(pid, fn, n):
    """Runs fn(i) n times; returns (latencies in ms, daemon CPU us per call)."""
    latencies = []
    cpu0 = cpu_seconds(pid)
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        latencies.append((time.perf_counter() - t0) * 1000)
    cpu = (cpu_seconds(pid) - cpu0) * 1e6 / n
    return sorted(latencies), cpu


def summary(prefix, latencies, cpu_us):
    total_s = sum(latencies) / 1000
    return {
        f"{prefix}_calls_per_s": f"{len(latencies) / total_s:.0f}",
        f"{prefix}_p50_ms": f"{statistics.median(latencies):.3f}",
        f"{prefix}_p99_ms": f"{latencies[int(len(latencies) * 0.99) - 1]:.3f}",
        f"{prefix}_max_ms": f"{latencies[-1]:.3f}",
        f"{prefix}_cpu_us_per_call": f"{cpu_us:.0f}",
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args()

    bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    deadline = time.monotonic() + 30
    while True:
        reply = bus.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                              "NameHasOwner", GLib.Variant("(s)", (NAME,)), None,
                              Gio.DBusCallFlags.NONE, -1, None)
        if reply.unpack()[0]:
            break
        if time.monotonic() > deadline:
            print("error=the daemon never owned its name", file=sys.stderr)
            return 1
        time.sleep(0.01)

    out = {}
    cpu0 = cpu_seconds(args.pid)
    t0 = time.perf_counter()
    reply = call(bus, "/org/pluto/Mock1", "org.freedesktop.DBus.ObjectManager",
                 "GetManagedObjects", None, "(a{oa{sa{sv}}})")
    out["get_managed_objects_ms"] = f"{(time.perf_counter() - t0) * 1000:.1f}"
    out["get_managed_objects_daemon_cpu_ms"] = f"{(cpu_seconds(args.pid) - cpu0) * 1000:.0f}"
    out["managed_objects"] = reply.get_child_value(0).n_children()
    out["get_managed_objects_reply_kb"] = f"{reply.get_size() / 1024:.0f}"

    paths = []
    rss0 = rss_kb(args.pid)

    def add(_):
        reply = call(bus, "/org/pluto/Mock1/Manager", f"{NAME}.Manager", "AddDevice",
                     GLib.Variant("(a{sv})", ({},)), "(o)")
        paths.append(reply.unpack()[0])

    latencies, cpu = timed(args.pid, add, args.calls)
    out.update(summary("add", latencies, cpu))
    out["rss_per_added_device_kb"] = f"{(rss_kb(args.pid) - rss0) / args.calls:.2f}"

    def get_info(i):
        call(bus, paths[i], f"{NAME}.Device", "GetInfo", None, "(s)")

    out.update(summary("get_info", *timed(args.pid, get_info, args.calls)))

    def remove(i):
        call(bus, "/org/pluto/Mock1/Manager", f"{NAME}.Manager", "RemoveDevice",
             GLib.Variant("(o)", (paths[i],)), None)

    out.update(summary("remove", *timed(args.pid, remove, args.calls)))

    for key, value in out.items():
        print(f"{key}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
