#!/usr/bin/env bash
# build.sh BUILDDIR [MESON OPTIONS...] — configure (once) and compile.
#
# meson.build reads its source list from tools/list-sources.sh at configure
# time, so a new or removed .c file needs `meson setup --reconfigure`. We keep
# the lists (lib, tests, fuzz) that BUILDDIR was configured with in BUILDDIR/.shoease-sources
# and reconfigure whenever the current list differs (or the options do).
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${1:?usage: tools/build.sh BUILDDIR [meson options]}
shift
jobs=${JOBS:-2}

stamp=$dir/.shoease-sources
want=$( { tools/list-sources.sh lib; tools/list-sources.sh tests; tools/list-sources.sh fuzz 2>/dev/null || true; printf 'options: %s\n' "$*"; } )

if [ ! -f "$dir/build.ninja" ]; then
  echo "[build] meson setup $dir $*"
  rm -rf "$dir"
  meson setup "$dir" "$@"
elif [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "[build] source list or options changed: meson setup --reconfigure $dir"
  meson setup --reconfigure "$dir" "$@"
fi
printf '%s\n' "$want" >"$stamp"
meson compile -C "$dir" -j "$jobs"
