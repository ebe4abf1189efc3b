#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# What simulated devices cost against pluto-* devices.  Run from the
# repository root, after a build:
#
#     bash bench/profiles.sh [BUILD_DIR]        (BUILD_DIR defaults to _build)
#
# 1. Idle: a fleet of IDLE_FLEET devices of one profile at a time
#    (axeos-gamma; pluto-legacy,pluto-new, the reference; mixed), left
#    alone for IDLE_SECONDS once /servers lists them all: the daemon's CPU
#    over that time (utime+stime from /proc/PID/stat) as a share of one
#    core, its context switches per second (how often it wakes up), its
#    VmRSS at the start and the end of the idle time, and its start-up time.
#    Memory per device: (RSS(IDLE_FLEET) - RSS(SMALL_FLEET)) / (IDLE_FLEET -
#    SMALL_FLEET), each read 2 s after its fleet was listed.
# 2. GET /api/system/info: four daemons side by side, GET_FLEET devices
#    each, all of one profile (axeos-gamma, nerdqaxe-plus, pluto-legacy,
#    pluto-new), measured in the same run, RUNS times each, interleaved:
#      info-1-PROFILE-keepalive  one device, wrk -tTHREADS -cCONNECTIONS
#      info-1-PROFILE-close      the same, every request with
#                                `Connection: close` (a new connection each)
#      info-rr-PROFILE           round-robin over all GET_FLEET devices of
#                                the daemon (bench/rr-client), one
#                                connection per port, kept while the
#                                device keeps it
#    Server CPU per request: utime+stime of that daemon over the run,
#    divided by the requests completed.  A NerdQAxe+ closes every
#    connection after its reply, as the firmware does, so its keep-alive
#    row is really a close row.
# Prints a table (bench/profiles-report.py) and keeps the raw outputs under
# bench/results/profiles-<timestamp>/.
#
# Tools: wrk, curl, python3, ss, getconf, /proc.
# Knobs (defaults in brackets):
#   FIRST_PORT [22000]   device ports: the idle fleet uses FIRST_PORT ...
#                        FIRST_PORT+IDLE_FLEET-1; the four GET daemons
#                        FIRST_PORT+k*GET_FLEET ... for k = 0..3
#   LISTING_PORT [19970] listing servers on LISTING_PORT ... LISTING_PORT+3
#   SEED [20240601]
#   IDLE_FLEET [10000]  IDLE_SECONDS [60]  IDLE_RUNS [1]
#   SMALL_FLEET [10]     the fleet the memory per device is measured against
#   GET_FLEET [1000]  DURATION [5] seconds per run  RUNS [10]
#   THREADS [2]  CONNECTIONS [50]   wrk threads and connections; rr-client
#                                   keeps CONNECTIONS requests in flight
#   PARTS [idle get]     which parts to run
#   PLUTOMOCK [BUILD_DIR/src/plutomock]  the daemon to measure

set -euo pipefail

BUILD_DIR=${1:-_build}
BIN=${PLUTOMOCK:-$BUILD_DIR/src/plutomock}
RR_CLIENT=$BUILD_DIR/bench/rr-client
FIRST_PORT=${FIRST_PORT:-22000}
LISTING_PORT=${LISTING_PORT:-19970}
SEED=${SEED:-20240601}
IDLE_FLEET=${IDLE_FLEET:-10000}
IDLE_SECONDS=${IDLE_SECONDS:-60}
IDLE_RUNS=${IDLE_RUNS:-1}
SMALL_FLEET=${SMALL_FLEET:-10}
GET_FLEET=${GET_FLEET:-1000}
DURATION=${DURATION:-5}
RUNS=${RUNS:-10}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-50}
PARTS=${PARTS:-idle get}
HOST=127.0.0.1
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

IDLE_PROFILES=(axeos-gamma pluto-legacy,pluto-new mixed)
GET_PROFILES=(axeos-gamma nerdqaxe-plus pluto-legacy pluto-new)

die () { echo "profiles.sh: $*" >&2; exit 1; }
log () { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

for program in "$BIN" "$RR_CLIENT"; do
  [ -x "$program" ] || die "no $program; build first (meson setup $BUILD_DIR && meson compile -C $BUILD_DIR)"
done
for tool in wrk curl python3 ss getconf; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
# Every port the fleets will take must be free.
LAST_PORT=$((FIRST_PORT + (IDLE_FLEET > 4 * GET_FLEET ? IDLE_FLEET : 4 * GET_FLEET) - 1))
[ "$LAST_PORT" -le 65535 ] || die "FIRST_PORT is too high for the fleets"
busy=$(ss -Htln | awk -v first="$FIRST_PORT" -v last="$LAST_PORT" -v listing="$LISTING_PORT" '{
         port = $4; sub(/.*:/, "", port); port += 0
         if ((port >= first && port <= last) || (port >= listing && port <= listing + 3))
           print port
       }' | sort -n -u | head -n 5 | paste -s -d ' ')
[ -z "$busy" ] || die "ports in use ($busy ...); set FIRST_PORT or LISTING_PORT"

# A fleet of N devices holds N listening sockets, and rr-client one
# connection per port: raise the soft descriptor limit to the hard one.
NOFILE_HARD=$(ulimit -Hn)
if [ "$NOFILE_HARD" = unlimited ]; then
  ulimit -n 1048576 2>/dev/null || true
else
  ulimit -n "$NOFILE_HARD" 2>/dev/null || true
fi
NOFILE=$(ulimit -n)
if [ "$NOFILE" != unlimited ] && [ "$NOFILE" -lt $((IDLE_FLEET + 200)) ]; then
  die "the descriptor limit ($NOFILE) is too low for $IDLE_FLEET devices; set IDLE_FLEET"
fi
CLK_TCK=$(getconf CLK_TCK)

RESULTS=bench/results/profiles-$(date +%Y%m%d-%H%M%S)
mkdir -p "$RESULTS"
SUMMARY=$RESULTS/summary.tsv
: > "$SUMMARY"
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git describe --always --dirty 2>/dev/null || echo unknown)"
  echo "nproc: $(nproc)"
  echo "cpu: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "kernel: $(uname -r)"
  echo "os: $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
  echo "daemon: $("$BIN" --version)"
  echo "wrk: $(wrk -v 2>&1 | head -n 1)"
  echo "load average at start: $(cut -d ' ' -f 1-3 /proc/loadavg)"
  echo "idle: $IDLE_FLEET devices, ${IDLE_SECONDS}s, $IDLE_RUNS run(s) per profile"
  echo "get: $GET_FLEET devices per daemon; wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s; rr-client $CONNECTIONS in flight; $RUNS runs per scenario"
} > "$RESULTS/environment.txt"

# ---- processes -------------------------------------------------------------

# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

declare -A PID

stop_all () {
  local name
  for name in "${!PID[@]}"; do
    stop_pid "${PID[$name]}"
    unset "PID[$name]"
  done
}
trap stop_all EXIT
trap 'exit 130' INT TERM

ms_now () { echo $(( $(date +%s%N) / 1000000 )); }

n_listed () {   # LISTING_PORT -> devices listed
  { curl -s --max-time 10 "http://$HOST:$1/servers" || true; } | grep -o '"port":' | wc -l
}

# start_daemon NAME PROFILE N FIRST LISTING: a fleet of N devices of
# PROFILE on ports FIRST ...; waits until its listing names them all and
# sets START_MS.
start_daemon () {
  local name=$1 profile=$2 n=$3 first=$4 listing=$5 tries=0 t0
  local log_file=$RESULTS/daemon-$name.log
  t0=$(ms_now)
  "$BIN" --bind "$HOST" --listing-port "$listing" --ports "$first-$((first + n - 1))" \
         --profile "$profile" --seed "$SEED" --telemetry random --logs false \
         --network-gate false --no-dbus > "$log_file" 2>&1 &
  PID[$name]=$!
  until [ "$(n_listed "$listing")" -eq "$n" ]; do
    tries=$((tries + 1))
    if [ $tries -gt 6000 ] || ! kill -0 "${PID[$name]}" 2>/dev/null; then
      tail -n 5 "$log_file" >&2
      die "$name: the daemon did not list $n devices (a port in use? see $log_file; set FIRST_PORT)"
    fi
    sleep 0.01
  done
  START_MS=$(( $(ms_now) - t0 ))
  if grep -q -e WARNING -e CRITICAL "$log_file"; then
    grep -e WARNING -e CRITICAL "$log_file" | head -n 5 >&2
    die "$name: the daemon warned at start-up (see $log_file)"
  fi
  log "$name: $n devices of $profile listed after $START_MS ms (pid ${PID[$name]})"
}

stop_daemon () {
  local name=$1
  kill -0 "${PID[$name]}" 2>/dev/null || die "$name: the daemon died (see $RESULTS/daemon-$name.log)"
  if grep -q -e WARNING -e CRITICAL "$RESULTS/daemon-$name.log"; then
    log "$name: the daemon logged warnings:"
    grep -e WARNING -e CRITICAL "$RESULTS/daemon-$name.log" | sort | uniq -c | head -n 5 >&2
  fi
  stop_pid "${PID[$name]}"
  unset "PID[$name]"
}

status_kb () {   # PID FIELD -> value in kB from /proc/PID/status
  awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

switches_of () {   # PID -> context switches of all its threads so far
  cat /proc/"$1"/task/*/status 2>/dev/null \
    | awk '/^(non)?voluntary_ctxt_switches:/ { n += $2 } END { print n + 0 }'
}

# ---- 1. idle fleets --------------------------------------------------------

idle_fleet () {   # PROFILE RUN
  local profile=$1 run=$2 name pid rss0 rss1 rss_small t0 t1 s0 s1 ms0 ms1
  name=idle-${profile//,/+}-$run
  # The memory of a device: against a fleet of SMALL_FLEET started the
  # same way.
  start_daemon "small-$name" "$profile" "$SMALL_FLEET" "$FIRST_PORT" "$LISTING_PORT"
  sleep 2
  rss_small=$(status_kb "${PID[small-$name]}" VmRSS)
  stop_daemon "small-$name"
  start_daemon "$name" "$profile" "$IDLE_FLEET" "$FIRST_PORT" "$LISTING_PORT"
  pid=${PID[$name]}
  # Let the start-up and the listing polls settle.
  sleep 2
  rss0=$(status_kb "$pid" VmRSS)
  t0=$(cpu_ticks_of "$pid")
  s0=$(switches_of "$pid")
  ms0=$(ms_now)
  sleep "$IDLE_SECONDS"
  t1=$(cpu_ticks_of "$pid")
  s1=$(switches_of "$pid")
  ms1=$(ms_now)
  rss1=$(status_kb "$pid" VmRSS)
  awk -v p="$profile" -v run="$run" -v n="$IDLE_FLEET" -v start="$START_MS" -v ms=$((ms1 - ms0)) \
      -v ticks=$((t1 - t0)) -v sw=$((s1 - s0)) -v hz="$CLK_TCK" -v rss0="$rss0" -v rss1="$rss1" \
      -v fds="$(ls "/proc/$pid/fd" | wc -l)" -v load="$(cut -d ' ' -f 1 /proc/loadavg)" \
      -v small="$SMALL_FLEET" -v rss_small="$rss_small" 'BEGIN {
    printf "idle\tprofile=%s\trun=%s\tdevices=%s\tstart_ms=%s\tseconds=%.1f\tticks=%d\tcpu_pct=%.3f\tswitches_per_s=%.2f\trss_start_kb=%s\trss_end_kb=%s\tfds=%s\tload=%s\tsmall_devices=%s\trss_small_kb=%s\trss_per_device_kb=%.2f\n",
      p, run, n, start, ms / 1000, ticks, ticks / hz / (ms / 1000) * 100, sw / (ms / 1000), rss0, rss1, fds, load,
      small, rss_small, (rss0 - rss_small) / (n - small)
  }' >> "$SUMMARY"
  log "$name: $(tail -n 1 "$SUMMARY" | cut -f 7-11 | tr '\t' ' ')"
  stop_daemon "$name"
}

# ---- 2. GET /api/system/info -----------------------------------------------

keeps_alive () {   # URL -> yes if the reply does not close the connection
  if curl -s -D - -o /dev/null --max-time 5 "$1" | grep -qi '^connection:.*close'; then
    echo no
  else
    echo yes
  fi
}

# record SCENARIO PROFILE SPREAD CLIENT RUN TICKS REQUESTS RPS ERRORS EXTRA
record () {
  awk -v s="$1" -v p="$2" -v spread="$3" -v client="$4" -v run="$5" -v ticks="$6" -v req="$7" \
      -v rps="$8" -v err="$9" -v extra="${10}" -v hz="$CLK_TCK" -v ka="$KEEPALIVE" \
      -v bytes="${BYTES[$2]}" 'BEGIN {
    printf "get\tscenario=%s\tprofile=%s\tspread=%s\tclient=%s\trun=%s\trps=%s\trequests=%s\tcpu_us_per_req=%.2f\terrors=%s\tserver_keeps_alive=%s\treply_bytes=%s%s\n",
      s, p, spread, client, run, rps, req, (req > 0 ? ticks * 1000000 / hz / req : 0), err, ka, bytes, extra
  }' >> "$SUMMARY"
}

# bench_wrk PROFILE RUN CLIENT(keepalive|close)
bench_wrk () {
  local profile=$1 run=$2 client=$3 pid=${PID[get-$1]} url out t0 t1 scenario
  local -a header=()
  scenario=info-1-$profile-$client
  url=http://$HOST:${FIRST[$profile]}/api/system/info
  out=$RESULTS/$scenario-$run.txt
  if [ "$client" = close ]; then
    header=(-H 'Connection: close')
    KEEPALIVE=no
  else
    KEEPALIVE=$(keeps_alive "$url")
  fi
  t0=$(cpu_ticks_of "$pid")
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" "${header[@]}" "$url" > "$out" 2>&1
  t1=$(cpu_ticks_of "$pid")
  record "$scenario" "$profile" 1 "$client" "$run" $((t1 - t0)) \
    "$(awk '/ requests in / { print $1 }' "$out")" \
    "$(awk '/^Requests\/sec:/ { print $2 }' "$out")" \
    "$(awk '/Socket errors:/ { gsub(",", ""); e = $4 + $6 + $8 + $10 } /Non-2xx/ { e += $5 } END { print e + 0 }' "$out")" ""
  log "$scenario run $run: $(tail -n 1 "$SUMMARY" | cut -f 7,9 | tr '\t' ' ')"
}

# bench_rr PROFILE RUN
bench_rr () {
  local profile=$1 run=$2 pid=${PID[get-$1]} out t0 t1 scenario
  scenario=info-rr-$profile
  out=$RESULTS/$scenario-$run.txt
  KEEPALIVE=$(keeps_alive "http://$HOST:${FIRST[$profile]}/api/system/info")
  t0=$(cpu_ticks_of "$pid")
  "$RR_CLIENT" --host "$HOST" --first-port "${FIRST[$profile]}" --ports "$GET_FLEET" \
    --path /api/system/info --connections "$CONNECTIONS" --duration "$DURATION" > "$out"
  t1=$(cpu_ticks_of "$pid")
  kv () { awk -F= -v k="$1" '$1 == k { print $2 }' "$out"; }
  record "$scenario" "$profile" "$GET_FLEET" rr "$run" $((t1 - t0)) "$(kv requests)" \
    "$(kv requests_per_s)" $(( $(kv errors) + $(kv non2xx) )) \
    "	requests_per_connect=$(kv requests_per_connect)"
  log "$scenario run $run: $(tail -n 1 "$SUMMARY" | cut -f 7,9 | tr '\t' ' ')"
}

declare -A FIRST BYTES

get_part () {
  local k profile run i n=${#GET_PROFILES[@]}
  local -a order
  for k in "${!GET_PROFILES[@]}"; do
    profile=${GET_PROFILES[$k]}
    FIRST[$profile]=$((FIRST_PORT + k * GET_FLEET))
    start_daemon "get-$profile" "$profile" "$GET_FLEET" "${FIRST[$profile]}" $((LISTING_PORT + k))
    curl -s -f --max-time 5 -o "$RESULTS/info-$profile.json" \
      "http://$HOST:${FIRST[$profile]}/api/system/info" || die "$profile: no info reply"
    BYTES[$profile]=$(stat -c %s "$RESULTS/info-$profile.json")
  done
  sleep 1
  for run in $(seq "$RUNS"); do
    # Each run starts with another profile, so none always runs first.
    order=()
    for i in $(seq 0 $((n - 1))); do
      order+=("${GET_PROFILES[$(( (i + run - 1) % n ))]}")
    done
    for profile in "${order[@]}"; do
      bench_wrk "$profile" "$run" keepalive
    done
    for profile in "${order[@]}"; do
      # A NerdQAxe+ closes every connection anyway: its keep-alive row is
      # its close row.
      [ "$profile" = nerdqaxe-plus ] || bench_wrk "$profile" "$run" close
    done
    for profile in "${order[@]}"; do
      bench_rr "$profile" "$run"
    done
  done
  for profile in "${GET_PROFILES[@]}"; do
    stop_daemon "get-$profile"
  done
}

# ---- the runs --------------------------------------------------------------

for part in $PARTS; do
  case $part in
    idle)
      for run in $(seq "$IDLE_RUNS"); do
        for profile in "${IDLE_PROFILES[@]}"; do
          idle_fleet "$profile" "$run"
        done
      done
      ;;
    get)
      get_part
      ;;
    *)
      die "unknown part '$part' in PARTS (idle, get)"
      ;;
  esac
done

echo "load average at end: $(cut -d ' ' -f 1-3 /proc/loadavg)" >> "$RESULTS/environment.txt"
python3 "$BENCH_DIR/profiles-report.py" "$SUMMARY" | tee "$RESULTS/table.txt"
log "raw results in $RESULTS"
