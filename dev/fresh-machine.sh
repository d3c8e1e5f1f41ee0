#!/usr/bin/env bash
# The README's two commands on a fresh machine, as a newcomer runs them (README, "Quick start"):
# a clean Debian 12 root made here by debootstrap, holding only Debian 12's Node.js, npm and git,
# into which the repository is cloned; then, inside it,
#
#   npm ci && npm run demo     until the demo serves the BCs (then Ctrl-C)
#   npm ci && npm test
#
# each timed, and the outcomes printed. `--rounds 2` runs both again in the same root, to time a
# second run, which has nothing left to install.
#
#   dev/fresh-machine.sh [--rounds N] [--rev REV] [--keep]
#
# Needs root (debootstrap, chroot, namespaces) and a Debian mirror: ERP_BRIDGE_DEBIAN_MIRROR, else
# the first one of the host's apt sources. The root gets what any machine of this network has and
# the project does not bring: the host's extra CA certificates and its global npm settings (a
# registry reached through a proxy of its own needs both). Everything runs in a PID namespace of
# its own, so that nothing it started outlives it, and a mount namespace, so that nothing stays
# mounted; the root (about 6 GB once the suite's chroots are built in it) is removed at the end
# unless `--keep`.
set -Eeuo pipefail

REPO=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
ROUNDS=1
REV=HEAD
KEEP=false
while (($# > 0)); do
  case "$1" in
    --rounds)
      ROUNDS=${2:-}
      shift 2
      ;;
    --rev)
      REV=${2:-}
      shift 2
      ;;
    --keep)
      KEEP=true
      shift
      ;;
    -h | --help)
      sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "fresh-machine: unknown argument $1 (see --help)" >&2
      exit 2
      ;;
  esac
done

say() { printf '[fresh] %s\n' "$*" >&2; }
die() {
  say "$*"
  exit 1
}

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, namespaces)"
command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
[[ "$ROUNDS" =~ ^[1-9]$ ]] || die "--rounds takes 1 to 9"

host_mirror() {
  cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
    2>/dev/null | grep -E '^(URIs:|deb )' | grep -v security | grep -o -m 1 -E 'https?://[^ ]+' |
    head -n 1 || true
}
MIRROR=${ERP_BRIDGE_DEBIAN_MIRROR:-$(host_mirror)}
[ -n "$MIRROR" ] || die "no Debian mirror in the host's apt sources: set ERP_BRIDGE_DEBIAN_MIRROR"

WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/erp-bridge-fresh-XXXXXX")
ROOT=$WORK/root
mounted_under() {
  awk -v p="$1" '$5 == p || index($5, p "/") == 1 { f = 1 } END { exit !f }' /proc/self/mountinfo
}
finish() {
  if [ "$KEEP" = true ]; then
    say "kept the root in $ROOT"
  elif mounted_under "$WORK"; then
    say "something is still mounted under $WORK: left in place"
  else
    rm -rf -- "$WORK"
  fi
}
trap finish EXIT

# in_root CMD…: CMD inside the root, with its /proc, in a clean environment.
in_root() {
  unshare -m --propagation private -- /bin/sh -c '
    root=$1; shift
    mount -t proc proc "$root/proc" && cp -L /etc/resolv.conf "$root/etc/resolv.conf" &&
      exec chroot "$root" /usr/bin/env -i LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"' sh "$ROOT" "$@"
}

started=$SECONDS
say "building a Debian 12 root with only nodejs, npm and git in $ROOT, from $MIRROR"
unshare -m --propagation private -- debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR" \
  >"$WORK/build.log" 2>&1 || {
  tail -n 20 "$WORK/build.log" >&2
  die "debootstrap failed (log: $WORK/build.log)"
}
{
  echo "deb $MIRROR bookworm main"
  echo "deb $MIRROR bookworm-updates main"
  echo "deb ${MIRROR%/debian}/debian-security bookworm-security main"
} >"$ROOT/etc/apt/sources.list"
# As in a container: packages install, their services do not start (the commands start their own).
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 755 "$ROOT/usr/sbin/policy-rc.d"
# What this network's machines have beside Debian: their extra CA certificates, their npm settings.
mkdir -p "$ROOT/usr/local/share/ca-certificates"
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
fi
{ in_root apt-get update -q && in_root apt-get install -y -q --no-install-recommends \
  nodejs npm git ca-certificates; } >>"$WORK/build.log" 2>&1 || {
  tail -n 20 "$WORK/build.log" >&2
  die "apt-get install nodejs npm git failed (log: $WORK/build.log)"
}
in_root apt-get clean
npmrc=$(npm config get globalconfig 2>/dev/null || true)
[ -n "$npmrc" ] && [ -f "$npmrc" ] && grep -v '^nodedir' "$npmrc" >"$ROOT/etc/npmrc"
git clone --quiet "$REPO" "$ROOT/root/erp-bridge"
git -C "$ROOT/root/erp-bridge" checkout --quiet "$(git -C "$REPO" rev-parse "$REV")"
node_version=$(in_root node --version)
npm_version=$(in_root npm --version 2>/dev/null)
say "root ready in $((SECONDS - started)) s: Node $node_version, npm $npm_version, erp-bridge at $(git -C "$ROOT/root/erp-bridge" log -1 --format='%h %s')"

# The newcomer's session, run inside the root. It prints `RESULT <name> <seconds> <status> <what>`
# lines; everything else goes to logs under /root.
cat >"$ROOT/root/session.sh" <<'EOF'
set -u
cd /root/erp-bridge
result() { printf 'RESULT %s %s %s %s\n' "$1" "$2" "$3" "$4"; }
# The machine has Node and nothing else that speaks HTTP (no curl).
served() { # served URL KEY: the first BC the API serves, or nothing
  node -e 'fetch(process.argv[1], { headers: { authorization: `Bearer ${process.argv[2]}` } })
    .then((r) => r.json()).then((b) => { if (b.items?.length) console.log(JSON.stringify(b.items[0]).slice(0, 200)) })
    .catch(() => {})' "$1" "$2"
}
free_port() { node -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

demo() { # demo ROUND
  local log=/root/demo-$1.log start=$SECONDS
  if ! npm ci >"/root/npm-ci-demo-$1.log" 2>&1; then
    result "demo-$1" $((SECONDS - start)) failed "npm ci failed: $(tail -n 3 "/root/npm-ci-demo-$1.log" | tr '\n' ' ')"
    return
  fi
  local installed=$SECONDS port
  port=$(free_port)
  PORT=$port setsid npm run demo >"$log" 2>&1 &
  local pid=$! key=
  local deadline=$((SECONDS + 2400)) served=
  while ((SECONDS < deadline)) && kill -0 "$pid" 2>/dev/null; do
    key=$(grep -o -m 1 'API key: eb_[A-Za-z0-9_-]*' "$log" 2>/dev/null | cut -d' ' -f3)
    if [ -n "$key" ] && grep -q 'first bcs sync succeeded' "$log"; then
      served=$(served "http://127.0.0.1:$port/api/bcs?limit=1" "$key")
      [ -n "$served" ] && break
    fi
    sleep 1
  done
  local took=$((SECONDS - start)) ci=$((installed - start))
  kill -INT -- "-$pid" 2>/dev/null
  local waited=0
  while kill -0 "$pid" 2>/dev/null && ((waited < 60)); do sleep 1; waited=$((waited + 1)); done
  if [ -n "$served" ]; then
    result "demo-$1" "$took" ok "BCs served (npm ci ${ci} s; the demo stopped on Ctrl-C in ${waited} s): $(grep -m 1 'first bcs sync succeeded' "$log")"
  else
    result "demo-$1" "$took" failed "no BCs served: $(tail -n 5 "$log" | tr '\n' ' ')"
  fi
}

suite() { # suite ROUND
  local log=/root/test-$1.log start=$SECONDS
  if ! npm ci >"/root/npm-ci-test-$1.log" 2>&1; then
    result "test-$1" $((SECONDS - start)) failed "npm ci failed: $(tail -n 3 "/root/npm-ci-test-$1.log" | tr '\n' ' ')"
    return
  fi
  local ci=$((SECONDS - start)) status=ok
  npm test >"$log" 2>&1 || status=failed
  result "test-$1" $((SECONDS - start)) "$status" "npm ci ${ci} s; $(grep -E "^tests: " "$log" | tail -n 1)"
}

for round in $(seq 1 "$ROUNDS"); do
  demo "$round"
  suite "$round"
done
EOF

say "running the README's two commands inside it, $ROUNDS round(s); logs in the root's /root"
# A PID namespace: whatever the session starts ends with it. A mount namespace: its mounts too.
unshare -m -p -f --propagation private -- /bin/sh -c '
  root=$1; rounds=$2; extra_ca=$3
  # A machine'"'"'s / is a mount point; the chroots the suite builds make theirs private.
  mount --bind "$root" "$root"
  mount -t proc proc "$root/proc"
  mount -t sysfs sys "$root/sys"
  mount --rbind /dev "$root/dev"
  mount -t tmpfs -o size=50% shm "$root/dev/shm"
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"
  exec chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    ${extra_ca:+NODE_EXTRA_CA_CERTS=$extra_ca} ROUNDS="$rounds" /bin/bash /root/session.sh' \
  sh "$ROOT" "$ROUNDS" "${NODE_EXTRA_CA_CERTS:+/etc/ssl/certs/ca-certificates.crt}" |
  tee "$WORK/results.txt"

failed=0
echo
printf '%-8s %-7s %8s  %s\n' command round seconds outcome
while read -r _ name seconds status what; do
  printf '%-8s %-7s %8s  %s: %s\n' "${name%-*}" "${name##*-}" "$seconds" "$status" "$what"
  [ "$status" = ok ] || failed=1
done < <(grep '^RESULT ' "$WORK/results.txt")
grep -q '^RESULT ' "$WORK/results.txt" || failed=1
say "done in $((SECONDS - started)) s"
exit "$failed"
