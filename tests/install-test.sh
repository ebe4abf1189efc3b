#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Builds plutomock from this source tree into a fresh prefix, installs it,
# and checks what a user gets: the programs, the D-Bus activation file,
# the interface description, the systemd user unit (checked with
# systemd-analyze), the example environment and the translations, which
# the installed plutomockctl and plutomock must use.  TAP output.
#
# Usage: install-test.sh SOURCE_DIR

set -u

source_dir=${1:?usage: install-test.sh SOURCE_DIR}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
n=0
failed=0

ok () {
  n=$((n + 1))
  echo "ok $n - $1"
}

not_ok () {
  n=$((n + 1))
  failed=$((failed + 1))
  echo "not ok $n - $1"
  shift
  for line in "$@"; do
    printf '#   %s\n' "$line"
  done
}

check () {
  local description=$1
  shift
  if "$@"; then ok "$description"; else not_ok "$description" "failed: $*"; fi
}

contains () {
  grep -qF -- "$2" "$1"
}

echo "1..17"

if ! meson setup "$work/build" "$source_dir" --prefix "$prefix" -Dtests=false >"$work/setup.log" 2>&1 ||
   ! meson install -C "$work/build" >"$work/install.log" 2>&1; then
  not_ok "meson setup and install into a fresh prefix" "$(tail -n 20 "$work/setup.log" "$work/install.log" 2>/dev/null)"
  echo "Bail out! nothing installed"
  exit 1
fi
ok "meson setup and install into a fresh prefix"

check "the daemon is installed" test -x "$prefix/bin/plutomock"
check "plutomockctl is installed" test -x "$prefix/bin/plutomockctl"

service=$prefix/share/dbus-1/services/org.pluto.Mock1.service
check "the activation file names the installed daemon" contains "$service" "Exec=$prefix/bin/plutomock"
check "the activation file hands over to the user unit" contains "$service" "SystemdService=plutomock.service"
check "the interface description is installed" contains "$prefix/share/dbus-1/interfaces/org.pluto.Mock1.xml" '<interface name="org.pluto.Mock1.Manager">'
check "the example environment is installed" contains "$prefix/share/plutomock/plutomock.env" "LISTING_PORT="

unit=$(find "$prefix" -name plutomock.service -path '*systemd/user*' | head -n 1)
if [ -n "$unit" ]; then
  ok "the user unit is installed (${unit#"$prefix"/})"
else
  not_ok "the user unit is installed" "no */systemd/user/plutomock.service under the prefix"
fi
check "the unit starts the installed daemon" contains "${unit:-/dev/null}" "ExecStart=$prefix/bin/plutomock"
check "the unit is a D-Bus service" contains "${unit:-/dev/null}" "BusName=org.pluto.Mock1"

if command -v systemd-analyze >/dev/null; then
  mkdir -m 700 "$work/runtime"
  if output=$(XDG_RUNTIME_DIR=$work/runtime systemd-analyze --user verify "${unit:-/dev/null}" 2>&1) && [ -z "$output" ]; then
    ok "systemd-analyze --user verify accepts the unit"
  else
    not_ok "systemd-analyze --user verify accepts the unit" "$output"
  fi
else
  ok "systemd-analyze --user verify accepts the unit # SKIP systemd-analyze is not installed"
fi

check "the Italian translation is installed" test -f "$prefix/share/locale/it/LC_MESSAGES/plutomock.mo"

# LANGUAGE needs a locale other than C; C.UTF-8 is always there.
ctl_help=$(LC_ALL=C.UTF-8 LANGUAGE=it "$prefix/bin/plutomockctl" --help 2>&1)
if grep -q "Comandi" <<<"$ctl_help" && ! grep -q "Commands" <<<"$ctl_help"; then
  ok "plutomockctl --help speaks Italian under LANGUAGE=it"
else
  not_ok "plutomockctl --help speaks Italian under LANGUAGE=it" "$ctl_help"
fi

daemon_help=$(LC_ALL=C.UTF-8 LANGUAGE=it "$prefix/bin/plutomock" --help 2>&1)
if grep -q "Porta del server" <<<"$daemon_help"; then
  ok "plutomock --help speaks Italian under LANGUAGE=it"
else
  not_ok "plutomock --help speaks Italian under LANGUAGE=it" "$daemon_help"
fi

en_help=$(LC_ALL=C.UTF-8 LANGUAGE= "$prefix/bin/plutomockctl" --help 2>&1)
if grep -q "Commands" <<<"$en_help"; then
  ok "plutomockctl --help stays English without LANGUAGE"
else
  not_ok "plutomockctl --help stays English without LANGUAGE" "$en_help"
fi

# Every source file with marked strings is in POTFILES.in, and every
# translation is complete and well-formed.
missing=$(cd "$source_dir" && grep -l -E '\b(N?_|C_|ngettext)\("' src/*.c | while read -r f; do
  grep -qx "$f" po/POTFILES.in || echo "$f"; done)
if [ -z "$missing" ]; then
  ok "po/POTFILES.in lists every source with translatable strings"
else
  not_ok "po/POTFILES.in lists every source with translatable strings" "missing: $missing"
fi

bad_po=
for po in "$source_dir"/po/*.po; do
  out=$(msgfmt --check --statistics -o /dev/null "$po" 2>&1)
  if ! grep -q "translated messages\.$" <<<"$out" || grep -q -e fuzzy -e untranslated <<<"$out"; then
    bad_po="$bad_po ${po##*/}: $out"
  fi
done
if [ -z "$bad_po" ]; then
  ok "every translation is complete and passes msgfmt --check"
else
  not_ok "every translation is complete and passes msgfmt --check" "$bad_po"
fi

[ "$failed" -eq 0 ]
