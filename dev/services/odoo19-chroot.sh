#!/usr/bin/env bash
# A real Odoo 19.0 for the tests (docs/odoo.md, "Tested against a real Odoo 19"): Debian's
# `odoo-19` package, which only sid ships and which needs Python 3.13 at most, installed in a
# Debian trixie chroot with trixie's PostgreSQL 17, built once and cached outside the tree.
#
#   odoo19-chroot.sh ensure   builds the chroot and the template database unless they are there
#                             (root: debootstrap, chroot); prints the cache folder
#   odoo19-chroot.sh ready    exits 0 when both are there and current, 1 otherwise (needs no root)
#   odoo19-chroot.sh serve    a throw-away server from the template on 127.0.0.1: prints KEY=VALUE
#                             lines, then READY, and serves until its standard input closes (or
#                             SIGINT/SIGTERM); then stops it and removes every file it made
#
# The template: a PostgreSQL 17 cluster holding the database `odoo19` with the modules below and
# what they auto-install (`api_doc` and `rpc` among them), no demo data, a chart of accounts, and
# the sync user `sync@example.com`: an internal user, not an administrator, in Accounting /
# Invoicing, Sales / Administrator, Project / Administrator and Technical Documentation
# (`api_doc.group_allow_doc`). Each `serve` copies it, starts PostgreSQL and Odoo (one process,
# no cron thread, every request logged), makes both users' API keys the way a user makes one
# (Preferences, New API Key: three months for the sync user, the most Odoo allows an internal
# user; no expiry for the administrator) and sets fresh passwords. It prints:
#   ODOO_URL ODOO_DATABASE ODOO_USERNAME ODOO_PASSWORD ODOO_API_KEY ODOO_API_KEY_EXPIRES_AT
#   ODOO_ADMIN_USERNAME ODOO_ADMIN_PASSWORD ODOO_ADMIN_API_KEY ODOO_VERSION ODOO_PACKAGE_VERSION
#   ODOO_LOG (Odoo's log, as this machine sees it) ODOO_PID (Odoo's process, as this machine sees it)
#
# Each process runs in a private mount namespace where the chroot's /proc is mounted (Odoo reads
# its own memory there): the mount ends with the process, so nothing stays mounted on the host.
# A server's files live under the chroot's /tmp, which both sides see without a mount.
#
# Needs root and a Debian mirror: ERP_BRIDGE_DEBIAN_MIRROR, else the first one of the host's apt
# sources. ERP_BRIDGE_ODOO19_CACHE moves the cache (default /var/cache/erp-bridge-odoo19, about
# 2.5 GB). Concurrent callers build it once: the build holds a lock, and the chroot and the
# template appear under their names only when complete.
set -Eeuo pipefail

CACHE=${ERP_BRIDGE_ODOO19_CACHE:-/var/cache/erp-bridge-odoo19}
ROOT=$CACHE/root
READY=.erp-bridge-ready
DB=odoo19
MODULES="base mail contacts product account sale purchase stock project sale_management"
# Bumped when the template's setup changes, so that a cached template is built again.
TEMPLATE_FORMAT=1
TEMPLATE=/var/lib/erp-bridge-odoo19/template
SYNC_LOGIN=sync@example.com
SYNC_TEMPLATE_PASSWORD=sync-template-password
ADMIN_TEMPLATE_PASSWORD=admin
CHROOT_ENV=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TZ=UTC)

say() { printf 'odoo19-chroot: %s\n' "$*" >&2; }
die() {
  say "$*"
  exit 1
}

case "$CACHE" in /*) ;; *) die "ERP_BRIDGE_ODOO19_CACHE must be an absolute path" ;; esac

# in_chroot DIR CMD…: CMD in the chroot DIR, in a clean environment and a mount namespace of its
# own in which DIR/proc is mounted. Each step execs the next: the process is CMD's.
# niced DIR CMD…: the same, yielding to whatever else runs (the one-time builds).
IN_CHROOT=(unshare -m --propagation private -- /bin/sh -c '
  dir=$1; shift
  mount -t proc proc "$dir/proc" || exit 97
  exec chroot "$dir" /usr/bin/env -i "$@"' sh)
in_chroot() { "${IN_CHROOT[@]}" "$1" "${CHROOT_ENV[@]}" "${@:2}"; }
niced() { nice -n 10 "${IN_CHROOT[@]}" "$1" "${CHROOT_ENV[@]}" "${@:2}"; }

# as_user DIR NAME: the chroot's uid:gid of NAME, for chroot --userspec.
as_user() {
  awk -F: -v name="$2" '$1 == name { print $3 ":" $4; found = 1 } END { exit !found }' \
    "$1/etc/passwd" || die "no user $2 in the chroot $1"
}

mounted_under() {
  awk -v p="$1" '$5 == p || index($5, p "/") == 1 { f = 1 } END { exit !f }' /proc/self/mountinfo
}

host_mirror() {
  # The first non-security URI of the host's apt sources, deb822 or one-line style.
  cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
    2>/dev/null | grep -E '^(URIs:|deb )' | grep -v security | grep -o -m 1 -E 'https?://[^ ]+' |
    head -n 1
}

chroot_apt() {
  local dir=$1
  shift
  cp -L /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
  niced "$dir" DEBIAN_FRONTEND=noninteractive apt-get -q \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" \
    </dev/null >>"$CACHE/build.log" 2>&1 || {
    tail -n 20 "$CACHE/build.log" >&2
    die "apt-get $1 failed in the chroot (log: $CACHE/build.log)"
  }
}

build_chroot() {
  command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
  local mirror=${ERP_BRIDGE_DEBIAN_MIRROR:-$(host_mirror)}
  [ -n "$mirror" ] || die "no Debian mirror in the host's apt sources: set ERP_BRIDGE_DEBIAN_MIRROR"
  local partial="$ROOT.partial"
  # A build that died may have left debootstrap's /proc or /sys mounted there: never rm through.
  mounted_under "$partial" && die "something is still mounted under $partial; unmount it, then run again"
  rm -rf -- "$partial"
  say "building the trixie chroot in $ROOT from $mirror (once; several minutes)"
  : >"$CACHE/build.log"
  # debootstrap mounts /proc and /sys in the target: in a namespace of its own, they end with it.
  nice -n 10 unshare -m --propagation private -- \
    debootstrap --variant=minbase trixie "$partial" "$mirror" >>"$CACHE/build.log" 2>&1 || {
    tail -n 20 "$CACHE/build.log" >&2
    die "debootstrap failed (log: $CACHE/build.log)"
  }
  local security=${mirror%/debian}/debian-security
  {
    echo "deb $mirror trixie main"
    echo "deb $mirror trixie-updates main"
    echo "deb $security trixie-security main"
    echo "# odoo-19 is only in sid; every other package comes from trixie (preferences.d/odoo-19)"
    echo "deb $mirror sid main"
  } >"$partial/etc/apt/sources.list"
  # odoo-19 from sid, each of its dependencies from trixie: sid's Python 3.14 cannot run it.
  printf 'Package: *\nPin: release n=sid\nPin-Priority: 1\n\nPackage: odoo-19\nPin: release n=sid\nPin-Priority: 500\n' \
    >"$partial/etc/apt/preferences.d/odoo-19"
  # A mirror may serve a frozen sid whose Release is past its Valid-Until: the signatures are
  # still checked, that date is not.
  echo 'Acquire::Check-Valid-Until "false";' >"$partial/etc/apt/apt.conf.d/99no-valid-until"
  # No service may start inside the chroot while packages install.
  printf '#!/bin/sh\nexit 101\n' >"$partial/usr/sbin/policy-rc.d"
  chmod 755 "$partial/usr/sbin/policy-rc.d"
  chroot_apt "$partial" update
  chroot_apt "$partial" install -y --no-install-recommends odoo-19 postgresql-17
  # postgresql-17 made a cluster of its own, never started: the template has its own.
  in_chroot "$partial" pg_dropcluster 17 main >/dev/null 2>&1 || true
  in_chroot "$partial" apt-get clean
  touch "$partial/$READY"
  mv -T -- "$partial" "$ROOT"
}

pg_bin() { (cd "$ROOT" && ls -d usr/lib/postgresql/*/bin | sort -V | tail -n 1); }
# Read from the chroot's dpkg database, without entering it: `ready` needs no root.
package_version() { dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f='${Version}' odoo-19; }
template_key() { echo "odoo-19 $(package_version) $(pg_bin) $MODULES format $TEMPLATE_FORMAT"; }
ready() {
  [ -f "$ROOT/$READY" ] && [ "$(cat "$ROOT$TEMPLATE/$READY" 2>/dev/null)" = "$(template_key)" ]
}

# The settings a server of the tests runs with: one process, no cron thread, nothing but
# 127.0.0.1, mail to a port where nothing listens, every request logged.
odoo_conf() { # odoo_conf DATA_DIR PG_PORT HTTP_PORT MASTER_PASSWORD
  cat <<EOF
[options]
data_dir = $1
db_host = 127.0.0.1
db_port = $2
db_user = odoo
db_name = $DB
dbfilter = ^$DB\$
list_db = False
http_interface = 127.0.0.1
http_port = $3
gevent_port = 0
workers = 0
max_cron_threads = 0
admin_passwd = $4
log_level = info
smtp_server = 127.0.0.1
smtp_port = 9
EOF
}

PG_OPTS="-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c dynamic_shared_memory_type=mmap"
pg_ctl() { # pg_ctl ARGS…: the chroot's pg_ctl as its postgres user
  in_chroot "$ROOT" chroot --userspec="$(as_user "$ROOT" postgres)" / "/$(pg_bin)/pg_ctl" "$@"
}
free_port() {
  in_chroot "$ROOT" python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

build_template() { # build_template KEY
  local partial="$TEMPLATE.partial" odoo_user
  odoo_user=$(as_user "$ROOT" odoo)
  say "building the template database (once; a few minutes): $MODULES"
  rm -rf -- "${ROOT:?}$partial"
  mkdir -p "$ROOT$partial/data" "$ROOT$partial/pg"
  chown "$odoo_user" "$ROOT$partial" "$ROOT$partial/data"
  chown "$(as_user "$ROOT" postgres)" "$ROOT$partial/pg"
  chmod 700 "$ROOT$partial/pg"
  in_chroot "$ROOT" chroot --userspec="$(as_user "$ROOT" postgres)" / "/$(pg_bin)/initdb" \
    -D "$partial/pg" -U odoo --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >"$CACHE/build.log" 2>&1 || {
    tail -n 20 "$CACHE/build.log" >&2
    die "initdb failed"
  }
  local pg_port http_port
  pg_port=$(free_port)
  http_port=$(free_port)
  pg_ctl -D "$partial/pg" -l "$partial/pg/server.log" -w -t 90 -o "$PG_OPTS -p $pg_port -k $partial/pg" \
    start >>"$CACHE/build.log" 2>&1 || die "the template's PostgreSQL did not start (log: $ROOT$partial/pg/server.log)"
  trap 'pg_ctl -D "$partial/pg" -m fast -w stop >/dev/null 2>&1 || true' EXIT
  odoo_conf "$partial/data" "$pg_port" "$http_port" admin >"$ROOT$partial/odoo.conf"
  chown "$odoo_user" "$ROOT$partial/odoo.conf"
  niced "$ROOT" HOME="$partial" chroot --userspec="$odoo_user" / \
    /usr/bin/odoo -c "$partial/odoo.conf" -d "$DB" -i "${MODULES// /,}" \
    --stop-after-init --no-http </dev/null >>"$CACHE/build.log" 2>&1 || {
    tail -n 30 "$CACHE/build.log" >&2
    die "the modules did not install (log: $CACHE/build.log)"
  }
  # The sync user, and a chart of accounts so that invoices post (19.0 loads one only on first
  # use for a company without a country); every module asked for must be installed.
  niced "$ROOT" HOME="$partial" chroot --userspec="$odoo_user" / \
    /usr/bin/odoo shell -c "$partial/odoo.conf" -d "$DB" --no-http >>"$CACHE/build.log" 2>&1 <<EOF || {
wanted = set('$MODULES'.split())
installed = set(env['ir.module.module'].search([('state', '=', 'installed')]).mapped('name'))
assert wanted <= installed, 'modules not installed: %s' % sorted(wanted - installed)
assert not env['ir.module.module'].search_count([('demo', '=', True)]), 'demo data installed'
groups = [env.ref(xmlid).id for xmlid in (
    'base.group_user', 'account.group_account_invoice', 'sales_team.group_sale_manager',
    'project.group_project_manager', 'api_doc.group_allow_doc')]
user = env['res.users'].create({
    'name': 'Sync User', 'login': '$SYNC_LOGIN', 'email': '$SYNC_LOGIN',
    'password': '$SYNC_TEMPLATE_PASSWORD', 'group_ids': [(6, 0, groups)]})
assert not user._is_admin() and not user._is_system()
if not env['account.journal'].search_count([('type', '=', 'sale')]):
    env['account.chart.template'].try_loading('generic_coa', env.company, install_demo=False)
assert env['account.journal'].search_count([('type', '=', 'sale')]), 'no sales journal'
env.cr.commit()
print('TEMPLATE-READY', user.id)
EOF
    tail -n 30 "$CACHE/build.log" >&2
    die "the sync user could not be made (log: $CACHE/build.log)"
  }
  grep -q '^TEMPLATE-READY' "$CACHE/build.log" || die "the sync user could not be made (log: $CACHE/build.log)"
  pg_ctl -D "$partial/pg" -m fast -w stop >>"$CACHE/build.log" 2>&1 || die "could not stop the template's PostgreSQL"
  trap - EXIT
  rm -f -- "$ROOT$partial/odoo.conf" "$ROOT$partial/pg/server.log"
  echo "$1" >"$ROOT$partial/$READY"
  rm -rf -- "${ROOT:?}$TEMPLATE"
  mv -T -- "$ROOT$partial" "$ROOT$TEMPLATE"
}

ensure() {
  [ "$(id -u)" = 0 ] || die "the Odoo 19 chroot needs root (debootstrap, chroot, mount namespaces)"
  mkdir -p "$CACHE"
  exec 9>"$CACHE/lock"
  flock -w 1800 9 || die "another build holds $CACHE/lock"
  if [ ! -f "$ROOT/$READY" ]; then
    [ ! -e "$ROOT" ] || die "$ROOT is not a chroot this script finished; remove it"
    build_chroot
  fi
  local key
  key=$(template_key)
  if [ "$(cat "$ROOT$TEMPLATE/$READY" 2>/dev/null)" != "$key" ]; then build_template "$key"; fi
  exec 9>&-
}

# The state of one `serve`, removed by its cleanup.
STATE=""
PG_DATA=""
ODOO_PID=""
cleanup() {
  [ -n "$STATE" ] || return 0
  if [ -n "$ODOO_PID" ] && kill -0 "$ODOO_PID" 2>/dev/null; then
    kill -TERM "$ODOO_PID" 2>/dev/null || true
    # Odoo finishes the requests in flight first: 20 s, then it is killed.
    local tries=0
    while kill -0 "$ODOO_PID" 2>/dev/null && [ $tries -lt 80 ]; do
      sleep 0.25
      tries=$((tries + 1))
    done
    kill -KILL "$ODOO_PID" 2>/dev/null || true
    wait "$ODOO_PID" 2>/dev/null || true
  fi
  if [ -f "$ROOT$PG_DATA/postmaster.pid" ]; then
    pg_ctl -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null 2>&1 || say "PostgreSQL of $ROOT$STATE did not stop"
  fi
  rm -rf -- "${ROOT:?}$STATE"
  STATE=""
}

serve() {
  ensure
  trap cleanup EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT
  local host_state
  host_state=$(mktemp -d "$ROOT/tmp/erp-bridge-odoo19-XXXXXX")
  chmod 755 "$host_state"
  STATE=${host_state#"$ROOT"}
  PG_DATA=$STATE/pg
  local odoo_user
  odoo_user=$(as_user "$ROOT" odoo)
  cp -a "$ROOT$TEMPLATE/pg" "$ROOT$TEMPLATE/data" "$host_state/"
  chown "$odoo_user" "$host_state"
  local pg_port http_port
  pg_port=$(free_port)
  pg_ctl -D "$PG_DATA" -l "$PG_DATA/server.log" -w -t 90 -o "$PG_OPTS -p $pg_port -k $PG_DATA" \
    start >/dev/null || die "PostgreSQL did not start (log: $host_state/pg/server.log)"
  local master user_password admin_password
  master=$(head -c 18 /dev/urandom | base64 | tr '+/' 'xy')
  user_password=$(head -c 18 /dev/urandom | base64 | tr '+/' 'xy')
  admin_password=$(head -c 18 /dev/urandom | base64 | tr '+/' 'xy')
  http_port=$(free_port)
  odoo_conf "$STATE/data" "$pg_port" "$http_port" "$master" >"$host_state/odoo.conf"
  chown "$odoo_user" "$host_state/odoo.conf"
  chmod 600 "$host_state/odoo.conf"
  # Not through in_chroot, a function: $! must be the PID that becomes Odoo's.
  "${IN_CHROOT[@]}" "$ROOT" "${CHROOT_ENV[@]}" HOME="$STATE" chroot --userspec="$odoo_user" / \
    /usr/bin/odoo -c "$STATE/odoo.conf" --logfile="$STATE/odoo.log" </dev/null >/dev/null 2>"$host_state/odoo.stderr" &
  ODOO_PID=$!
  local url="http://127.0.0.1:$http_port"
  # Up to 90 s: Odoo loads its registry (some 80 modules) before it answers.
  local tries=0
  until curl -fsS --max-time 5 "$url/web/version" >/dev/null 2>&1; do
    kill -0 "$ODOO_PID" 2>/dev/null || die "Odoo exited at start: $(tail -n 5 "$host_state/odoo.stderr" "$host_state/odoo.log" 2>/dev/null)"
    tries=$((tries + 1))
    [ $tries -lt 360 ] || die "Odoo did not answer /web/version within 90 s"
    sleep 0.25
  done
  # Each user makes its key as in Preferences, Account Security, New API Key: the description
  # wizard with a duration (Odoo checks it against the user's groups), make_key, then Odoo's
  # identity check with the password; over the web client's routes, not the deprecated
  # /xmlrpc or /jsonrpc. Then the administrator sets fresh passwords.
  local keys
  keys=$(in_chroot "$ROOT" python3 - "$url" "$DB" "$SYNC_LOGIN" "$SYNC_TEMPLATE_PASSWORD" \
    "$ADMIN_TEMPLATE_PASSWORD" "$user_password" "$admin_password" <<'EOF'
import json, sys, urllib.request
url, db, login, sync_template, admin_template, sync_password, admin_password = sys.argv[1:8]

class Session:
    def __init__(self, login, password):
        self.cookie = None
        self.uid = self.post('/web/session/authenticate', {'db': db, 'login': login, 'password': password})['uid']
    def post(self, path, params):
        body = json.dumps({'jsonrpc': '2.0', 'method': 'call', 'id': 1, 'params': params}).encode()
        request = urllib.request.Request(url + path, data=body, headers={'Content-Type': 'application/json'})
        if self.cookie:
            request.add_header('Cookie', self.cookie)
        with urllib.request.urlopen(request, timeout=120) as response:
            for header in response.headers.get_all('Set-Cookie') or []:
                if header.startswith('session_id='):
                    self.cookie = header.split(';', 1)[0]
            answer = json.load(response)
        if answer.get('error'):
            raise SystemExit('%s: %s' % (path, json.dumps(answer['error'].get('data', answer['error']))[:600]))
        return answer['result']
    def call(self, model, method, args, kwargs=None):
        return self.post('/web/dataset/call_kw/%s/%s' % (model, method),
                         {'model': model, 'method': method, 'args': args, 'kwargs': kwargs or {}})
    def new_key(self, password, duration):
        wizard = self.call('res.users.apikeys.description', 'create', [{'name': 'erp-bridge tests', 'duration': duration}])
        wizard = wizard[0] if isinstance(wizard, list) else wizard
        action = self.call('res.users.apikeys.description', 'make_key', [[wizard]])
        action = self.call('res.users.identitycheck', 'run_check', [[action['res_id']]], {'context': {'password': password}})
        return action['context']['default_key']

sync = Session(login, sync_template)
sync_key = sync.new_key(sync_template, '90')
[key] = sync.call('res.users.apikeys', 'search_read', [[('user_id', '=', sync.uid)]], {'fields': ['expiration_date']})
admin = Session('admin', admin_template)
admin_key = admin.new_key(admin_template, '0')
admin.call('res.users', 'write', [[sync.uid], {'password': sync_password}])
admin.call('res.users', 'write', [[admin.uid], {'password': admin_password}])
print(sync_key)
print(key['expiration_date'].replace(' ', 'T') + 'Z')
print(admin_key)
EOF
  ) || die "the API keys could not be made (Odoo's log: $host_state/odoo.log)"
  local sync_key expires admin_key version
  { read -r sync_key; read -r expires; read -r admin_key; } <<<"$keys"
  version=$(curl -fsS --max-time 10 "$url/web/version" | grep -o '"version": *"[^"]*"' | grep -o '[0-9][^"]*')
  cat <<EOF
ODOO_URL=$url
ODOO_DATABASE=$DB
ODOO_USERNAME=$SYNC_LOGIN
ODOO_PASSWORD=$user_password
ODOO_API_KEY=$sync_key
ODOO_API_KEY_EXPIRES_AT=$expires
ODOO_ADMIN_USERNAME=admin
ODOO_ADMIN_PASSWORD=$admin_password
ODOO_ADMIN_API_KEY=$admin_key
ODOO_VERSION=$version
ODOO_PACKAGE_VERSION=$(package_version)
ODOO_LOG=$host_state/odoo.log
ODOO_PID=$ODOO_PID
READY
EOF
  say "serving $url (Odoo $version) until standard input closes"
  # Until the caller closes our standard input (or dies, which closes it too).
  while IFS= read -r _; do :; done
}

case "${1:-}" in
  ensure)
    ensure
    printf '%s\n' "$CACHE"
    ;;
  ready) ready ;;
  serve) serve ;;
  *) die "usage: $0 ensure | ready | serve" ;;
esac
