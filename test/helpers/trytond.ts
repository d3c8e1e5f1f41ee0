/**
 * A real trytond (Debian's `tryton-server` 6.0, SQLite backend) for one test file or bench: its
 * own temp dir, config, database file and port, seeded with a few `party.party` records, and a
 * `stop()` that kills it and removes every file.
 *
 * `trytond-admin` takes ~5 s, so the initialised database is built once and cached as a file
 * (keyed by trytond's version and this setup), then copied for each server: every server still
 * has its own database. Not for production use.
 */
import { containerRuntimeAnswers, startContainerTrytond } from './container-services.js';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { request } from 'undici';
import type { TrytonConfig } from '../../src/config/config.js';
import { freePort } from '../../dev/services/free-port.js';

const run = promisify(execFile);

export interface TrytondOptions {
  /** `[session] max_age`: absolute session lifetime (default 30 days). */
  sessionMaxAgeSeconds?: number;
  /** `[session] timeout`: idle time, and the window for counting failed logins (default 300). */
  sessionTimeoutSeconds?: number;
  /** `[session] max_attempt`: failed logins per window before 429 (default 5). */
  maxAttempt?: number;
}

export interface SeededParty {
  id: number;
  name: string;
  code: string;
}

export interface Trytond {
  /** Base URL, e.g. `http://127.0.0.1:41234` (the RPC endpoint is `${url}/${database}/`). */
  url: string;
  database: string;
  user: string;
  password: string;
  /** The parties seeded at start, in id order. */
  parties: readonly SeededParty[];
  stop(): Promise<void>;
}

const DATABASE = 'erp_bridge_test';
const ADMIN_USER = 'admin';
/** Distinctive, so a test can search captured logs for it; passes trytond's entropy check. */
const ADMIN_PASSWORD = 'Kq7mZ2vX-w9pLt4R';
const ADMIN_EMAIL = 'admin@example.invalid';
const MODULES = ['party'];
const SEED_PARTIES = [
  { name: 'Acme Corp', code: 'ACME' },
  { name: 'Globex', code: 'GLOBEX' },
  { name: 'Initech', code: 'INITECH' },
];
const INSTALL_HINT = 'apt-get install -y tryton-server tryton-modules-party';
const READY_ATTEMPTS = 150;
const START_ATTEMPTS = 3;

function onPath(name: string): boolean {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .some((dir) => dir !== '' && existsSync(join(dir, name)));
}

function configText(dataDir: string, listen: string, options: TrytondOptions): string {
  const session = [
    options.sessionMaxAgeSeconds === undefined ? '' : `max_age = ${options.sessionMaxAgeSeconds}`,
    options.sessionTimeoutSeconds === undefined ? '' : `timeout = ${options.sessionTimeoutSeconds}`,
    options.maxAttempt === undefined ? '' : `max_attempt = ${options.maxAttempt}`,
  ].filter(Boolean);
  return [
    '[database]',
    'uri = sqlite://',
    `path = ${dataDir}`,
    '[web]',
    `listen = ${listen}`,
    ...(session.length > 0 ? ['[session]', ...session] : []),
    '',
  ].join('\n');
}

function writeConfig(path: string, dataDir: string, port: number, options: TrytondOptions): void {
  writeFileSync(path, configText(dataDir, `127.0.0.1:${port}`, options));
}

/** The initialised database file, built with `trytond-admin` once per trytond version. */
async function templateDatabase(): Promise<string> {
  const { stdout } = await run('trytond', ['--version']);
  const version = stdout.trim().replace(/[^\w.]+/g, '_');
  const setupHash = createHash('sha256')
    .update(
      JSON.stringify({ ADMIN_USER, ADMIN_PASSWORD, ADMIN_EMAIL, MODULES, DATABASE, format: 1 }),
    )
    .digest('hex')
    .slice(0, 12);
  const cacheDir = join(tmpdir(), 'erp-bridge-trytond-cache');
  const cached = join(cacheDir, `${version}-${setupHash}.sqlite`);
  if (existsSync(cached)) return cached;

  const workDir = mkdtempSync(join(tmpdir(), 'erp-bridge-trytond-init-'));
  try {
    const dataDir = join(workDir, 'data');
    mkdirSync(dataDir);
    // trytond-admin on SQLite needs the database file to exist.
    writeFileSync(join(dataDir, `${DATABASE}.sqlite`), '');
    const conf = join(workDir, 'trytond.conf');
    writeConfig(conf, dataDir, 8000, {});
    const passFile = join(workDir, 'admin-password');
    writeFileSync(passFile, `${ADMIN_PASSWORD}\n`);
    await run(
      'trytond-admin',
      [
        '-c',
        conf,
        '-d',
        DATABASE,
        '--all',
        '-u',
        ...MODULES,
        '--activate-dependencies',
        '--email',
        ADMIN_EMAIL,
      ],
      {
        env: { ...process.env, TRYTONPASSFILE: passFile },
        timeout: 180_000,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    mkdirSync(cacheDir, { recursive: true });
    // Copy then rename: a concurrent test file never sees a half-written template.
    const partial = `${cached}.${process.pid}.partial`;
    copyFileSync(join(dataDir, `${DATABASE}.sqlite`), partial);
    renameSync(partial, cached);
    return cached;
  } catch (error) {
    throw new Error(
      `trytond-admin could not initialise the test database: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

async function rpc(
  url: string,
  method: string,
  params: unknown[],
  authorization?: string,
): Promise<unknown> {
  const body = JSON.stringify({ id: 1, method, params });
  const response = await request(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      ...(authorization ? { authorization } : {}),
    },
    body,
  });
  const text = await response.body.text();
  if (response.statusCode !== 200) throw new Error(`${method}: HTTP ${response.statusCode}`);
  const answer = JSON.parse(text) as { result?: unknown; error?: unknown };
  if (answer.error) throw new Error(`${method}: ${JSON.stringify(answer.error)}`);
  return answer.result;
}

function logTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').slice(-1_500);
  } catch {
    return '(no log)';
  }
}

/** Resolves once trytond answers `common.server.version`; rejects if it exits first. */
async function waitUntilReady(child: ChildProcess, url: string, logPath: string): Promise<void> {
  const state: { exitCode: number | null } = { exitCode: null };
  const onExit = (code: number | null) => {
    state.exitCode = code ?? -1;
  };
  child.once('exit', onExit);
  try {
    for (let attempt = 0; attempt < READY_ATTEMPTS; attempt++) {
      if (state.exitCode !== null)
        throw new Error(`trytond exited with ${state.exitCode}:\n${logTail(logPath)}`);
      try {
        if ((await rpc(`${url}/`, 'common.server.version', [])) !== undefined) return;
      } catch {
        // Not listening yet: the next attempt comes after a short, growing pause.
      }
      await sleep(Math.min(20 + attempt * 10, 200));
    }
    throw new Error(
      `trytond did not answer after ${READY_ATTEMPTS} attempts:\n${logTail(logPath)}`,
    );
  } finally {
    child.off('exit', onExit);
  }
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

async function seed(url: string): Promise<SeededParty[]> {
  const login = (await rpc(`${url}/${DATABASE}/`, 'common.db.login', [
    ADMIN_USER,
    { password: ADMIN_PASSWORD },
    'en',
  ])) as [number, string];
  const authorization = `Session ${Buffer.from(`${ADMIN_USER}:${login[0]}:${login[1]}`).toString('base64')}`;
  const endpoint = `${url}/${DATABASE}/`;
  const ids = (await rpc(
    endpoint,
    'model.party.party.create',
    [SEED_PARTIES, {}],
    authorization,
  )) as number[];
  await rpc(endpoint, 'common.db.logout', [], authorization);
  return SEED_PARTIES.map((party, index) => ({ ...party, id: ids[index] ?? 0 }));
}

/** trytond in a container, for machines without Debian's package but with a container engine. */
async function startTrytondContainer(options: TrytondOptions): Promise<Trytond> {
  const server = await startContainerTrytond({
    config: configText('/var/lib/trytond/db', '0.0.0.0:8000', options),
    database: DATABASE,
    adminPassword: ADMIN_PASSWORD,
    adminEmail: ADMIN_EMAIL,
    modules: MODULES,
  });
  try {
    const parties = await seed(server.url);
    return {
      url: server.url,
      database: DATABASE,
      user: ADMIN_USER,
      password: ADMIN_PASSWORD,
      parties,
      stop: () => server.stop(),
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/**
 * Starts a trytond for the calling test file: Debian's tryton-server when installed, else a
 * container when an engine answers. Throws, naming the apt packages, when neither is there:
 * tests never skip for lack of it.
 */
export async function startTrytond(options: TrytondOptions = {}): Promise<Trytond> {
  if (!onPath('trytond') || !onPath('trytond-admin')) {
    if (await containerRuntimeAnswers()) return startTrytondContainer(options);
    throw new Error(`trytond is not installed; install it with: ${INSTALL_HINT}`);
  }
  const template = await templateDatabase();
  const root = mkdtempSync(join(tmpdir(), 'erp-bridge-trytond-'));
  const dataDir = join(root, 'data');
  mkdirSync(dataDir);
  copyFileSync(template, join(dataDir, `${DATABASE}.sqlite`));
  const conf = join(root, 'trytond.conf');
  const logPath = join(root, 'trytond.log');

  let lastError: unknown;
  // The free port may be taken between freePort() and trytond's bind: try a few ports.
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    writeConfig(conf, dataDir, port, options);
    // A file, not a pipe: a pipe nobody reads would block trytond once full.
    const logFd = openSync(logPath, 'a');
    const child = spawn('trytond', ['-c', conf, '-d', DATABASE], {
      stdio: ['ignore', logFd, logFd],
    });
    closeSync(logFd);
    try {
      await waitUntilReady(child, url, logPath);
      const parties = await seed(url);
      return {
        url,
        database: DATABASE,
        user: ADMIN_USER,
        password: ADMIN_PASSWORD,
        parties,
        async stop() {
          await killAndWait(child);
          rmSync(root, { recursive: true, force: true });
        },
      };
    } catch (error) {
      lastError = error;
      await killAndWait(child);
    }
  }
  rmSync(root, { recursive: true, force: true });
  throw new Error(`cannot start trytond: ${(lastError as Error).message}`, { cause: lastError });
}

/** A client configuration for a test server: its credentials, test-friendly defaults, overrides. */
export function trytonConfigFor(
  server: Trytond,
  overrides: Partial<TrytonConfig> = {},
): TrytonConfig {
  return {
    rpcUrl: server.url,
    database: server.database,
    user: server.user,
    password: server.password,
    timeoutMs: 10_000,
    loginTimeoutMs: 45_000,
    retries: 1,
    sessionTtlSeconds: 3_600,
    models: [],
    allowedMethods: [],
    maxSearchLimit: 1_000,
    maxResponseBytes: 10_485_760,
    cacheTtlSeconds: 60,
    cacheMaxBytes: 262_144,
    cacheMaxTtlSeconds: 3_600,
    cacheMaxEntries: 10_000,
    cacheMaxTotalBytes: 67_108_864,
    cacheAllowNoEviction: false,
    ...overrides,
  };
}
