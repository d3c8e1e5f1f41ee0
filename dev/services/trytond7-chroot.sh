#!/usr/bin/env bash
# Tryton 7.0 LTS for the tests (docs/tryton.md, "Tryton 7.0"): Debian trixie's tryton-server in
# a chroot built once by debootstrap and cached outside the tree, so that a bookworm machine
# (whose own tryton-server is 6.0) tests the gateway against both series.
#
#   trytond7-chroot.sh ensure         builds the chroot unless it is there; prints its root
#   trytond7-chroot.sh ready          exits 0 when it is there, 1 otherwise (needs no root)
#   trytond7-chroot.sh exec CMD ARG…  runs CMD inside it, in a clean environment
#
# `exec` replaces itself with CMD (chroot and env each exec the next), so the caller's child
# process is CMD itself: signalling it stops it. Paths in CMD's arguments are the chroot's; the
# caller keeps its files under the chroot's /tmp, which needs no mount to share.
#
# Needs root (debootstrap, chroot) and a Debian mirror: ERP_BRIDGE_DEBIAN_MIRROR, else the first
# one of the host's apt sources. ERP_BRIDGE_TRIXIE_ROOT moves the cache (default
# /var/cache/erp-bridge-trixie). Concurrent callers build it once: the build holds a lock, and
# the chroot appears under its name only when complete.
set -Eeuo pipefail

ROOT=${ERP_BRIDGE_TRIXIE_ROOT:-/var/cache/erp-bridge-trixie}
READY=.erp-bridge-ready
# SQLite is in python3's standard library: the tests need no database server in the chroot.
PACKAGES=tryton-server,tryton-modules-party

die() {
  printf 'trytond7-chroot: %s\n' "$*" >&2
  exit 1
}

host_mirror() {
  # The first non-security URI of the host's apt sources, deb822 or one-line style.
  cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
    2>/dev/null | grep -E '^(URIs:|deb )' | grep -v security | grep -o -m 1 -E 'https?://[^ ]+' |
    head -n 1
}

build() {
  command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
  local mirror=${ERP_BRIDGE_DEBIAN_MIRROR:-$(host_mirror)}
  [ -n "$mirror" ] || die "no Debian mirror in the host's apt sources: set ERP_BRIDGE_DEBIAN_MIRROR"
  local partial="$ROOT.partial"
  # A build that died may have left debootstrap's /proc or /sys mounted there: never rm through.
  if awk -v p="$partial" '$5 == p || index($5, p "/") == 1 { f = 1 } END { exit !f }' \
    /proc/self/mountinfo; then
    die "something is still mounted under $partial; unmount it, then run again"
  fi
  rm -rf -- "$partial"
  printf 'trytond7-chroot: building %s from %s (once)\n' "$ROOT" "$mirror" >&2
  # --include resolves the packages' dependencies from trixie itself; debootstrap keeps services
  # from starting while it installs them.
  if ! debootstrap --variant=minbase --include="$PACKAGES" trixie "$partial" "$mirror" \
    >"$ROOT.build.log" 2>&1; then
    tail -n 20 "$ROOT.build.log" >&2
    die "debootstrap failed (log: $ROOT.build.log)"
  fi
  chroot "$partial" /usr/bin/env -i PATH=/usr/bin:/bin apt-get clean
  touch "$partial/$READY"
  mv -T -- "$partial" "$ROOT"
  rm -f -- "$ROOT.build.log"
}

ensure() {
  if [ ! -f "$ROOT/$READY" ]; then
    [ "$(id -u)" = 0 ] || die "building the trixie chroot in $ROOT needs root (debootstrap, chroot)"
    mkdir -p "$(dirname "$ROOT")"
    exec 9>"$ROOT.lock"
    flock -w 900 9 || die "another build holds $ROOT.lock"
    if [ ! -f "$ROOT/$READY" ]; then
      [ ! -e "$ROOT" ] || die "$ROOT is not a chroot this script finished; remove it"
      build
    fi
    exec 9>&-
  fi
  printf '%s\n' "$ROOT"
}

case "${1:-}" in
  ensure) ensure ;;
  ready) [ -f "$ROOT/$READY" ] ;;
  exec)
    shift
    [ -f "$ROOT/$READY" ] || die "no chroot in $ROOT: run $0 ensure first"
    exec chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TZ=UTC \
      HOME=/tmp "$@"
    ;;
  *) die "usage: $0 ensure | ready | exec CMD [ARG…]" ;;
esac
