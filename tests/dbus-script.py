#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Drives plutomock the way a user's script does: `gdbus call` on the
session bus, HTTP to the devices it creates.  The test starts a private
session bus on which org.pluto.Mock1 is the build-tree daemon, started by
bus activation on the first call.  Prints TAP."""

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

NAME = "org.pluto.Mock1"
MANAGER = "/org/pluto/Mock1/Manager"
results = []

# How long an answer may take before the test calls it lost: a loaded
# machine can stall any process for a while.
TIMEOUT = 10.0


def check(name, condition, detail=""):
    results.append(bool(condition))
    status = "ok" if condition else "not ok"
    print(f"{status} {len(results)} - {name}", flush=True)
    if not condition and detail:
        for line in str(detail).splitlines():
            print(f"#   {line}", flush=True)
    return condition


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, timeout=TIMEOUT):
    """Returns (status, body text); status 0 on a transport error."""
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError as error:
        return 0, str(error)


def gdbus(*args):
    """Runs `gdbus ARGS...`; returns (exit status, stdout, stderr)."""
    done = subprocess.run(["gdbus", *args], capture_output=True, text=True, timeout=20)
    return done.returncode, done.stdout.strip(), done.stderr.strip()


def call(path, method, *args):
    return gdbus("call", "--session", "--dest", NAME, "--object-path", path,
                 "--method", method, *args)


def value(text):
    """The values of a `gdbus call` reply, which is GVariant text."""
    return GLib.Variant.parse(None, text, None, None).unpack()


def get_property(path, interface, name):
    status, out, err = call(path, "org.freedesktop.DBus.Properties.Get", interface, name)
    if status != 0:
        raise RuntimeError(err)
    return value(out)[0]


def process_gone(pid):
    """Whether @pid has exited (a zombie nobody reaps counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(") ", 1)[1].startswith("Z")
    except FileNotFoundError:
        return True


def main():
    startup_port = free_port()
    os.environ.update(LISTING_PORT="0", PORTS=str(startup_port))
    os.environ.pop("LOGS_PUB_ENABLED", None)
    for name in ("PROFILE", "TELEMETRY", "NETWORK_GATE"):
        os.environ.pop(name, None)

    bus = Gio.TestDBus.new(Gio.TestDBusFlags.NONE)
    bus.add_service_dir(os.environ["PM_TEST_SERVICES_DIR"])
    bus.up()
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = bus.get_bus_address()
    daemon_pid = None
    try:
        # The first call starts the daemon through bus activation.
        listing_port = get_property(MANAGER, f"{NAME}.Manager", "ListingPort")
        check("the first gdbus call activates the daemon and reads ListingPort", listing_port > 0)
        status, out, _ = gdbus("call", "--session", "--dest", "org.freedesktop.DBus",
                               "--object-path", "/org/freedesktop/DBus",
                               "--method", "org.freedesktop.DBus.GetConnectionUnixProcessID", NAME)
        daemon_pid = value(out)[0] if status == 0 else None

        status, text = http("GET", f"http://127.0.0.1:{listing_port}/servers")
        check("/servers answers on ListingPort", status == 200 and str(startup_port) in text, text)

        status, out, _ = gdbus("introspect", "--session", "--dest", NAME, "--object-path", MANAGER)
        check("gdbus introspect shows AddDevice and RemoveDevice",
              status == 0 and "AddDevice" in out and "RemoveDevice" in out, out)

        status, out, err = call(MANAGER, f"{NAME}.Manager.AddDevice",
                                "{'api-version': <'new'>, 'hostname': <'scripted'>}")
        check("AddDevice with api-version and hostname", status == 0, err)
        path = value(out)[0] if status == 0 else ""
        port = int(path.rsplit("/", 1)[-1]) if path.startswith("/org/pluto/Mock1/Device/") else 0
        check("AddDevice returns the device's object path", port > 0, out)

        status, text = http("GET", f"http://127.0.0.1:{port}/api/system/info")
        info = json.loads(text) if status == 200 else {}
        check("the new device answers HTTP in the new shape",
              info.get("hostname") == "scripted" and "asicCount" in info and "maxPower" in info, text)

        status, text = http("GET", f"http://127.0.0.1:{listing_port}/servers")
        check("the new device is listed by /servers",
              status == 200 and any(s.get("hostname") == "scripted" and s.get("port") == port
                                    for s in json.loads(text).get("servers", [])), text)

        check("its properties say what it is",
              get_property(path, f"{NAME}.Device", "ApiVersion") == "new"
              and get_property(path, f"{NAME}.Device", "Port") == port
              and get_property(path, f"{NAME}.Device", "Url") == f"http://127.0.0.1:{port}")

        status, out, err = call(MANAGER, f"{NAME}.Manager.AddDevice", "{'profile': <'axeos-gamma'>}")
        check("AddDevice with a profile", status == 0, err)
        gamma = value(out)[0] if status == 0 else ""
        gamma_port = int(gamma.rsplit("/", 1)[-1]) if gamma.startswith("/org/pluto/Mock1/Device/") else 0
        status, text = http("GET", f"http://127.0.0.1:{gamma_port}/api/system/info")
        info = json.loads(text) if status == 200 else {}
        check("the axeos-gamma device answers as AxeOS on a Gamma",
              info.get("ASICModel") == "BM1370" and "macAddr" in info, text)
        check("its Profile is axeos-gamma, and it has no ApiVersion",
              gamma != "" and get_property(gamma, f"{NAME}.Device", "Profile") == "axeos-gamma"
              and get_property(gamma, f"{NAME}.Device", "ApiVersion") == "")

        status, out, err = call(MANAGER, f"{NAME}.Manager.AddDevice", "{'profile': <'axeos-hyper'>}")
        check("AddDevice with an unknown profile fails with InvalidArgument and names it",
              status != 0 and f"{NAME}.Error.InvalidArgument" in err and "'axeos-hyper'" in err, err)

        status, out, err = call(path, f"{NAME}.Device.Update", '{"hostname": "renamed", "fanspeed": 42}')
        check("Update with a JSON object", status == 0, err)
        status, out, err = call(path, f"{NAME}.Device.GetInfo")
        dbus_info = json.loads(value(out)[0]) if status == 0 else {}
        _, text = http("GET", f"http://127.0.0.1:{port}/api/system/info")
        http_info = json.loads(text)
        check("GetInfo shows the update as HTTP does",
              dbus_info.get("hostname") == "renamed" == http_info.get("hostname")
              and dbus_info.get("fanspeed") == 42 == http_info.get("fanspeed"), out)

        status, out, err = call(path, f"{NAME}.Device.Update", "{not json")
        check("Update with malformed JSON fails with InvalidJson",
              status != 0 and f"{NAME}.Error.InvalidJson" in err, err)

        status, out, err = call(MANAGER, f"{NAME}.Manager.AddDevice", "{'hostname': <'scripted'>}")
        check("AddDevice with a used hostname fails with HostnameInUse",
              status != 0 and f"{NAME}.Error.HostnameInUse" in err, err)

        status, out, err = call(MANAGER, f"{NAME}.Manager.AddDevice", f"{{'port': <uint32 {port}>}}")
        check("AddDevice on a used port fails with PortInUse",
              status != 0 and f"{NAME}.Error.PortInUse" in err, err)

        status, out, err = call(path, f"{NAME}.Device.Restart")
        check("Restart", status == 0, err)
        status, _ = http("GET", f"http://127.0.0.1:{port}/api/system/info")
        check("the device answers 503 while it restarts", status == 503, status)
        check("Restarting is true", get_property(path, f"{NAME}.Device", "Restarting") is True)
        status, out, err = call(path, f"{NAME}.Device.Restart")
        check("a second Restart fails with Restarting",
              status != 0 and f"{NAME}.Error.Restarting" in err, err)

        status, out, err = call(MANAGER, f"{NAME}.Manager.RemoveDevice", path)
        check("RemoveDevice", status == 0, err)
        status, text = http("GET", f"http://127.0.0.1:{port}/api/system/info")
        check("the removed device's port is closed", status == 0, text)
        status, out, err = call(MANAGER, f"{NAME}.Manager.RemoveDevice", path)
        check("removing it again fails with NoSuchDevice",
              status != 0 and f"{NAME}.Error.NoSuchDevice" in err, err)
    finally:
        bus.down()

    # The daemon leaves with the bus.
    deadline = time.monotonic() + TIMEOUT
    while daemon_pid is not None and not process_gone(daemon_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    check("the daemon exits when the bus goes away",
          daemon_pid is not None and process_gone(daemon_pid), f"pid {daemon_pid}")

    print(f"1..{len(results)}", flush=True)
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
