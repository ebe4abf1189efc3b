#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The CPU cost of the worst PATCH /api/system within the limits (see
# bench/patch-cost.c).  Run from the repository root, after a build:
#
#     bash bench/patch-cost.sh [BUILD_DIR [RUNS]]   (defaults: _build, 21)
#
# Compiles bench/patch-cost.c against the build's static libraries with
# cc and pkg-config, runs it and prints its table.  Nothing is installed;
# the program is built in a temporary directory, removed on exit.

set -euo pipefail

BUILD_DIR=${1:-_build}
RUNS=${2:-21}
SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LIB=$BUILD_DIR/src/libplutomock-private.a
DBUS_LIB=$BUILD_DIR/src/libpm-dbus.a

[ -f "$LIB" ] && [ -f "$DBUS_LIB" ] ||
  { echo "patch-cost.sh: no libraries in $BUILD_DIR/src; build first (meson setup $BUILD_DIR && meson compile -C $BUILD_DIR)" >&2; exit 1; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PKGS="glib-2.0 gobject-2.0 gio-2.0 gio-unix-2.0 libsoup-3.0 json-glib-1.0"

# shellcheck disable=SC2046
${CC:-cc} -O2 -o "$TMP/patch-cost" "$SRC_DIR/bench/patch-cost.c" \
  -I"$SRC_DIR/src" -I"$BUILD_DIR" -I"$BUILD_DIR/src" \
  $(pkg-config --cflags $PKGS) \
  "$LIB" "$DBUS_LIB" $(pkg-config --libs $PKGS) -lm

echo "# $(git -C "$SRC_DIR" describe --always --dirty 2>/dev/null || echo unknown), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ)"
"$TMP/patch-cost" "$RUNS"
