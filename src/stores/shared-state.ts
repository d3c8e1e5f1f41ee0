/**
 * Where the state that every process of the fleet shares lives, apart from the queues: the Odoo
 * call budget, the Odoo login memo, the feed's nudge flags. In the queue Redis when there is one
 * (its keys under the queue prefix, so one Cluster slot holds them with the queues'); in
 * PostgreSQL when the fleet runs without Redis (src/db/schema/sync-shared-state.ts).
 *
 * Not for: the queues themselves, nor the copy's own state, which is always PostgreSQL's.
 */
import type { Db } from '../db/create-db.js';
import type { QueueRedis } from './redis-connection.js';

export interface RedisSharedState {
  readonly kind: 'redis';
  readonly redis: QueueRedis;
  readonly prefix: string;
}

export interface PostgresSharedState {
  readonly kind: 'postgres';
  readonly db: Db;
}

export type SharedState = RedisSharedState | PostgresSharedState;

/**
 * What `homes` builds on the store `shared` is in. Code outside this room that keeps state of its
 * own in the shared store (the call budget) gives one builder per kind of store: a new kind is a
 * compile error at each of those places, never a branch that quietly takes another.
 */
export function onSharedState<T>(
  shared: SharedState,
  homes: { redis(home: RedisSharedState): T; postgres(home: PostgresSharedState): T },
): T {
  return shared.kind === 'redis' ? homes.redis(shared) : homes.postgres(shared);
}
