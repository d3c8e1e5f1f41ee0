/**
 * A real trytond (SQLite backend) for one test file or bench: its own temp dir, config, database
 * file and port, seeded with a few `party.party` records, and a `stop()` that kills it and removes
 * every file. Three series (docs/tryton.md, sections 7 and 8):
 *
 * - 6.0, Debian bookworm's `tryton-server`, installed on the machine;
 * - 7.0 LTS, Debian trixie's `tryton-server`: the machine's own when it has 7.0, else run in a
 *   trixie chroot that `dev/services/trytond7-chroot.sh` builds once and caches outside the tree.
 *   The server's files then live under the chroot's /tmp, which both sides see without a mount;
 * - 8.0 LTS, which no Debian suite ships: upstream's source vendored in dev/services/trytond8/,
 *   run in a Debian sid chroot that `dev/services/trytond8-chroot.sh` builds once and caches
 *   outside the tree, its files under that chroot's /tmp in the same way.
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
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { request } from 'undici';
import { trytonRpcPath } from '../../src/clients/tryton/tryton-rpc-paths.js';
import type { TrytonConfig } from '../../src/config/config.js';
import { freePort } from '../../dev/services/free-port.js';

const runFile = promisify(execFile);

/** The Tryton series the gateway is tested against. */
export type TrytondSeries = '6.0' | '7.0' | '8.0';
const KNOWN_SERIES: readonly TrytondSeries[] = ['6.0', '7.0', '8.0'];

/** The series a comma-separated list names; an unknown one fails the run rather than shrink it. */
function seriesNamed(list: string): TrytondSeries[] {
  return list.split(',').map((name) => {
    const series = KNOWN_SERIES.find((known) => known === name.trim());
    if (!series)
      throw new Error(`TEST_TRYTOND_SERIES names "${name}", not one of ${KNOWN_SERIES.join(', ')}`);
    return series;
  });
}

/**
 * The rows of the gateway's test table: every series (`npm test`, CI), or the series
 * `TEST_TRYTOND_SERIES` lists (`npm run test:tryton8` sets `8.0`; docs/tryton.md, section 8).
 */
export const TRYTOND_SERIES: readonly TrytondSeries[] = process.env.TEST_TRYTOND_SERIES
  ? seriesNamed(process.env.TEST_TRYTOND_SERIES)
  : KNOWN_SERIES;

/**
 * How long a test file's hook may take to start a 7.0 or 8.0 server: the first start on a machine
 * builds the chroot (debootstrap, one to three minutes; more on a loaded machine or a slow mirror).
 */
export const TRYTOND_START_TIMEOUT_MS = 900_000;

export interface TrytondOptions {
  /** Which LTS series to start (default 6.0). */
  series?: TrytondSeries;
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
  series: TrytondSeries;
  /** What the server answers to `common.server.version`: `7.0.30`, or `8.0` (the series). */
  version: string;
  /** Base URL, e.g. `http://127.0.0.1:41234`: `TRYTON_RPC_URL`. */
  url: string;
  /** The server's JSON-RPC endpoint: `${url}/`, or `${url}/rpc/` from 8.0. */
  serverRpcUrl: string;
  /** The database's JSON-RPC endpoint: `${url}/${database}/`, or `${url}/${database}/rpc/` from 8.0. */
  databaseRpcUrl: string;
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
/** The chroot each series that is not the machine's own runs in (docs/tryton.md, 7 and 8). */
const CHROOTS = {
  '7.0': {
    script: fileURLToPath(new URL('../../dev/services/trytond7-chroot.sh', import.meta.url)),
    name: 'the trixie chroot',
    docs: 'docs/tryton.md, "Tryton 7.0"',
  },
  '8.0': {
    script: fileURLToPath(new URL('../../dev/services/trytond8-chroot.sh', import.meta.url)),
    name: "the sid chroot with upstream's 8.0 source",
    docs: 'docs/tryton.md, "Tryton 8.0"',
  },
} as const;
type ChrootSeries = keyof typeof CHROOTS;

/** The JSON-RPC endpoints of a series' server at `url` (8.0 moved them under /rpc/). */
function endpoints(series: TrytondSeries, url: string) {
  const layout = series === '8.0' ? 'rpc' : 'root';
  return {
    serverRpcUrl: `${url}${trytonRpcPath(layout, 'server', DATABASE)}`,
    databaseRpcUrl: `${url}${trytonRpcPath(layout, 'database', DATABASE)}`,
  };
}

function onPath(name: string): boolean {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .some((dir) => dir !== '' && existsSync(join(dir, name)));
}

/** The file and arguments that run `program` with `env` added, as `execFile`/`spawn` take them. */
type Command = (
  program: string,
  args: readonly string[],
  env?: Record<string, string>,
) => [string, string[]];

/**
 * Where a series' trytond runs: the programs to spawn, and the folder its files go in, as this
 * process sees it (`hostDir`) and as trytond sees it (`innerPath`).
 */
interface TrytondRuntime {
  readonly series: TrytondSeries;
  /** trytond's own version, e.g. `7.0.30`. */
  readonly version: string;
  readonly hostDir: string;
  innerPath(hostPath: string): string;
  readonly command: Command;
}

async function installedVersion(run: Command): Promise<string> {
  const [file, args] = run('trytond', ['--version']);
  const { stdout } = await runFile(file, args);
  return stdout.trim().replace(/^trytond\s+/, '');
}

const assignments = (env: Record<string, string>) =>
  Object.entries(env).map(([key, value]) => `${key}=${value}`);

const localCommand: Command = (program, args, env = {}) => [
  'env',
  [...assignments(env), program, ...args],
];

function localRuntime(series: TrytondSeries, version: string): TrytondRuntime {
  return { series, version, hostDir: tmpdir(), innerPath: (path) => path, command: localCommand };
}

/** Each chroot, built on first use (under its script's lock: files racing share one build). */
const chrootRoots = new Map<ChrootSeries, Promise<string>>();

async function chrootRuntime(series: ChrootSeries): Promise<TrytondRuntime> {
  const chroot = CHROOTS[series];
  let building = chrootRoots.get(series);
  if (building === undefined) {
    building = runFile('bash', [chroot.script, 'ensure'], {
      timeout: TRYTOND_START_TIMEOUT_MS,
    }).then(
      ({ stdout }) => stdout.trim(),
      (error: unknown) => {
        chrootRoots.delete(series);
        throw new Error(
          `cannot provide trytond ${series}: ${chroot.name} could not be built (${chroot.docs}): ${(error as { stderr?: string }).stderr?.trim() || (error as Error).message}`,
          { cause: error },
        );
      },
    );
    chrootRoots.set(series, building);
  }
  const root = await building;
  const command: Command = (program, args, env = {}) => [
    'bash',
    [chroot.script, 'exec', 'env', ...assignments(env), program, ...args],
  ];
  return {
    series,
    version: await installedVersion(command),
    hostDir: join(root, 'tmp'),
    innerPath: (hostPath) => hostPath.slice(root.length),
    command,
  };
}

/**
 * The runtime of a series, or an error saying how to get it: tests never skip for lack of a
 * server. 7.0 runs from the machine's own trytond when that is 7.0 (a trixie machine).
 */
async function runtimeFor(series: TrytondSeries): Promise<TrytondRuntime | undefined> {
  const installed = onPath('trytond') && onPath('trytond-admin');
  const local = installed ? await installedVersion(localCommand) : undefined;
  if (local?.startsWith(`${series}.`)) return localRuntime(series, local);
  if (series !== '6.0') return chrootRuntime(series);
  if (local !== undefined)
    throw new Error(`trytond ${series} is needed, and the installed trytond is ${local}`);
  return undefined;
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

/** The initialised database file, built with `trytond-admin` once per trytond version. */
async function templateDatabase(runtime: TrytondRuntime): Promise<string> {
  const version = runtime.version.replace(/[^\w.]+/g, '_');
  const setupHash = createHash('sha256')
    .update(
      JSON.stringify({ ADMIN_USER, ADMIN_PASSWORD, ADMIN_EMAIL, MODULES, DATABASE, format: 1 }),
    )
    .digest('hex')
    .slice(0, 12);
  const cacheDir = join(tmpdir(), 'erp-bridge-trytond-cache');
  const cached = join(cacheDir, `${version}-${setupHash}.sqlite`);
  if (existsSync(cached)) return cached;

  const workDir = mkdtempSync(join(runtime.hostDir, 'erp-bridge-trytond-init-'));
  try {
    const dataDir = join(workDir, 'data');
    mkdirSync(dataDir);
    // trytond-admin on SQLite needs the database file to exist.
    writeFileSync(join(dataDir, `${DATABASE}.sqlite`), '');
    const conf = join(workDir, 'trytond.conf');
    writeFileSync(conf, configText(runtime.innerPath(dataDir), '127.0.0.1:8000', {}));
    const passFile = join(workDir, 'admin-password');
    writeFileSync(passFile, `${ADMIN_PASSWORD}\n`);
    const [file, args] = runtime.command(
      'trytond-admin',
      [
        '-c',
        runtime.innerPath(conf),
        '-d',
        DATABASE,
        '--all',
        '-u',
        ...MODULES,
        '--activate-dependencies',
        '--email',
        ADMIN_EMAIL,
      ],
      { TRYTONPASSFILE: runtime.innerPath(passFile) },
    );
    await runFile(file, args, { timeout: 180_000, maxBuffer: 16 * 1024 * 1024 });
    mkdirSync(cacheDir, { recursive: true });
    // Copy then rename: a concurrent test file never sees a half-written template.
    const partial = `${cached}.${process.pid}.partial`;
    copyFileSync(join(dataDir, `${DATABASE}.sqlite`), partial);
    renameSync(partial, cached);
    return cached;
  } catch (error) {
    throw new Error(
      `trytond-admin ${runtime.version} could not initialise the test database: ${(error as Error).message}`,
      { cause: error },
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

/** Resolves to trytond's version once its server endpoint answers; rejects if it exits first. */
async function waitUntilReady(
  child: ChildProcess,
  serverRpcUrl: string,
  logPath: string,
): Promise<string> {
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
        const version = await rpc(serverRpcUrl, 'common.server.version', []);
        if (typeof version === 'string') return version;
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

async function seed(endpoint: string): Promise<SeededParty[]> {
  const login = (await rpc(endpoint, 'common.db.login', [
    ADMIN_USER,
    { password: ADMIN_PASSWORD },
    'en',
  ])) as [number, string];
  const authorization = `Session ${Buffer.from(`${ADMIN_USER}:${login[0]}:${login[1]}`).toString('base64')}`;
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
  const { serverRpcUrl, databaseRpcUrl } = endpoints('6.0', server.url);
  try {
    const parties = await seed(databaseRpcUrl);
    return {
      series: '6.0',
      version: String(await rpc(serverRpcUrl, 'common.server.version', [])),
      url: server.url,
      serverRpcUrl,
      databaseRpcUrl,
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
 * Starts a trytond of the series asked (6.0 by default) for the calling test file: Debian's
 * tryton-server when installed, 7.0 from the trixie chroot, 8.0 from the sid chroot, 6.0 from a
 * container when an engine answers and nothing is installed. Throws, saying what to install, when
 * neither is there: tests never skip for lack of it.
 */
export async function startTrytond(options: TrytondOptions = {}): Promise<Trytond> {
  const series = options.series ?? '6.0';
  const runtime = await runtimeFor(series);
  if (!runtime) {
    if (await containerRuntimeAnswers()) return startTrytondContainer(options);
    throw new Error(`trytond is not installed; install it with: ${INSTALL_HINT}`);
  }
  const template = await templateDatabase(runtime);
  const root = mkdtempSync(join(runtime.hostDir, 'erp-bridge-trytond-'));
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
    writeFileSync(conf, configText(runtime.innerPath(dataDir), `127.0.0.1:${port}`, options));
    // A file, not a pipe: a pipe nobody reads would block trytond once full.
    const logFd = openSync(logPath, 'a');
    // The chroot's command execs its way to trytond: the child is trytond, and kill stops it.
    const [file, args] = runtime.command('trytond', [
      '-c',
      runtime.innerPath(conf),
      '-d',
      DATABASE,
    ]);
    const child = spawn(file, args, { stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    const { serverRpcUrl, databaseRpcUrl } = endpoints(series, url);
    try {
      const version = await waitUntilReady(child, serverRpcUrl, logPath);
      const parties = await seed(databaseRpcUrl);
      return {
        series,
        version,
        url,
        serverRpcUrl,
        databaseRpcUrl,
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

/** trytond's text for a read of ids that do not exist: 7.0 dropped the "anymore". */
export function missingRecordsMessage(series: TrytondSeries, ids: string, model: string): string {
  const tail = series === '6.0' ? "don't exist anymore." : "don't exist.";
  return `You are trying to read records "${ids}" of "${model}" that ${tail}`;
}

/** What `common.server.version` answers for a series: `6.0.29`, `7.0.30`, and from 8.0 `8.0`. */
export const seriesVersion = (series: TrytondSeries): RegExp =>
  new RegExp(`^${series.replace('.', '\\.')}${series === '8.0' ? '' : '\\.\\d+'}$`);

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
