/**
 * The deployment the chaos run throws its faults at, started on this machine from local servers
 * in temp dirs, configured only as an operator configures erp-bridge (its environment, its
 * sources, families and subscriptions files; README, "Configuration"):
 *
 * - PostgreSQL, and the queues' store: one Redis server, Redis behind Sentinel, or PostgreSQL;
 * - two or three sources, each Odoo database a sandbox process of its own: `default` plays 17.0
 *   over JSON-RPC with a password, `b19` 19.0 over JSON-2 with an API key, and a third, `c18`,
 *   18.0 over XML-RPC; each with the BC family and the configured family `cylinders`, and
 *   automation rules that post their webhooks to the API;
 * - `migrate`, then the API and the workers, each a process of its own under the run's supervisor;
 * - two signed receivers, each subscribed to the change feed (every source; the second the
 *   cylinders alone), from the oldest change.
 *
 * What the run may do to it is here too, each fault as the component's own interface allows: a
 * process signalled, a server stopped and started, a session ended, an Odoo told through the
 * sandbox's control.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import postgres from 'postgres';
import { request } from 'undici';
import { startFeedReceiver, type FeedReceiver } from '../services/feed-receiver.js';
import { freePort } from '../services/free-port.js';
import { productionCommand } from '../services/production-command.js';
import { startRedisServer, type RedisServer } from '../services/redis-server.js';
import { startSandboxProcess, type SandboxProcess } from '../services/sandbox-process.js';
import type { SandboxSeries } from '../sandbox/sandbox-rpc-services.js';
import { startLocalPostgres, type LocalPostgres } from '../../test/helpers/local-services.js';
import { startSentinelTopology, type SentinelTopology } from '../../test/helpers/redis-sentinel.js';
import type { ChaosQueues } from './chaos-plan.js';
import { BC, CYLINDER, LINE, VALVE } from './chaos-storm.js';
import { createSupervisor, type Supervised, type Supervisor } from './supervisor.js';

/**
 * How long one `migrate` may take before the run kills it: it takes seconds, and an attempt that
 * never ends (its process alive, or its awaits never settled) is a defect the run names, not a
 * wait for the test's own timeout.
 */
export const MIGRATE_DEADLINE_MS = 3 * 60_000;

/** The Odoo timeout the deployment runs with (ODOO_TIMEOUT_MS): a timeout fault answers later. */
export const ODOO_TIMEOUT_MS = 5_000;

/** A source of the deployment: its Odoo database, and how erp-bridge reaches it. */
export interface ChaosSource {
  readonly name: string;
  readonly series: SandboxSeries;
  readonly odoo: SandboxProcess;
  /** The password Odoo takes (the run changes it for a while, then puts it back). */
  readonly password: string;
  /** The path prefix of its records on the API: `/api` or `/api/sources/<name>`. */
  readonly apiPrefix: string;
}

/** A subscription of the feed, and the receiver it delivers to. */
export interface ChaosSubscription {
  readonly name: string;
  /** The families it takes; empty: every family. */
  readonly families: readonly string[];
  readonly receiver: FeedReceiver;
}

export interface ChaosDeployment {
  readonly apiUrl: string;
  readonly keys: { readonly admin: string; readonly reader: string; readonly stream: string };
  readonly sources: readonly ChaosSource[];
  /** The families each source copies, by their names in the source. */
  readonly families: readonly string[];
  readonly subscriptions: readonly ChaosSubscription[];
  readonly supervisor: Supervisor;
  readonly api: Supervised;
  readonly workers: readonly Supervised[];
  /** Each worker's own port, for its health and metrics. */
  readonly workerUrls: readonly string[];
  readonly queues: ChaosQueues;
  /**
   * `migrate`, as an operator runs it after Odoo gained a field; again until it passes. Resolves
   * with what went wrong on the way that an operator could not get past: an attempt that never
   * ended, killed at {@link MIGRATE_DEADLINE_MS}.
   */
  migrate(): Promise<readonly string[]>;
  /** Stops Redis, with or without its data, and starts it again after `downMs`. */
  restartRedis(keepData: boolean, downMs: number): Promise<void>;
  /** Kills the Redis primary; resolves once the sentinels promoted the replica. */
  failOverRedis(): Promise<{ from: number; to: number }>;
  /** Stops PostgreSQL as a crash does and starts it again after `downMs`. */
  restartPostgres(downMs: number): Promise<void>;
  /** Ends up to `sessions` of erp-bridge's sessions, those inside a transaction first. */
  terminateSessions(sessions: number): Promise<number>;
  stop(): Promise<void>;
}

export interface ChaosDeploymentOptions {
  readonly seed: number;
  readonly queues: ChaosQueues;
  readonly sources: 2 | 3;
  readonly workers: number;
  /** Where the operator commands are bundled (build.ts), beside node_modules. */
  readonly commandsDir: string;
  /** The run's own directory: logs, files, servers' data. */
  readonly dir: string;
  /** Records of each Odoo database at the start. */
  readonly size: { readonly orders: number; readonly lines: number; readonly cylinders: number };
  readonly clock: () => number;
  readonly note: (line: string) => void;
}

const SOURCE_SHAPES: ReadonlyArray<{
  name: string;
  series: SandboxSeries;
  protocol: 'jsonrpc' | 'json2' | 'xmlrpc';
}> = [
  { name: 'default', series: '17.0', protocol: 'jsonrpc' },
  { name: 'b19', series: '19.0', protocol: 'json2' },
  { name: 'c18', series: '18.0', protocol: 'xmlrpc' },
];

const FAMILIES_FILE = `families:
  - name: cylinders
    model: ${CYLINDER}
    children:
      - { model: ${VALVE}, link: x_cylinder_id }
`;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const token = () => randomBytes(24).toString('base64url');

/** Resolves once `url` answers 200, or rejects when `signal` aborts. */
async function answers(url: string, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      const response = await request(url, { signal, headersTimeout: 5_000 });
      await response.body.dump();
      if (response.statusCode === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} never answered ready`);
}

export async function startChaosDeployment(
  options: ChaosDeploymentOptions,
): Promise<ChaosDeployment> {
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    return await start(options, stops, stopAll);
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function start(
  options: ChaosDeploymentOptions,
  stops: Array<() => Promise<void>>,
  stopAll: () => Promise<void>,
): Promise<ChaosDeployment> {
  const { dir, note } = options;
  const logDir = join(dir, 'logs');
  mkdirSync(logDir, { recursive: true });

  // The stores.
  note('starting PostgreSQL');
  // Durable commits: a `postgres-restart` is a crash, and a throw-away server's
  // `synchronous_commit=off` loses the commits of its last moments, which the feed may already
  // have delivered. A production server keeps every commit it acknowledged; so does this one.
  // (`fsync` may stay off: the machine itself does not crash, only the server's processes.)
  const pg: LocalPostgres = await startLocalPostgres({
    max_connections: '400',
    synchronous_commit: 'on',
  });
  stops.push(() => pg.stop());
  const databaseUrl = await createDatabase(pg.url, 'erp_bridge');
  let redis: RedisServer | undefined;
  const redisDir = join(dir, 'redis');
  let sentinel: SentinelTopology | undefined;
  const storeEnv: Record<string, string> = {};
  if (options.queues === 'redis') {
    mkdirSync(redisDir, { recursive: true });
    // Its data survives a restart (the append-only file), as a deployed Redis's does.
    redis = await startRedisServer(redisDir, REDIS_DISK, await freePort());
    stops.push(() => redis!.stop());
    storeEnv.REDIS_URL = redis.url;
  } else if (options.queues === 'sentinel') {
    note('starting Redis Sentinel');
    sentinel = await startSentinelTopology();
    stops.push(() => sentinel!.stop());
    Object.assign(storeEnv, sentinel.env);
  } else {
    storeEnv.QUEUE_BACKEND = 'postgres';
  }

  // The sources, each Odoo database a process.
  note(`starting ${options.sources} Odoo sandboxes`);
  const apiPort = await freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const shapes = SOURCE_SHAPES.slice(0, options.sources);
  const sandboxes = await Promise.all(
    shapes.map((shape, index) =>
      startSandboxProcess({
        orders: options.size.orders,
        lines: options.size.lines,
        cylinders: options.size.cylinders,
        partners: 10,
        seed: options.seed * 10 + index,
        series: shape.series,
        database: `odoo_${shape.name}`,
        control: true,
      }),
    ),
  );
  for (const sandbox of sandboxes) stops.push(() => sandbox.stop());
  const tokens = shapes.map(() => token());
  const sources: ChaosSource[] = shapes.map((shape, index) => ({
    name: shape.name,
    series: shape.series,
    odoo: sandboxes[index]!,
    password: sandboxes[index]!.env.ODOO_PASSWORD!,
    apiPrefix: shape.name === 'default' ? '/api' : `/api/sources/${shape.name}`,
  }));
  await Promise.all(
    sources.map((source, index) => {
      const hook = `${apiUrl}/hooks/odoo/${tokens[index]}`;
      return source.odoo.control({
        op: 'webhooks',
        rules: [
          // Odoo's usual set (README, "Changes pushed by Odoo"): create and edit, and deletion.
          {
            url: hook,
            models: [BC, LINE],
            on: ['create', 'write'],
            fields: ['write_date', 'bc_id'],
          },
          { url: `${hook}?event=deleted`, models: [BC, LINE], on: ['unlink'], fields: ['bc_id'] },
          {
            url: hook,
            models: [CYLINDER, VALVE],
            on: ['create', 'write'],
            fields: ['write_date', 'x_cylinder_id'],
          },
          {
            url: `${hook}?event=deleted`,
            models: [CYLINDER, VALVE],
            on: ['unlink'],
            fields: ['x_cylinder_id'],
          },
        ],
      });
    }),
  );

  // The consumers.
  const secrets = [0, 1].map(() => `whsec_${randomBytes(32).toString('base64')}`);
  const receivers = await Promise.all(secrets.map((secret) => startFeedReceiver({ secret })));
  stops.push(async () => {
    for (const receiver of receivers) await receiver.close();
  });
  const subscriptions: ChaosSubscription[] = [
    { name: 'chaos-all', families: [], receiver: receivers[0]! },
    { name: 'chaos-cylinders', families: ['cylinders'], receiver: receivers[1]! },
  ];

  // The files and the environment, as an operator writes them.
  const filesDir = join(dir, 'config');
  mkdirSync(filesDir, { recursive: true });
  writeFileSync(join(filesDir, 'families.yaml'), FAMILIES_FILE);
  writeFileSync(
    join(filesDir, 'sources.yaml'),
    [
      'sources:',
      ...shapes.slice(1).flatMap((shape, i) => {
        const sandbox = sandboxes[i + 1]!;
        const upper = shape.name.toUpperCase();
        const secret =
          shape.protocol === 'json2'
            ? `apiKey: { env: ${upper}_API_KEY }`
            : `password: { env: ${upper}_PASSWORD }`;
        return [
          `  - name: ${shape.name}`,
          `    odoo: { url: "${sandbox.env.ODOO_URL}", database: ${sandbox.env.ODOO_DATABASE}, username: "${sandbox.env.ODOO_USERNAME}", ${secret}, protocol: ${shape.protocol} }`,
          '    families: [bcs, cylinders]',
          `    webhookTokens: { env: ${upper}_WEBHOOK_TOKENS }`,
        ];
      }),
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(filesDir, 'subscriptions.yaml'),
    [
      'subscriptions:',
      ...subscriptions.flatMap((subscription, i) => [
        `  - name: ${subscription.name}`,
        `    url: "${subscription.receiver.url}"`,
        `    secret: "${secrets[i]}"`,
        "    sources: ['*']",
        ...(subscription.families.length > 0
          ? [`    families: [${subscription.families.join(', ')}]`]
          : []),
        '    from: oldest',
      ]),
      '',
    ].join('\n'),
  );
  const keys = { admin: token(), reader: token(), stream: token() };
  const defaultOdoo = sandboxes[0]!.env;
  const env: NodeJS.ProcessEnv = {
    DATABASE_URL: databaseUrl,
    ...storeEnv,
    ODOO_URL: defaultOdoo.ODOO_URL,
    ODOO_DATABASE: defaultOdoo.ODOO_DATABASE,
    ODOO_USERNAME: defaultOdoo.ODOO_USERNAME,
    ODOO_PASSWORD: defaultOdoo.ODOO_PASSWORD,
    ODOO_PROTOCOL: 'jsonrpc',
    ODOO_TIMEOUT_MS: String(ODOO_TIMEOUT_MS),
    // The sandboxes serve JSON-2's reads from their primary: no replica lags (README,
    // ODOO_READ_REPLICA). With it true, a reconcile keeps live a root whose deletion's webhook was
    // lost until Odoo's stamps move SYNC_OVERLAP_SECONDS past the root's.
    ODOO_READ_REPLICA: 'false',
    ODOO_WEBHOOK_TOKENS: sha256(tokens[0]!),
    ...Object.fromEntries(
      shapes.slice(1).flatMap((shape, i) => {
        const upper = shape.name.toUpperCase();
        const password = sandboxes[i + 1]!.env.ODOO_PASSWORD!;
        return [
          // The sandbox takes its password as an API key over JSON-2.
          [shape.protocol === 'json2' ? `${upper}_API_KEY` : `${upper}_PASSWORD`, password],
          [`${upper}_WEBHOOK_TOKENS`, sha256(tokens[i + 1]!)],
        ];
      }),
    ),
    SYNC_FAMILIES: 'bcs,cylinders',
    SYNC_FAMILIES_FILE: join(filesDir, 'families.yaml'),
    SYNC_SOURCES_FILE: join(filesDir, 'sources.yaml'),
    // Faults a deployment meets in hours come here in minutes: the timings that bound how long
    // each takes to heal are shortened, within what the configuration allows.
    SYNC_EVERY: '30s',
    SYNC_LEASE_SECONDS: '30',
    SYNC_JOB_LOCK_MS: '10000',
    REDIS_LIVENESS_TIMEOUT_MS: '20000',
    DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '20000',
    FEED_SECRET_KEY: randomBytes(32).toString('hex'),
    FEED_SUBSCRIPTIONS_FILE: join(filesDir, 'subscriptions.yaml'),
    FEED_ALLOWED_HOSTS: '127.0.0.1',
    FEED_DELIVERY_TIMEOUT_MS: '3000',
    FEED_DELIVERY_BACKOFF_MAX_MS: '10000',
    API_KEYS: [
      `chaos-admin:admin:${sha256(keys.admin)}`,
      `chaos-reader:reader:${sha256(keys.reader)}`,
      `chaos-stream:reader:${sha256(keys.stream)}`,
    ].join(','),
    API_RECONCILE_COOLDOWN_SECONDS: '0',
    API_READERS_SEE_ARCHIVED: 'true',
    RATE_LIMIT_PER_MINUTE: '1000000',
    API_MAX_IN_FLIGHT_PER_KEY: '16',
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    // The packages every command loads are compiled by the first process, not again by each
    // worker the faults restart.
    NODE_COMPILE_CACHE: resolve(options.commandsDir, '.compile-cache'),
  };

  let migrates = 0;
  const migrate = async () => {
    const hung: string[] = [];
    for (let attempt = 1; ; attempt += 1) {
      migrates += 1;
      const logName = `logs/migrate-${migrates}.log`;
      const child = spawn(process.execPath, [join(options.commandsDir, 'src/cli/migrate.js')], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      // Written as it comes: a migrate that never ends shows where it stopped.
      const log = createWriteStream(join(dir, logName));
      let output = '';
      const keep = (chunk: Buffer) => {
        output += chunk.toString();
        log.write(chunk);
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      const deadline = setTimeout(() => {
        hung.push(`migrate did not end in ${MIGRATE_DEADLINE_MS / 1_000} s: killed (${logName})`);
        note(hung.at(-1)!);
        child.kill('SIGKILL');
      }, MIGRATE_DEADLINE_MS);
      const [code] = (await once(child, 'exit')) as [number | null];
      clearTimeout(deadline);
      await new Promise((resolve) => log.end(resolve));
      if (code === 0) return hung;
      // Node's exit when the event loop emptied under an await that never settled: a hang
      // that nothing happened to keep alive.
      if (code === 13) hung.push(`migrate exited 13, an await never settled (${logName})`);
      if (attempt >= 20)
        throw new Error(`migrate failed ${attempt} times:\n${output.slice(-2_000)}`);
      note(`migrate exited ${code} (attempt ${attempt}): again in 3 s`);
      await new Promise((resolve) => setTimeout(resolve, 3_000));
    }
  };
  note('migrate');
  const hung = await migrate();
  if (hung.length > 0) throw new Error(hung.join('\n'));

  const supervisor = createSupervisor({ logDir, clock: options.clock, note });
  stops.push(() => supervisor.stop());
  const worker = productionCommand('start:worker');
  const apiCommand = productionCommand('start');
  note('starting the API');
  const api = await supervisor.start({
    name: 'api',
    script: join(options.commandsDir, 'src/server.js'),
    nodeArgs: apiCommand.nodeArgs,
    env: { ...env, ...apiCommand.env, PORT: String(apiPort), HOST: '127.0.0.1' },
    ready: (signal) => answers(`${apiUrl}/health/ready`, signal),
  });
  const workerPorts = await Promise.all(Array.from({ length: options.workers }, () => freePort()));
  note(`starting ${options.workers} workers`);
  const workers = await Promise.all(
    workerPorts.map((port, index) =>
      supervisor.start({
        name: `worker-${index + 1}`,
        script: join(options.commandsDir, 'workers/main.js'),
        nodeArgs: worker.nodeArgs,
        env: { ...env, ...worker.env, WORKER_HTTP_PORT: String(port), HOST: '127.0.0.1' },
        ready: (signal) => answers(`http://127.0.0.1:${port}/health/ready`, signal),
      }),
    ),
  );

  const redisUrlOf = () => new URL(redis!.url);
  return {
    apiUrl,
    keys,
    sources,
    families: ['bcs', 'cylinders'],
    subscriptions,
    supervisor,
    api,
    workers,
    workerUrls: workerPorts.map((port) => `http://127.0.0.1:${port}`),
    queues: options.queues,
    migrate,
    async restartRedis(keepData, downMs) {
      if (!redis) throw new Error('the run has no Redis server of its own');
      await redis.stop(keepData ? 'SIGTERM' : 'SIGKILL');
      if (!keepData) {
        rmSync(redisDir, { recursive: true, force: true });
        mkdirSync(redisDir, { recursive: true });
      }
      await new Promise((resolve) => setTimeout(resolve, downMs));
      redis = await startRedisServer(redisDir, REDIS_DISK, Number(redisUrlOf().port));
    },
    async failOverRedis() {
      if (!sentinel) throw new Error('the run has no Sentinel');
      return sentinel.failOver();
    },
    async restartPostgres(downMs) {
      await pg.restart(downMs);
    },
    async terminateSessions(sessions) {
      const admin = postgres(pg.url, { max: 1, onnotice: () => undefined, connect_timeout: 10 });
      try {
        const ended = await admin<{ pid: number }[]>`
          select pid from pg_stat_activity
          where datname = 'erp_bridge' and pid <> pg_backend_pid()
            and backend_type = 'client backend'
          order by (xact_start is null), random()
          limit ${sessions}`;
        for (const { pid } of ended) await admin`select pg_terminate_backend(${pid})`;
        return ended.length;
      } finally {
        await admin.end({ timeout: 5 });
      }
    },
    stop: stopAll,
  };
}

/** Redis as deployed for queues: its data on disk (append-only file), so a restart keeps it. */
const REDIS_DISK = ['--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''];

async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
