/**
 * The fleet's shared state (src/shared-state) on each of its stores, for tests that hold both to
 * one behaviour: Redis under a prefix of its own, or PostgreSQL in a database of its own. Each
 * "process" connects on its own (a Redis connection, a pool of one PostgreSQL connection), so that
 * its requests reach the store in the order it sends them, as one process's do.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { createDb } from '../../src/db/create-db.js';
import { rowsOf } from '../../src/db/sql-rows.js';
import type { SharedState } from '../../src/stores/shared-state.js';
import { createTestDb } from './test-db.js';

export const SHARED_STATE_KINDS = ['redis', 'postgres'] as const;
export type SharedStateKind = (typeof SHARED_STATE_KINDS)[number];

export interface SharedProcess {
  readonly shared: SharedState;
  /** One round trip to the store on this process's connection, after its earlier requests. */
  ping(): Promise<void>;
  /** The connection dropped, as a process that dies drops it. */
  drop(): Promise<void>;
}

export interface SharedStateFixture {
  readonly kind: SharedStateKind;
  connect(): Promise<SharedProcess>;
  /** What the store holds for the fleet: Redis's keys, PostgreSQL's rows (a line each). */
  contents(): Promise<string[]>;
  /** How long the store keeps a shared value (shared-values.ts) from now, by its own clock. */
  lifetimeMs(key: string): Promise<number>;
  dispose(): Promise<void>;
}

export async function createSharedStateFixture(kind: SharedStateKind): Promise<SharedStateFixture> {
  const closers: (() => Promise<unknown>)[] = [];
  if (kind === 'redis') {
    const prefix = `shared-${randomBytes(4).toString('hex')}`;
    const admin = new Redis(inject('redisUrl'));
    return {
      kind,
      connect() {
        const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
        closers.push(async () => {
          if (redis.status === 'ready') await redis.quit();
        });
        return Promise.resolve({
          shared: { kind, redis, prefix },
          ping: async () => void (await redis.ping()),
          drop: () => Promise.resolve(redis.disconnect()),
        });
      },
      contents: () => admin.keys(`${prefix}:*`),
      lifetimeMs: (key) => admin.pttl(`${prefix}:${key}`),
      async dispose() {
        await Promise.all(closers.map((close) => close()));
        const keys = await admin.keys(`${prefix}:*`);
        if (keys.length > 0) await admin.del(...keys);
        await admin.quit();
      },
    };
  }
  const database = await createTestDb();
  return {
    kind,
    async connect() {
      const handle = await createDb({ url: database.url, poolMax: 1 });
      let closed = false;
      const close = async () => {
        if (closed) return;
        closed = true;
        await handle.close();
      };
      closers.push(close);
      return {
        shared: { kind, db: handle.db },
        ping: async () => void (await handle.db.execute(sql`select 1`)),
        drop: close,
      };
    },
    async contents() {
      const rows = rowsOf<{ line: string }>(
        await database.db.execute(sql`
          select 'in flight ' || a as line from sync_call_budget, unnest(in_flight) a
          union all select 'recent ' || r from sync_call_budget, unnest(recent_until) r
          union all select 'pause ' || budget from sync_call_budget where paused_until is not null
          union all select 'value ' || key from sync_shared_value`),
      );
      return rows.map((row) => row.line);
    },
    async lifetimeMs(key) {
      const [row] = rowsOf<{ ms: number }>(
        await database.db.execute(sql`
          select (extract(epoch from expires_at - clock_timestamp()) * 1000)::float8 as ms
          from sync_shared_value where key = ${key}`),
      );
      return row?.ms ?? -2;
    },
    async dispose() {
      await Promise.all(closers.map((close) => close()));
      await database.dispose();
    },
  };
}
