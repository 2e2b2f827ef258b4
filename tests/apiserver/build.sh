#!/usr/bin/env bash
# Build .tools/bin/test-apiserver: the CRD API server the `apiserver` tests run (see README.md).
#
# Offline and without installing anything into the system: Go 1.26 and the Go source packages the
# server needs are Debian sid packages, unpacked (not installed) into .tools/go-root, and the
# wrapper is built in GOPATH mode against them. About 2.5 minutes on 2 cores the first time.
#
# Cached: the build is skipped while the binary exists and the hash stored beside it matches the
# wrapper's sources and this script. The unpacked packages (.tools/go-root) and Go's build cache
# (.tools/go-cache) are kept, so that editing main.go rebuilds in seconds; both may be deleted.
#
# Usage: tests/apiserver/build.sh [--force]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
TOOLS_DIR="$REPO/.tools"
export TOOLS_DIR
# shellcheck source=../../scripts/lib/debian.sh
source "$REPO/scripts/lib/debian.sh"

GO_VERSION=1.26
# The library package whose recursive Depends hold every Go package the server imports.
SERVER_PKG=golang-k8s-apiextensions-apiserver-dev
GO_ROOT="$TOOLS_DIR/go-root"
BIN="$TOOLS_DIR/bin/test-apiserver"
STAMP="$BIN.sha256"

log() { printf 'test-apiserver: %s\n' "$*" >&2; }

sources_hash() {
  (cd "$HERE" && cat ./*.go build.sh) | sha256sum | cut -d' ' -f1
}

want=$(sources_hash)
mkdir -p "$TOOLS_DIR/bin"
# One build at a time (make setup and a developer may run this together); the loser then finds
# the binary up to date.
exec 9>"$TOOLS_DIR/test-apiserver.lock"
flock 9
if [[ ${1:-} != --force && -x $BIN && -f $STAMP && $(cat "$STAMP") == "$want" ]]; then
  log "up to date ($BIN)"
  exit 0
fi

started=$SECONDS
deb_update sid
# Only the Go source packages (golang-*-dev): the rest of the closure (libc, protoc, ...) is not
# needed to compile pure Go with CGO off.
mapfile -t packages < <(
  printf '%s\n' "golang-$GO_VERSION-go" "golang-$GO_VERSION-src"
  deb_depends sid "$SERVER_PKG" | grep -E '^golang-.*-dev$'
)
packages_hash=$(printf '%s\n' "${packages[@]}" | sha256sum | cut -d' ' -f1)
if [[ ! -f $GO_ROOT/.unpacked || $(cat "$GO_ROOT/.unpacked") != "$packages_hash" ]]; then
  log "unpacking ${#packages[@]} Debian packages into $GO_ROOT"
  rm -rf "$GO_ROOT"
  deb_unpack sid "$GO_ROOT" "${packages[@]}"
  printf '%s\n' "$packages_hash" >"$GO_ROOT/.unpacked"
fi

# The k8s.io/* Go modules are versioned 0.MINOR.PATCH for Kubernetes 1.MINOR.PATCH. Stamped into the
# binary because clients (`kubectl version`) cannot parse the library's "v0.0.0-master" default.
k8s_version=$(zcat "$GO_ROOT/usr/share/doc/$SERVER_PKG/changelog.Debian.gz" |
  sed -nE '1s/^[^(]*\(0\.([0-9]+)\.([0-9]+)-.*/1.\1.\2/p')
[[ -n $k8s_version ]] || { log "cannot read the Kubernetes version of $SERVER_PKG"; exit 1; }
version_pkg=k8s.io/component-base/version
ldflags="-s -w -X $version_pkg.gitVersion=v$k8s_version -X $version_pkg.gitMajor=1"
ldflags+=" -X $version_pkg.gitMinor=$(cut -d. -f2 <<<"$k8s_version") -X $version_pkg.gitTreeState=clean"
ldflags+=" -X $version_pkg.gitCommit=debian-$SERVER_PKG"

GOROOT="$GO_ROOT/usr/lib/go-$GO_VERSION"
mkdir -p "$TOOLS_DIR/gopath" "$TOOLS_DIR/go-cache"
log "building Kubernetes $k8s_version's apiextensions-apiserver (GOPATH mode, offline)"
(
  cd "$HERE"
  env GOROOT="$GOROOT" \
    GOPATH="$TOOLS_DIR/gopath:$GO_ROOT/usr/share/gocode" \
    GOCACHE="$TOOLS_DIR/go-cache" \
    GO111MODULE=off GOPROXY=off GOTOOLCHAIN=local GOFLAGS= CGO_ENABLED=0 \
    "$GOROOT/bin/go" build -trimpath -ldflags="$ldflags" -o "$BIN.tmp" .
)
mv "$BIN.tmp" "$BIN"
printf '%s\n' "$want" >"$STAMP"
log "built $BIN in $((SECONDS - started)) s"
