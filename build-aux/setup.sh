#!/usr/bin/env bash
# Installs what plutomock needs on Debian 12 (or a derivative), then
# configures and builds it in _build.  Safe to run again.
#
#   bash build-aux/setup.sh            # install, configure, build the daemon and plutomockctl
#   PLUTOMOCK_TESTS=1 bash ...         # also what the test suite needs, and the tests
#   PLUTOMOCK_SKIP_DEPS=1 bash ...     # skip the package install
#   PLUTOMOCK_BUILD_DIR=dir bash ...   # build somewhere else
#
# Further arguments go to meson setup.
set -euo pipefail

cd "$(dirname "$0")/.."
build_dir=${PLUTOMOCK_BUILD_DIR:-_build}
with_tests=${PLUTOMOCK_TESTS:-}

# What building and running needs, and the manual pages.
packages=(
  gcc
  libc6-dev
  pkg-config
  meson
  ninja-build
  gettext
  libglib2.0-dev
  libglib2.0-bin
  libsoup-3.0-dev
  libjson-glib-dev
  python3-docutils   # rst2man: the manual pages
)

# What the test suite needs besides.
if [ -n "$with_tests" ]; then
  packages+=(
    util-linux
    python3
    python3-websocket
    python3-gi    # the D-Bus script test
    dbus-daemon   # private session buses in the tests
    systemd       # systemd-analyze checks the user unit
    curl
    clang              # the libFuzzer targets (fuzz/, bench/fuzz.sh)
    libclang-rt-14-dev # libFuzzer and clang's sanitizer runtimes
    llvm               # llvm-symbolizer: sanitizer reports with file:line
    groff-base         # the man-page test renders the manual pages
    man-db
    chromium           # the fleet page's browser test
  )
fi

if [ -z "${PLUTOMOCK_SKIP_DEPS:-}" ]; then
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
      sudo="sudo"
    fi
    echo "Installing: ${missing[*]}"
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
  fi
fi

if [ -n "$with_tests" ]; then
  tests=true
else
  tests=false
fi
if [ -f "$build_dir/build.ninja" ]; then
  meson setup --reconfigure "$build_dir" -Dtests=$tests "$@"
else
  meson setup "$build_dir" -Dtests=$tests "$@"
fi
meson compile -C "$build_dir"
