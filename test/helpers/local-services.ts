/**
 * Throw-away PostgreSQL and Redis servers started from the machine's Debian binaries in temp
 * dirs, for machines with neither a container engine nor TEST_* URLs. Each is stopped by the
 * returned `stop()`, and every file it made is removed.
 */
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../dev/services/free-port.js';
import { startRedisServer } from '../../dev/services/redis-server.js';

const run = promisify(execFile);

export interface LocalService {
  url: string;
  stop(): Promise<void>;
}

function findPgBin(name: string): string {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
    for (const version of versions) {
      const candidate = join(root, version, 'bin', name);
      if (existsSync(candidate)) return candidate;
    }
  }
  return name;
}

/** initdb refuses to run as root, so as root the cluster belongs to the `postgres` user. */
function asPostgresUser(command: string, args: string[]): [string, string[]] {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  return isRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

async function postgresUid(): Promise<{ uid: number; gid: number } | undefined> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const { stdout } = await run('id', ['-u', 'postgres']);
  const { stdout: gid } = await run('id', ['-g', 'postgres']);
  return { uid: Number(stdout.trim()), gid: Number(gid.trim()) };
}

/** The version the machine's PostgreSQL server binary reports, e.g. `15.18 (Debian 15.18-0+deb12u1)`. */
export async function postgresServerVersion(): Promise<string> {
  const { stdout } = await run(findPgBin('postgres'), ['--version']);
  return stdout.trim().replace(/^postgres \(PostgreSQL\) /, '');
}

/**
 * A throw-away PostgreSQL server; `settings` are more `-c name=value` options (a bench loads
 * `pg_stat_statements` with them).
 */
export async function startLocalPostgres(
  settings: Readonly<Record<string, string>> = {},
): Promise<LocalService> {
  const initdb = findPgBin('initdb');
  const pgCtl = findPgBin('pg_ctl');
  if (!existsSync(initdb) && initdb === 'initdb') {
    throw new Error('PostgreSQL server binaries not found: apt-get install -y postgresql');
  }
  const root = mkdtempSync(join(tmpdir(), 'erp-bridge-pg-'));
  const owner = await postgresUid();
  if (owner) {
    chownSync(root, owner.uid, owner.gid);
    chmodSync(root, 0o700);
  }
  const dataDir = join(root, 'data');
  const port = await freePort();
  const [initCmd, initArgs] = asPostgresUser(initdb, [
    '-D',
    dataDir,
    '-U',
    'postgres',
    '--auth=trust',
    '--encoding=UTF8',
    '--no-sync',
    '--no-instructions',
  ]);
  await run(initCmd, initArgs);
  const server = {
    listen_addresses: '127.0.0.1',
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: '300',
    ...settings,
  };
  const options = [
    `-p ${port} -k ${root}`,
    ...Object.entries(server).map(([name, value]) => `-c ${name}=${value}`),
  ].join(' ');
  const [startCmd, startArgs] = asPostgresUser(pgCtl, [
    '-D',
    dataDir,
    '-o',
    options,
    '-l',
    join(root, 'log'),
    '-w',
    'start',
  ]);
  await run(startCmd, startArgs);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      const [stopCmd, stopArgs] = asPostgresUser(pgCtl, [
        '-D',
        dataDir,
        '-m',
        'immediate',
        '-w',
        'stop',
      ]);
      await run(stopCmd, stopArgs).catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export async function startLocalRedis(): Promise<LocalService> {
  const dir = mkdtempSync(join(tmpdir(), 'erp-bridge-redis-'));
  const server = await startRedisServer(dir, ['--save', '', '--appendonly', 'no']);
  return {
    url: server.url,
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
