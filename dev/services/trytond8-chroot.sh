#!/usr/bin/env bash
# Tryton 8.0 LTS for the tests (docs/tryton.md, "Tryton 8.0"): upstream's own 8.0 source, vendored
# beside this script (trytond8/, GPL-3; its README says where it comes from), run on the packages
# of a Debian sid chroot built once by debootstrap and cached outside the tree. No Debian suite
# ships trytond 8.0, and sid is the one whose packages carry every dependency it has.
#
#   trytond8-chroot.sh ensure         builds the chroot and unpacks the source unless they are
#                                     there; prints the chroot's root
#   trytond8-chroot.sh ready          exits 0 when both are there and current, 1 otherwise (needs
#                                     no root)
#   trytond8-chroot.sh exec CMD ARG…  runs CMD inside it, in a clean environment: `trytond` and
#                                     `trytond-admin` are 8.0's, from the source
#
# `exec` replaces itself with CMD (chroot, env and the two commands' wrappers each exec the next),
# so the caller's child process is trytond itself: signalling it stops it. Paths in CMD's
# arguments are the chroot's; the caller keeps its files under the chroot's /tmp, which needs no
# mount to share.
#
# Needs root (debootstrap, chroot) and a Debian mirror: ERP_BRIDGE_DEBIAN_MIRROR, else the first
# one of the host's apt sources. ERP_BRIDGE_TRYTOND8_ROOT moves the cache (default
# /var/cache/erp-bridge-trytond8, about 300 MB). Concurrent callers build it once: the build holds
# a lock, and the chroot appears under its name only when complete. A new tarball in trytond8/
# (another commit of upstream's) is unpacked again at the next `ensure`; the packages are kept.
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=${ERP_BRIDGE_TRYTOND8_ROOT:-/var/cache/erp-bridge-trytond8}
READY=.erp-bridge-ready
TARBALL=$HERE/trytond8/trytond-8.0.6-src.tar.gz
# Where the source lives in the chroot; `.source` there holds the tarball's SHA-256.
SRC=/opt/trytond-8.0
# The modules the tarball carries; the tests activate party, which needs country and currency.
MODULES="party country currency company"
# trytond 8.0's dependencies (its pyproject.toml), with rnc2rng to compile its .rnc view schemas
# as upstream's build does. psycopg for the PostgreSQL backend; the tests use SQLite, which is in
# python3's standard library.
PACKAGES=python3,python3-sql,python3-pwdlib,python3-argon2,python3-simpleeval,python3-relatorio
PACKAGES+=,python3-genshi,python3-werkzeug,python3-defusedxml,python3-polib,python3-dateutil
PACKAGES+=,python3-lxml,python3-stdnum,python3-psycopg,python3-psycopg-pool,python3-magic
PACKAGES+=,python3-rnc2rng
CHROOT_ENV=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TZ=UTC
  HOME=/tmp)

die() {
  printf 'trytond8-chroot: %s\n' "$*" >&2
  exit 1
}

case "$ROOT" in /*) ;; *) die "ERP_BRIDGE_TRYTOND8_ROOT must be an absolute path" ;; esac

# shellcheck source=dev/services/debian-chroot.sh
. "$HERE/debian-chroot.sh"

in_chroot() {
  chroot "$1" /usr/bin/env -i "${CHROOT_ENV[@]}" "${@:2}"
}

build_chroot() {
  debootstrap_partial "$ROOT" sid "$PACKAGES"
  local partial="$ROOT.partial"
  in_chroot "$partial" apt-get clean
  unpack_source "$partial"
  touch "$partial/$READY"
  mv -T -- "$partial" "$ROOT"
  rm -f -- "$ROOT.build.log"
}

# unpack_source DIR: the tarball into DIR$SRC, the modules where an installed trytond has them,
# the .rnc schemas compiled, and the two commands' wrappers; done again when the tarball changed.
unpack_source() {
  local dir=$1 sum
  sum=$(sha256sum "$TARBALL" | cut -d' ' -f1)
  [ "$(cat "$dir$SRC/.source" 2>/dev/null)" != "$sum" ] || return 0
  local partial="$dir$SRC.partial"
  rm -rf -- "$partial"
  mkdir -p "$partial"
  tar -xzf "$TARBALL" -C "$partial" || die "cannot unpack $TARBALL"
  for module in $MODULES; do
    [ -d "$partial/modules/$module" ] || die "$TARBALL holds no module $module"
    mv -T "$partial/modules/$module" "$partial/trytond/trytond/modules/$module"
  done
  rmdir "$partial/modules" 2>/dev/null || die "$TARBALL holds other modules than: $MODULES"
  # Upstream's build (hatch_build.py) compiles every .rnc schema to .rng: the same, with rnc2rng.
  in_chroot "$dir" /bin/sh -c \
    'cd "$1" && find . -name "*.rnc" | while read -r f; do rnc2rng "$f" "${f%.rnc}.rng" || exit 1; done' \
    sh "$SRC.partial/trytond" || die "rnc2rng failed"
  [ -f "$partial/trytond/trytond/ir/ui/tree.rng" ] || die "no compiled .rng schemas"
  for command in trytond trytond-admin; do
    printf '#!/bin/sh\nPYTHONPATH=%s/trytond exec python3 %s/trytond/bin/%s "$@"\n' \
      "$SRC" "$SRC" "$command" >"$dir/usr/local/bin/$command"
    chmod 755 "$dir/usr/local/bin/$command"
  done
  printf '%s\n' "$sum" >"$partial/.source"
  rm -rf -- "$dir$SRC"
  mv -T -- "$partial" "$dir$SRC"
}

build_once() {
  if [ -f "$ROOT/$READY" ]; then
    unpack_source "$ROOT"
    return 0
  fi
  [ ! -e "$ROOT" ] || die "$ROOT is not a chroot this script finished; remove it"
  build_chroot
}

ready() {
  [ -f "$ROOT/$READY" ] &&
    [ "$(cat "$ROOT$SRC/.source" 2>/dev/null)" = "$(sha256sum "$TARBALL" | cut -d' ' -f1)" ]
}

ensure() {
  [ -r "$TARBALL" ] || die "$TARBALL is missing"
  ready || with_build_lock "$ROOT" "the sid chroot" build_once
  printf '%s\n' "$ROOT"
}

chroot_main "$ROOT" "$READY" "$@"
