#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Builds the AxeOS web UI (the Angular app of ESP-Miner) for production, so
# that run.sh can load it against a plutomock device.
#
#   build-ui.sh ESP_MINER_DIR
#
# ESP_MINER_DIR is an ESP-Miner source tree (its root, or its
# main/http_server/axe-os directory).  Nothing is downloaded here apart from
# the UI's own npm dependencies, which npm installs from the registry as the
# UI's package-lock.json says.  The build is the UI's own production build
# without its last step (gzipping every file and deleting the originals), so
# the output holds plain files; run.sh serves either form.
#
# The last line printed on stdout is the absolute path of the built UI (the
# directory holding index.html); everything else goes to stderr.

set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 ESP_MINER_DIR" >&2
  exit 2
fi

src=$1
if [ -f "$src/main/http_server/axe-os/package.json" ]; then
  ui=$src/main/http_server/axe-os
elif [ -f "$src/package.json" ] && [ -f "$src/angular.json" ]; then
  ui=$src
else
  echo "$0: no AxeOS UI (main/http_server/axe-os/package.json) under '$src'" >&2
  exit 2
fi
ui=$(cd "$ui" && pwd)

command -v node >/dev/null || { echo "$0: node is not installed" >&2; exit 2; }
command -v npm >/dev/null || { echo "$0: npm is not installed" >&2; exit 2; }

cd "$ui"
start=$(date +%s)

{
  echo "== node $(node --version), npm $(npm --version), in $ui"
  if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund
  else
    npm install --no-audit --no-fund
  fi
  installed=$(date +%s)
  echo "== dependencies installed in $((installed - start)) s;" \
       "node_modules is $(du -sh node_modules | cut -f1)"

  # The API client is generated from ../openapi.yaml; the sources do not
  # hold it.
  npm run generate:api
  rm -rf dist/axe-os
  npx --no-install ng build --configuration=production
  built=$(date +%s)
  echo "== UI built in $((built - installed)) s ($((built - start)) s in all)"
} >&2

if [ -f dist/axe-os/index.html ]; then
  echo "$ui/dist/axe-os"
elif [ -f dist/axe-os/browser/index.html ]; then
  echo "$ui/dist/axe-os/browser"
else
  echo "$0: the build wrote no index.html under $ui/dist/axe-os" >&2
  exit 1
fi
