# ShoEase — developer entry points.
#
#   make deps        install what's missing (Debian packages, FerretDB)
#   make build       release build in build/
#   make build-test  ASan+UBSan debug build in build-test/
#   make run         the whole stack in the foreground: https://localhost:8443/
#   make test        unit tests + integration tests against a private stack
#   make bench       bench/run.sh
#   make bench-jobs  bench/jobs_bench.py (job queue throughput, Celery as the reference)
#   make bench-activity  bench/activity_bench.py (the cost of request activity logging)
#   make bench-checkout  bench/checkout_bench.py (orders/s with the stock invariants, browsing beside it)
#   make bench-signin    bench/signin_bench.py (sign-ins/s beside the Argon2id time, signed-in cached page)
#   make fuzz        libFuzzer on the parsers (FUZZ_SECONDS per target, default 60)
#   make stop        stop stacks left running (dev and test)
#   make clean       remove builds and test data (keeps var/dev, var/tools)
#   make distclean   also remove var/ (dev database, certificate, FerretDB link)
#
# Everything is sized for a 2-core machine: at most 2 parallel jobs.

SHELL := /bin/bash
.DEFAULT_GOAL := build
MAKEFLAGS += --no-print-directory

# Debian's Python (with python3-pytest, -requests, -aiosmtpd), not a pyenv one.
PYTHON := /usr/bin/python3
STACK := $(PYTHON) tools/stack.py
APP := build/shoease
TEST_APP := build-test/shoease

.PHONY: deps build build-test run test unit integration bench bench-jobs bench-activity bench-checkout bench-signin \
	fuzz stop status clean distclean
# Targets run one after another even under `make -j`: the builds use 2 jobs
# each already, and deps must finish before anything builds.
.NOTPARALLEL:

# tools/install-deps.sh calls sudo itself for apt when not run as root (so the
# FerretDB cache stays in the caller's home).
deps:
	@tools/install-deps.sh

build:
	@tools/build.sh build --buildtype=release

build-test:
	@tools/build.sh build-test -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

run: deps build
	@$(STACK) run --profile dev --app $(APP)

# Runs every suite even when one fails, then prints one line
# "N passed, M failed" and exits non-zero on any failure.
test: deps build build-test
	@tests/run-all.sh

# The suites on their own (no deps/build).
unit:
	meson test -C build-test --print-errorlogs --num-processes 2

integration:
	$(STACK) exec --profile test --app $(TEST_APP) -- $(PYTHON) -m pytest tests/integration -q -p no:cacheprovider

bench: build
	@if [ -x bench/run.sh ]; then bench/run.sh; else echo "bench/run.sh does not exist yet"; fi

bench-jobs: build
	@$(PYTHON) bench/jobs_bench.py

bench-activity: build
	@$(PYTHON) bench/activity_bench.py

bench-checkout: build
	@$(PYTHON) bench/checkout_bench.py

bench-signin: build
	@$(PYTHON) bench/signin_bench.py

fuzz: build
	@tools/fuzz.sh $(or $(FUZZ_SECONDS),60)

stop:
	@$(STACK) down --profile dev
	@$(STACK) down --profile test

status:
	@$(STACK) status --profile dev || true
	@$(STACK) status --profile test || true

clean:
	@$(STACK) down --profile test >/dev/null 2>&1 || true
	rm -rf build build-test var/test

distclean: clean
	@$(STACK) down --profile dev >/dev/null 2>&1 || true
	rm -rf var
