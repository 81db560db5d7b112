#!/usr/bin/env bash
# bench/run.sh — ShoEase's page benchmark (`make bench`). See bench/README.md.
# Options and environment: bench/store_bench.py --help.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec /usr/bin/python3 bench/store_bench.py "$@"
