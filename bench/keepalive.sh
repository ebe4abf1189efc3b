#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Server CPU per request: plutomock against the floor, a bare SoupServer
# answering the same bytes (bench/floor.c).  Run from the repository root,
# after a build:
#
#     bash bench/keepalive.sh [BUILD_DIR]        (BUILD_DIR defaults to _build)
#
# Starts plutomock (fleets of 1, 1000 and 10 000 devices in turn) and the
# floors side by side on 127.0.0.1, and measures in the same run, RUNS
# times each, interleaved:
#   info-fleetN       GET /api/system/info on one device of a fleet of N (wrk)
#   info-close-fleet1 the same with `Connection: close`, a connection per
#                     request, on a fleet of one (wrk)
#   info-rr-fleet10000  the same, round-robin over all 10 000 device ports,
#                     one connection per port (bench/rr-client)
#   servers-fleet10000  GET /servers of the 10 000-device fleet (wrk)
#   floor-info-keepalive / floor-info-close
#                     the floor answering the bytes of one info reply, with
#                     connections kept alive / closed after every reply
#   floor-servers-keepalive / floor-servers-close
#                     the floor answering the bytes of that /servers body
# For each: requests/s and the server's CPU per request, the utime+stime
# of its process (/proc/PID/stat) over the run divided by the requests
# completed.  wrk and rr-client keep connections alive when the server
# does; whether it did is shown per scenario.  Prints a table and keeps the
# raw outputs under bench/results/keepalive-<timestamp>/.
#
# Tools: wrk, curl, python3, getconf, /proc.  To pool several runs into one
# table: python3 bench/keepalive-report.py bench/results/keepalive-*/summary.tsv
#  Knobs (defaults in brackets):
#   LISTING_PORT [19000]  device ports are LISTING_PORT+1 ...
#   FLOOR_PORT [18990]    the four floors use FLOOR_PORT ... FLOOR_PORT+3
#   SEED [20240601]  DURATION [10] seconds per run  RUNS [3]
#   THREADS [2]  CONNECTIONS [50]   wrk threads and connections; rr-client
#                                   keeps CONNECTIONS requests in flight
#   BIG_FLEET [10000]     the largest fleet (needs that many descriptors)
#   FLEETS ["1 1000 BIG_FLEET"]  the fleet sizes measured, in turn
#   PLUTOMOCK [BUILD_DIR/src/plutomock]  the daemon to measure (another
#                         build's, to compare two versions with one floor)

set -euo pipefail

BUILD_DIR=${1:-_build}
BIN=${PLUTOMOCK:-$BUILD_DIR/src/plutomock}
FLOOR=$BUILD_DIR/bench/floor
RR_CLIENT=$BUILD_DIR/bench/rr-client
LISTING_PORT=${LISTING_PORT:-19000}
FIRST_PORT=$((LISTING_PORT + 1))
FLOOR_PORT=${FLOOR_PORT:-18990}
SEED=${SEED:-20240601}
DURATION=${DURATION:-10}
RUNS=${RUNS:-3}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-50}
BIG_FLEET=${BIG_FLEET:-10000}
FLEETS=${FLEETS:-1 1000 $BIG_FLEET}
HOST=127.0.0.1

die () { echo "keepalive.sh: $*" >&2; exit 1; }
log () { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

for program in "$BIN" "$FLOOR" "$RR_CLIENT"; do
  [ -x "$program" ] || die "no $program; build first (meson setup $BUILD_DIR && meson compile -C $BUILD_DIR)"
done
for tool in wrk curl python3 getconf; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
for port in "$LISTING_PORT" "$FLOOR_PORT" $((FLOOR_PORT + 3)); do
  if curl -s -o /dev/null --max-time 1 "http://$HOST:$port/"; then
    die "something already answers on port $port; set LISTING_PORT or FLOOR_PORT"
  fi
done

# A fleet of N devices holds N listening sockets, and rr-client one
# connection per port: raise the soft descriptor limit to the hard one.
NOFILE_HARD=$(ulimit -Hn)
if [ "$NOFILE_HARD" = unlimited ]; then
  ulimit -n 1048576 2>/dev/null || true
else
  ulimit -n "$NOFILE_HARD" 2>/dev/null || true
fi
NOFILE=$(ulimit -n)
if [ "$NOFILE" != unlimited ] && [ "$NOFILE" -lt $((BIG_FLEET + 200)) ]; then
  die "the descriptor limit ($NOFILE) is too low for $BIG_FLEET devices; set BIG_FLEET"
fi
CLK_TCK=$(getconf CLK_TCK)

RESULTS=bench/results/keepalive-$(date +%Y%m%d-%H%M%S)
mkdir -p "$RESULTS"
SUMMARY=$RESULTS/summary.tsv
: > "$SUMMARY"
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git describe --always --dirty 2>/dev/null || echo unknown)"
  echo "nproc: $(nproc)"
  echo "kernel: $(uname -r)"
  echo "daemon: $("$BIN" --version)"
  echo "wrk: $(wrk -v 2>&1 | head -n 1)"
  echo "wrk: -t$THREADS -c$CONNECTIONS -d${DURATION}s; rr-client: $CONNECTIONS in flight; $RUNS runs per scenario"
} > "$RESULTS/environment.txt"

# ---- processes -------------------------------------------------------------

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DAEMON_PID=
declare -A FLOOR_PID

stop_all () {
  local name
  stop_pid "$DAEMON_PID"
  DAEMON_PID=
  for name in "${!FLOOR_PID[@]}"; do
    stop_pid "${FLOOR_PID[$name]}"
  done
}
trap stop_all EXIT
trap 'exit 130' INT TERM

n_listed () {
  { curl -s --max-time 5 "http://$HOST:$LISTING_PORT/servers" || true; } | grep -o '"port":' | wc -l
}

# start_daemon N: a fleet of N devices; waits until /servers lists them all.
start_daemon () {
  local n=$1 tries=0
  "$BIN" --bind "$HOST" --listing-port "$LISTING_PORT" --ports "$FIRST_PORT-$((FIRST_PORT + n - 1))" \
         --seed "$SEED" --no-dbus > "$RESULTS/daemon-fleet$n.log" 2>&1 &
  DAEMON_PID=$!
  until [ "$(n_listed)" -eq "$n" ]; do
    tries=$((tries + 1))
    if [ $tries -gt 3000 ] || ! kill -0 "$DAEMON_PID" 2>/dev/null; then
      tail -n 5 "$RESULTS/daemon-fleet$n.log" >&2
      die "the daemon did not list $n devices (a port in use? see $RESULTS/daemon-fleet$n.log; set LISTING_PORT)"
    fi
    sleep 0.01
  done
  log "plutomock: $n devices listed (pid $DAEMON_PID)"
}

# start_floor NAME PORT FILE [--close]
start_floor () {
  local name=$1 port=$2 file=$3 tries=0
  shift 3
  "$FLOOR" --port "$port" --body "$file" "$@" > "$RESULTS/floor-$name.log" 2>&1 &
  FLOOR_PID[$name]=$!
  until grep -q '^listening on' "$RESULTS/floor-$name.log" 2>/dev/null; do
    tries=$((tries + 1))
    if [ $tries -gt 500 ] || ! kill -0 "${FLOOR_PID[$name]}" 2>/dev/null; then
      cat "$RESULTS/floor-$name.log" >&2
      die "the floor $name did not start"
    fi
    sleep 0.01
  done
}

# ---- measurements ----------------------------------------------------------

keeps_alive () {   # URL [HEADER] -> yes if the reply does not close the connection
  if curl -s -D - -o /dev/null --max-time 5 ${2:+-H "$2"} "$1" | grep -qi '^connection:.*close'; then
    echo no
  else
    echo yes
  fi
}

# record SCENARIO RUN PID TICKS REQUESTS RPS ERRORS EXTRA
record () {
  awk -v s="$1" -v run="$2" -v ticks="$4" -v req="$5" -v rps="$6" -v err="$7" -v extra="$8" \
      -v hz="$CLK_TCK" -v ka="$KEEPALIVE" 'BEGIN {
    printf "%s\trun=%s\trps=%s\trequests=%s\tcpu_us_per_req=%.1f\terrors=%s\tserver_keeps_alive=%s%s\n",
      s, run, rps, req, (req > 0 ? ticks * 1000000 / hz / req : 0), err, ka, extra
  }' >> "$SUMMARY"
}

# bench_wrk SCENARIO RUN PID URL [HEADER]
bench_wrk () {
  local scenario=$1 run=$2 pid=$3 url=$4 header=${5:-} out t0 t1
  out=$RESULTS/$scenario-$run.txt
  KEEPALIVE=$(keeps_alive "$url" "$header")
  t0=$(cpu_ticks_of "$pid")
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" ${header:+-H "$header"} "$url" > "$out" 2>&1
  t1=$(cpu_ticks_of "$pid")
  record "$scenario" "$run" "$pid" $((t1 - t0)) \
    "$(awk '/ requests in / { print $1 }' "$out")" \
    "$(awk '/^Requests\/sec:/ { print $2 }' "$out")" \
    "$(awk '/Socket errors:/ { gsub(",", ""); e = $4 + $6 + $8 + $10 } /Non-2xx/ { e += $5 } END { print e + 0 }' "$out")" ""
  log "$scenario run $run: $(grep '^Requests/sec' "$out")"
}

# bench_rr SCENARIO RUN PID FIRST_PORT N PATH
bench_rr () {
  local scenario=$1 run=$2 pid=$3 first=$4 n=$5 path=$6 out t0 t1
  out=$RESULTS/$scenario-$run.txt
  KEEPALIVE=$(keeps_alive "http://$HOST:$first$path")
  t0=$(cpu_ticks_of "$pid")
  "$RR_CLIENT" --host "$HOST" --first-port "$first" --ports "$n" --path "$path" \
    --connections "$CONNECTIONS" --duration "$DURATION" > "$out"
  t1=$(cpu_ticks_of "$pid")
  kv () { awk -F= -v k="$1" '$1 == k { print $2 }' "$out"; }
  record "$scenario" "$run" "$pid" $((t1 - t0)) "$(kv requests)" "$(kv requests_per_s)" \
    $(( $(kv errors) + $(kv non2xx) )) "	requests_per_connect=$(kv requests_per_connect)"
  log "$scenario run $run: $(kv requests_per_s) requests/s, $(kv requests_per_connect) per connection"
}

floor_runs () {   # run KIND: the floors for KIND (info or servers), both modes
  bench_wrk "floor-$2-keepalive" "$1" "${FLOOR_PID[$2-keepalive]}" "http://$HOST:${FLOOR_PORTS[$2-keepalive]}/"
  bench_wrk "floor-$2-close" "$1" "${FLOOR_PID[$2-close]}" "http://$HOST:${FLOOR_PORTS[$2-close]}/"
}

declare -A FLOOR_PORTS=(
  [info-keepalive]=$FLOOR_PORT [info-close]=$((FLOOR_PORT + 1))
  [servers-keepalive]=$((FLOOR_PORT + 2)) [servers-close]=$((FLOOR_PORT + 3))
)
INFO_URL=http://$HOST:$FIRST_PORT/api/system/info

for fleet in $(printf '%s\n' $FLEETS | awk '!seen[$0]++'); do
  start_daemon "$fleet"
  if [ -z "${FLOOR_PID[info-keepalive]:-}" ]; then
    # The floor answers with the bytes of one of the daemon's own replies.
    curl -s -f --max-time 5 -o "$RESULTS/info.json" "$INFO_URL" || die "no info reply"
    start_floor info-keepalive "${FLOOR_PORTS[info-keepalive]}" "$RESULTS/info.json"
    start_floor info-close "${FLOOR_PORTS[info-close]}" "$RESULTS/info.json" --close
    log "floors for info: $(stat -c %s "$RESULTS/info.json") bytes"
  fi
  if [ "$fleet" = "$BIG_FLEET" ]; then
    curl -s -f --max-time 10 -o "$RESULTS/servers.json" "http://$HOST:$LISTING_PORT/servers" || die "no /servers reply"
    start_floor servers-keepalive "${FLOOR_PORTS[servers-keepalive]}" "$RESULTS/servers.json"
    start_floor servers-close "${FLOOR_PORTS[servers-close]}" "$RESULTS/servers.json" --close
    log "floors for /servers: $(stat -c %s "$RESULTS/servers.json") bytes"
  fi
  for run in $(seq "$RUNS"); do
    bench_wrk "info-fleet$fleet" "$run" "$DAEMON_PID" "$INFO_URL"
    if [ "$fleet" = 1 ]; then
      bench_wrk "info-close-fleet$fleet" "$run" "$DAEMON_PID" "$INFO_URL" "Connection: close"
    fi
    if [ "$fleet" = "$BIG_FLEET" ]; then
      bench_rr "info-rr-fleet$fleet" "$run" "$DAEMON_PID" "$FIRST_PORT" "$fleet" /api/system/info
      bench_wrk "servers-fleet$fleet" "$run" "$DAEMON_PID" "http://$HOST:$LISTING_PORT/servers"
      floor_runs "$run" servers
    fi
    floor_runs "$run" info
  done
  kill -0 "$DAEMON_PID" 2>/dev/null || die "the daemon died"
  if grep -q -e WARNING -e CRITICAL "$RESULTS/daemon-fleet$fleet.log"; then
    log "the daemon logged warnings:"
    grep -e WARNING -e CRITICAL "$RESULTS/daemon-fleet$fleet.log" | sort | uniq -c | head -n 5 >&2
  fi
  stop_pid "$DAEMON_PID"
  DAEMON_PID=
done

python3 "$(dirname "${BASH_SOURCE[0]}")/keepalive-report.py" "$SUMMARY" | tee "$RESULTS/table.txt"
log "raw results in $RESULTS"
