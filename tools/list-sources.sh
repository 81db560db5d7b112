#!/bin/sh
# Lists C sources for meson.build: `lib` = src/**/*.c but main.c and fuzz
# targets; `tests` = tests/unit/test_*.c; `fuzz` = tests/fuzz/fuzz_*.c. Sorted so the list is stable.
cd "$(dirname "$0")/.." || exit 1
case "$1" in
  lib) find src -name '*.c' ! -path src/main.c | LC_ALL=C sort ;;
  tests) find tests/unit -name 'test_*.c' 2>/dev/null | LC_ALL=C sort ;;
  fuzz) find tests/fuzz -name 'fuzz_*.c' 2>/dev/null | LC_ALL=C sort ;;
  *) echo "usage: $0 lib|tests|fuzz" >&2; exit 2 ;;
esac
