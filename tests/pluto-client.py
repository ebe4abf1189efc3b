#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Drives a real plutomock daemon the way Pluto's discovery service and
backend do: list the mock servers, probe each device, poll it, PATCH it
through the backend's whitelist, restart it, and read its log WebSocket.
Prints TAP."""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import websocket

DAEMON = os.environ["PLUTOMOCK_DAEMON"]
results = []

# How long an answer may take before the test calls it lost: a loaded
# machine can stall any process for a while.  Pluto's own discovery probe
# keeps its 1000 ms.
TIMEOUT = 10.0
PROBE_TIMEOUT = 1.0
# How many scans discovery makes, as Pluto scans again and again, before
# it misses a device that never answered a probe in time.
SCANS = 3


def check(name, condition, detail=""):
    results.append((bool(condition), name, detail))
    status = "ok" if condition else "not ok"
    print(f"{status} {len(results)} - {name}" + (f"  # {detail}" if detail and not condition else ""),
          flush=True)
    return condition


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, timeout=TIMEOUT, content_type="application/json"):
    """Returns (status, content type, body text); status 0 on a transport error."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, reply.headers.get("Content-Type", ""), reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read().decode()
    except OSError as error:
        return 0, "", str(error)


def start_daemon(listing, ports, logs):
    env = dict(os.environ, LISTING_PORT=str(listing), PORTS=",".join(map(str, ports)),
               LOGS_PUB_ENABLED="true" if logs else "false")
    env.pop("G_DEBUG", None)
    daemon = subprocess.Popen([DAEMON], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 2 * TIMEOUT
    while time.monotonic() < deadline:
        status, _, text = http("GET", f"http://127.0.0.1:{listing}/servers", timeout=1.0)
        if status == 200 and len(json.loads(text)["servers"]) == len(ports):
            return daemon
        time.sleep(0.05)
    daemon.kill()
    raise RuntimeError("the daemon did not start")


def stop_daemon(daemon):
    daemon.terminate()
    return daemon.wait(timeout=TIMEOUT)


def scan(listing):
    """Scan mode with DETECT_MOCK_DEVICES=true: /servers without a timeout,
    then each candidate probed with a 1000 ms timeout; a miner is a 2xx
    JSON reply with a truthy ASICModel.  Returns the devices found by port,
    or None."""
    status, _, text = http("GET", f"http://127.0.0.1:{listing}/servers", timeout=None)
    if status != 200:
        return None
    servers = json.loads(text).get("servers")
    if not isinstance(servers, list):
        return None
    found = {}
    for server in servers:
        port = server["port"]
        mac = f"ff:ff:ff:ff:{port >> 8:02x}:{port & 0xff:02x}"
        status, ctype, body = http("GET", f"http://127.0.0.1:{port}/api/system/info", timeout=PROBE_TIMEOUT)
        if 200 <= status < 300 and ctype.startswith("application/json") and json.loads(body).get("ASICModel"):
            found[port] = {"ip": f"127.0.0.1:{port}", "mac": mac, "info": json.loads(body)}
    return found


def discovery(listing, ports):
    """Pluto scans again and again: a device that missed the probe's time
    on a busy machine is found on a later scan.  Returns the devices in
    the order of @ports, or None."""
    found = {}
    for _ in range(SCANS):
        devices = scan(listing)
        if devices is None:
            return None
        found.update(devices)
        if all(port in found for port in ports):
            break
    return [found[port] for port in ports if port in found]


def gauges(info):
    """What the backend's Prometheus exporter reads; every value a number."""
    fan = info.get("fanSpeedRpm", info.get("fanrpm", info.get("fanspeed")))
    hashrate = info.get("hashRate", info.get("hashRate_10m"))
    values = [info.get("power"), info.get("voltage"), info.get("current"), fan, info.get("temp"),
              hashrate, info.get("sharesAccepted"), info.get("sharesRejected"),
              info.get("uptimeSeconds"), info.get("freeHeap"), info.get("coreVoltage"),
              info.get("coreVoltageActual"), info.get("frequency")]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return None
    return {"efficiency": info["power"] / (hashrate / 1000), "version": info.get("version"),
            "pool": f'{info.get("stratumURL")}:{info.get("stratumPort")}'}


def backend_patch(ip, info):
    """The backend's PATCH proxy: whitelist, then type conversions."""
    allowed = ["hostname", "frequency", "coreVoltage", "flipscreen", "invertscreen", "invertfanpolarity",
               "autofanspeed", "fanspeed", "stratumURL", "stratumPort", "stratumUser", "stratumPassword",
               "wifiPassword", "wifiPass", "autoscreenoff", "overheat_temp"]
    payload = {k: v for k, v in info.items() if k in allowed}
    for key in ["frequency", "coreVoltage", "stratumPort", "fanspeed", "overheat_temp", "autoscreenoff"]:
        if key in payload:
            payload[key] = float(payload[key]) if "." in str(payload[key]) else int(payload[key])
    return http("PATCH", f"http://{ip}/api/system", payload, timeout=None)


def main():
    listing = free_port()
    ports = []
    while len(ports) < 4:
        p = free_port()
        if p != listing and p not in ports:
            ports.append(p)

    daemon = start_daemon(listing, ports, logs=True)
    try:
        devices = discovery(listing, ports)
        check("discovery lists every mock device", devices is not None and len(devices) == len(ports),
              repr(devices))
        devices = devices or []
        check("mock MACs follow the ports", [d["mac"] for d in devices] ==
              [f"ff:ff:ff:ff:{p >> 8:02x}:{p & 0xff:02x}" for p in ports])
        check("hostnames are mockaxe1..N in order",
              [d["info"]["hostname"] for d in devices] == [f"mockaxe{i + 1}" for i in range(len(ports))])
        check("Legacy and New shapes alternate",
              ["history" in d["info"] for d in devices] == [i % 2 == 1 for i in range(len(ports))])

        polled = [gauges(d["info"]) for d in devices]
        check("the backend's gauges read numbers from every device", all(polled), repr(polled))

        first = devices[0]["ip"] if devices else f"127.0.0.1:{ports[0]}"
        status, _, _ = backend_patch(first, {"frequency": "575", "coreVoltage": "1250", "fanspeed": "80",
                                             "stratumURL": "pool.example.org", "stratumPort": "4444",
                                             "stratumUser": "bc1user.worker", "stratumPassword": "x",
                                             "autofanspeed": 0, "notAllowed": 1})
        check("PATCH through the backend's proxy is accepted", status == 200, status)
        status, _, body = http("GET", f"http://{first}/api/system/info")
        info = json.loads(body) if status == 200 else {}
        check("the patched values are reported",
              info.get("frequency") == 575 and info.get("coreVoltage") == 1250 and
              info.get("stratumURL") == "pool.example.org" and info.get("stratumPort") == 4444 and
              info.get("autofanspeed") == 0, repr(info))

        # Frames come every 5 s.
        ws = websocket.create_connection(f"ws://{first}/api/ws", timeout=5 + TIMEOUT,
                                         header=["Sec-WebSocket-Extensions: permessage-deflate"])
        frame = ws.recv()
        check("the log WebSocket streams text the backend stores as is",
              isinstance(frame, str) and re.fullmatch(r'\{"log":"[A-Za-z ]+"\}', frame) is not None, frame)

        # The restart begins while the POST is on its way: after asked, by
        # restarted.
        asked = time.monotonic()
        status, ctype, body = http("POST", f"http://{first}/api/system/restart", timeout=None)
        check("restart through the backend's proxy", status == 200 and ctype.startswith("text/html") and
              "System will restart shortly." in body, (status, body))
        restarted = time.monotonic()
        status, _, _ = http("GET", f"http://{first}/api/system/info")
        check("the poller sees the device offline while it restarts", status == 503, status)
        other = devices[1]["ip"] if len(devices) > 1 else first
        status, _, _ = http("GET", f"http://{other}/api/system/info")
        check("the other devices stay online", status == 200, status)
        while time.monotonic() - restarted < 5 + TIMEOUT:
            status, _, body = http("GET", f"http://{first}/api/system/info")
            if status == 200:
                break
            time.sleep(0.1)
        back = time.monotonic()
        # Not before 5 s have passed since the restart began, however busy
        # the machine; and soon after, with room for a slow poll.
        check("the device comes back after about 5 s",
              status == 200 and back - asked >= 5.0 and back - restarted <= 5.0 + 3.0,
              (back - asked, back - restarted))
        check("the overrides survive the restart", json.loads(body).get("frequency") == 575 if status == 200 else False)
        ws.settimeout(5 + TIMEOUT)
        check("the log WebSocket kept streaming across the restart", ws.recv().startswith('{"log":'))
        ws.close()
    finally:
        code = stop_daemon(daemon)
    check("SIGTERM stops the daemon with status 0", code == 0, code)

    # The template's default: logs off.  The backend's connect must fail
    # quickly, not hang.
    daemon = start_daemon(listing, ports[:1], logs=False)
    try:
        # A hang would be for ever; on a busy machine "at once" may take a
        # second or two.
        started = time.monotonic()
        try:
            websocket.create_connection(f"ws://127.0.0.1:{ports[0]}/api/ws", timeout=TIMEOUT).close()
            refused = False
        except websocket.WebSocketBadStatusException as error:
            refused = error.status_code == 404
        check("with logs off the WebSocket is refused at once", refused and time.monotonic() - started < 5)
    finally:
        stop_daemon(daemon)

    print(f"1..{len(results)}")
    return 0 if all(ok for ok, _, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
