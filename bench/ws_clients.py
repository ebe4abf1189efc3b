#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Holds many WebSocket log clients open on one plutomock device.

Opens --clients connections to ws://HOST:PORT/api/ws from this one
process, measures the daemon's resident memory (VmRSS of --pid) before and
after, waits until every client has received at least one frame (or the
deadline passes), then closes them all and measures once more.

Prints one "key=value" line per result on standard output.
Needs the websocket-client module (Debian package python3-websocket).
"""

import argparse
import json
import selectors
import sys
import time

import websocket


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True, help="the daemon's pid")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--wait", type=float, default=6.0,
                        help="seconds to wait for frames after the last client connected")
    args = parser.parse_args()

    url = f"ws://{args.host}:{args.port}/api/ws"
    extensions = ["Sec-WebSocket-Extensions: permessage-deflate"]

    rss_before = rss_kb(args.pid)

    clients = []
    connected_at = []
    failed = 0
    negotiated = 0
    first_error = ""
    t_start = time.monotonic()
    for _ in range(args.clients):
        try:
            ws = websocket.create_connection(url, header=extensions, timeout=10)
        except Exception as error:  # noqa: BLE001 - any failure counts
            failed += 1
            if not first_error:
                first_error = repr(error)
            continue
        headers = ws.getheaders() or {}
        if "permessage-deflate" in str(headers.get("sec-websocket-extensions", "")):
            negotiated += 1
        clients.append(ws)
        connected_at.append(time.monotonic())
    t_connected = time.monotonic()

    time.sleep(0.5)  # let the daemon finish its side of the last handshakes
    rss_connected = rss_kb(args.pid)

    # Wait for the first frame on every client.
    selector = selectors.DefaultSelector()
    for index, ws in enumerate(clients):
        selector.register(ws.sock, selectors.EVENT_READ, index)
    first_frame = [None] * len(clients)
    bad_frames = 0
    frames = 0
    deadline = t_connected + args.wait
    waiting = len(clients)
    while waiting > 0:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        for key, _ in selector.select(timeout=left):
            index = key.data
            ws = clients[index]
            try:
                opcode, data = ws.recv_data()
            except Exception:  # noqa: BLE001 - a dead client never gets a frame
                selector.unregister(key.fileobj)
                waiting -= 1
                continue
            frames += 1
            try:
                if "log" not in json.loads(data):
                    bad_frames += 1
            except ValueError:
                bad_frames += 1
            if first_frame[index] is None:
                first_frame[index] = time.monotonic()
                selector.unregister(key.fileobj)
                waiting -= 1
    selector.close()

    rss_after_frames = rss_kb(args.pid)

    waits = sorted(first_frame[i] - connected_at[i]
                   for i in range(len(clients)) if first_frame[i] is not None)
    got_frame = len(waits)

    # Close: send every close frame first, then drop the sockets, so a slow
    # close handshake cannot make this take 1000 timeouts.
    for ws in clients:
        try:
            ws.send_close()
        except Exception:  # noqa: BLE001
            pass
    time.sleep(1.0)
    for ws in clients:
        try:
            ws.shutdown()
        except Exception:  # noqa: BLE001
            pass
    time.sleep(1.0)
    rss_closed = rss_kb(args.pid)

    opened = len(clients)
    out = {
        "clients_requested": args.clients,
        "clients_opened": opened,
        "clients_failed": failed,
        "first_error": first_error.replace(" ", "_") or "-",
        "deflate_negotiated": negotiated,
        "connect_seconds": f"{t_connected - t_start:.2f}",
        "clients_with_frame": got_frame,
        "frames_received": frames,
        "bad_frames": bad_frames,
        "first_frame_wait_max_s": f"{waits[-1]:.2f}" if waits else "-",
        "first_frame_wait_median_s": f"{waits[len(waits) // 2]:.2f}" if waits else "-",
        "rss_before_kb": rss_before,
        "rss_connected_kb": rss_connected,
        "rss_after_frames_kb": rss_after_frames,
        "rss_closed_kb": rss_closed,
        "rss_per_client_kb": f"{(rss_connected - rss_before) / opened:.1f}" if opened else "-",
        "rss_per_client_after_frames_kb":
            f"{(rss_after_frames - rss_before) / opened:.1f}" if opened else "-",
    }
    for key, value in out.items():
        print(f"{key}={value}")
    return 0 if failed == 0 and got_frame == opened else 1


if __name__ == "__main__":
    sys.exit(main())
