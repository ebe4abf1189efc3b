#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Clients that keep their connection alive, make one request and vanish.

Starts the daemon (BUILD_DIR/src/plutomock) on loopback with a fleet, then:

1. opens CLIENTS keep-alive connections spread over the fleet's ports, each
   sends one GET /api/system/info and reads the reply, and then a third of
   them close (FIN), a third reset (RST), and a third go silent while
   holding the connection open;
2. samples the daemon's open descriptors and RSS before, right after, and
   once the idle time-out has passed;
3. makes SEQUENTIAL more connections one after another (one request each,
   then close) and reports the RSS growth per connection.

Prints a table; exits 1 if descriptors or RSS are not back where they were
(within a margin) after the idle time-out.

    python3 bench/vanish.py [--build-dir _build] [--clients 10000]
                            [--sequential 200000] [--devices 100]
"""

import argparse
import os
import resource
import socket
import struct
import subprocess
import sys
import time

REQUEST = b"GET /api/system/info HTTP/1.1\r\nHost: bench\r\n\r\n"
IDLE_S = 5.0  # PM_LIMIT_KEEPALIVE_IDLE_MS


def daemon_stats(pid):
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return fds, rss


def read_reply(sock):
    """Reads one response with a Content-Length body; returns its head."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the reply")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed in the body")
        body += chunk
    return head


def wait_listening(port, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"vanish.py: nothing listens on port {port}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", default="_build")
    parser.add_argument("--clients", type=int, default=10000)
    parser.add_argument("--sequential", type=int, default=200000)
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--listing-port", type=int, default=19500)
    args = parser.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.clients + 100 > hard:
        sys.exit(f"vanish.py: {args.clients} clients need more descriptors than {hard}")

    first = args.listing_port + 1
    ports = list(range(first, first + args.devices))
    env = dict(os.environ, PORTS=f"{first}-{first + args.devices - 1}",
               LISTING_PORT=str(args.listing_port))
    daemon = subprocess.Popen([os.path.join(args.build_dir, "src", "plutomock"), "--no-dbus"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for port in (ports[0], ports[-1]):
            wait_listening(port)
        time.sleep(0.5)

        # Warm up: what one round of connections costs once, not per round.
        for i in range(2000):
            with socket.create_connection(("127.0.0.1", ports[i % len(ports)])) as s:
                s.sendall(REQUEST)
                read_reply(s)
        time.sleep(IDLE_S + 1.5)
        base_fds, base_rss = daemon_stats(daemon.pid)

        kept = 0
        silent = []
        started = time.monotonic()
        for i in range(args.clients):
            s = socket.create_connection(("127.0.0.1", ports[i % len(ports)]))
            s.sendall(REQUEST)
            head = read_reply(s)
            if b"connection: close" not in head.lower():
                kept += 1
            kind = i % 3
            if kind == 0:
                s.close()
            elif kind == 1:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.close()
            else:
                silent.append(s)
        took = time.monotonic() - started
        after_fds, after_rss = daemon_stats(daemon.pid)
        time.sleep(IDLE_S + 1.5)
        idle_fds, idle_rss = daemon_stats(daemon.pid)
        for s in silent:
            s.close()
        silent.clear()
        time.sleep(0.5)

        seq_before_fds, seq_before_rss = daemon_stats(daemon.pid)
        started = time.monotonic()
        for i in range(args.sequential):
            with socket.create_connection(("127.0.0.1", ports[i % len(ports)])) as s:
                s.sendall(REQUEST)
                read_reply(s)
        seq_took = time.monotonic() - started
        time.sleep(IDLE_S + 1.5)
        seq_after_fds, seq_after_rss = daemon_stats(daemon.pid)
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)

    per_conn_kb = (seq_after_rss - seq_before_rss) / max(1, args.sequential)
    print(f"| phase | daemon fds | daemon RSS (kB) |")
    print(f"|---|---|---|")
    print(f"| before | {base_fds} | {base_rss} |")
    print(f"| {args.clients} clients connected, one request each ({kept} kept alive, {took:.1f} s) | {after_fds} | {after_rss} |")
    print(f"| {IDLE_S + 1.5:.1f} s later (idle time-out {IDLE_S:.0f} s) | {idle_fds} | {idle_rss} |")
    print(f"| before {args.sequential} sequential connections | {seq_before_fds} | {seq_before_rss} |")
    print(f"| after them ({seq_took:.1f} s) and the idle time-out | {seq_after_fds} | {seq_after_rss} |")
    print(f"RSS growth per sequential connection: {per_conn_kb:.4f} kB")

    ok = True
    if idle_fds > base_fds + 2:
        print(f"FAIL: {idle_fds - base_fds} descriptors left after the idle time-out")
        ok = False
    if idle_rss > base_rss + 4096:
        print(f"FAIL: RSS {idle_rss - base_rss} kB above where it was after the idle time-out")
        ok = False
    if per_conn_kb >= 0.05:
        print(f"FAIL: {per_conn_kb:.4f} kB per connection (target < 0.05 kB)")
        ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
