#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Builds the container image with Podman, runs it once and checks it from
# the host: the binaries find their libraries, GET /servers lists the
# devices, a device answers GET /api/system/info through its published
# port, the control API answers /control/v1 (when the build has it), the
# health check passes, and the container stops on `podman stop` within a
# few seconds and exits 0.  Prints the image's size.  Run from anywhere:
#
#   bash build-aux/container-check.sh            build and check
#   bash build-aux/container-check.sh --ref HEAD build the committed tree at
#                                                 REF (git archive) instead
#                                                 of the working tree
#
# Environment:
#   PLUTOMOCK_IMAGE       the tag to build (default localhost/plutomock:check)
#   PLUTOMOCK_HOST_PORT   host port the listing port 7770 is published on;
#                         the devices' ports 7751-7760 go to the ten ports
#                         after HOST_PORT - 19 (default 27770: 27751-27760),
#                         so a plutomock running on the host is left alone
#   PLUTOMOCK_DEBIAN_MIRROR  the Debian mirror for the base image below
#                         (default: the first one in /etc/apt)
#   PODMAN                the podman command (default podman)
#
# The base image: when debian:12 is neither in local storage nor can be
# pulled (no registry access), it is made with debootstrap from the Debian
# mirror (minbase, bookworm, apt lists and caches removed) and imported as
# localhost/debian:12, which the Dockerfile's FROM debian:12 then resolves
# to.  That needs debootstrap and root.
#
# Podman as root inside a container (a VM guest with hybrid cgroups v1/v2
# and hard limits under Podman's defaults, no CAP_SYS_RESOURCE): crun
# refuses hybrid cgroups, and the default rlimits (1048576 descriptors)
# cannot be set.  When a plain `podman run` of the base fails, runc is
# used with the hard limits the shell has; netavark needs iptables.  The
# build's RUN steps use --network host (apt-get reaches the mirror as the
# host does; PODMAN_BUILD_NETWORK=private to change it).  Overlay storage
# works as it is.
set -euo pipefail

cd "$(dirname "$0")/.."

podman=${PODMAN:-podman}
image=${PLUTOMOCK_IMAGE:-localhost/plutomock:check}
host_port=${PLUTOMOCK_HOST_PORT:-27770}
first_device_port=$((host_port - 19))
build_network=${PODMAN_BUILD_NETWORK:-host}
ref=""
container=plutomock-check-$$
workdir=""
failures=0

while [ $# -gt 0 ]; do
  case $1 in
    --ref)
      ref=${2:?--ref needs a git revision}
      shift 2
      ;;
    -h|--help)
      sed -n '4,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "container-check: unknown argument '$1'" >&2
      exit 2
      ;;
  esac
done

# Options for every podman command and for those that run a container.
global_opts=()
run_opts=()

pm () {
  "$podman" "${global_opts[@]}" "$@"
}

cleanup () {
  pm rm -f -t 0 "$container" >/dev/null 2>&1 || true
  if [ -n "$workdir" ]; then
    rm -rf "$workdir"
  fi
}
trap cleanup EXIT

fail () {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

pass () {
  echo "ok: $*"
}

for tool in "$podman" curl python3; do
  command -v "$tool" >/dev/null || { echo "container-check: $tool is needed" >&2; exit 2; }
done

# The first Debian mirror apt is configured with, deb822 or one-line style.
debian_mirror () {
  local mirror=""

  if [ -n "${PLUTOMOCK_DEBIAN_MIRROR:-}" ]; then
    echo "$PLUTOMOCK_DEBIAN_MIRROR"
    return
  fi
  if compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
    mirror=$(awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list.d/*.sources)
  fi
  if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
    mirror=$(awk '$1 == "deb" && $0 ~ /bookworm/ && $0 !~ /security/ {
                     for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
               /etc/apt/sources.list)
  fi
  echo "${mirror:-http://deb.debian.org/debian}"
}

# debian:12 from debootstrap, when it is not there and cannot be pulled.
ensure_base () {
  local mirror security rootfs

  if pm image exists debian:12; then
    echo "Base image: debian:12 is in local storage"
    return
  fi
  if pm pull docker.io/library/debian:12 >/dev/null 2>&1; then
    echo "Base image: pulled docker.io/library/debian:12"
    return
  fi
  command -v debootstrap >/dev/null ||
    { echo "container-check: debian:12 cannot be pulled and debootstrap is missing" >&2; exit 2; }
  mirror=$(debian_mirror)
  security=$(awk '/^URIs:/ && $2 ~ /security/ { print $2; exit }' \
               /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  security=${security:-${mirror%/debian}/debian-security}
  echo "Base image: debian:12 cannot be pulled; debootstrap from $mirror"
  rootfs=$(mktemp -d)
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 ||
    { tail -n 20 "$rootfs.log" >&2; rm -rf "$rootfs" "$rootfs.log"; exit 1; }
  rm -f "$rootfs.log"
  # As the official image: the updates and security suites, no apt lists
  # or package caches.
  rm -f "$rootfs/etc/apt/sources.list"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
    "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/* "$rootfs"/tmp/*
  tar --numeric-owner -C "$rootfs" -c . |
    pm import --change 'CMD ["bash"]' - localhost/debian:12 >/dev/null
  rm -rf "$rootfs"
  pm image exists debian:12 ||
    { echo "container-check: localhost/debian:12 does not answer to debian:12" >&2; exit 1; }
}

choose_runtime () {
  local nofile nproc

  if pm run --rm --network none debian:12 true >/dev/null 2>&1; then
    echo "Runtime: podman's defaults"
    return
  fi
  nofile=$(ulimit -Hn)
  nproc=$(ulimit -Hu)
  if [ "$nofile" = unlimited ] || [ "$nofile" -gt 1048576 ]; then
    nofile=1048576
  fi
  if [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; then
    nproc=32768
  fi
  global_opts=(--runtime runc)
  run_opts=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc")
  if pm run --rm --network none "${run_opts[@]}" debian:12 true; then
    echo "Runtime: ${global_opts[*]} ${run_opts[*]}"
    return
  fi
  echo "container-check: no runtime configuration runs a container here" >&2
  exit 1
}

ensure_base
choose_runtime

context=.
if [ -n "$ref" ]; then
  workdir=$(mktemp -d)
  git archive --format=tar "$ref" | tar -C "$workdir" -x
  # The tree as committed may predate the container files.
  for f in Dockerfile .dockerignore; do
    [ -e "$workdir/$f" ] || cp "$f" "$workdir/$f"
  done
  context=$workdir
  echo "Context: $ref (git archive)"
else
  echo "Context: the working tree"
fi

echo "=== Build"
start=$(date +%s)
# --format docker keeps HEALTHCHECK (the OCI format has no such field).
pm build "${run_opts[@]}" --format docker --network "$build_network" --pull=never \
  -t "$image" -f "$context/Dockerfile" "$context"
echo "Built $image in $(($(date +%s) - start)) s"

echo "=== Image"
size=$(pm image inspect -f '{{.Size}}' "$image")
echo "Size: $size bytes ($((size / 1000000)) MB)"

missing=$(pm run --rm "${run_opts[@]}" --entrypoint ldd "$image" /usr/bin/plutomock /usr/bin/plutomockctl |
            grep 'not found' || true)
if [ -n "$missing" ]; then
  fail "libraries missing in the image: $missing"
else
  pass "plutomock and plutomockctl find every library"
fi
user=$(pm image inspect -f '{{.Config.User}}' "$image")
case $user in
  ''|0|0:*|root|root:*) fail "the image runs as root ('$user')" ;;
  *) pass "runs as $user" ;;
esac

echo "=== Run"
publish=(-p "127.0.0.1:$host_port:7770")
for i in $(seq 0 9); do
  publish+=(-p "127.0.0.1:$((first_device_port + i)):$((7751 + i))")
done
pm run -d "${run_opts[@]}" --name "$container" "${publish[@]}" "$image" --seed 42 >/dev/null

# Wait for the listing server, at most 20 s.
base=http://127.0.0.1:$host_port
ready=""
for _ in $(seq 1 100); do
  if curl -fsS -o /dev/null --max-time 2 "$base/servers" 2>/dev/null; then
    ready=1
    break
  fi
  if [ "$(pm inspect -f '{{.State.Running}}' "$container")" != true ]; then
    break
  fi
  sleep 0.2
done
if [ -z "$ready" ]; then
  fail "the listing server did not answer on $base within 20 s"
  pm logs "$container" || true
  echo "$failures failed"
  exit 1
fi

# Prints the member NAME of the JSON object on standard input, or nothing.
json_member () {
  python3 -c '
import json, sys
try:
    print(json.load(sys.stdin).get(sys.argv[1], ""))
except (ValueError, AttributeError):
    pass
' "$1"
}

servers=$(curl -fsS --max-time 5 "$base/servers" || true)
count=$(python3 -c 'import json, sys; print(len(json.load(sys.stdin)["servers"]))' \
          <<<"$servers" 2>/dev/null || echo none)
if [ "$count" = 10 ]; then
  pass "GET /servers lists $count devices"
else
  fail "GET /servers lists $count devices, not 10: $servers"
fi

info=$(curl -fsS --max-time 5 "http://127.0.0.1:$first_device_port/api/system/info" || true)
hostname=$(json_member hostname <<<"$info")
if [ -n "$hostname" ]; then
  pass "GET /api/system/info on host port $first_device_port (7751 inside): hostname $hostname"
else
  fail "GET /api/system/info on host port $first_device_port: '$info'"
fi

control_status=$(curl -sS -o "${TMPDIR:-/tmp}/$container.control" -w '%{http_code}' --max-time 5 \
                   "$base/control/v1" || true)
control_body=$(cat "${TMPDIR:-/tmp}/$container.control" 2>/dev/null || true)
rm -f "${TMPDIR:-/tmp}/$container.control"
case $control_status in
  200)
    pass "GET /control/v1 from the host: $control_body"
    ;;
  404)
    # A daemon without the control API answers 404 in its own shape; one
    # with it answers 200 or, for a refused peer, 403.
    if grep -q 'org.pluto.Mock1.Error' <<<"$control_body"; then
      fail "GET /control/v1: 404 $control_body"
    else
      echo "skipped: this build has no control API (GET /control/v1: 404)"
    fi
    ;;
  *)
    fail "GET /control/v1 from the host: $control_status $control_body"
    ;;
esac

if [ "$control_status" = 200 ]; then
  if ctl_out=$(pm exec "$container" plutomockctl list 2>"${TMPDIR:-/tmp}/$container.err"); then
    ctl_err=$(cat "${TMPDIR:-/tmp}/$container.err")
    if [ -z "$ctl_err" ]; then
      pass "plutomockctl list inside the container: $(($(wc -l <<<"$ctl_out") - 1)) devices"
    else
      fail "plutomockctl list inside the container wrote to stderr: $ctl_err"
    fi
  else
    fail "plutomockctl list inside the container: $(cat "${TMPDIR:-/tmp}/$container.err")"
  fi
  rm -f "${TMPDIR:-/tmp}/$container.err"
fi

# Podman without systemd says it cannot set up the periodic timer; the
# check itself runs all the same.
if pm healthcheck run "$container" >/dev/null 2>&1; then
  pass "the health check passes"
else
  fail "the health check fails"
fi

echo "=== Stop"
start=$(date +%s%N)
pm stop -t 10 "$container" >/dev/null
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
exit_code=$(pm inspect -f '{{.State.ExitCode}}' "$container")
if [ "$elapsed_ms" -lt 5000 ] && [ "$exit_code" = 0 ]; then
  pass "podman stop: exited $exit_code after $elapsed_ms ms"
else
  fail "podman stop: exited $exit_code after $elapsed_ms ms"
fi
echo "--- The container's log"
pm logs "$container" 2>&1 | tail -n 20

echo "=== $failures failed"
[ "$failures" = 0 ]
