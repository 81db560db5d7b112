#!/usr/bin/env bash
# install-deps.sh — everything ShoEase needs to build, run and test, on
# Debian 12. Idempotent: only missing packages are installed, and FerretDB and
# stripe-mock (Go programs with no Debian package) are built once into a
# per-user cache outside the repository (~/.cache/shoease/bin/NAME-VERSION)
# and linked into var/tools/bin/.
#
#   tools/install-deps.sh            (as root, or it re-runs itself via sudo)
#
# Environment:
#   SHOEASE_SKIP_APT=1      skip the Debian packages (just the Go programs)
#   SHOEASE_SKIP_FERRETDB=1 skip FerretDB
#   SHOEASE_SKIP_STRIPE_MOCK=1 skip stripe-mock
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$(pwd)

FERRETDB_VERSION=v1.24.0
FERRETDB_PKG=github.com/FerretDB/FerretDB/cmd/ferretdb
# Stripe's official mock of its API (plays Stripe for the local stack and the
# tests: tools/stack.py's `stripe` service). Pinned; `stripe-mock -version`
# must report this version.
STRIPE_MOCK_VERSION=v0.203.0
STRIPE_MOCK_PKG=github.com/stripe/stripe-mock
# Toolchain used when the machine's Go is too old for FerretDB (it needs
# Go >= 1.21 semantics); fetched as a module through the Go module proxy.
FALLBACK_TOOLCHAIN=go1.22.12
# The per-user cache of built Go programs. When re-run through sudo, $HOME
# may be root's; that's fine, the cache is per user and the repo gets a link.
CACHE_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/shoease/bin

PACKAGES=(
  build-essential pkg-config meson ninja-build
  libmicrohttpd-dev libmariadb-dev libhiredis-dev libmongoc-dev libbson-dev
  libjansson-dev libsodium-dev libcurl4-openssl-dev libcairo2-dev zlib1g-dev
  libxxhash-dev libjemalloc-dev libssl-dev liboath-dev libqrencode-dev
  libcmocka-dev libseccomp-dev libvips-dev
  mariadb-server mariadb-client redis-server redis-tools nginx-light
  wrk openssl curl
  python3 python3-pytest python3-aiosmtpd python3-requests python3-jsonschema
  chromium
)
# Services whose Debian packages would start a system instance.
SERVICES=(mariadb redis-server nginx)

say() { printf '[deps] %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
  command -v sudo >/dev/null || { say "not root and no sudo: run as root"; exit 1; }
else
  SUDO=
fi

installed() { # installed PKG -> 0 when dpkg has it fully installed
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

service_active() { # is a system service running right now?
  local s=$1
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl is-active --quiet "$s" 2>/dev/null
  else
    case $s in
      mariadb) pgrep -x mariadbd >/dev/null || pgrep -x mysqld >/dev/null ;;
      redis-server) pgrep -x redis-server >/dev/null ;;
      nginx) pgrep -x nginx >/dev/null ;;
    esac
  fi
}

stop_service() {
  local s=$1
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    $SUDO systemctl stop "$s" 2>/dev/null || true
    $SUDO systemctl disable "$s" 2>/dev/null || true
  else
    $SUDO service "$s" stop >/dev/null 2>&1 || true
  fi
}

# ---------------------------------------------------------------- Debian ---
if [ "${SHOEASE_SKIP_APT:-0}" != 1 ]; then
  missing=()
  for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
  if ! command -v go >/dev/null && ! installed golang-go; then missing+=(golang-go); fi
  # The browser test runs on Node (playwright-core from npm, Debian's Chromium).
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    for p in nodejs npm; do installed "$p" || missing+=("$p"); done
  fi

  if [ ${#missing[@]} -eq 0 ]; then
    say "Debian packages: all present"
  else
    say "Debian packages missing: ${missing[*]}"
    # Remember which services were already running, so a machine that runs
    # its own mariadb/redis/nginx keeps them; anything the install starts we
    # stop again.
    declare -A was_running=()
    for s in "${SERVICES[@]}"; do
      if service_active "$s"; then was_running[$s]=1; fi
    done
    # policy-rc.d: forbid service starts during the install (unless the
    # machine already has one, e.g. a container image).
    guard=
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      guard=/usr/sbin/policy-rc.d
      printf '#!/bin/sh\n# temporary: tools/install-deps.sh (ShoEase)\nexit 101\n' | $SUDO tee "$guard" >/dev/null
      $SUDO chmod 755 "$guard"
      trap '$SUDO rm -f "$guard"' EXIT
    fi
    say "apt-get update"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    say "apt-get install ${missing[*]}"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    if [ -n "$guard" ]; then $SUDO rm -f "$guard"; trap - EXIT; fi
    for s in "${SERVICES[@]}"; do
      if [ -z "${was_running[$s]:-}" ] && service_active "$s"; then
        say "stopping system $s (ShoEase runs its own on private ports)"
        stop_service "$s"
      fi
    done
    say "Debian packages: installed"
  fi
fi

# ---------------------------------------------------------- Go toolchain ---
# go_toolchain: sets GO (the go command) and gobuild_env (an `env ...` prefix
# for builds), once. A modern Go (>= 1.21) may fetch a newer toolchain when a
# go.mod asks; Debian 12's golang-go (1.19) gets FALLBACK_TOOLCHAIN instead.
GO=
gobuild_env=()
go_toolchain() {
  [ -z "$GO" ] || return 0
  GO=$(command -v go || true)
  [ -n "$GO" ] || GO=/usr/lib/go/bin/go
  [ -x "$GO" ] || { say "no Go toolchain found"; exit 1; }
  gover=$("$GO" env GOVERSION 2>/dev/null || "$GO" version | awk '{print $3}')
  minor=$(printf '%s' "$gover" | sed -E 's/^go1\.([0-9]+).*/\1/')
  gobuild_env=(env GOFLAGS=-buildvcs=false CGO_ENABLED=0)
  if [ "${minor:-0}" -ge 21 ] 2>/dev/null && [ "${SHOEASE_FORCE_GO_FALLBACK:-0}" != 1 ]; then
    # Modern Go: let it fetch a newer toolchain if a go.mod asks.
    gobuild_env+=(GOTOOLCHAIN=auto)
  else
    # Go < 1.21 (Debian 12's golang-go is 1.19) knows nothing of
    # GOTOOLCHAIN: fetch the toolchain module golang.org/toolchain through
    # the module proxy, copy it out of the read-only module cache and make
    # its programs executable (the module zip carries no exec bits).
    tcroot=${XDG_CACHE_HOME:-$HOME/.cache}/shoease/$FALLBACK_TOOLCHAIN
    if [ ! -x "$tcroot/bin/go" ]; then
      say "Go $gover is too old for FerretDB and stripe-mock; fetching $FALLBACK_TOOLCHAIN via the Go module proxy"
      arch=$("$GO" env GOARCH)
      tcmod="golang.org/toolchain@v0.0.1-$FALLBACK_TOOLCHAIN.linux-$arch"
      tcdir=$(cd /tmp && GOFLAGS=-mod=mod "$GO" mod download -json "$tcmod" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
      [ -d "$tcdir/bin" ] || { say "could not fetch $tcmod"; exit 1; }
      rm -rf "$tcroot.tmp"
      cp -r "$tcdir" "$tcroot.tmp"
      chmod -R u+w "$tcroot.tmp"
      chmod +x "$tcroot.tmp"/bin/* "$tcroot.tmp"/pkg/tool/*/*
      rm -rf "$tcroot"
      mv "$tcroot.tmp" "$tcroot"
    fi
    GO=$tcroot/bin/go
    gobuild_env+=(GOTOOLCHAIN=local GOROOT="$tcroot")
  fi
}

# -------------------------------------------------------------- FerretDB ---
if [ "${SHOEASE_SKIP_FERRETDB:-0}" != 1 ]; then
  CACHED=$CACHE_DIR/ferretdb-$FERRETDB_VERSION
  LINK=$REPO/var/tools/bin/ferretdb
  mkdir -p "$CACHE_DIR" "$REPO/var/tools/bin"

  if [ -x "$CACHED" ] && "$CACHED" --version >/dev/null 2>&1; then
    say "FerretDB $FERRETDB_VERSION: cached at $CACHED"
  else
    go_toolchain
    # `go install ...@v1.24.0` builds, but the binary panics at start: the
    # module zip lacks build/version/version.txt (FerretDB's release tooling
    # generates it). So: fetch the module through the proxy, copy it, write
    # version.txt, and build that copy.
    say "building FerretDB $FERRETDB_VERSION with $("$GO" version | awk '{print $3}') (takes a few minutes)"
    work=$(mktemp -d)
    trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
    srcdir=$(cd "$work" && "${gobuild_env[@]}" "$GO" mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" \
             | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [ -d "$srcdir" ] || { say "could not download FerretDB $FERRETDB_VERSION"; exit 1; }
    cp -r "$srcdir" "$work/src"
    chmod -R u+w "$work/src"
    printf '%s\n' "$FERRETDB_VERSION" >"$work/src/build/version/version.txt"
    printf 'shoease-source-build\n' >"$work/src/build/version/package.txt"
    (cd "$work/src" && "${gobuild_env[@]}" GOMAXPROCS=2 "$GO" build -p 2 -trimpath -o "$work/ferretdb" ./cmd/ferretdb)
    "$work/ferretdb" --version >/dev/null || { say "built FerretDB does not run"; exit 1; }
    mv -f "$work/ferretdb" "$CACHED.tmp"
    mv -f "$CACHED.tmp" "$CACHED"
    chmod -R u+w "$work"; rm -rf "$work"; trap - EXIT
    say "FerretDB $FERRETDB_VERSION: built into $CACHED"
  fi
  if [ "$(readlink "$LINK" 2>/dev/null)" != "$CACHED" ]; then
    ln -sfn "$CACHED" "$LINK"
  fi
  # A sudo run leaves root-owned files in the repo's var/: hand them back.
  if [ -n "${SUDO_UID:-}" ]; then chown -h "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$REPO/var" "$REPO/var/tools" "$REPO/var/tools/bin" "$LINK" 2>/dev/null || true; fi
  say "FerretDB: var/tools/bin/ferretdb -> $CACHED"
fi

# ----------------------------------------------------------- stripe-mock ---
# Stripe's mock API server: the local stack's and the tests' Stripe
# (tools/stack.py, service `stripe`). stripe-mock's go.mod asks for Go 1.22,
# so Debian's Go 1.19 uses the fallback toolchain too. `go install` of the
# pinned module version (through the Go module proxy) into a temporary GOBIN;
# the version string is normally stamped by Stripe's release tooling, so it is
# set with -ldflags, and `stripe-mock -version` must then name it.
if [ "${SHOEASE_SKIP_STRIPE_MOCK:-0}" != 1 ]; then
  CACHED=$CACHE_DIR/stripe-mock-$STRIPE_MOCK_VERSION
  LINK=$REPO/var/tools/bin/stripe-mock
  mkdir -p "$CACHE_DIR" "$REPO/var/tools/bin"

  stripe_mock_ok() { # stripe_mock_ok BINARY -> 0 when it runs and is the pinned version
    [ -x "$1" ] && "$1" -version 2>/dev/null | grep -qx "stripe-mock $STRIPE_MOCK_VERSION"
  }
  if stripe_mock_ok "$CACHED"; then
    say "stripe-mock $STRIPE_MOCK_VERSION: cached at $CACHED"
  else
    go_toolchain
    say "building stripe-mock $STRIPE_MOCK_VERSION with $("$GO" version | awk '{print $3}')"
    work=$(mktemp -d)
    trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
    (cd "$work" && "${gobuild_env[@]}" GOBIN="$work/bin" GOMAXPROCS=2 \
       "$GO" install -p 2 -trimpath -ldflags "-s -w -X main.version=$STRIPE_MOCK_VERSION" \
       "$STRIPE_MOCK_PKG@$STRIPE_MOCK_VERSION")
    stripe_mock_ok "$work/bin/stripe-mock" || { say "built stripe-mock does not run or is not $STRIPE_MOCK_VERSION"; exit 1; }
    mv -f "$work/bin/stripe-mock" "$CACHED.tmp"
    mv -f "$CACHED.tmp" "$CACHED"
    chmod -R u+w "$work"; rm -rf "$work"; trap - EXIT
    say "stripe-mock $STRIPE_MOCK_VERSION: built into $CACHED"
  fi
  if [ "$(readlink "$LINK" 2>/dev/null)" != "$CACHED" ]; then
    ln -sfn "$CACHED" "$LINK"
  fi
  if [ -n "${SUDO_UID:-}" ]; then chown -h "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$REPO/var" "$REPO/var/tools" "$REPO/var/tools/bin" "$LINK" 2>/dev/null || true; fi
  say "stripe-mock: var/tools/bin/stripe-mock -> $CACHED"
fi

say "done"
