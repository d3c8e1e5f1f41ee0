#!/usr/bin/env bash
# What `npm run demo` and `npm test` need from the system, installed before they start (README,
# "Quick start"); npm runs it as their `pre` script:
#
#   ensure-system.sh demo   redis-server, unless REDIS_URL names a Redis
#   ensure-system.sh test   the suite's Debian packages, then the chroots it runs trytond 7.0
#                           and 8.0 and Odoo 19.0 from (built once, cached in /var/cache)
#
# Idempotent: when everything is there it prints one line and returns at once. Installing needs
# root: as root it runs `apt-get update` once and installs; otherwise it asks through sudo when
# there is one; otherwise it stops, before anything else starts, with the one command to run.
#
# What it installs starts nothing: Debian starts the services of the packages it installs and
# enables them at boot (prometheus, installed for promtool, would listen on every interface at
# 9090; redis-server, postgresql and tryton-server too), and the suite and the demo start their
# own servers in temp dirs. So apt-get runs under a policy-rc.d that refuses every start (Debian's
# way: invoke-rc.d and deb-systemd-invoke ask it), and the services of the packages it added are
# then disabled at boot. Packages that were there before are left as they are.
set -Eeuo pipefail
cd "$(dirname "$0")/../.."

say() { printf '[system] %s\n' "$*" >&2; }

usage() {
  echo "usage: $0 demo | test" >&2
  exit 2
}

has() { command -v "$1" >/dev/null 2>&1; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
postgres_server() { compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; }

# The Debian packages a command needs, each with the check that finds it installed.
missing_packages() {
  local packages=()
  case "$1" in
    demo)
      [ -n "${REDIS_URL:-}" ] || has redis-server || packages+=(redis-server)
      ;;
    test)
      has redis-server || packages+=(redis-server)
      postgres_server || packages+=(postgresql)
      has trytond || packages+=(tryton-server)
      installed tryton-modules-party || packages+=(tryton-modules-party)
      # The chroots of trytond 7.0 and 8.0 and Odoo 19.0 are built with it.
      has debootstrap || packages+=(debootstrap)
      has curl || packages+=(curl)
      # The TLS tests make their certificates with it.
      has openssl || packages+=(openssl)
      # The demo's test lists the processes it started.
      has ps || packages+=(procps)
      # The bull-board page test drives Debian's Chromium, headless.
      has chromium || packages+=(chromium)
      # promtool checks and unit-tests the alert rules in deploy/prometheus; no server runs.
      has promtool || packages+=(prometheus)
      ;;
  esac
  if ((${#packages[@]} > 0)); then printf '%s\n' "${packages[@]}"; fi
}

# Where Debian asks whether a service may start (policy-rc.d(8)); a test points it elsewhere.
POLICY_RC_D=${ERP_BRIDGE_POLICY_RC_D:-/usr/sbin/policy-rc.d}
# The machine's own policy, kept aside while ours is in place.
SAVED_POLICY_RC_D="$POLICY_RC_D.erp-bridge-saved"

# The packages installed now, one a line.
installed_packages() {
  dpkg-query -W -f='${Status} ${Package}\n' 2>/dev/null | grep '^install ok installed ' |
    cut -d' ' -f4 | sort
}

POLICY_MARK='# erp-bridge ensure-system.sh: no service starts while it installs.'
ours() { [ -e "$POLICY_RC_D" ] && grep -qxF "$POLICY_MARK" "$POLICY_RC_D"; }

refuse_starts() {
  # One an interrupted run left is ours, the machine's already kept aside.
  if [ -e "$POLICY_RC_D" ] && ! ours; then as_root mv "$POLICY_RC_D" "$SAVED_POLICY_RC_D"; fi
  printf '#!/bin/sh\n%s\nexit 101\n' "$POLICY_MARK" | as_root tee "$POLICY_RC_D" >/dev/null
  as_root chmod 755 "$POLICY_RC_D"
}

# Puts the machine's policy back (none, or the one it had); a no-op once done.
allow_starts() {
  if [ -e "$SAVED_POLICY_RC_D" ]; then
    as_root mv "$SAVED_POLICY_RC_D" "$POLICY_RC_D"
  elif ours; then
    as_root rm -f "$POLICY_RC_D"
  fi
}

# disable_services PACKAGE…: each package's systemd units and init scripts, disabled at boot. A
# template unit (name@.service) is enabled only as an instance, which its package's plain unit
# starts (postgresql.service starts each cluster's postgresql@…).
disable_services() {
  local package file
  for package in "$@"; do
    while IFS= read -r file; do
      case "$file" in
        */lib/systemd/system/*@.*) ;;
        /lib/systemd/system/*.service | /lib/systemd/system/*.socket | /lib/systemd/system/*.timer | \
          /usr/lib/systemd/system/*.service | /usr/lib/systemd/system/*.socket | \
          /usr/lib/systemd/system/*.timer)
          if has deb-systemd-helper; then as_root deb-systemd-helper disable "${file##*/}"; fi
          ;;
        /etc/init.d/*)
          if has update-rc.d; then as_root update-rc.d "${file##*/}" disable >/dev/null; fi
          ;;
      esac
    done < <(dpkg-query -L "$package" 2>/dev/null)
  done
}

# install_without_starting PACKAGE…: apt-get install, no service started, and those of the
# packages it added (the dependencies it pulled in too) disabled at boot.
install_without_starting() {
  local before added
  before=$(installed_packages)
  trap allow_starts EXIT
  refuse_starts
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "$@" >&2
  allow_starts
  trap - EXIT
  mapfile -t added < <(comm -13 <(printf '%s\n' "$before") <(installed_packages))
  if ((${#added[@]} > 0)); then
    say "disabling at boot the services of ${added[*]} (the tests and the demo start their own)"
    disable_services "${added[@]}"
  fi
}

# The chroots the suite runs servers from: the script of each, whose `ready` needs no root.
CHROOTS=(dev/services/trytond7-chroot.sh dev/services/trytond8-chroot.sh
  dev/services/odoo19-chroot.sh)

missing_chroots() {
  local script
  for script in "${CHROOTS[@]}"; do
    bash "$script" ready || printf '%s\n' "$script"
  done
}

# How this process gets root for the installs: nothing as root, sudo where there is one.
as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif has sudo; then
    sudo "$@"
  else
    return 126
  fi
}

refuse() { # refuse COMMAND WHAT…
  local command=$1
  shift
  say "missing: $*; installing them needs root, and there is no sudo here."
  say "Run this once as root, from $(pwd), then try again:"
  say "  bash dev/services/ensure-system.sh $command"
  exit 1
}

main() {
  local command=${1:-}
  [ "$command" = demo ] || [ "$command" = test ] || usage
  local packages chroots
  mapfile -t packages < <(missing_packages "$command")
  chroots=()
  [ "$command" = test ] && mapfile -t chroots < <(missing_chroots)
  if ((${#packages[@]} == 0 && ${#chroots[@]} == 0)); then
    say "everything \`npm ${command/demo/run demo}\` needs is installed"
    return 0
  fi
  if [ "$(id -u)" != 0 ] && ! has sudo; then
    refuse "$command" "${packages[@]}" "${chroots[@]}"
  fi
  if ((${#packages[@]} > 0)); then
    say "installing the Debian packages ${packages[*]} (apt-get, once)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    install_without_starting "${packages[@]}"
  fi
  local script
  for script in "${chroots[@]}"; do
    say "building what $script serves (once; several minutes)"
    as_root bash "$script" ensure >/dev/null
  done
  say "done: everything \`npm ${command/demo/run demo}\` needs is installed"
}

main "$@"
