#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Soak test: runs the real daemon under mixed traffic for a while and fails
if its memory or its open file descriptors keep growing.

    bench/soak.py                      # _build, 10 minutes
    bench/soak.py --duration 120 OTHER_BUILD_DIR

Starts a private D-Bus session bus (dbus-daemon) and the daemon on free
loopback ports (--logs, a fixed --seed), then, at a bounded rate, sends
only to 127.0.0.1: GET /api/system/info, PATCH /api/system with valid and
invalid bodies, POST /api/system/restart (on one device), GET /servers,
WebSocket connects to /api/ws that are closed or simply dropped, and
AddDevice/RemoveDevice over D-Bus with `gdbus call`.  Every
--interval seconds it reads the daemon's VmRSS (/proc/PID/status) and
open descriptors (/proc/PID/fd), after removing the devices it added.

Criterion: the samples at t=0 and the first one under traffic are the
warm-up and left out; of the rest, the highest value of the last third
may exceed the highest of the first third by at most the margin
(--rss-margin-kib, default 2048 KiB plus 5 %; --fd-margin, default 8).
A daemon that dies, that does not exit with status 0 on SIGTERM at the
end (a sanitized one reports its leaks then), or traffic with unexpected
answers, fails too.
Prints a table; keeps the samples, the counts and the daemon's log under
bench/results/soak-<timestamp>/ (ignored by git).  Stops everything it
started on exit, Ctrl-C included.
"""

import argparse
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time

import websocket

NAME = "org.pluto.Mock1"
MANAGER = "/org/pluto/Mock1/Manager"
HOST = "127.0.0.1"
TIMEOUT = 5.0
RESTART_S = 5.0


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("build_dir", nargs="?", default="_build",
                        help="build directory holding src/plutomock (default: _build)")
    parser.add_argument("--duration", type=float, default=600,
                        help="seconds of traffic (default: 600)")
    parser.add_argument("--interval", type=float, default=30,
                        help="seconds between samples (default: 30; at most duration/6)")
    parser.add_argument("--rate", type=float, default=40,
                        help="operations per second at most (default: 40)")
    parser.add_argument("--devices", type=int, default=4,
                        help="devices started with the daemon (default: 4)")
    parser.add_argument("--max-added", type=int, default=8,
                        help="devices added over D-Bus and alive at once, at most (default: 8)")
    parser.add_argument("--rss-margin-kib", type=int, default=2048,
                        help="allowed RSS growth in KiB, plus 5 %% (default: 2048)")
    parser.add_argument("--fd-margin", type=int, default=8,
                        help="allowed growth in open descriptors (default: 8)")
    parser.add_argument("--sanitized", action="store_true",
                        help="the daemon is built with AddressSanitizer: judge the descriptors "
                             "and the exit status only, not VmRSS (ASan's quarantine grows it)")
    parser.add_argument("--seed", type=int, default=20261202)
    return parser.parse_args()


def free_ports(count):
    """Ports that were free on 127.0.0.1, all different."""
    sockets, ports = [], []
    try:
        while len(ports) < count:
            s = socket.socket()
            s.bind((HOST, 0))
            sockets.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in sockets:
            s.close()
    return ports


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def request(port, method, path, body=None):
    """One request on a new connection; returns the status, 0 on a transport error."""
    connection = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        connection.request(method, path, body=body, headers=headers)
        reply = connection.getresponse()
        reply.read()
        return reply.status
    except (OSError, http.client.HTTPException):
        return 0
    finally:
        connection.close()


VALID_BODIES = [
    lambda r: json.dumps({"power": r.randint(5, 30), "frequency": r.choice([400, 490, 525, 550])}),
    lambda r: json.dumps({"hostname": f"soak{r.randint(0, 9)}"}),
    lambda r: json.dumps({"fanspeed": r.randint(0, 100), "autofanspeed": r.randint(0, 1)}),
]
INVALID_BODIES = [
    lambda r: "{",
    lambda r: "[1, 2, 3]",
    lambda r: "",
    lambda r: '{"power": 1e999}',
    lambda r: "[" * 100 + "]" * 100,
    lambda r: '{"x": "' + "\\u12" + '"}',
    lambda r: "{" + ",".join(f'"k{i}": {i}' for i in range(r.randint(1, 50))) + ",}",
]


class Soak:
    def __init__(self, args, results):
        self.args = args
        self.results = results
        self.random = random.Random(args.seed)
        self.bus = None
        self.daemon = None
        self.env = None
        self.counts = {}
        self.unexpected = []
        self.n_unexpected = 0
        self.added = []
        self.restarting_until = 0.0

    # ---- processes -------------------------------------------------------

    def start(self):
        self.bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        address = self.bus.stdout.readline().strip()
        if not address:
            raise RuntimeError("dbus-daemon gave no address")
        self.env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=address)
        for variable in ("LISTING_PORT", "PORTS", "LOGS_PUB_ENABLED", "G_DEBUG"):
            self.env.pop(variable, None)

        ports = free_ports(self.args.devices + 1)
        self.listing, self.ports = ports[0], ports[1:]
        binary = os.path.join(self.args.build_dir, "src", "plutomock")
        self.log = open(os.path.join(self.results, "daemon.log"), "w")
        self.daemon = subprocess.Popen(
            [binary, "--listing-port", str(self.listing), "--ports", ",".join(map(str, self.ports)),
             "--logs", "--seed", str(self.args.seed)],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.daemon.poll() is not None:
                raise RuntimeError(f"the daemon exited with status {self.daemon.returncode}")
            connection = http.client.HTTPConnection(HOST, self.listing, timeout=1)
            try:
                connection.request("GET", "/servers")
                reply = connection.getresponse()
                if reply.status == 200 and len(json.loads(reply.read())["servers"]) == len(self.ports):
                    if self.gdbus_manager("org.freedesktop.DBus.Peer.Ping")[0] == 0:
                        return
            except (OSError, http.client.HTTPException, ValueError, KeyError):
                pass
            finally:
                connection.close()
            time.sleep(0.1)
        raise RuntimeError("the daemon did not start in 20 s")

    def stop(self):
        """Stops the daemon with SIGTERM, then the bus; returns the daemon's
        exit status, or None if it had to be killed or never ran."""
        status = None
        for process in (self.daemon, self.bus):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                    if process is self.daemon:
                        status = process.returncode
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        return status

    # ---- traffic ---------------------------------------------------------

    def count(self, what, outcome, expected):
        key = f"{what} {outcome}"
        self.counts[key] = self.counts.get(key, 0) + 1
        if outcome not in expected:
            self.n_unexpected += 1
            if len(self.unexpected) < 50:
                self.unexpected.append(f"{time.strftime('%H:%M:%S')} {key}")

    def device(self):
        """A started device that is not restarting (the first restarts)."""
        if time.monotonic() < self.restarting_until:
            return self.random.choice(self.ports[1:] or self.ports)
        return self.random.choice(self.ports)

    def op_info(self):
        self.count("GET info", request(self.device(), "GET", "/api/system/info"), {200})

    def op_servers(self):
        self.count("GET /servers", request(self.listing, "GET", "/servers"), {200})

    def op_patch_valid(self):
        body = self.random.choice(VALID_BODIES)(self.random)
        self.count("PATCH valid", request(self.device(), "PATCH", "/api/system", body), {200})

    def op_patch_invalid(self):
        body = self.random.choice(INVALID_BODIES)(self.random)
        self.count("PATCH invalid", request(self.device(), "PATCH", "/api/system", body), {400})

    def op_restart(self):
        if time.monotonic() < self.restarting_until + 1:
            return
        status = request(self.ports[0], "POST", "/api/system/restart")
        self.restarting_until = time.monotonic() + RESTART_S + 1
        self.count("POST restart", status, {200})

    def op_websocket(self):
        port = self.device()
        try:
            client = websocket.create_connection(f"ws://{HOST}:{port}/api/ws", timeout=TIMEOUT)
        except (OSError, websocket.WebSocketException) as error:
            self.count("WebSocket", type(error).__name__, set())
            return
        try:
            client.settimeout(0.05)
            try:
                client.recv()
            except (websocket.WebSocketTimeoutException, OSError):
                pass
            if self.random.random() < 0.5:
                client.close()
                self.count("WebSocket", "closed", {"closed"})
            else:
                client.sock.close()  # dropped: no close frame
                self.count("WebSocket", "dropped", {"dropped"})
        except (OSError, websocket.WebSocketException) as error:
            self.count("WebSocket", type(error).__name__, set())

    def gdbus_manager(self, method, *args):
        done = subprocess.run(["gdbus", "call", "--session", "--dest", NAME, "--object-path", MANAGER,
                               "--method", method, *args],
                              env=self.env, capture_output=True, text=True, timeout=20)
        return done.returncode, done.stdout.strip(), done.stderr.strip()

    def op_dbus(self):
        if len(self.added) < self.args.max_added and (not self.added or self.random.random() < 0.5):
            status, out, _ = self.gdbus_manager(f"{NAME}.Manager.AddDevice", "{}")
            match = re.search(r"'(/org/pluto/Mock1/Device/\d+)'", out)
            if status == 0 and match:
                self.added.append(match.group(1))
                self.count("D-Bus AddDevice", "ok", {"ok"})
            else:
                self.count("D-Bus AddDevice", "failed", {"ok"})
        else:
            path = self.added.pop(self.random.randrange(len(self.added)))
            status, _, _ = self.gdbus_manager(f"{NAME}.Manager.RemoveDevice", path)
            self.count("D-Bus RemoveDevice", "ok" if status == 0 else "failed", {"ok"})

    def traffic(self, until):
        """Operations until @until, at most --rate a second; returns how many."""
        weighted = [
            (self.op_info, 30), (self.op_servers, 10), (self.op_patch_valid, 15),
            (self.op_patch_invalid, 15), (self.op_websocket, 15), (self.op_dbus, 4),
            (self.op_restart, 1),
        ]
        operations = [op for op, weight in weighted for _ in range(weight)]
        gap = 1.0 / self.args.rate
        done = 0
        next_at = time.monotonic()
        while time.monotonic() < until:
            if self.daemon.poll() is not None:
                break
            self.random.choice(operations)()
            done += 1
            next_at += gap
            pause = next_at - time.monotonic()
            if pause > 0:
                time.sleep(min(pause, max(0.0, until - time.monotonic())))
            else:
                next_at = time.monotonic()
        return done


def growth(values, margin):
    """(first third's max, last third's max, growing?) of @values."""
    third = max(1, len(values) // 3)
    first, last = max(values[:third]), max(values[-third:])
    return first, last, last > first + margin(first)


def main():
    args = parse_args()
    if args.duration <= 0 or args.rate <= 0:
        sys.exit("soak.py: --duration and --rate must be positive")
    interval = min(args.interval, args.duration / 6)
    results = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                           "soak-" + time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
    os.makedirs(results, exist_ok=True)

    soak = Soak(args, results)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    samples = []
    try:
        soak.start()
        pid = soak.daemon.pid
        start = time.monotonic()
        total = 0
        samples.append((0.0, 0, rss_kib(pid), fd_count(pid)))
        print(f"Soak of {args.duration:.0f} s: daemon {pid}, {args.devices} devices, listing port "
              f"{soak.listing}, at most {args.rate:g} operations/s, a sample every {interval:g} s",
              flush=True)
        print(f"{'t (s)':>7} {'operations':>10} {'VmRSS (KiB)':>12} {'fds':>5}", flush=True)
        print(f"{0:7.0f} {0:10d} {samples[0][2]:12d} {samples[0][3]:5d}", flush=True)
        n = 1
        while True:
            until = start + min(n * interval, args.duration)
            total += soak.traffic(until)
            if soak.daemon.poll() is not None:
                break
            # Sample with no device added over D-Bus alive, each of which
            # holds a listening socket.
            while soak.added:
                soak.op_dbus()
            t = time.monotonic() - start
            samples.append((t, total, rss_kib(pid), fd_count(pid)))
            print(f"{t:7.0f} {total:10d} {samples[-1][2]:12d} {samples[-1][3]:5d}", flush=True)
            if until >= start + args.duration:
                break
            n += 1
    except KeyboardInterrupt:
        print("interrupted")
        soak.stop()
        return 1
    finally:
        exit_status = soak.daemon.poll() if soak.daemon else None
        stop_status = soak.stop()

    with open(os.path.join(results, "samples.tsv"), "w") as out:
        out.write("t_s\toperations\tvmrss_kib\tfds\n")
        for t, ops, rss, fds in samples:
            out.write(f"{t:.1f}\t{ops}\t{rss}\t{fds}\n")
    with open(os.path.join(results, "counts.json"), "w") as out:
        json.dump({"counts": soak.counts, "unexpected": soak.unexpected}, out, indent=1)

    print()
    for key in sorted(soak.counts):
        print(f"  {key}: {soak.counts[key]}")
    failed = False
    if exit_status is not None:
        print(f"FAIL: the daemon exited during the soak (status {exit_status}); see {results}/daemon.log")
        failed = True
    if soak.unexpected:
        print(f"FAIL: {soak.n_unexpected} unexpected answers, the first: "
              + "; ".join(soak.unexpected[:5]))
        failed = True
    elif stop_status != 0:
        # A sanitized daemon reports leaks when it exits, and then fails.
        print(f"FAIL: the daemon did not exit cleanly on SIGTERM (status {stop_status}); "
              f"see {results}/daemon.log")
        failed = True
    steady = samples[2:]
    if len(steady) < 3:
        print("FAIL: too few samples to judge growth; run longer or sample more often")
        failed = True
    else:
        rss = growth([s[2] for s in steady], lambda first: args.rss_margin_kib + first // 20)
        fds = growth([s[3] for s in steady], lambda first: args.fd_margin)
        for label, (first, last, growing), unit in (("VmRSS", rss, " KiB"), ("open fds", fds, "")):
            if label == "VmRSS" and args.sanitized:
                print(f"VmRSS: not judged (sanitized build): {first} KiB, then {last} KiB")
                continue
            verdict = "GROWING" if growing else "steady"
            print(f"{label}: max of the first third {first}{unit}, of the last third {last}{unit}: {verdict}")
            failed = failed or growing
    print(f"Samples, counts and the daemon's log: {results}")
    print("FAIL" if failed else "PASS")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
