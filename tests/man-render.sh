#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The manual pages as built: each renders without a single warning from
# groff (and from man, when it is installed), and each names every option
# and variable that the programs' own --help prints, every plutomockctl
# command's options in that command's entry, so a page cannot fall behind
# the code.  TAP output.
#
# Usage: man-render.sh PLUTOMOCK.1 PLUTOMOCKCTL.1 PLUTOMOCK PLUTOMOCKCTL

set -u

if [ $# -ne 4 ]; then
  echo "usage: $0 PLUTOMOCK.1 PLUTOMOCKCTL.1 PLUTOMOCK PLUTOMOCKCTL" >&2
  exit 2
fi
daemon_page=$1
ctl_page=$2
daemon=$3
ctl=$4

# The programs' English help, whatever the machine's locale.
export LC_ALL=C.UTF-8 LANGUAGE=

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

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
}
# Indents what follows as a TAP comment.
comment () {
  sed 's/^/# /'
}

# The page as text on lines long enough that nothing is broken or
# hyphenated; the hyphens and minus signs groff may use read as '-'.
render () {
  groff -mandoc -Tutf8 -rLL=4000n -P-c -P-b -P-u "$1" 2>/dev/null |
    sed -e 's/\xe2\x80\x90/-/g' -e 's/\xe2\x80\x91/-/g' -e 's/\xe2\x88\x92/-/g'
}

# The lines of section $2 (a heading such as OPTIONS) of rendered page $1.
section () {
  awk -v name="$2" '/^[A-Z][A-Z ]*$/ { on = ($0 == name); next } on' "$1"
}

# Whether file $2 names option or variable $1 as a word of its own.
names () {
  grep -qE -- "(^|[^A-Za-z0-9_-])$1([^A-Za-z0-9_-]|\$)" "$2"
}

# The options of a --help text on standard input, one a line: "-l",
# "--listing-port", ... (the column before the descriptions).
help_options () {
  sed -n 's/^  \(-[^ ].*\)$/\1/p' | sed 's/   .*//' | tr ',' '\n' |
    sed -e 's/^ *//' -e 's/[= ].*//' -e 's/\[$//' | grep -E '^--?[A-Za-z0-9?]' | sort -u
}

# The environment variables a --help text names: NAME_WITH_UNDERSCORES, and
# the single words in "(PORTS, default ...)" or "(SCENARIO)".
help_variables () {
  local text
  text=$(cat)
  {
    grep -oE '\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b' <<<"$text"
    grep -oE '\([A-Z][A-Z0-9_]+[,)]' <<<"$text" | tr -d '(),'
  } | sort -u
}

# ---- rendering -------------------------------------------------------------

for page in "$daemon_page" "$ctl_page"; do
  name=$(basename "$page")
  if groff -mandoc -Tutf8 -ww -z "$page" >"$work/groff.err" 2>&1 && [ ! -s "$work/groff.err" ]; then
    ok "$name renders without a groff warning"
  else
    not_ok "$name renders without a groff warning"
    comment <"$work/groff.err"
  fi
  if command -v man >/dev/null; then
    if MANWIDTH=80 man --warnings -E UTF-8 -l "$page" >/dev/null 2>"$work/man.err" && [ ! -s "$work/man.err" ]; then
      ok "$name: man -l says nothing"
    else
      not_ok "$name: man -l says nothing"
      comment <"$work/man.err"
    fi
  fi
done

render "$daemon_page" >"$work/daemon.txt"
render "$ctl_page" >"$work/ctl.txt"

# Checks that every name on standard input is in file $1; $2 says what is
# checked, for the TAP line; fails if there are fewer than $3 names, so
# that a help text the parsing no longer understands cannot pass.
check_all () {
  local file=$1 what=$2 at_least=$3 count=0 missing=
  while read -r item; do
    count=$((count + 1))
    names "$item" "$file" || missing="$missing $item"
  done
  if [ -z "$missing" ] && [ "$count" -ge "$at_least" ]; then
    ok "$what ($count)"
  elif [ -n "$missing" ]; then
    not_ok "$what: missing$missing"
  else
    not_ok "$what: only $count found in --help"
  fi
}

# ---- plutomock ---------------------------------------------------------------

if "$daemon" --help >"$work/daemon.help" 2>&1; then
  ok "plutomock --help"
else
  not_ok "plutomock --help"
  comment <"$work/daemon.help"
fi
section "$work/daemon.txt" OPTIONS >"$work/daemon.options"
section "$work/daemon.txt" ENVIRONMENT >"$work/daemon.environment"
check_all "$work/daemon.options" "plutomock(1) OPTIONS names every option of plutomock --help" 10 \
  < <(help_options <"$work/daemon.help")
check_all "$work/daemon.environment" "plutomock(1) ENVIRONMENT names every variable of plutomock --help" 5 \
  < <(help_variables <"$work/daemon.help")

# ---- plutomockctl -------------------------------------------------------------

if "$ctl" --help >"$work/ctl.help" 2>&1; then
  ok "plutomockctl --help"
else
  not_ok "plutomockctl --help"
  comment <"$work/ctl.help"
fi
section "$work/ctl.txt" OPTIONS >"$work/ctl.options"
section "$work/ctl.txt" ENVIRONMENT >"$work/ctl.environment"
section "$work/ctl.txt" COMMANDS >"$work/ctl.commands"
# Only the options before "Commands:": the rest describes the commands.
check_all "$work/ctl.options" "plutomockctl(1) OPTIONS names every option of plutomockctl --help" 3 \
  < <(sed '/^Commands:/,$d' "$work/ctl.help" | help_options)
check_all "$work/ctl.environment" "plutomockctl(1) ENVIRONMENT names every variable of plutomockctl --help" 1 \
  < <(help_variables <"$work/ctl.help")

# The commands --help lists: "  list      List the devices...".
commands=$(sed -n '/^Commands:/,/^$/p' "$work/ctl.help" | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p')
if [ "$(wc -w <<<"$commands")" -ge 5 ]; then
  ok "plutomockctl --help lists its commands ($(wc -w <<<"$commands"))"
else
  not_ok "plutomockctl --help lists its commands: only '$commands'"
fi

# Each command's entry in COMMANDS: from its line at the entries' indent
# to the next; the text before the first entry holds for all.
awk -v dir="$work" '
  /^       [a-z][a-z-]*( |$)/ { split ($0, words, " "); file = dir "/entry." words[1]; print > file; next }
  { if (file == "") print > (dir "/entry-common"); else print > file }
' "$work/ctl.commands"
touch "$work/entry-common"

for command in $commands; do
  if [ ! -f "$work/entry.$command" ]; then
    not_ok "plutomockctl(1) COMMANDS has an entry for $command"
    continue
  fi
  ok "plutomockctl(1) COMMANDS has an entry for $command"
  if ! "$ctl" "$command" --help >"$work/help.$command" 2>&1; then
    not_ok "plutomockctl $command --help"
    comment <"$work/help.$command"
    continue
  fi
  cat "$work/entry.$command" "$work/entry-common" >"$work/entry-all.$command"
  check_all "$work/entry-all.$command" "plutomockctl(1) $command names every option of plutomockctl $command --help" 2 \
    < <(help_options <"$work/help.$command")
done

echo "1..$n"
[ "$failed" -eq 0 ]
