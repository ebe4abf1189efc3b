#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# What the device listing of control over HTTP costs, the request the
# fleet page makes every 2 s.  Run from the repository root, after a build:
#
#     bash bench/control-listing.sh [BUILD_DIR]   (BUILD_DIR defaults to _build)
#
# For each profile list in PROFILES, starts a fleet of FLEET devices
# (--no-dbus, a fixed seed), waits until /servers lists them all, then
# makes REQUESTS sequential GET /control/v1/devices with curl, and as many
# GET /servers for comparison.  Prints, per request: the daemon's CPU
# (utime+stime from /proc/PID/stat over the requests, divided by them), the
# median and the largest time curl took to fetch it (the main loop is held
# for about the CPU figure: no device answers meanwhile), and the size.
#
# Tools: curl, python3, /proc.
# Knobs (defaults in brackets):
#   FLEET [10000]  REQUESTS [20]  PROFILES ["pluto-legacy mixed"]
#   LISTING_PORT [19960]  FIRST_PORT [20001]: devices FIRST_PORT ... FIRST_PORT+FLEET-1
#   PLUTOMOCK [BUILD_DIR/src/plutomock]  the daemon to measure

set -euo pipefail

BUILD_DIR=${1:-_build}
BIN=${PLUTOMOCK:-$BUILD_DIR/src/plutomock}
FLEET=${FLEET:-10000}
REQUESTS=${REQUESTS:-20}
PROFILES=${PROFILES:-pluto-legacy mixed}
LISTING_PORT=${LISTING_PORT:-19960}
FIRST_PORT=${FIRST_PORT:-20001}

. "$(dirname "$0")/lib.sh"

[ -x "$BIN" ] || { echo "no $BIN; build first (meson setup $BUILD_DIR && meson compile -C $BUILD_DIR)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)"
tick_ms=$(awk -v hz="$(getconf CLK_TCK)" 'BEGIN { print 1000 / hz }')
pid=""
trap 'stop_pid "$pid"' EXIT

# measure URL: "CPU_MS MEDIAN_MS MAX_MS BYTES" over REQUESTS fetches.
measure () {
  local url=$1 before after times
  before=$(cpu_ticks_of "$pid")
  times=$(for _ in $(seq "$REQUESTS"); do
            curl -s -o /dev/null -w '%{time_total} %{size_download}\n' "$url"
          done)
  after=$(cpu_ticks_of "$pid")
  python3 - "$before" "$after" "$tick_ms" "$REQUESTS" <<PY
import statistics, sys
before, after, tick, n = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
rows = [line.split() for line in """$times""".strip().splitlines()]
secs = [float(r[0]) * 1000 for r in rows]
print("%.1f %.1f %.1f %s" % ((after - before) * tick / n, statistics.median(secs), max(secs), rows[-1][1]))
PY
}

printf '%-14s %-22s %14s %14s %12s %10s\n' profiles request "CPU ms/req" "fetch median" "fetch max" bytes
for profiles in $PROFILES; do
  "$BIN" --no-dbus --seed 7 -l "$LISTING_PORT" -p "$FIRST_PORT-$((FIRST_PORT + FLEET - 1))" \
    --profile "$profiles" > /dev/null 2>&1 &
  pid=$!
  for _ in $(seq 600); do
    n=$(curl -s "http://127.0.0.1:$LISTING_PORT/servers" 2>/dev/null |
          python3 -c 'import json,sys; print(len(json.load(sys.stdin)["servers"]))' 2>/dev/null || echo 0)
    [ "$n" = "$FLEET" ] && break
    sleep 0.1
  done
  [ "$n" = "$FLEET" ] || { echo "the fleet never listed $FLEET devices (ports taken?)" >&2; exit 1; }
  for path in /control/v1/devices /servers; do
    read -r cpu median max bytes < <(measure "http://127.0.0.1:$LISTING_PORT$path")
    printf '%-14s %-22s %14s %14s %12s %10s\n' "$profiles" "GET $path" "$cpu" "$median" "$max" "$bytes"
  done
  stop_pid "$pid"
  pid=""
done
