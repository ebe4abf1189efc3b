#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Do a scenario's faults slow the devices it leaves alone?  Run from the
# repository root, after a build:
#
#     bash bench/scenario-latency.sh [BUILD_DIR]      (BUILD_DIR defaults to _build)
#
# Starts two fleets of DEVICES devices side by side on 127.0.0.1, each on
# a private D-Bus bus of its own (dbus-daemon --session): one runs
# SCENARIO (the flaky network by default) with its time sped up by
# TIME_SCALE, the other runs no scenario.  A poller
# (bench/scenario_poller.py) polls each fleet at the same time as a
# dashboard does: GET /api/system/info on every device in turn, RATE
# requests a second on a fixed schedule (RATE 200 over 1000 devices is
# every device every 5 s, as Pluto's backend polls), each with a TIMEOUT,
# and about every SNAPSHOT_S seconds it notes the faults of every device
# (plutomockctl list --json) and the daemon's CPU time.  The report
# (bench/scenario-latency-report.py) classes every request by the faults
# its device had in the snapshots around it (and checks that against the
# faults the daemon logs, to the millisecond), and compares the latency of
# the unfaulted devices with the fleet without a scenario, in all and
# minute by minute of scenario time, with what the faulted devices gave
# and each daemon's CPU.  A snapshot costs the daemon a pause of some tens
# of milliseconds (a 1000-device listing over D-Bus) and takes CPU from
# everything else, so the report also shows the requests made while no
# snapshot ran.  Raw outputs and the tables are kept under
# bench/results/scenario-latency-<timestamp>/.
#
# Tools: python3 (standard library only), curl, dbus-daemon, getconf, ss,
# /proc.  Knobs (defaults in brackets):
#   DEVICES [1000]          devices in each fleet
#   FIRST_PORT [20000]      the scenario fleet's ports: FIRST_PORT ...
#   BASE_FIRST_PORT [21000] the other fleet's ports
#   LISTING_PORT [19980]  BASE_LISTING_PORT [19981]
#   SEED [20240601]  PROFILE [mixed]
#   SCENARIO [data/scenarios/flaky-network.ini]
#   TIME_SCALE [0.2]        scenario time runs 1/TIME_SCALE times faster
#                           (the faults' own durations and delays do not)
#   MINUTES [11]            minutes of scenario time polled, from its start
#   RATE [200]  TIMEOUT [2] requests per second per fleet; seconds each
#   KEEPALIVE [0]           1: one kept-alive connection per device
#   SNAPSHOT_S [5]          seconds between fault snapshots
#   PYTHON [python3]

set -euo pipefail

BUILD_DIR=${1:-_build}
BIN=$BUILD_DIR/src/plutomock
CTL=$BUILD_DIR/src/plutomockctl
DEVICES=${DEVICES:-1000}
FIRST_PORT=${FIRST_PORT:-20000}
BASE_FIRST_PORT=${BASE_FIRST_PORT:-21000}
LISTING_PORT=${LISTING_PORT:-19980}
BASE_LISTING_PORT=${BASE_LISTING_PORT:-19981}
SEED=${SEED:-20240601}
PROFILE=${PROFILE:-mixed}
SCENARIO=${SCENARIO:-data/scenarios/flaky-network.ini}
TIME_SCALE=${TIME_SCALE:-0.2}
MINUTES=${MINUTES:-11}
RATE=${RATE:-200}
TIMEOUT=${TIMEOUT:-2}
KEEPALIVE=${KEEPALIVE:-0}
SNAPSHOT_S=${SNAPSHOT_S:-5}
PYTHON=${PYTHON:-python3}
HOST=127.0.0.1
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die () { echo "scenario-latency.sh: $*" >&2; exit 1; }
log () { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

for program in "$BIN" "$CTL"; do
  [ -x "$program" ] || die "no $program; build first (meson setup $BUILD_DIR && meson compile -C $BUILD_DIR)"
done
for tool in "$PYTHON" curl dbus-daemon getconf ss; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
[ -r "$SCENARIO" ] || die "no scenario file $SCENARIO"

# Every port of both fleets and both listings must be free.
busy=$(ss -Htln | awk -v a="$FIRST_PORT" -v b="$BASE_FIRST_PORT" -v n="$DEVICES" \
                      -v l1="$LISTING_PORT" -v l2="$BASE_LISTING_PORT" '{
  port = $4; sub(/.*:/, "", port); port += 0
  if ((port >= a && port < a + n) || (port >= b && port < b + n) || port == l1 || port == l2)
    print port
}' | head -n 3 | paste -s -d ' ')
[ -z "$busy" ] || die "ports in use ($busy ...); set FIRST_PORT, BASE_FIRST_PORT, LISTING_PORT, BASE_LISTING_PORT"

# Each fleet holds DEVICES listening sockets; the pollers a connection per
# request in flight, or per device with KEEPALIVE=1.
NOFILE_HARD=$(ulimit -Hn)
if [ "$NOFILE_HARD" = unlimited ]; then
  ulimit -n 1048576 2>/dev/null || true
else
  ulimit -n "$NOFILE_HARD" 2>/dev/null || true
fi
NOFILE=$(ulimit -n)
if [ "$NOFILE" != unlimited ] && [ "$NOFILE" -lt $((2 * DEVICES + 200)) ]; then
  die "the descriptor limit ($NOFILE) is too low for $DEVICES devices; set DEVICES"
fi

DURATION=$(awk -v m="$MINUTES" -v s="$TIME_SCALE" 'BEGIN { printf "%.3f", m * 60 * s }')
RESULTS=bench/results/scenario-latency-$(date +%Y%m%d-%H%M%S)
mkdir -p "$RESULTS"
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git describe --always --dirty 2>/dev/null || echo unknown)"
  echo "nproc: $(nproc)"
  echo "kernel: $(uname -r)"
  echo "daemon: $("$BIN" --version)"
  echo "python: $("$PYTHON" --version 2>&1)"
  echo "loadavg before: $(cat /proc/loadavg)"
  echo "fleets: $DEVICES devices each, --profile $PROFILE --seed $SEED"
  echo "scenario: $SCENARIO at time scale $TIME_SCALE, $MINUTES minutes of scenario time ($DURATION s)"
  echo "poller: $RATE requests/s per fleet, timeout $TIMEOUT s, keep-alive $KEEPALIVE, snapshots every $SNAPSHOT_S s"
} > "$RESULTS/environment.txt"
cat > "$RESULTS/params.txt" <<EOF
clk_tck=$(getconf CLK_TCK)
time_scale=$TIME_SCALE
minutes=$MINUTES
devices=$DEVICES
rate=$RATE
timeout=$TIMEOUT
keepalive=$KEEPALIVE
EOF

# ---- processes -------------------------------------------------------------

# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

declare -A DAEMON_PID BUS_PID BUS_ADDRESS
stop_all () {
  local name
  for name in "${!DAEMON_PID[@]}"; do
    stop_pid "${DAEMON_PID[$name]}"
  done
  for name in "${!BUS_PID[@]}"; do
    kill -TERM "${BUS_PID[$name]}" 2>/dev/null || true
  done
}
trap stop_all EXIT
trap 'exit 130' INT TERM

n_listed () {   # LISTING_PORT -> devices in its /servers
  { curl -s --max-time 5 "http://$HOST:$1/servers" || true; } | grep -o '"port":' | wc -l
}

# start_fleet NAME FIRST LISTING [EXTRA ARGS...]: a private D-Bus bus and
# a fleet on it; waits until /servers lists every device.
start_fleet () {
  local name=$1 first=$2 listing=$3 info tries=0
  shift 3
  info=$(dbus-daemon --session --fork --print-address=1 --print-pid=1 2>/dev/null)
  BUS_ADDRESS[$name]=$(sed -n 1p <<<"$info")
  BUS_PID[$name]=$(sed -n 2p <<<"$info")
  [ -n "${BUS_PID[$name]}" ] || die "$name: dbus-daemon did not start"
  DBUS_SESSION_BUS_ADDRESS=${BUS_ADDRESS[$name]} \
    "$BIN" --bind "$HOST" --listing-port "$listing" --ports "$first-$((first + DEVICES - 1))" \
           --profile "$PROFILE" --seed "$SEED" "$@" > "$RESULTS/daemon-$name.log" 2>&1 &
  DAEMON_PID[$name]=$!
  until [ "$(n_listed "$listing")" -eq "$DEVICES" ]; do
    tries=$((tries + 1))
    if [ $tries -gt 3000 ] || ! kill -0 "${DAEMON_PID[$name]}" 2>/dev/null; then
      tail -n 5 "$RESULTS/daemon-$name.log" >&2
      die "$name: the daemon did not list $DEVICES devices (see $RESULTS/daemon-$name.log)"
    fi
    sleep 0.01
  done
  log "$name: $DEVICES devices listed (pid ${DAEMON_PID[$name]})"
}

# poll NAME FIRST: the poller of one fleet, in the background; sets POLLER_PID.
poll () {
  local name=$1 first=$2 keepalive=()
  [ "$KEEPALIVE" = 1 ] && keepalive=(--keepalive)
  DBUS_SESSION_BUS_ADDRESS=${BUS_ADDRESS[$name]} \
    "$PYTHON" "$BENCH_DIR/scenario_poller.py" --host "$HOST" --first-port "$first" \
      --devices "$DEVICES" --rate "$RATE" --duration "$DURATION" --timeout "$TIMEOUT" \
      "${keepalive[@]}" --pid "${DAEMON_PID[$name]}" --ctl "$CTL" \
      --snapshot-interval "$SNAPSHOT_S" --out "$RESULTS" --name "$name" \
      > "$RESULTS/poller-$name.log" 2>&1 &
  POLLER_PID=$!
}

# ---- the run ---------------------------------------------------------------

start_fleet baseline "$BASE_FIRST_PORT" "$BASE_LISTING_PORT"
PLUTOMOCK_TIME_SCALE=$TIME_SCALE start_fleet scenario "$FIRST_PORT" "$LISTING_PORT" --scenario "$SCENARIO"
poll baseline "$BASE_FIRST_PORT"
BASELINE_POLLER=$POLLER_PID
poll scenario "$FIRST_PORT"
SCENARIO_POLLER=$POLLER_PID
log "polling both fleets for $DURATION s ($MINUTES minutes of scenario time at scale $TIME_SCALE)"
status=0
wait "$BASELINE_POLLER" || status=$?
wait "$SCENARIO_POLLER" || status=$?
[ "$status" = 0 ] || die "a poller failed (see $RESULTS/poller-*.log)"

for name in baseline scenario; do
  kill -0 "${DAEMON_PID[$name]}" 2>/dev/null || die "the $name daemon died (see $RESULTS/daemon-$name.log)"
  if grep -q -e WARNING -e CRITICAL "$RESULTS/daemon-$name.log"; then
    log "the $name daemon logged warnings:"
    grep -e WARNING -e CRITICAL "$RESULTS/daemon-$name.log" | sort | uniq -c | head -n 5 >&2
  fi
done
echo "loadavg after: $(cat /proc/loadavg)" >> "$RESULTS/environment.txt"
stop_all
DAEMON_PID=()
BUS_PID=()

"$PYTHON" "$BENCH_DIR/scenario-latency-report.py" "$RESULTS" | tee "$RESULTS/table.md"
log "raw results in $RESULTS"
