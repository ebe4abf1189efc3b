# SPDX-License-Identifier: MIT
#
# Helpers the benchmark scripts share; sourced, not run.

# stop_pid PID: SIGTERM, up to 5 s to exit, then SIGKILL; reaps it.
stop_pid () {
  local pid=$1
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  if [ -n "$pid" ]; then
    wait "$pid" 2>/dev/null || true
  fi
}

# cpu_ticks_of PID: its utime + stime, in clock ticks.  The fields after
# the ")" that ends the command name: utime is the 12th, stime the 13th.
cpu_ticks_of () {
  sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}
