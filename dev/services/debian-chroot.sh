# Sourced by the test chroots' scripts (trytond7-chroot.sh, trytond8-chroot.sh): the Debian mirror
# they build from, and the debootstrap of a suite into a partial root that the caller completes
# and moves into place once whole. The caller defines `die MESSAGE`.

host_mirror() {
  # The first non-security URI of the host's apt sources, deb822 or one-line style.
  cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
    2>/dev/null | grep -E '^(URIs:|deb )' | grep -v security | grep -o -m 1 -E 'https?://[^ ]+' |
    head -n 1
}

# debootstrap_partial ROOT SUITE PACKAGES: a fresh minbase SUITE with PACKAGES (comma-separated;
# debootstrap resolves their dependencies from SUITE itself, and keeps services from starting)
# in ROOT.partial, from ERP_BRIDGE_DEBIAN_MIRROR or the host's mirror; its log in ROOT.build.log.
debootstrap_partial() {
  local root=$1 suite=$2 packages=$3
  command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
  local mirror=${ERP_BRIDGE_DEBIAN_MIRROR:-$(host_mirror)}
  [ -n "$mirror" ] || die "no Debian mirror in the host's apt sources: set ERP_BRIDGE_DEBIAN_MIRROR"
  local partial="$root.partial"
  # A build that died may have left debootstrap's /proc or /sys mounted there: never rm through.
  if awk -v p="$partial" '$5 == p || index($5, p "/") == 1 { f = 1 } END { exit !f }' \
    /proc/self/mountinfo; then
    die "something is still mounted under $partial; unmount it, then run again"
  fi
  rm -rf -- "$partial"
  printf '%s: building %s from %s (once)\n' "$(basename "$0" .sh)" "$root" "$mirror" >&2
  if ! nice -n 10 debootstrap --variant=minbase --include="$packages" "$suite" "$partial" \
    "$mirror" >"$root.build.log" 2>&1; then
    tail -n 20 "$root.build.log" >&2
    die "debootstrap failed (log: $root.build.log)"
  fi
}

# with_build_lock ROOT WHAT CMD…: CMD as root under ROOT.lock, so that callers racing build WHAT
# once (each then finds it built).
with_build_lock() {
  local root=$1 what=$2
  shift 2
  [ "$(id -u)" = 0 ] || die "building $what in $root needs root (debootstrap, chroot)"
  mkdir -p "$(dirname "$root")"
  exec 9>"$root.lock"
  flock -w 900 9 || die "another build holds $root.lock"
  "$@"
  exec 9>&-
}

# chroot_main ROOT READY ARG…: the scripts' three commands — `ensure` and `ready` (the caller's
# own functions: build unless there; exit 0 when there and current, needing no root) and
# `exec CMD ARG…`, CMD run in the chroot ROOT in a clean environment (the caller's
# CHROOT_ENV), replacing this process: the caller's child is CMD itself.
chroot_main() {
  local root=$1 ready=$2
  shift 2
  case "${1:-}" in
    ensure) ensure ;;
    ready) ready ;;
    exec)
      shift
      [ -f "$root/$ready" ] || die "no chroot in $root: run $0 ensure first"
      exec chroot "$root" /usr/bin/env -i "${CHROOT_ENV[@]}" "$@"
      ;;
    *) die "usage: $0 ensure | ready | exec CMD [ARG…]" ;;
  esac
}
