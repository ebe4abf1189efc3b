#!/usr/bin/env bash
# Runs the libFuzzer targets (fuzz/fuzz-NAME.c) for a while each and fails
# on any crash, failed check, leak or time-out.
#
#   bash bench/fuzz.sh                  # every target, 60 s each
#   bash bench/fuzz.sh 300 config       # fuzz-config for 5 minutes
#   bash bench/fuzz.sh --build-only     # configure and build, run nothing
#   FUZZ_BUILD_DIR=dir bash bench/fuzz.sh
#
# Configures and builds the fuzz build directory (default _build-fuzz:
# clang, -Dfuzzing=true, -Db_sanitize=address,undefined) as needed.  Each
# target starts from a copy of its seed corpus fuzz/corpus/NAME/; what it
# adds to that copy, its log and any input that failed are kept under
# bench/results/fuzz-<timestamp>/NAME/ (ignored by git), never in fuzz/.
# Prints one line per target with its executions; exits non-zero if any
# target found something.
set -euo pipefail

cd "$(dirname "$0")/.."
build_only=
if [ "${1:-}" = --build-only ]; then
  build_only=1
  shift
fi
seconds=${1:-60}
shift || true
build_dir=${FUZZ_BUILD_DIR:-_build-fuzz}

case $seconds in
  '' | *[!0-9]*) echo "usage: bench/fuzz.sh [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac

# Runs a command quietly; shows its output if it fails.
quietly () {
  local log
  log=$(mktemp)
  if ! "$@" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    rm -f "$log"
    echo "bench/fuzz.sh: failed: $*" >&2
    return 1
  fi
  rm -f "$log"
}

if [ -f "$build_dir/build.ninja" ]; then
  # Again each time: a fuzz/fuzz-NAME.c may have appeared since.
  quietly meson setup --reconfigure "$build_dir"
else
  (
    export CC=${FUZZ_CC:-clang}
    quietly meson setup "$build_dir" -Dfuzzing=true -Dtests=false \
      -Db_sanitize=address,undefined -Db_lundef=false
  )
fi
quietly meson compile -C "$build_dir"
if [ -n "$build_only" ]; then
  exit 0
fi

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for source in fuzz/fuzz-*.c; do
    [ -e "$source" ] || continue
    name=${source#fuzz/fuzz-}
    name=${name%.c}
    if [ -x "$build_dir/fuzz/fuzz-$name" ]; then
      targets+=("$name")
    else
      echo "warning: $source is not built: add '$name' to the list in fuzz/meson.build" >&2
    fi
  done
fi
if [ "${#targets[@]}" -eq 0 ]; then
  echo "No fuzz target to run." >&2
  exit 1
fi

results=bench/results/fuzz-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$results"

# GLib 2.74 keeps freed GSlice blocks to itself, which hides leaked
# GObjects and JSON nodes from LeakSanitizer.
export G_SLICE=always-malloc
export G_DEBUG=gc-friendly
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:print_stacktrace=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}

printf '%-14s %8s %12s %10s %9s  %s\n' target seconds executions 'execs/s' 'new units' result
status=0
for name in "${targets[@]}"; do
  exe=$build_dir/fuzz/fuzz-$name
  if [ ! -x "$exe" ]; then
    echo "No fuzz target '$name' ($exe)." >&2
    status=1
    continue
  fi
  work=$results/$name
  mkdir -p "$work/corpus" "$work/artifacts"
  if [ -d "fuzz/corpus/$name" ]; then
    cp -R "fuzz/corpus/$name/." "$work/corpus/"
  fi

  result=ok
  # -timeout: one input taking longer is a finding; -rss_limit_mb bounds
  # memory; the artifact of a finding goes to the results, not here.
  "$exe" "$work/corpus" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
    >"$work/log" 2>&1 || result=failed
  if grep -qE '^(==[0-9]+== ?ERROR|SUMMARY: )' "$work/log" ||
     [ -n "$(ls -A "$work/artifacts")" ]; then
    result=failed
  fi

  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log" | tail -n 1)
  added=$(sed -n 's/^stat::new_units_added: *//p' "$work/log" | tail -n 1)
  printf '%-14s %8s %12s %10s %9s  %s\n' "$name" "$seconds" "${execs:-?}" "${rate:-?}" "${added:-?}" "$result"
  if [ "$result" != ok ]; then
    status=1
    {
      echo "--- fuzz-$name found something; the end of $work/log:"
      grep -vE '^#[0-9]+\s' "$work/log" | tail -n 60
      echo "--- failing inputs in $work/artifacts/:"
      ls -l "$work/artifacts"
      echo "--- reproduce: $exe $work/artifacts/<file>"
    } >&2
  fi
done
echo "Logs and corpora: $results"
exit "$status"
