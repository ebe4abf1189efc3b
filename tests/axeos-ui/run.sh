#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Loads every page of the AxeOS web UI against one device in headless
# Chromium and reports what goes wrong (see check-ui.js).
#
#   run.sh DEVICE_URL UI_DIST_DIR OUTDIR
#
#   DEVICE_URL   the device, e.g. http://127.0.0.1:7751
#   UI_DIST_DIR  a built UI (the path build-ui.sh prints)
#   OUTDIR       where report.txt, report.json and one screenshot per page go
#
# Environment: PAGES (comma-separated page names, default all), SETTLE_MS
# (how long each page is watched after it renders, default 7000),
# RENDER_TIMEOUT_MS (default 20000), CHROMIUM (browser binary, default
# /usr/bin/chromium).
#
# Exit status: 0 no page had a problem, 1 some did (listed on stdout),
# 2 the check could not run.

set -euo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 DEVICE_URL UI_DIST_DIR OUTDIR" >&2
  exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)

command -v node >/dev/null || { echo "$0: node is not installed" >&2; exit 2; }
if [ ! -d "$here/node_modules/playwright-core" ]; then
  echo "$0: installing playwright-core (npm ci in $here)" >&2
  (cd "$here" && npm ci --no-audit --no-fund >&2) || exit 2
fi

args=(--device "$1" --dist "$2" --out "$3")
if [ -n "${PAGES:-}" ]; then
  args+=(--pages "$PAGES")
fi

exec node "$here/check-ui.js" "${args[@]}"
