#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# plutomock benchmarks.  Run from the repository root:
#
#     bash bench/run.sh [BUILD_DIR]        (BUILD_DIR defaults to _build)
#
# Starts the daemon itself on 127.0.0.1 (listing port 19000, device ports
# from 19001), measures start-up time and memory, HTTP throughput and
# latency with wrk, server CPU per request, WebSocket memory and, on a
# private session bus, the cost of D-Bus control; prints a table and keeps
# every raw output under bench/results/<timestamp>/.
#
# Tools: wrk, curl, python3 with the websocket-client module and python3-gi,
# dbus-daemon, getconf, /proc.
# Environment knobs (defaults in brackets):
#   LISTING_PORT [19000]  device ports are LISTING_PORT+1 ...
#   SEED [20240601]       fleet seed
#   WRK_DURATION [10s]    length of one wrk run
#   WRK_RUNS [3]          wrk runs per scenario; the table shows the median
#   WRK_THREADS [2]  WRK_CONNECTIONS [50]
#   WS_CLIENTS [1000]     WebSocket clients held open on one device
#   WS_ROUNDS [2]         connect/close rounds of those clients on one daemon
#   BIG_FLEET [5000]      largest fleet for the start-up/memory test
#   DBUS_CALLS [1000]     AddDevice, GetInfo and RemoveDevice calls timed
#   PYTHON [python3]      interpreter that has the websocket and gi modules

set -euo pipefail

BUILD_DIR=${1:-_build}
BIN=$BUILD_DIR/src/plutomock
LISTING_PORT=${LISTING_PORT:-19000}
FIRST_PORT=$((LISTING_PORT + 1))
SEED=${SEED:-20240601}
WRK_DURATION=${WRK_DURATION:-10s}
WRK_RUNS=${WRK_RUNS:-3}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-50}
WS_CLIENTS=${WS_CLIENTS:-1000}
WS_ROUNDS=${WS_ROUNDS:-2}
BIG_FLEET=${BIG_FLEET:-5000}
DBUS_CALLS=${DBUS_CALLS:-1000}
HOST=127.0.0.1
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die () { echo "run.sh: $*" >&2; exit 1; }
log () { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---- prerequisites ---------------------------------------------------------

[ -x "$BIN" ] || die "no daemon at $BIN; build first (meson setup $BUILD_DIR && ninja -C $BUILD_DIR)"
for tool in wrk curl getconf dbus-daemon; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import websocket, gi' 2>/dev/null; then
  if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import websocket, gi' 2>/dev/null; then
    PYTHON=/usr/bin/python3
  else
    die "$PYTHON cannot import websocket and gi (install python3-websocket and python3-gi or set PYTHON)"
  fi
fi
if curl -s -o /dev/null --max-time 1 "http://$HOST:$LISTING_PORT/"; then
  die "something already answers on port $LISTING_PORT; set LISTING_PORT"
fi

# Every device holds one listening socket: a large fleet needs that many
# descriptors.  Raise the soft limit to the hard one.
NOFILE_HARD=$(ulimit -Hn)
if [ "$NOFILE_HARD" = unlimited ]; then
  ulimit -n 1048576 2>/dev/null || true
else
  ulimit -n "$NOFILE_HARD" 2>/dev/null || true
fi
NOFILE=$(ulimit -n)
if [ "$NOFILE" != unlimited ] && [ "$NOFILE" -lt $((BIG_FLEET + 200)) ]; then
  log "fd limit is $NOFILE (hard $NOFILE_HARD): too low for $BIG_FLEET devices; using $((NOFILE - 200))"
  BIG_FLEET=$((NOFILE - 200))
fi
CLK_TCK=$(getconf CLK_TCK)

RESULTS=bench/results/$(date +%Y%m%d-%H%M%S)
mkdir -p "$RESULTS"
SUMMARY=$RESULTS/summary.tsv
: > "$SUMMARY"

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "nproc: $(nproc)"
  echo "kernel: $(uname -r)"
  echo "os: $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
  echo "fd limit: $NOFILE"
  echo "daemon: $("$BIN" --version)"
  echo "wrk: $(wrk -v 2>&1 | head -n 1)"
  echo "python: $("$PYTHON" -c 'import sys, websocket; print(sys.version.split()[0], "websocket-client", websocket.__version__)')"
  echo "seed: $SEED"
  echo "wrk: -t$WRK_THREADS -c$WRK_CONNECTIONS -d$WRK_DURATION --latency, $WRK_RUNS runs per scenario"
} > "$RESULTS/environment.txt"

# ---- the daemon ------------------------------------------------------------

DAEMON_PID=
DAEMON_LOG=
# Only scenario 5 puts the daemon on a (private) bus; the others measure
# HTTP alone and stay off whatever session bus the user has.
DBUS_ARG=--no-dbus
BUS_PID=

# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

stop_daemon () {
  stop_pid "$DAEMON_PID"
  DAEMON_PID=
}
stop_bus () {
  if [ -n "$BUS_PID" ]; then
    kill -TERM "$BUS_PID" 2>/dev/null || true
  fi
  BUS_PID=
}
trap 'stop_daemon; stop_bus' EXIT
trap 'exit 130' INT TERM

ms_now () { echo $(( $(date +%s%N) / 1000000 )); }

proc_status_kb () {   # FIELD -> value in kB from /proc/PID/status
  awk -v f="$1:" '$1 == f { print $2 }' "/proc/$DAEMON_PID/status"
}

cpu_ticks () {        # utime + stime of the daemon, in clock ticks
  cpu_ticks_of "$DAEMON_PID"
}

n_listed () {
  { curl -s --max-time 5 "http://$HOST:$LISTING_PORT/servers" || true; } | grep -o '"port":' | wc -l
}

# start_daemon NAME N [EXTRA ARGS...]: starts a fleet of N devices, waits
# until /servers lists all of them, sets START_MS.
start_daemon () {
  local name=$1 n=$2
  shift 2
  local last=$((FIRST_PORT + n - 1)) t0 tries=0
  DAEMON_LOG=$RESULTS/daemon-$name.log
  t0=$(ms_now)
  "$BIN" --bind "$HOST" --listing-port "$LISTING_PORT" --ports "$FIRST_PORT-$last" \
         --seed "$SEED" $DBUS_ARG "$@" > "$DAEMON_LOG" 2>&1 &
  DAEMON_PID=$!
  until [ "$(n_listed)" -eq "$n" ]; do
    tries=$((tries + 1))
    if [ $tries -gt 3000 ] || ! kill -0 "$DAEMON_PID" 2>/dev/null; then
      tail -n 5 "$DAEMON_LOG" >&2
      die "$name: the daemon did not list $n devices (after $tries tries)"
    fi
    sleep 0.01
  done
  START_MS=$(( $(ms_now) - t0 ))
  if grep -q -e WARNING -e CRITICAL "$DAEMON_LOG"; then
    grep -e WARNING -e CRITICAL "$DAEMON_LOG" | head -n 5 >&2
    die "$name: the daemon warned at start-up (see $DAEMON_LOG)"
  fi
}

# ---- measurements ----------------------------------------------------------

declare -A RSS START

# startup NAME N: start-up time and memory right after start.
startup () {
  local name=$1 n=$2
  sleep 0.5     # let the first requests' allocations settle
  RSS[$n]=$(proc_status_kb VmRSS)
  START[$n]=$START_MS
  printf 'startup\t%s\tdevices=%s\tstart_ms=%s\trss_kb=%s\tfds=%s\tthreads=%s\n' \
    "$name" "$n" "$START_MS" "${RSS[$n]}" "$(ls "/proc/$DAEMON_PID/fd" | wc -l)" \
    "$(proc_status_kb Threads)" \
    >> "$SUMMARY"
  log "$name: $n devices listed after $START_MS ms, RSS ${RSS[$n]} kB"
}

# bench_wrk SCENARIO URL: WRK_RUNS wrk runs, each with the daemon's CPU
# time and RSS around it.
bench_wrk () {
  local scenario=$1 url=$2 run out ticks0 ticks1 rss0 rss1
  for run in $(seq "$WRK_RUNS"); do
    out=$RESULTS/wrk-$scenario-$run.txt
    rss0=$(proc_status_kb VmRSS)
    ticks0=$(cpu_ticks)
    wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$WRK_DURATION" --latency "$url" > "$out" 2>&1
    ticks1=$(cpu_ticks)
    rss1=$(proc_status_kb VmRSS)
    awk -v scenario="$scenario" -v run="$run" -v ticks=$((ticks1 - ticks0)) -v hz="$CLK_TCK" \
        -v rss0="$rss0" -v rss1="$rss1" '
      function ms(v) {
        if (v ~ /us$/) return v / 1000
        if (v ~ /ms$/) return v + 0
        if (v ~ /m$/)  return v * 60000
        if (v ~ /s$/)  return v * 1000
        return v
      }
      $1 == "50%" { p50 = ms($2) }
      $1 == "90%" { p90 = ms($2) }
      $1 == "99%" { p99 = ms($2) }
      $1 == "Latency" && avg == "" { avg = ms($2); max = ms($4) }
      / requests in / { requests = $1 }
      /^Requests\/sec:/ { rps = $2 }
      /Socket errors:/ { gsub(",", ""); connect = $4; read = $6; write = $8; timeout = $10 }
      /Non-2xx or 3xx responses:/ { non2xx = $5 }
      END {
        cpu_us = requests > 0 ? ticks * 1000000 / hz / requests : 0
        printf "wrk\t%s\trun=%s\trps=%s\tavg_ms=%.2f\tp50_ms=%.2f\tp90_ms=%.2f\tp99_ms=%.2f\tmax_ms=%.2f\trequests=%s\tcpu_us_per_req=%.1f\tconnect_err=%d\tread_err=%d\twrite_err=%d\ttimeouts=%d\tnon2xx=%d\trss_before_kb=%s\trss_after_kb=%s\n",
          scenario, run, rps, avg, p50, p90, p99, max, requests, cpu_us,
          connect, read, write, timeout, non2xx, rss0, rss1
      }' "$out" >> "$SUMMARY"
    log "$scenario run $run: $(grep '^Requests/sec' "$out")"
  done
}

check_daemon () {     # the daemon must still run and must not have warned
  kill -0 "$DAEMON_PID" 2>/dev/null || die "the daemon died (see $DAEMON_LOG)"
  if grep -q -e WARNING -e CRITICAL "$DAEMON_LOG"; then
    log "the daemon logged warnings:"
    grep -e WARNING -e CRITICAL "$DAEMON_LOG" | sort | uniq -c | head -n 5 >&2
  fi
}

# 1. Ten devices: start-up, then GET /api/system/info on the first device.
log "fleet of 10"
start_daemon fleet10 10
startup fleet10 10
bench_wrk info-fleet10 "http://$HOST:$FIRST_PORT/api/system/info"
check_daemon
stop_daemon

# 2. A thousand devices: start-up, the same device request, and /servers.
log "fleet of 1000"
start_daemon fleet1000 1000
startup fleet1000 1000
bench_wrk info-fleet1000 "http://$HOST:$FIRST_PORT/api/system/info"
bench_wrk servers-fleet1000 "http://$HOST:$LISTING_PORT/servers"
check_daemon
stop_daemon

# 3. The big fleet: start-up and memory only; check its last device answers.
log "fleet of $BIG_FLEET"
start_daemon "fleet$BIG_FLEET" "$BIG_FLEET"
startup "fleet$BIG_FLEET" "$BIG_FLEET"
curl -s -f -o /dev/null --max-time 5 \
  "http://$HOST:$((FIRST_PORT + BIG_FLEET - 1))/api/system/info" \
  || die "the last device of the $BIG_FLEET fleet does not answer"
check_daemon
stop_daemon

# 4. WebSocket log clients on one device of a ten-device fleet with logs on.
#    The second device is used: the first one's port is full of TIME_WAIT
#    connections left by wrk.  The clients connect, wait for a frame and
#    close WS_ROUNDS times on the same daemon: the later rounds show whether
#    the memory of the first one is reused.
log "$WS_CLIENTS WebSocket clients, $WS_ROUNDS round(s)"
start_daemon ws 10 --logs true
count_log () { grep -c -e "$1" "$DAEMON_LOG" || true; }
for round in $(seq "$WS_ROUNDS"); do
  ws_out=$RESULTS/websocket-$round.txt
  ws_status=0
  c0=$(count_log ': log client .* connected;')
  d0=$(count_log ': log client .* disconnected')
  f0=$(count_log ': log client .* failed:')
  "$PYTHON" "$BENCH_DIR/ws_clients.py" --host "$HOST" --port $((FIRST_PORT + 1)) \
    --pid "$DAEMON_PID" --clients "$WS_CLIENTS" --wait 6 > "$ws_out" || ws_status=$?
  check_daemon
  printf 'websocket\tround%s\texit=%s\tdaemon_connected_logged=%s\tdaemon_disconnected_logged=%s\tdaemon_client_failed_logged=%s\t%s\n' \
    "$round" "$ws_status" \
    $(( $(count_log ': log client .* connected;') - c0 )) \
    $(( $(count_log ': log client .* disconnected') - d0 )) \
    $(( $(count_log ': log client .* failed:') - f0 )) \
    "$(paste -s -d '\t' "$ws_out")" >> "$SUMMARY"
  log "WebSocket round $round: $(grep -e clients_with_frame -e rss_per_client_kb "$ws_out" | paste -s -d ' ')"
done
stop_daemon

# 5. D-Bus control: the big fleet exported on a private session bus (its
#    start-up and memory against scenario 3's), GetManagedObjects over it,
#    then DBUS_CALLS AddDevice, GetInfo and RemoveDevice calls in a row.
log "D-Bus: fleet of $BIG_FLEET on a private bus, $DBUS_CALLS calls of each kind"
bus_info=$(dbus-daemon --session --fork --print-address=1 --print-pid=1 2>/dev/null)
export DBUS_SESSION_BUS_ADDRESS=$(sed -n 1p <<<"$bus_info")
BUS_PID=$(sed -n 2p <<<"$bus_info")
DBUS_ARG=
start_daemon "dbus$BIG_FLEET" "$BIG_FLEET"
sleep 0.5
printf 'startup-dbus\t%s\tdevices=%s\tstart_ms=%s\trss_kb=%s\n' "dbus$BIG_FLEET" "$BIG_FLEET" \
  "$START_MS" "$(proc_status_kb VmRSS)" >> "$SUMMARY"
dbus_out=$RESULTS/dbus-calls.txt
"$PYTHON" "$BENCH_DIR/dbus_calls.py" --pid "$DAEMON_PID" --calls "$DBUS_CALLS" > "$dbus_out" \
  || die "the D-Bus calls failed (see $dbus_out and $DAEMON_LOG)"
check_daemon
printf 'dbus\tcalls\t%s\n' "$(paste -s -d '\t' "$dbus_out")" >> "$SUMMARY"
log "D-Bus: $(paste -s -d ' ' "$dbus_out")"
stop_daemon
stop_bus
unset DBUS_SESSION_BUS_ADDRESS
DBUS_ARG=--no-dbus

# ---- report ----------------------------------------------------------------

"$PYTHON" "$BENCH_DIR/report.py" "$SUMMARY" > "$RESULTS/table.txt"
cat "$RESULTS/table.txt"
log "raw results in $RESULTS"
