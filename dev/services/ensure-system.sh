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
    as_root env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "${packages[@]}" >&2
  fi
  local script
  for script in "${chroots[@]}"; do
    say "building what $script serves (once; several minutes)"
    as_root bash "$script" ensure >/dev/null
  done
  say "done: everything \`npm ${command/demo/run demo}\` needs is installed"
}

main "$@"
