/**
 * Throw-away PostgreSQL and Redis servers started from the machine's Debian binaries in temp
 * dirs, for machines with neither a container engine nor TEST_* URLs. Each is stopped by the
 * returned `stop()`, and every file it made is removed.
 */
import { execFile } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statfsSync,
} from 'node:fs';
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

/** A PostgreSQL server of the test's own, which it may crash and start again on its data. */
export interface LocalPostgres extends LocalService {
  /**
   * Stops it at once, as a crash does, and starts it again on the same port, `downMs` later
   * (default at once).
   */
  restart(downMs?: number): Promise<void>;
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

/** Free space a server's files may take in memory: a test run's databases and WAL. */
const IN_MEMORY_MIN_FREE_BYTES = 4 * 1024 ** 3;

/**
 * Where a server's files go: tmpfs (`/dev/shm`) when `inMemory` and it has room, else the temp dir.
 * A test run creates and drops a database per test file or case, about a thousand files each;
 * on ext4 those creations and deletions cost the kernel more CPU than the queries they serve.
 */
function serverBase(inMemory: boolean): string {
  if (!inMemory || !existsSync('/dev/shm')) return tmpdir();
  const { bavail, bsize } = statfsSync('/dev/shm');
  return bavail * bsize >= IN_MEMORY_MIN_FREE_BYTES ? '/dev/shm' : tmpdir();
}

/** A temp dir for a server's files, the `postgres` user's when running as root. */
async function serverDir(prefix: string, inMemory = false): Promise<string> {
  const root = mkdtempSync(join(serverBase(inMemory), prefix));
  const owner = await postgresUid();
  if (owner) {
    chownSync(root, owner.uid, owner.gid);
    chmodSync(root, 0o700);
  }
  return root;
}

/** The version the machine's PostgreSQL server binary reports, e.g. `15.18 (Debian 15.18-0+deb12u1)`. */
export async function postgresServerVersion(): Promise<string> {
  const { stdout } = await run(findPgBin('postgres'), ['--version']);
  return stdout.trim().replace(/^postgres \(PostgreSQL\) /, '');
}

/**
 * A throw-away PostgreSQL server; `settings` are more `-c name=value` options (a bench loads
 * `pg_stat_statements` with them). `inMemory` keeps its files on tmpfs when there is room: for
 * the test suite's many small databases, not for a bench's millions of rows.
 */
export async function startLocalPostgres(
  settings: Readonly<Record<string, string>> = {},
  { inMemory = false }: { inMemory?: boolean } = {},
): Promise<LocalPostgres> {
  const initdb = findPgBin('initdb');
  if (!existsSync(initdb) && initdb === 'initdb') {
    throw new Error('PostgreSQL server binaries not found: apt-get install -y postgresql');
  }
  const root = await serverDir('erp-bridge-pg-', inMemory);
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
  return startServer(root, dataDir, port, settings);
}

/** What every throw-away server runs with: fast and unsafe, as a test's data may be. */
const SERVER_SETTINGS: Readonly<Record<string, string>> = {
  listen_addresses: '127.0.0.1',
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  // A hot standby needs at least its primary's: both use this.
  max_connections: '300',
};

/** Starts the cluster in `dataDir` on `port`; its `stop()` removes `root` with it. */
async function startServer(
  root: string,
  dataDir: string,
  port: number,
  settings: Readonly<Record<string, string>>,
): Promise<LocalPostgres> {
  const pgCtl = findPgBin('pg_ctl');
  const options = [
    `-p ${port} -k ${root}`,
    ...Object.entries({ ...SERVER_SETTINGS, ...settings }).map(
      ([name, value]) => `-c ${name}=${value}`,
    ),
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
  // As a crash stops it: no checkpoint, every session cut; the next start replays the WAL.
  const [stopCmd, stopArgs] = asPostgresUser(pgCtl, [
    '-D',
    dataDir,
    '-m',
    'immediate',
    '-w',
    'stop',
  ]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async restart(downMs = 0) {
      await run(stopCmd, stopArgs);
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
      await run(startCmd, startArgs);
    },
    async stop() {
      await run(stopCmd, stopArgs).catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * A hot standby of `primaryUrl`'s server (one startLocalPostgres made): a base backup taken over
 * its replication connection, then started as a streaming replica of it. Its URL names the same
 * database as the primary's.
 */
export async function startLocalReplica(primaryUrl: string): Promise<LocalService> {
  const root = await serverDir('erp-bridge-pg-replica-');
  const dataDir = join(root, 'data');
  const primary = new URL(primaryUrl);
  const [backupCmd, backupArgs] = asPostgresUser(findPgBin('pg_basebackup'), [
    '-h',
    primary.hostname,
    '-p',
    primary.port,
    '-U',
    'postgres',
    '-D',
    dataDir,
    // Writes standby.signal and primary_conninfo: it starts as the primary's streaming replica.
    '--write-recovery-conf',
    '--wal-method=stream',
    '--checkpoint=fast',
    '--no-sync',
  ]);
  await run(backupCmd, backupArgs);
  const server = await startServer(root, dataDir, await freePort(), { hot_standby: 'on' });
  const url = new URL(primaryUrl);
  url.port = new URL(server.url).port;
  return { url: url.toString(), stop: () => server.stop() };
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
