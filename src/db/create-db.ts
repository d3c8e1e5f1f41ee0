/**
 * Database factory: PostgreSQL through postgres.js. The demo's embedded PGlite builds the same
 * handle in `dev/demo/pglite-db.ts`, so callers get one drizzle type either way and production
 * never carries the embedded engine.
 */
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import type { Logger } from '../lib/logger.js';
import { MAX_SHAPED_TEXTS, preparingStatements } from './prepared-statements.js';
import { watchQueries } from './query-watch.js';
import * as schema from './schema/index.js';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface DbHandle {
  readonly db: Db;
  /**
   * The same pool, for queries whose text a request shapes (the API's lists: which filters, which
   * sort): prepared within a budget of their own (prepared-statements.ts), so no number of
   * distinct shapes uses up the budget of the fixed queries. `db` itself with prepared statements
   * turned off; absent on PGlite, which prepares nothing (callers then use `db`).
   */
  readonly shapedDb?: Db;
  readonly kind: 'postgres' | 'pglite';
  /**
   * Runs `select 1` on a connection of its own, outside the pool: readiness says whether
   * PostgreSQL answers, and a pool that requests hold busy must not make it say no. Rejects when
   * the database does not answer.
   */
  ping(): Promise<void>;
  /**
   * Ends the pool's sessions on server processes `pids` (pg_terminate_backend), from the
   * connection `ping` uses, outside the pool: their connections close and every query on them
   * fails, which frees a connection a query waits on for good. Absent on PGlite.
   */
  terminate?(pids: readonly number[]): Promise<void>;
  /**
   * Those of the pool's server processes `pids` that are running a statement now, from the
   * connection `ping` uses: active and not waiting for a lock (a lock wait ends by `lock_timeout`).
   * Absent on PGlite.
   */
  running?(pids: readonly number[]): Promise<number[]>;
  close(): Promise<void>;
  /** postgres.js client for raw SQL; absent on PGlite. */
  readonly sql?: postgres.Sql;
  /** The connection string; absent on PGlite. */
  readonly url?: string;
  /** Why a query is judged lost with its connection (`watch`); absent on PGlite. */
  stuckQuery?(): string | undefined;
}

/**
 * What one session may hold, so that a stuck process (a frozen worker inside a fenced write, an
 * event loop blocked between two statements) cannot hold the sync lease or rows of the copy until
 * TCP gives up: a statement waits for a lock at most `lockTimeoutMs` (it then fails, and the job
 * or heartbeat is retried), and PostgreSQL ends a session idle inside a transaction for
 * `idleInTransactionTimeoutMs`, which releases its locks.
 */
export interface DatabaseSessionLimits {
  readonly lockTimeoutMs: number;
  readonly idleInTransactionTimeoutMs: number;
}

export interface CreateDbOptions {
  /** Optional in the type because the configuration's is; a missing URL is an error. */
  url?: string;
  poolMax?: number;
  /** Cancels any statement running longer (the API's bound on a query); none when unset. */
  statementTimeoutMs?: number;
  /** Named prepared statements (prepared-statements.ts); on unless set to false. */
  preparedStatements?: boolean;
  /**
   * Plans every execution of a prepared statement for its parameters (PostgreSQL's
   * `force_custom_plan`), as unnamed statements are: for the API, whose plans depend on the
   * filters' values. Others let PostgreSQL keep a generic plan after five executions.
   */
  planEachCall?: boolean;
  sessionLimits?: DatabaseSessionLimits;
  /**
   * Follows the queries to find those postgres.js loses with their connection (query-watch.ts):
   * one still pending `stuckAfterMs` after its pool lost a connection is stuck.
   */
  watch?: { readonly stuckAfterMs: number };
  logger?: Logger;
}

/** How long a readiness probe's `select 1` may take (the health route's own bound is 2 s). */
const PROBE_TIMEOUT_MS = 2_000;

/** Names the pool's sessions in pg_stat_activity: `terminate` ends none but these. */
const APPLICATION_NAME = 'erp-bridge';

export function createDb(options: CreateDbOptions): Promise<DbHandle> {
  if (!options.url) return Promise.reject(new Error('createDb needs a PostgreSQL URL'));
  return Promise.resolve(createPostgresDb(options.url, options));
}

function createPostgresDb(url: string, options: CreateDbOptions): DbHandle {
  const { logger, statementTimeoutMs, planEachCall, sessionLimits } = options;
  const sql = postgres(url, {
    max: options.poolMax ?? 10,
    onnotice: (notice) => logger?.debug({ notice: notice.message }, 'postgres notice'),
    connection: {
      application_name: APPLICATION_NAME,
      ...(statementTimeoutMs === undefined ? {} : { statement_timeout: statementTimeoutMs }),
      ...(planEachCall ? { plan_cache_mode: 'force_custom_plan' } : {}),
      ...(sessionLimits
        ? {
            lock_timeout: sessionLimits.lockTimeoutMs,
            idle_in_transaction_session_timeout: sessionLimits.idleInTransactionTimeoutMs,
          }
        : {}),
    },
  });
  const watch = options.watch ? watchQueries(sql, options.watch) : undefined;
  const client = watch?.client ?? sql;
  const prepared = options.preparedStatements !== false;
  const db = drizzlePostgres(prepared ? preparingStatements(client) : client, {
    schema,
  }) as unknown as Db;
  const shapedDb = prepared
    ? (drizzlePostgres(preparingStatements(client, MAX_SHAPED_TEXTS), {
        schema,
      }) as unknown as Db)
    : db;
  // Opened at the first probe; one connection more than the pool, per process.
  let probe: postgres.Sql | undefined;
  const probing = () =>
    (probe ??= postgres(url, {
      max: 1,
      // The probe's caller waits at most this long: no statement outlives it.
      connect_timeout: PROBE_TIMEOUT_MS / 1_000,
      onnotice: () => undefined,
      connection: { application_name: 'erp-bridge-probe', statement_timeout: PROBE_TIMEOUT_MS },
    }));
  return {
    db,
    shapedDb,
    kind: 'postgres',
    sql,
    url,
    stuckQuery: () => watch?.stuck(),
    async ping() {
      await probing()`select 1`;
    },
    async terminate(pids) {
      if (pids.length === 0) return;
      const sql = probing();
      // A process id the server has given to another session since is not ended.
      await sql`
        select pg_terminate_backend(pid) from pg_stat_activity
        where pid in ${sql([...pids])} and application_name = ${APPLICATION_NAME}`;
    },
    async running(pids) {
      if (pids.length === 0) return [];
      const sql = probing();
      const rows = await sql<{ pid: number }[]>`
        select pid from pg_stat_activity
        where pid in ${sql([...pids])} and application_name = ${APPLICATION_NAME}
          and state = 'active' and wait_event_type is distinct from 'Lock'`;
      return rows.map(({ pid }) => pid);
    },
    async close() {
      await Promise.all([sql.end({ timeout: 5 }), probe?.end({ timeout: 5 })]);
    },
  };
}
