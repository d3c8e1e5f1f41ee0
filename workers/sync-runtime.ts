/**
 * Everything a process needs to run sync jobs, built from ready clients: the sync domain's
 * dependencies, the queues, and the workers (not started). The tests and benchmarks build it from
 * their own clients; the worker process, the sync CLI and the demo from the configuration.
 */
import type { Worker } from 'bullmq';
import type { QueueStore } from '../src/stores/queue-store.js';
import type { OdooCallObserver } from '../src/clients/odoo/index.js';
import type { OdooContext } from '../src/clients/odoo/odoo-types.js';
import type { Config } from '../src/config/config.js';
import { defaultFeedConfig } from '../src/config/feed-config.js';
import type { OdooConfig } from '../src/config/odoo-config.js';
import { copiedSources, type SourceConfig } from '../src/config/sources.js';
import type { Db } from '../src/db/create-db.js';
import type { Logger } from '../src/lib/logger.js';
import { createNudgeFlags, type NudgeFlags } from '../src/queues/feed-nudge.js';
import { createQueues, type Queues } from '../src/queues/queues.js';
import { SOURCE_QUEUE_KINDS } from '../src/queues/source-queues.js';
import { createModelClaims, type ModelClaims } from '../src/sync/model-claims.js';
import { openStores, type Stores } from '../src/stores/open-stores.js';
import { createOdooLink, type OdooLink } from '../src/odoo-link/odoo-link.js';
import type { CallBudgetObserver } from '../src/odoo-budget/call-budget.js';
import { createSchemaCache } from '../src/sync/odoo-reads.js';
import { createLargeValues, createOneAtATime } from '../src/sync/large-reads.js';
import { createWriteLanes } from '../src/sync/write-lanes.js';
import { createDbSchemaStore } from '../src/sync/schema-store.js';
import type { OdooSource } from '../src/sync/odoo-source.js';
import type { SyncDeps, SyncSettings } from '../src/sync/sync-deps.js';
import type { Families } from '../src/families/registry.js';
import { DEFAULT_SOURCE, splitFamilyKey } from '../src/sources/family-key.js';
import { AppError } from '../src/lib/errors.js';
import { checkOdooSection } from '../src/check/check-sections.js';
import { createFeedSender, type FeedSender } from '../src/feed/feed-sender.js';
import type { ReceiverAddressRules } from '../src/feed/receiver-address.js';
import { createSubscriptionSecrets, type FeedSecretKey } from '../src/feed/secret.js';
import {
  DELIVERY_TURN_MS,
  FIRST_RETRY_MS,
  type FeedDeliverySettings,
} from '../src/feed/deliver.js';
import { createWorkers } from './create-workers.js';
import type { StuckExecutions } from './execution-bounds.js';
import { createJobFlow, readyJobs, type JobFlow, type WatchedQueue } from './liveness.js';
import { startLeaseKeeper, type LeaseKeeper } from './lease-keeper.js';
import type { WorkerContext } from './worker-context.js';

/** A job of a source this process was not given the Odoo of. */
class UnknownSourceError extends AppError {
  constructor(source: string, known: readonly string[]) {
    super('UNKNOWN_SOURCE', `no source "${source}" is copied here (copied: ${known.join(', ')})`, {
      retryable: false,
    });
  }
}

/** A runtime built for no source's Odoo: a composition root's mistake, said plainly. */
class NoSourceCopiedError extends AppError {
  constructor() {
    super('NO_SOURCE_COPIED', 'a sync runtime needs the Odoo of a source it copies', {
      retryable: false,
    });
  }
}

/** How long a worker process trusts its list of Odoo stored fields and the user's context. */
const SCHEMA_TTL_MS = 10 * 60_000;

/**
 * The settings of a runtime: the sync domain's, and the jobs' as the configuration declares them
 * (Config's `sync`), each declared once there.
 */
export interface RuntimeSettings
  extends
    SyncSettings,
    Pick<Config['sync'], 'concurrency' | 'jobAttempts' | 'jobLockMs' | 'runPagesInFlight'> {
  /** First backoff delay of a retried job. */
  readonly backoffMs?: number;
  /** ODOO_CONTEXT: overrides the sync user's own context in every read. */
  readonly odooContext?: OdooContext;
  /** The change feed's deliveries and retention; the configuration keys' defaults when absent. */
  readonly feed?: FeedRuntimeSettings;
}

export interface FeedRuntimeSettings {
  readonly retentionDays: number;
  readonly delivery: FeedDeliverySettings;
  /** Receivers reachable though their address is special (FEED_ALLOWED_HOSTS). */
  readonly allowedHosts: ReceiverAddressRules;
  /** FEED_SECRET_KEY: opens the subscriptions' secrets (sealed at rest). */
  readonly secretKey?: FeedSecretKey | undefined;
}

/** The change feed's settings as the configuration gives them. */
export function feedSettingsFromConfig(feed: Config['feed']): FeedRuntimeSettings {
  return {
    retentionDays: feed.retentionDays,
    allowedHosts: feed.allowedHosts,
    secretKey: feed.secretKey,
    delivery: {
      timeoutMs: feed.delivery.timeoutMs,
      batchMax: feed.delivery.batchMax,
      backoffBaseMs: FIRST_RETRY_MS,
      backoffMaxMs: feed.delivery.backoffMaxMs,
      giveUpMs: feed.delivery.giveUpHours * 3_600_000,
      turnMs: DELIVERY_TURN_MS,
    },
  };
}

/** Another source's Odoo, as a runtime copying it calls it (docs/sources.md). */
export interface SourceOdoo {
  readonly name: string;
  readonly odoo: OdooSource;
  /** Its `context` (as ODOO_CONTEXT): over its sync user's own in every read. */
  readonly context?: OdooContext;
  /** Jobs of each kind a worker takes of it at once (its share); SYNC_CONCURRENCY when absent. */
  readonly concurrency?: number;
}

export interface SyncRuntimeInput {
  db: Db;
  /** Every family copied, the other sources' among them (keyed `<source>.<family>`). */
  families: Families;
  /** The default source's Odoo; none in a process that does not copy it (SYNC_SOURCES). */
  odoo?: OdooSource;
  /** The other sources' Odoo. */
  sources?: readonly SourceOdoo[];
  logger: Logger;
  /** Where the queues are; on Redis, a connection with `maxRetriesPerRequest: null`. */
  backend: QueueStore;
  /** Where the feed's nudges are noted (feed-nudge.ts): beside the queues, or in PostgreSQL. */
  flags: NudgeFlags;
  settings: RuntimeSettings;
  /** Checks a source's Odoo (the `check-odoo` job); without it the job fails CHECK_UNAVAILABLE. */
  checkSource?: WorkerContext['checkSource'];
  /** Ends the executions stuck on a query of `db` (execution-bounds.ts); none are without it. */
  stuckExecutions?: StuckExecutions;
}

/**
 * The runtime's settings as the configuration gives them: the pages' bounds are the
 * environment's, the same in every source's `odoo`; the context, the default source's (`odoo`
 * when this process copies it).
 */
function syncSettingsFromConfig(
  config: Config,
  pages: Pick<OdooConfig, 'pageSize' | 'pageMaxBytes' | 'valueMaxBytes'>,
  odoo: OdooConfig | undefined,
): RuntimeSettings {
  return {
    leaseSeconds: config.sync.leaseSeconds,
    overlapSeconds: config.sync.overlapSeconds,
    pageSize: pages.pageSize,
    pageMaxBytes: pages.pageMaxBytes,
    valueMaxBytes: pages.valueMaxBytes,
    reconcileMinRatio: config.sync.reconcileMinRatio,
    verifyCycleDays: config.sync.verifyCycleDays,
    failureBackoffBaseMs: config.sync.everyMs,
    concurrency: config.sync.concurrency,
    jobAttempts: config.sync.jobAttempts,
    jobLockMs: config.sync.jobLockMs,
    runPagesInFlight: config.sync.runPagesInFlight,
    odooContext: odoo?.context,
    feed: feedSettingsFromConfig(config.feed),
  };
}

export interface SyncRuntime {
  /**
   * What every job reads besides its Odoo (the database, the families): the default source's
   * deps, or the first source's in a process that does not copy the default one.
   */
  readonly sync: SyncDeps;
  /** The sync's dependencies for a family's source (see WorkerContext). */
  syncOf(family: string): SyncDeps;
  readonly queues: Queues;
  readonly claims: ModelClaims;
  readonly workers: readonly Worker[];
  /** The jobs each queue's worker runs: what the liveness check reads (workers/liveness.ts). */
  readonly flow: JobFlow;
  /** Each queue as the liveness check watches it. */
  readonly watched: readonly WatchedQueue[];
  /** Starts taking jobs. */
  start(): void;
  /** Stops taking jobs, waits for active ones up to `deadlineMs`, then closes the queues. */
  close(deadlineMs: number): Promise<void>;
}

/**
 * The sources whose queues this process works: those of the families it copies (one waiting for
 * `migrate` too), the default source when it copies none (the change feed's queue is its).
 */
function workedSources(input: SyncRuntimeInput): { name: string; concurrency?: number }[] {
  const { families } = input;
  const names = new Set(
    [...families.all, ...families.unavailable].map((family) => splitFamilyKey(family.name).source),
  );
  if (names.size === 0) names.add(DEFAULT_SOURCE);
  const others = new Map((input.sources ?? []).map((source) => [source.name, source]));
  return [...names].map((name) => others.get(name) ?? { name });
}

export function createSyncRuntime(input: SyncRuntimeInput): SyncRuntime {
  const { settings } = input;
  // Every source's values read alone take turns: the process holds one at a time.
  const oneAtATime = createOneAtATime();
  const writeLanes = createWriteLanes();
  const depsOf = (odoo: OdooSource, context: OdooContext | undefined): SyncDeps => ({
    db: input.db,
    families: input.families,
    odoo,
    logger: input.logger,
    settings,
    schema: createSchemaCache(
      SCHEMA_TTL_MS,
      context,
      Date.now,
      createDbSchemaStore(input.db, context),
    ),
    largeValues: createLargeValues(oneAtATime),
    writeLanes,
  });
  const bySource = new Map<string, SyncDeps>([
    ...(input.odoo ? [[DEFAULT_SOURCE, depsOf(input.odoo, settings.odooContext)] as const] : []),
    ...(input.sources ?? []).map(
      (source) => [source.name, depsOf(source.odoo, source.context)] as const,
    ),
  ]);
  // What every job reads besides its Odoo (the database, the families): the default source's
  // deps, or the first source's in a process that does not copy it. A job's Odoo is always its
  // family's source's (syncOf).
  const [sync] = bySource.values();
  if (!sync) throw new NoSourceCopiedError();
  const syncOf = (family: string): SyncDeps => {
    const { source } = splitFamilyKey(family);
    const deps = bySource.get(source);
    if (!deps) throw new UnknownSourceError(source, [...bySource.keys()]);
    return deps;
  };
  const worked = workedSources(input);
  const queues = createQueues({
    logger: input.logger,
    backend: input.backend,
    settings: { attempts: settings.jobAttempts, backoffMs: settings.backoffMs ?? 1_000 },
    sources: worked.map((source) => source.name),
  });
  const feedSettings = settings.feed ?? feedSettingsFromConfig(defaultFeedConfig());
  const sender: FeedSender = createFeedSender({ allowed: feedSettings.allowedHosts });
  const claims = createModelClaims(input.db);
  const ctx: WorkerContext = {
    sync,
    syncOf,
    queues,
    claims,
    checkSource:
      input.checkSource ??
      (() =>
        Promise.reject(
          new AppError(
            'CHECK_UNAVAILABLE',
            'this process was not given the configuration a check needs',
          ),
        )),
    logger: input.logger,
    settings,
    feed: {
      delivery: {
        db: input.db,
        sender,
        logger: input.logger,
        settings: feedSettings.delivery,
        secrets: createSubscriptionSecrets(feedSettings.secretKey),
      },
      retentionDays: feedSettings.retentionDays,
      flags: input.flags,
    },
  };
  const workerSettings = {
    backend: input.backend,
    concurrency: settings.concurrency,
    lockMs: settings.jobLockMs,
    ...(input.stuckExecutions ? { stuckExecutions: input.stuckExecutions } : {}),
    sources: worked.map((source) => ({
      name: source.name,
      concurrency: source.concurrency ?? settings.concurrency,
    })),
  };
  const flow = createJobFlow();
  const workers = createWorkers(ctx, workerSettings, flow);
  const watched = workers.map((worker) => {
    const queue = queues.named(worker.name)!;
    return {
      name: worker.name,
      concurrency: worker.concurrency,
      waiting: () => readyJobs(queue),
    };
  });
  let keeper: LeaseKeeper | undefined;
  return {
    sync,
    syncOf,
    queues,
    claims,
    workers,
    flow,
    watched,
    start() {
      keeper ??= startLeaseKeeper(ctx, settings.leaseSeconds);
      for (const worker of workers) {
        worker
          .run()
          .catch((error: unknown) =>
            input.logger.error({ err: error, queue: worker.name }, 'worker stopped'),
          );
      }
    },
    async close(deadlineMs) {
      keeper?.stop();
      // worker.close() waits for active jobs without a deadline of its own: race it. Jobs cut off
      // are picked up again by another worker once their lock expires (stalled-job recovery).
      const graceful = Promise.all(workers.map((worker) => worker.close()));
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'deadline'>((resolve) => {
        timer = setTimeout(() => resolve('deadline'), deadlineMs);
      });
      const result = await Promise.race([graceful.then(() => 'closed' as const), deadline]);
      clearTimeout(timer);
      if (result === 'deadline') {
        input.logger.warn(
          { deadlineMs },
          'active jobs did not finish in time; forcing the workers closed',
        );
        await Promise.all(workers.map((worker) => worker.close(true)));
      }
      await queues.close();
      await sender.close();
    },
  };
}

export interface ConfiguredSyncRuntime extends SyncRuntime {
  /** The queues' store and the fleet's shared state (src/stores/open-stores.ts). */
  readonly stores: Stores;
  /**
   * Each source's Odoo client, and in a worker its API key's lifecycle (started by the caller), by
   * source: those this process copies.
   */
  readonly links: ReadonlyMap<string, OdooLink>;
}

/**
 * The runtime with an Odoo client and stores of its own, all from the configuration; `close()`
 * closes the workers, then the client and the stores.
 */
export function createSyncRuntimeFromConfig(input: {
  config: Config;
  /** The default source's Odoo; none in a process that does not copy it (SYNC_SOURCES). */
  odoo: OdooConfig | undefined;
  /** The other sources copied (docs/sources.md): each called with a client of its own. */
  sources?: readonly SourceConfig[];
  db: Db;
  /** The families copied (families/load-families.ts), the other sources' among them. */
  families: Families;
  logger: Logger;
  /** Sees every Odoo call to a source's Odoo (the worker's metrics). */
  odooObserver?: (source: string) => OdooCallObserver;
  /** Sees a source's call budget's waits and pauses (the worker's metrics). */
  budgetObserver?: (source: string) => CallBudgetObserver;
  /** Whether this process watches and renews the API key (the workers). */
  withKeyLifecycle?: boolean;
  /** Ends the executions stuck on a query of `db` (execution-bounds.ts). */
  stuckExecutions?: StuckExecutions;
}): ConfiguredSyncRuntime {
  const { config, logger } = input;
  const stores = openStores({
    settings: config,
    role: 'worker',
    listeners: workedQueues(config) + 1,
    db: input.db,
    logger,
  });
  const linkTo = (odoo: OdooConfig, source: string): OdooLink =>
    createOdooLink({
      db: input.db,
      odoo,
      logger,
      // One budget of calls to each Odoo database for the fleet; later processes reuse this
      // login's uid (a fresh CLI run pays no login).
      shared: stores.shared,
      ...(input.budgetObserver ? { budgetObserver: input.budgetObserver(source) } : {}),
      ...(input.odooObserver ? { observer: input.odooObserver(source) } : {}),
      withLifecycle: input.withKeyLifecycle === true,
    });
  const links = new Map<string, OdooLink>([
    ...(input.odoo ? [[DEFAULT_SOURCE, linkTo(input.odoo, DEFAULT_SOURCE)] as const] : []),
    ...(input.sources ?? []).map(
      (source) => [source.name, linkTo(source.odoo, source.name)] as const,
    ),
  ]);
  const link = links.get(DEFAULT_SOURCE);
  const anyOdoo = input.odoo ?? input.sources?.[0]?.odoo;
  if (!anyOdoo) throw new NoSourceCopiedError();
  const runtime = createSyncRuntime({
    db: input.db,
    families: input.families,
    ...(link ? { odoo: link.client } : {}),
    sources: (input.sources ?? []).map((source) => ({
      name: source.name,
      odoo: links.get(source.name)!.client,
      ...(source.odoo.context ? { context: source.odoo.context } : {}),
      concurrency: source.concurrency,
    })),
    logger,
    backend: stores.backend,
    flags: createNudgeFlags(stores.shared),
    settings: syncSettingsFromConfig(config, anyOdoo, input.odoo),
    ...(input.stuckExecutions ? { stuckExecutions: input.stuckExecutions } : {}),
    // The check of a source this worker copies: its Odoo with the configuration's credentials
    // (the key a worker renewed, when one did), its calls in the fleet's budget.
    checkSource: (name, signal) => {
      const source = config.sources.find((one) => one.name === name);
      if (!source)
        return Promise.reject(
          new AppError('UNKNOWN_SOURCE', `this worker has no Odoo settings for source ${name}`),
        );
      return checkOdooSection({
        config,
        source,
        db: input.db,
        shared: stores.shared,
        logger,
        signal,
      });
    },
  });
  return {
    ...runtime,
    stores,
    links,
    async close(deadlineMs) {
      for (const one of links.values()) one.lifecycle?.stop();
      await runtime.close(deadlineMs);
      await Promise.all([...links.values()].map((one) => one.client.close()));
      await stores.close();
    },
  };
}

/**
 * The queues a worker process of `config` works: each source's it copies, and the feed's (each
 * Worker holds a connection of the queues' store on PostgreSQL).
 */
function workedQueues(config: Config): number {
  const { withDefault, others } = copiedSources(config.sources, config.sync.sources);
  return Math.max(1, others.length + (withDefault ? 1 : 0)) * SOURCE_QUEUE_KINDS.length + 1;
}
