/**
 * Small values the fleet shares for a while, by key: a value is read, written, deleted, or taken
 * (read and deleted at once, by one reader only), and is gone once its time is up. In Redis, a
 * key under the prefix with its TTL; in PostgreSQL, a row of `sync_shared_value` with its end,
 * read as gone once past it and deleted by the next write.
 */
import { sql } from 'drizzle-orm';
import { rowsOf } from '../db/sql-rows.js';
import {
  onSharedState,
  type PostgresSharedState,
  type RedisSharedState,
  type SharedState,
} from './shared-state.js';

export interface SharedValues {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** The value, deleted in the same step: of several takers at once, one gets it. */
  take(key: string): Promise<string | undefined>;
}

export function createSharedValues(shared: SharedState): SharedValues {
  return onSharedState(shared, { redis: redisValues, postgres: postgresValues });
}

function redisValues({ redis, prefix }: RedisSharedState): SharedValues {
  const keyOf = (key: string) => `${prefix}:${key}`;
  return {
    async get(key) {
      return (await redis.get(keyOf(key))) ?? undefined;
    },
    async set(key, value, ttlMs) {
      await redis.set(keyOf(key), value, 'PX', ttlMs);
    },
    async delete(key) {
      await redis.del(keyOf(key));
    },
    async take(key) {
      return (await redis.getdel(keyOf(key))) ?? undefined;
    },
  };
}

function postgresValues({ db }: PostgresSharedState): SharedValues {
  const valueOf = (result: unknown) => rowsOf<{ value: string }>(result)[0]?.value;
  return {
    async get(key) {
      return valueOf(
        await db.execute(sql`
          select value from sync_shared_value
          where key = ${key} and expires_at > clock_timestamp()`),
      );
    },
    async set(key, value, ttlMs) {
      // The rows whose time is up go with each write: keys nobody reads again do not pile up.
      await db.execute(sql`
        with expired as (
          delete from sync_shared_value
          where expires_at <= clock_timestamp() and key <> ${key}
        )
        insert into sync_shared_value (key, value, expires_at)
        values (${key}, ${value}, clock_timestamp() + ${ttlMs}::int * interval '1 millisecond')
        on conflict (key) do update
        set value = excluded.value, expires_at = excluded.expires_at`);
    },
    async delete(key) {
      await db.execute(sql`delete from sync_shared_value where key = ${key}`);
    },
    async take(key) {
      // A second taker waits for the first's delete to commit, then finds no row.
      const [row] = rowsOf<{ value: string; live: boolean }>(
        await db.execute(sql`
          delete from sync_shared_value where key = ${key}
          returning value, expires_at > clock_timestamp() as live`),
      );
      return row?.live ? row.value : undefined;
    },
  };
}
