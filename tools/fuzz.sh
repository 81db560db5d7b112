#!/usr/bin/env bash
# fuzz.sh — open-ended fuzzing of the parsers of outside input with clang's
# libFuzzer (+ASan/UBSan). `make test` already replays each target's corpus
# with deterministic mutations; this is for longer hunts.
#
#   tools/fuzz.sh [SECONDS_PER_TARGET]     (default 60)
#
# New inputs that raise coverage go to var/fuzz/corpus/<target>/ (the
# committed seeds in tests/fuzz/corpus/ stay small; copy an interesting find
# there by hand). Crashes are written to var/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
if ! command -v clang >/dev/null; then
  echo "[fuzz] installing clang (Debian)"
  ${SUDO:-$([ "$(id -u)" -ne 0 ] && echo sudo)} apt-get install -y -qq clang >/dev/null
fi
[ -f build/version.h ] || tools/build.sh build --buildtype=release
# the same pkg-config modules as meson.build's deps
mods="libmicrohttpd libmariadb hiredis libmongoc-1.0 jansson libsodium libxxhash libcurl cairo vips zlib libseccomp"
mkdir -p var/fuzz/bin
mapfile -t lib < <(tools/list-sources.sh lib)
for target in $(tools/list-sources.sh fuzz); do
  name=$(basename "$target" .c)
  bin=var/fuzz/bin/$name
  echo "[fuzz] building $name"
  # shellcheck disable=SC2046
  clang -std=c17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Isrc -Ibuild \
    $(pkg-config --cflags $mods) "$target" "${lib[@]}" $(pkg-config --libs $mods) -lm -lpthread -o "$bin"
  seeds=tests/fuzz/corpus/${name#fuzz_}
  found=var/fuzz/corpus/${name#fuzz_}
  mkdir -p "$found"
  echo "[fuzz] running $name for ${secs}s on $seeds (+ $found)"
  "$bin" -max_total_time="$secs" -artifact_prefix=var/fuzz/ -max_len=65536 "$found" "$seeds"
done
