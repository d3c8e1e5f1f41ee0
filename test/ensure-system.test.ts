/**
 * `npm test` and `npm run demo` install Debian packages (ensure-system.sh) and start none of
 * their services: Debian starts and enables at boot what it installs — prometheus, installed for
 * promtool, listened on every interface at 9090 — and the suite starts its own servers. The
 * script runs here from a copy beside chroot scripts that say they are ready, on a PATH of its
 * own whose apt-get, dpkg-query, deb-systemd-helper and update-rc.d are stubs keeping what they
 * were asked in a temp dir: nothing is installed, and nothing of the machine is touched. The
 * stub apt-get asks the policy-rc.d whether a service may start, as a maintainer script does.
 */
import { execFile } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** The machine's tools the script runs, linked into the stub PATH. */
const TOOLS = ['bash', 'env', 'grep', 'sort', 'comm', 'cut', 'rm', 'mv', 'cat', 'chmod', 'tee'];
const TOOLS_TOO = ['dirname'];

/** What each stub package holds (dpkg-query -L), and what installing one pulls in. */
const FILES: Record<string, string[]> = {
  prometheus: [
    '/lib/systemd/system/prometheus.service',
    '/etc/init.d/prometheus',
    '/usr/bin/promtool',
  ],
  'redis-server': [
    '/lib/systemd/system/redis-server.service',
    '/lib/systemd/system/redis-server@.service',
    '/etc/init.d/redis-server',
  ],
  'postgresql-common': [
    '/lib/systemd/system/postgresql.service',
    '/lib/systemd/system/postgresql@.service',
    '/etc/init.d/postgresql',
  ],
  'tryton-server': [
    '/usr/lib/systemd/system/tryton-server.service',
    '/usr/lib/systemd/system/tryton-server-worker@.service',
    '/etc/init.d/tryton-server',
  ],
  procps: ['/etc/init.d/procps', '/usr/bin/ps'],
};
const DEPENDS: Record<string, string[]> = { postgresql: ['postgresql-common', 'postgresql-15'] };
/** Installed before the script runs: its services are the machine's business. */
const INSTALLED_BEFORE = ['procps'];

const STUBS: Record<string, string> = {
  id: 'echo 0',
  'apt-get': `
set -eu
log="$STUB_STATE/log"
case "$1" in
  update) exit 0 ;;
  install) shift ;;
  *) exit 2 ;;
esac
if [ -x "$ERP_BRIDGE_POLICY_RC_D" ]; then
  code=0
  "$ERP_BRIDGE_POLICY_RC_D" prometheus start || code=$?
  echo "policy-rc.d answers $code" >>"$log"
else
  echo "no policy-rc.d" >>"$log"
fi
for package in "$@"; do
  case "$package" in -*) continue ;; esac
  for added in "$package" $(cat "$STUB_STATE/depends/$package" 2>/dev/null); do
    grep -qx "$added" "$STUB_STATE/installed" || echo "$added" >>"$STUB_STATE/installed"
  done
done`,
  'dpkg-query': `
if [ "$1" = -L ]; then cat "$STUB_STATE/files/$2" 2>/dev/null; exit 0; fi
format=\${2#-f=}
show() { local out=\${format//'\${Status}'/install ok installed}; printf "\${out//'\${Package}'/$1}"; }
if [ $# -ge 3 ]; then
  grep -qx "$3" "$STUB_STATE/installed" || exit 1
  show "$3"
else
  while read -r package; do show "$package"; done <"$STUB_STATE/installed"
fi`,
  'deb-systemd-helper': 'echo "deb-systemd-helper $*" >>"$STUB_STATE/log"',
  'update-rc.d': 'echo "update-rc.d $*" >>"$STUB_STATE/log"',
};

function found(name: string): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      continue;
    }
  }
  throw new Error(`${name} is not on PATH`);
}

describe('ensure-system.sh', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  /** A copy of the script, its stubs and their state; `policy` the machine's own policy-rc.d. */
  function machine(policy?: string) {
    const root = mkdtempSync(join(tmpdir(), 'erp-bridge-ensure-system-'));
    dir = root;
    const services = join(root, 'repo', 'dev', 'services');
    mkdirSync(services, { recursive: true });
    copyFileSync(
      join(import.meta.dirname, '..', 'dev', 'services', 'ensure-system.sh'),
      join(services, 'ensure-system.sh'),
    );
    for (const chroot of ['trytond7-chroot.sh', 'trytond8-chroot.sh', 'odoo19-chroot.sh'])
      writeFileSync(join(services, chroot), 'exit 0\n');
    const bin = join(root, 'bin');
    mkdirSync(bin);
    for (const tool of [...TOOLS, ...TOOLS_TOO]) symlinkSync(found(tool), join(bin, tool));
    for (const [name, body] of Object.entries(STUBS)) {
      writeFileSync(join(bin, name), `#!${found('bash')}\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    }
    const state = join(root, 'state');
    mkdirSync(join(state, 'files'), { recursive: true });
    mkdirSync(join(state, 'depends'));
    for (const [name, files] of Object.entries(FILES))
      writeFileSync(join(state, 'files', name), files.map((file) => `${file}\n`).join(''));
    for (const [name, depends] of Object.entries(DEPENDS))
      writeFileSync(join(state, 'depends', name), depends.join(' '));
    writeFileSync(join(state, 'installed'), INSTALLED_BEFORE.map((name) => `${name}\n`).join(''));
    writeFileSync(join(state, 'log'), '');
    const policyPath = join(root, 'policy-rc.d');
    if (policy !== undefined) {
      writeFileSync(policyPath, policy);
      chmodSync(policyPath, 0o755);
    }
    return {
      policyPath,
      ensure: async (command: 'demo' | 'test') => {
        await run(found('bash'), [join(services, 'ensure-system.sh'), command], {
          env: { PATH: bin, STUB_STATE: state, ERP_BRIDGE_POLICY_RC_D: policyPath },
        });
        const installed = readFileSync(join(state, 'installed'), 'utf8').split('\n');
        return {
          log: readFileSync(join(state, 'log'), 'utf8').split('\n').filter(Boolean),
          added: installed.filter((name) => name && !INSTALLED_BEFORE.includes(name)),
        };
      },
    };
  }

  /** What disabling the services of `packages` asks of Debian's helpers, in any order. */
  const disablingOf = (packages: readonly string[]) =>
    packages
      .flatMap((name) => FILES[name] ?? [])
      .flatMap((file) => {
        const unit = file.split('/').at(-1)!;
        if (file.includes('/systemd/system/'))
          return unit.includes('@.') ? [] : [`deb-systemd-helper disable ${unit}`];
        return file.startsWith('/etc/init.d/') ? [`update-rc.d ${unit} disable`] : [];
      })
      .sort();

  it('installs what the suite needs under a policy that starts no service, then disables at boot the services of what it added', async () => {
    const { policyPath, ensure } = machine();
    const { log, added } = await ensure('test');
    expect(added).toEqual(expect.arrayContaining(['prometheus', 'redis-server', 'tryton-server']));
    expect(log[0]).toBe('policy-rc.d answers 101');
    expect(existsSync(policyPath)).toBe(false);
    const disabling = log.slice(1).sort();
    expect(disabling).toEqual(disablingOf(added));
    expect(disabling).toEqual(
      expect.arrayContaining([
        'deb-systemd-helper disable prometheus.service',
        'update-rc.d prometheus disable',
      ]),
    );
    // procps was asked for (no ps on this PATH), and was there before: its init script is the
    // machine's business.
    expect(disabling).not.toContain('update-rc.d procps disable');
  });

  it("puts the machine's own policy back once the demo's Redis is installed", async () => {
    const own = "#!/bin/sh\n# the machine's\nexit 0\n";
    const { policyPath, ensure } = machine(own);
    const { log, added } = await ensure('demo');
    expect(added).toEqual(['redis-server']);
    expect(log).toEqual([
      'policy-rc.d answers 101',
      'deb-systemd-helper disable redis-server.service',
      'update-rc.d redis-server disable',
    ]);
    expect(readFileSync(policyPath, 'utf8')).toBe(own);
  });
});
