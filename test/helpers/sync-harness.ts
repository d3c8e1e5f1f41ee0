/**
 * A whole sync stack for one test file: its own database, the Odoo sandbox on a free port, the
 * real Odoo client, real BullMQ queues under a random prefix on the shared Redis, and real
 * workers copying the families given (the BC family by default). `run()` queues a job and
 * resolves with its result (or rejects with its failure); a job that names no family is the
 * first family's.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { asc, desc, eq, sql } from 'drizzle-orm';
import { inject } from 'vitest';
import {
  createOdooClient,
  type OdooCallGate,
  type OdooClient,
  type OdooProtocol,
} from '../../src/clients/odoo/index.js';
import {
  syncAudit,
  syncFailure,
  syncLog,
  syncState,
  type SyncFailureRow,
  type SyncLogRow,
  type SyncStateRow,
} from '../../src/db/schema/index.js';
import { bcsFamily } from '../../src/families/bcs/family.js';
import {
  scrapDimagazBc,
  scrapDimagazBcLine,
  type BcLineRow,
  type BcRow,
} from '../../src/families/bcs/tables.js';
import type { RecordFamily } from '../../src/families/family.js';
import { createFamilies, type Families } from '../../src/families/registry.js';
import { readWatermarks } from '../../src/sync/sync-state.js';
import { rowsOf } from '../../src/db/sql-rows.js';
import { buildApp, type App } from '../../src/http/app.js';
import type { Logger } from '../../src/lib/logger.js';
import type { JobInput, JobName } from '../../src/queues/catalogue.js';
import type { OdooClientOptions, OdooContext } from '../../src/clients/odoo/odoo-types.js';
import { createQueueEvents } from '../../src/queues/queue-events.js';
import { postgresQueues, redisQueues } from '../../src/stores/queue-store.js';
import type { QueueRedis } from '../../src/stores/redis-connection.js';
import { createNudgeFlags, type NudgeFlags } from '../../src/queues/feed-nudge.js';
import { QUEUE_NAMES } from '../../src/queues/catalogue.js';
import {
  createOdooSandbox,
  type OdooSandbox,
  type OdooSandboxOptions,
} from '../../dev/sandbox/odoo-sandbox.js';
import type { SandboxFaultHandle } from '../../dev/sandbox/sandbox-faults.js';
import {
  createSyncRuntime,
  feedSettingsFromConfig,
  type FeedRuntimeSettings,
  type SyncRuntime,
} from '../../workers/sync-runtime.js';
import { defaultFeedConfig } from '../../src/config/feed-config.js';
import { parseAllowedHosts } from '../../src/feed/receiver-address.js';
import { createSubscriptionSecrets } from '../../src/feed/secret.js';
import { createSubscription } from '../../src/feed/subscriptions.js';
import type { Db } from '../../src/db/create-db.js';
import { DEFAULT_SOURCE } from '../../src/sources/family-key.js';
import { memoryLogger, testConfig } from './test-app.js';
import { createTestDb, type TestDb } from './test-db.js';
import { diffCopyWithSandbox } from './copy-diff.js';

/** Runtimes a harness spawns beside its own, at most (each holds queue connections). */
const HARNESS_RUNTIMES = 3;

/** The tests' feed receivers listen on loopback: deliveries may reach it (docs/feed.md). */
export const LOOPBACK_RECEIVERS = parseAllowedHosts(['127.0.0.0/8', '::1']).rules;

/** FEED_SECRET_KEY of the tests (testConfig's too): subscriptions' secrets sealed under it. */
export const TEST_FEED_SECRET_KEY = { secret: 'test-feed-secret-key-of-at-least-32-characters' };
export const TEST_FEED_SECRETS = createSubscriptionSecrets(TEST_FEED_SECRET_KEY);

/** A subscription of the default source from now on, to every family unless some are named. */
export function subscribeFromNow(
  db: Db,
  input: { name: string; url: string; secret: string; families?: string[] },
) {
  return createSubscription(
    db,
    { sources: [DEFAULT_SOURCE], families: [], models: [], ...input },
    'now',
    TEST_FEED_SECRETS,
  );
}

export interface SyncHarnessOptions {
  sandbox?: OdooSandboxOptions;
  /** The families copied (default: the BC family); the first is the jobs' default. */
  families?: readonly RecordFamily[];
  /**
   * Loads the families instead, once the database and Odoo are up: configured families, whose
   * tables `migrate` creates from Odoo's schema.
   */
  loadFamilies?: (db: TestDb, odoo: OdooClient) => Promise<Families>;
  /** A database of the test's own, migrated (default: a fresh clone of the template). */
  db?: TestDb;
  protocol?: OdooProtocol;
  /** ODOO_READ_REPLICA: JSON-2 reads may come from a replica that lags (default false). */
  readReplica?: boolean;
  pageSize?: number;
  /** ODOO_PAGE_MAX_BYTES (default none: every page holds `pageSize` roots). */
  pageMaxBytes?: number;
  /** ODOO_VALUE_MAX_BYTES (default none: any value is copied). */
  valueMaxBytes?: number;
  leaseSeconds?: number;
  overlapSeconds?: number;
  jobAttempts?: number;
  concurrency?: number;
  /** Backoff of pending failures across runs (default 0: every run retries them). */
  failureBackoffBaseMs?: number;
  /** Lock of a job (default 30 s): after it, a dead worker's job is taken over. */
  jobLockMs?: number;
  /** ODOO_CONTEXT. */
  odooContext?: OdooContext;
  /** SYNC_RECONCILE_MIN_RATIO (default 0.5). */
  reconcileMinRatio?: number;
  /** Records per scan call (default 10,000). */
  scanPageSize?: number;
  /** SYNC_VERIFY_CYCLE_DAYS (default 7). */
  verifyCycleDays?: number;
  /** The Odoo client's cooldown after refused credentials (default 60 s, as in production). */
  authCooldownMs?: number;
  /** SYNC_RUN_PAGES_IN_FLIGHT (default 100). */
  runPagesInFlight?: number;
  /** The call budget the harness's Odoo client awaits before each attempt (default none). */
  odooGate?: OdooCallGate;
  /** The change feed's deliveries (default: the configuration keys' defaults). */
  feed?: FeedRuntimeSettings;
  /**
   * Where the queues are (default Redis, under a prefix of the harness's own); `postgres`: in the
   * test's database, its nudges there too, as QUEUE_BACKEND=postgres without REDIS_URL has them.
   */
  queueBackend?: 'redis' | 'postgres';
  /**
   * Other sources (docs/sources.md): each a database of the sandbox (give it `sandbox.databases`)
   * called by a client of its own; their families (`familyInSource`) go in `families`.
   */
  sources?: readonly { name: string; database: string; concurrency?: number }[];
  /**
   * The queues' Redis (a Redis Cluster's client, say) and their prefix; the harness closes it. By
   * default a connection of its own to the tests' Redis, under a prefix of its own.
   */
  queueRedis?: { readonly connection: QueueRedis; readonly prefix: string };
  /** Wraps the nudge flags the workers' delivery jobs take (default: as they are). */
  nudgeFlags?: (flags: NudgeFlags) => NudgeFlags;
}

/** A job's payload, its family optional (the harness's first family). */
export type HarnessJobInput<N extends JobName> = Omit<JobInput<N>, 'family'> & { family?: string };

export interface SyncHarness {
  readonly db: TestDb;
  readonly sandbox: OdooSandbox;
  readonly odoo: OdooClient;
  readonly runtime: SyncRuntime;
  readonly logger: Logger;
  readonly logLines: string[];
  readonly prefix: string;
  /** The family jobs default to. */
  readonly family: RecordFamily;
  /**
   * Another client of the sandbox, made as the harness's own (`overrides` on top: another
   * transport, no retries) and through `gate` when given; closed with the harness.
   */
  client(overrides: Partial<OdooClientOptions>, gate?: OdooCallGate): OdooClient;
  run<N extends JobName>(name: N, data: HarnessJobInput<N>): Promise<Record<string, unknown>>;
  /** Queues a job without waiting. */
  add<N extends JobName>(name: N, data: HarnessJobInput<N>): Promise<Job>;
  /**
   * Queues a job whose calls of `method` on `model` each take `latencyMs` more, and resolves
   * once the first of them reached Odoo: the test acts while the job reads. `slow.remove()`
   * ends the latency.
   */
  addWhileReading<N extends JobName>(
    name: N,
    data: HarnessJobInput<N>,
    read: { model: string; method?: 'read' | 'search_read'; latencyMs: number },
  ): Promise<{ job: Job; slow: SandboxFaultHandle }>;
  wait(job: Job): Promise<Record<string, unknown>>;
  /** The return value of the next job of `queue` to complete whose id starts with `idPrefix`. */
  nextCompleted(queue: string, idPrefix: string): Promise<Record<string, unknown>>;
  bcRows(): Promise<BcRow[]>;
  lineRows(): Promise<BcLineRow[]>;
  auditRows(): Promise<(typeof syncAudit.$inferSelect)[]>;
  state(): Promise<SyncStateRow>;
  /** A model's watermark (the family's root by default); null before the first run. */
  watermark(model?: string): Promise<Date | null>;
  /** The run log, newest first. */
  runs(): Promise<SyncLogRow[]>;
  /** Whether PostgreSQL's clock, the one leases are taken by, is past `instant`. */
  isPast(instant: Date): Promise<boolean>;
  failures(): Promise<SyncFailureRow[]>;
  /**
   * Another worker process's runtime on the same queues (started), as a second machine of the
   * fleet — with an Odoo client of its own when given one, copying other families when given
   * them (another source's alone: a fleet split by SYNC_SOURCES), with a job lock of its own
   * when given one; disposed with the harness.
   */
  spawnRuntime(odoo?: OdooClient, families?: Families, own?: { jobLockMs?: number }): SyncRuntime;
  /** One BC of the copy with its lines. */
  copyOf(odooId: number): Promise<{ bc: BcRow | undefined; lines: BcLineRow[] }>;
  /**
   * Asserts nothing: returns the differences between a family's copy (the first family's by
   * default) and the sandbox's committed state.
   */
  diffWithSandbox(family?: RecordFamily): Promise<string[]>;
  dispose(): Promise<void>;
}

export async function createSyncHarness(options: SyncHarnessOptions = {}): Promise<SyncHarness> {
  const { lines: logLines, logger } = memoryLogger('info');
  const db = options.db ?? (await createTestDb({ poolMax: 10 }));
  const sandbox = createOdooSandbox({ seed: 7, ...options.sandbox });
  await sandbox.start();
  const clients: OdooClient[] = [];
  const client = (overrides: Partial<OdooClientOptions>, gate?: OdooCallGate) => {
    const made = createOdooClient(
      {
        url: sandbox.url,
        database: sandbox.database,
        username: sandbox.username,
        password: sandbox.password,
        timeoutMs: 5_000,
        retries: 2,
        protocol: 'xmlrpc',
        retryBaseDelayMs: 5,
        retryMaxDelayMs: 20,
        ...overrides,
      },
      { logger, ...(gate ? { gate } : {}) },
    );
    clients.push(made);
    return made;
  };
  const odoo = client(
    {
      protocol: options.protocol ?? 'xmlrpc',
      ...(options.readReplica === undefined ? {} : { readReplica: options.readReplica }),
      ...(options.authCooldownMs === undefined ? {} : { authCooldownMs: options.authCooldownMs }),
    },
    options.odooGate,
  );
  const connection =
    options.queueRedis?.connection ?? new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  const prefix = options.queueRedis?.prefix ?? `test-${randomBytes(5).toString('hex')}`;
  const inPostgres = options.queueBackend === 'postgres';
  const backend = inPostgres
    ? postgresQueues({
        url: db.url,
        // A worker per queue of each source in its runtime and in each it spawns, and the events
        // of each queue.
        listeners:
          QUEUE_NAMES.length * (1 + (options.sources?.length ?? 0)) * (HARNESS_RUNTIMES + 2),
        applicationName: 'sync-harness',
        onError: (error) => logger.warn({ err: error }, 'queue database connection error'),
      })
    : redisQueues(connection, prefix);
  const families = options.loadFamilies
    ? await options.loadFamilies(db, odoo)
    : createFamilies(options.families ?? [bcsFamily]);
  const family = families.all[0]!;
  const sources = (options.sources ?? []).map((source) => ({
    name: source.name,
    odoo: client({ database: source.database, protocol: options.protocol ?? 'xmlrpc' }),
    ...(source.concurrency === undefined ? {} : { concurrency: source.concurrency }),
  }));
  const runtimeInput = {
    db: db.db,
    families,
    odoo,
    sources,
    logger,
    backend,
    flags: (options.nudgeFlags ?? ((flags: NudgeFlags) => flags))(
      createNudgeFlags(
        inPostgres ? { kind: 'postgres', db: db.db } : { kind: 'redis', redis: connection, prefix },
      ),
    ),
    settings: {
      leaseSeconds: options.leaseSeconds ?? 60,
      overlapSeconds: options.overlapSeconds ?? 600,
      pageSize: options.pageSize ?? 100,
      ...(options.pageMaxBytes ? { pageMaxBytes: options.pageMaxBytes } : {}),
      ...(options.valueMaxBytes ? { valueMaxBytes: options.valueMaxBytes } : {}),
      ...(options.scanPageSize ? { scanPageSize: options.scanPageSize } : {}),
      reconcileMinRatio: options.reconcileMinRatio ?? 0.5,
      ...(options.verifyCycleDays ? { verifyCycleDays: options.verifyCycleDays } : {}),
      failureBackoffBaseMs: options.failureBackoffBaseMs ?? 0,
      concurrency: options.concurrency ?? 8,
      jobAttempts: options.jobAttempts ?? 2,
      backoffMs: 5,
      jobLockMs: options.jobLockMs ?? 30_000,
      runPagesInFlight: options.runPagesInFlight ?? 100,
      ...(options.odooContext ? { odooContext: options.odooContext } : {}),
      // The tests' receivers listen on loopback: allowed here, explicitly (docs/feed.md).
      feed: options.feed ?? {
        ...feedSettingsFromConfig(defaultFeedConfig()),
        allowedHosts: LOOPBACK_RECEIVERS,
        secretKey: TEST_FEED_SECRET_KEY,
      },
    },
  };
  const runtime = createSyncRuntime(runtimeInput);
  const spawned: SyncRuntime[] = [];
  const events = Object.fromEntries(
    await Promise.all(
      runtime.queues.all.map(
        async (queue) => [queue.name, await createQueueEvents(backend, queue)] as const,
      ),
    ),
  );
  runtime.start();

  const add: SyncHarness['add'] = (name, data) =>
    runtime.queues.add(name, { family: family.name, ...data } as JobInput<typeof name>);
  const wait = async (job: Job) =>
    (await events[job.queueName]!.waitFor(job)) as Record<string, unknown>;
  const bcRows = () => db.db.select().from(scrapDimagazBc).orderBy(asc(scrapDimagazBc.odooId));
  const lineRows = () =>
    db.db.select().from(scrapDimagazBcLine).orderBy(asc(scrapDimagazBcLine.odooId));

  return {
    db,
    sandbox,
    odoo,
    runtime,
    family,
    client,
    logger,
    logLines,
    prefix,
    add,
    wait,
    run: async (name, data) => wait(await add(name, data)),
    async addWhileReading(name, data, { model, method = 'read', latencyMs }) {
      const slow = sandbox.control.injectFault({ kind: 'latency', latencyMs, method, model });
      const reading = sandbox.control.waitForCall({ method, model });
      const job = await add(name, data);
      await reading;
      return { job, slow };
    },
    nextCompleted: (queue, idPrefix) =>
      new Promise((resolve) => {
        const { events: queueEvents } = events[queue]!;
        const onCompleted = ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) => {
          if (!jobId.startsWith(idPrefix)) return;
          queueEvents.off('completed', onCompleted);
          resolve(returnvalue as Record<string, unknown>);
        };
        queueEvents.on('completed', onCompleted);
      }),
    bcRows,
    lineRows,
    auditRows: () => db.db.select().from(syncAudit).orderBy(asc(syncAudit.id)),
    state: async () =>
      (await db.db.select().from(syncState).where(eq(syncState.key, family.name)))[0]!,
    watermark: async (model = family.root.model) =>
      (await readWatermarks(db.db, family.name))[model] ?? null,
    runs: () => db.db.select().from(syncLog).orderBy(desc(syncLog.id)),
    isPast: async (instant) =>
      rowsOf<{ past: boolean }>(
        await db.db.execute(sql`select now() > ${instant.toISOString()}::timestamptz as past`),
      )[0]!.past,
    failures: () => db.db.select().from(syncFailure).orderBy(asc(syncFailure.odooId)),
    spawnRuntime(ownOdoo, ownFamilies, own) {
      if (spawned.length >= HARNESS_RUNTIMES)
        throw new Error(`a harness spawns at most ${HARNESS_RUNTIMES} runtimes`);
      const other = createSyncRuntime({
        ...runtimeInput,
        ...(ownOdoo ? { odoo: ownOdoo } : {}),
        ...(ownFamilies ? { families: ownFamilies } : {}),
        ...(own?.jobLockMs === undefined
          ? {}
          : { settings: { ...runtimeInput.settings, jobLockMs: own.jobLockMs } }),
      });
      other.start();
      spawned.push(other);
      return other;
    },
    async copyOf(odooId) {
      const [bc] = await db.db
        .select()
        .from(scrapDimagazBc)
        .where(eq(scrapDimagazBc.odooId, odooId));
      const lines = await db.db
        .select()
        .from(scrapDimagazBcLine)
        .where(eq(scrapDimagazBcLine.bcOdooId, odooId))
        .orderBy(asc(scrapDimagazBcLine.odooId));
      return { bc, lines };
    },
    diffWithSandbox: (of = family) => diffCopyWithSandbox(db.db, sandbox.control, of),
    async dispose() {
      for (const other of spawned) await other.close(5_000);
      await Promise.all(runtime.workers.map((worker) => worker.close()));
      await Promise.all(runtime.queues.all.map((queue) => queue.obliterate({ force: true })));
      await runtime.close(5_000);
      await Promise.all(Object.values(events).map((owned) => owned.close()));
      await backend.close();
      await connection.quit();
      await Promise.all(clients.map((made) => made.close()));
      await sandbox.stop();
      await db.dispose();
    },
  };
}

export interface WebhookReceiver {
  /** The API, listening on a free port. */
  readonly app: App;
  /** The path Odoo's automation rule posts to, with its token. */
  readonly path: string;
  /** The rule's URL. */
  readonly url: string;
}

/**
 * The API taking Odoo's webhooks for the harness's families into its queues, as the README sets
 * it up (a token of its own, configured as its SHA-256); closed by the caller.
 */
export async function listenForWebhooks(
  h: SyncHarness,
  options: { debounceMs: number },
): Promise<WebhookReceiver> {
  const token = randomBytes(32).toString('base64url');
  const app = await buildApp({
    config: testConfig({
      ODOO_WEBHOOK_TOKENS: createHash('sha256').update(token).digest('hex'),
      ODOO_WEBHOOK_DEBOUNCE_MS: String(options.debounceMs),
    }),
    logger: memoryLogger('warn').logger,
    db: h.db,
    queues: h.runtime.queues,
    families: h.runtime.sync.families,
  });
  const path = `/hooks/odoo/${token}`;
  return { app, path, url: `${await app.listen({ host: '127.0.0.1', port: 0 })}${path}` };
}
