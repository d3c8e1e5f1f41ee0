#!/usr/bin/env bash
# Tryton 8.0 LTS for the tests (docs/tryton.md, "Tryton 8.0"): upstream's own 8.0 source, vendored
# beside this script (trytond8/, GPL-3; its README says where it comes from), run on the packages
# of a Debian sid chroot built once by debootstrap and cached outside the tree. No Debian suite
# ships trytond 8.0, and sid is the one whose packages carry every dependency it has.
#
#   trytond8-chroot.sh ensure         builds the chroot and unpacks the source unless they are
#                                     there; prints the chroot's root
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

host_mirror() {
  # The first non-security URI of the host's apt sources, deb822 or one-line style.
  cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
    2>/dev/null | grep -E '^(URIs:|deb )' | grep -v security | grep -o -m 1 -E 'https?://[^ ]+' |
    head -n 1
}

in_chroot() {
  chroot "$1" /usr/bin/env -i "${CHROOT_ENV[@]}" "${@:2}"
}

build_chroot() {
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
  printf 'trytond8-chroot: building %s from %s (once)\n' "$ROOT" "$mirror" >&2
  # --include resolves the packages' dependencies from sid itself; debootstrap keeps services
  # from starting while it installs them.
  if ! nice -n 10 debootstrap --variant=minbase --include="$PACKAGES" sid "$partial" "$mirror" \
    >"$ROOT.build.log" 2>&1; then
    tail -n 20 "$ROOT.build.log" >&2
    die "debootstrap failed (log: $ROOT.build.log)"
  fi
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

ensure() {
  [ -r "$TARBALL" ] || die "$TARBALL is missing"
  if [ ! -f "$ROOT/$READY" ] || [ "$(cat "$ROOT$SRC/.source" 2>/dev/null)" != \
    "$(sha256sum "$TARBALL" | cut -d' ' -f1)" ]; then
    [ "$(id -u)" = 0 ] || die "building the sid chroot in $ROOT needs root (debootstrap, chroot)"
    mkdir -p "$(dirname "$ROOT")"
    exec 9>"$ROOT.lock"
    flock -w 900 9 || die "another build holds $ROOT.lock"
    if [ ! -f "$ROOT/$READY" ]; then
      [ ! -e "$ROOT" ] || die "$ROOT is not a chroot this script finished; remove it"
      build_chroot
    else
      unpack_source "$ROOT"
    fi
    exec 9>&-
  fi
  printf '%s\n' "$ROOT"
}

case "${1:-}" in
  ensure) ensure ;;
  exec)
    shift
    [ -f "$ROOT/$READY" ] || die "no chroot in $ROOT: run $0 ensure first"
    exec chroot "$ROOT" /usr/bin/env -i "${CHROOT_ENV[@]}" "$@"
    ;;
  *) die "usage: $0 ensure | exec CMD [ARG…]" ;;
esac
