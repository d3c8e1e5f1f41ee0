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
CHROOT_ENV=(PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TZ=UTC HOME=/tmp)

die() {
  printf 'trytond7-chroot: %s\n' "$*" >&2
  exit 1
}

# shellcheck source=dev/services/debian-chroot.sh
. "$(dirname "${BASH_SOURCE[0]}")/debian-chroot.sh"

build() {
  debootstrap_partial "$ROOT" trixie "$PACKAGES"
  local partial="$ROOT.partial"
  chroot "$partial" /usr/bin/env -i PATH=/usr/bin:/bin apt-get clean
  touch "$partial/$READY"
  mv -T -- "$partial" "$ROOT"
  rm -f -- "$ROOT.build.log"
}

build_once() {
  [ ! -f "$ROOT/$READY" ] || return 0
  [ ! -e "$ROOT" ] || die "$ROOT is not a chroot this script finished; remove it"
  build
}

ready() { [ -f "$ROOT/$READY" ]; }

ensure() {
  ready || with_build_lock "$ROOT" "the trixie chroot" build_once
  printf '%s\n' "$ROOT"
}

chroot_main "$ROOT" "$READY" "$@"
