#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Polls a plutomock fleet as a dashboard does and notes its faults.

GET /api/system/info on every device in turn (ports FIRST .. FIRST+N-1,
round-robin), --rate requests a second on a fixed schedule whatever the
answers (a slow device never delays the next request), each with a
timeout of --timeout seconds from the connect to the end of the body.
Without --keepalive every request has a connection of its own and asks
the server to close it; with --keepalive one connection per device is
reused while the server keeps it (a reused connection that fails before
any byte of the answer is retried once on a new one, as HTTP clients do).

At the same time, every --snapshot-interval seconds (give or take a
quarter, at random), `plutomockctl list --json` (on the bus in
DBUS_SESSION_BUS_ADDRESS) gives the faults of every device, and
/proc/PID/stat the daemon's CPU time.  One snapshot is taken before the
first request and one after the last answer.

Writes into --out, prefixed with --name:
  NAME-requests.tsv    one line per request: port, scheduled, start and
                       end times (CLOCK_MONOTONIC seconds), latency in ms,
                       outcome (ok, http-STATUS, timeout, refused, reset,
                       eof, bad-json, error-...), status, reused connection
  NAME-snapshots.jsonl one line per snapshot: its start and end times, the
                       number of devices listed and the faults of those
                       that have any
  NAME-cpu.tsv         time, the daemon's utime+stime in clock ticks
  NAME-poller.txt      key=value: schedule lag, the poller's own CPU, the
                       wall clock and monotonic clock at one moment
Only the standard library is used.
"""

import argparse
import asyncio
import json
import os
import random
import resource
import sys
import time


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


class Poller:
    def __init__(self, args):
        self.args = args
        self.request_lines = []
        self.idle = {}          # port -> (reader, writer) kept alive
        self.in_flight = set()
        self.lags = []

    # ---- one request -------------------------------------------------------

    async def read_answer(self, reader):
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                key, value = line.split(":", 1)
                headers[key.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = bytearray()
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    break
                body += await reader.readexactly(size)
                await reader.readexactly(2)
            body = bytes(body)
        elif "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        else:
            body = await reader.read()
        keep = "close" not in headers.get("connection", "").lower()
        return status, body, keep

    async def exchange(self, port, request):
        """-> (status, body, reused); raises on failure."""
        args = self.args
        kept = self.idle.pop(port, None) if args.keepalive else None
        if kept is not None:
            reader, writer = kept
            try:
                writer.write(request)
                status, body, keep = await self.read_answer(reader)
            except (ConnectionError, asyncio.IncompleteReadError) as error:
                writer.close()
                if getattr(error, "partial", b""):
                    raise
                # The server closed it while idle: once more, on a new one.
            except BaseException:
                writer.close()
                raise
            else:
                self.keep_or_close(port, reader, writer, keep)
                return status, body, True
        reader, writer = await asyncio.open_connection(args.host, port)
        try:
            writer.write(request)
            status, body, keep = await self.read_answer(reader)
        except BaseException:
            writer.close()
            raise
        self.keep_or_close(port, reader, writer, keep)
        return status, body, False

    def keep_or_close(self, port, reader, writer, keep):
        if self.args.keepalive and keep and port not in self.idle:
            self.idle[port] = (reader, writer)
        else:
            writer.close()

    async def one(self, port, scheduled):
        args = self.args
        connection = "keep-alive" if args.keepalive else "close"
        request = (f"GET {args.path} HTTP/1.1\r\nHost: {args.host}:{port}\r\n"
                   f"Accept: application/json\r\nConnection: {connection}\r\n\r\n").encode()
        start = time.monotonic()
        status = 0
        reused = False
        try:
            status, body, reused = await asyncio.wait_for(self.exchange(port, request), args.timeout)
            if 200 <= status < 300:
                try:
                    json.loads(body)
                    outcome = "ok"
                except ValueError:
                    outcome = "bad-json"
            else:
                outcome = f"http-{status}"
        except asyncio.TimeoutError:
            outcome = "timeout"
        except ConnectionRefusedError:
            outcome = "refused"
        except ConnectionResetError:
            outcome = "reset"
        except asyncio.IncompleteReadError:
            outcome = "eof"
        except (OSError, ValueError, IndexError) as error:
            outcome = f"error-{type(error).__name__}"
        end = time.monotonic()
        self.request_lines.append(
            f"{port}\t{scheduled:.6f}\t{start:.6f}\t{end:.6f}\t{(end - start) * 1000:.3f}"
            f"\t{outcome}\t{status}\t{int(reused)}\n")

    # ---- snapshots ---------------------------------------------------------

    async def snapshot(self, out):
        args = self.args
        t0 = time.monotonic()
        ticks = cpu_ticks(args.pid)
        record = {"t0": t0}
        try:
            process = await asyncio.create_subprocess_exec(
                args.ctl, "list", "--json",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
            if process.returncode != 0:
                raise RuntimeError(stderr.decode(errors="replace").strip())
            devices = json.loads(stdout)
            record["n"] = len(devices)
            record["faults"] = {str(d["port"]): sorted(d.get("faults", {}))
                                for d in devices if d.get("faults")}
            record["states"] = {str(d["port"]): d["state"]
                                for d in devices if d.get("state") != "running"}
        except Exception as error:  # noqa: BLE001 - a failed snapshot is noted
            record["error"] = str(error)
        record["t1"] = time.monotonic()
        out.write(json.dumps(record, sort_keys=True) + "\n")
        out.flush()
        self.cpu_out.write(f"{t0:.6f}\t{ticks}\n")
        self.cpu_out.flush()

    async def snapshots(self, out, stop):
        while True:
            # Jittered, so that the snapshots do not always fall on the
            # same devices of the round.
            try:
                await asyncio.wait_for(stop.wait(),
                                       self.args.snapshot_interval * random.uniform(0.75, 1.25))
                return
            except asyncio.TimeoutError:
                pass
            await self.snapshot(out)

    # ---- the run -----------------------------------------------------------

    async def run(self):
        args = self.args
        prefix = os.path.join(args.out, args.name)
        stop = asyncio.Event()
        with open(f"{prefix}-snapshots.jsonl", "w") as snap_out, \
             open(f"{prefix}-cpu.tsv", "w") as self.cpu_out:
            await self.snapshot(snap_out)
            snapper = asyncio.create_task(self.snapshots(snap_out, stop))
            total = int(args.rate * args.duration)
            t_first = time.monotonic() + 0.05
            wall, mono = time.time(), time.monotonic()
            usage0 = resource.getrusage(resource.RUSAGE_SELF)
            for i in range(total):
                scheduled = t_first + i / args.rate
                delay = scheduled - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                self.lags.append(time.monotonic() - scheduled)
                request = asyncio.create_task(self.one(args.first_port + i % args.devices, scheduled))
                self.in_flight.add(request)
                request.add_done_callback(self.in_flight.discard)
            if self.in_flight:
                await asyncio.wait(list(self.in_flight))
            t_last = time.monotonic()
            usage1 = resource.getrusage(resource.RUSAGE_SELF)
            stop.set()
            await snapper
            await self.snapshot(snap_out)
        for _, writer in self.idle.values():
            writer.close()
        with open(f"{prefix}-requests.tsv", "w") as out:
            out.write("port\tscheduled\tstart\tend\tlatency_ms\toutcome\tstatus\treused\n")
            out.writelines(self.request_lines)
        lags = sorted(self.lags)
        poller_cpu = (usage1.ru_utime + usage1.ru_stime) - (usage0.ru_utime + usage0.ru_stime)
        with open(f"{prefix}-poller.txt", "w") as out:
            out.write(f"requests={total}\n")
            out.write(f"first_scheduled={t_first:.6f}\nlast_answer={t_last:.6f}\n")
            out.write(f"wall_at_monotonic={wall:.6f}\nmonotonic_at_wall={mono:.6f}\n")
            out.write(f"schedule_lag_p99_ms={lags[int(0.99 * (len(lags) - 1))] * 1000:.3f}\n")
            out.write(f"schedule_lag_max_ms={lags[-1] * 1000:.3f}\n")
            out.write(f"poller_cpu_percent={100 * poller_cpu / max(1e-9, t_last - t_first):.1f}\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--first-port", type=int, required=True)
    parser.add_argument("--devices", type=int, required=True)
    parser.add_argument("--path", default="/api/system/info")
    parser.add_argument("--rate", type=float, default=200, help="requests per second in all")
    parser.add_argument("--duration", type=float, required=True, help="seconds of requests")
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds per request")
    parser.add_argument("--keepalive", action="store_true")
    parser.add_argument("--pid", type=int, required=True, help="the daemon's pid")
    parser.add_argument("--ctl", required=True, help="the plutomockctl program")
    parser.add_argument("--snapshot-interval", type=float, default=2.0)
    parser.add_argument("--out", required=True, help="directory of the outputs")
    parser.add_argument("--name", required=True, help="prefix of the outputs")
    args = parser.parse_args()
    asyncio.run(Poller(args).run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
