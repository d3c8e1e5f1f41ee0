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

export type SharedState =
  | { readonly kind: 'redis'; readonly redis: QueueRedis; readonly prefix: string }
  | { readonly kind: 'postgres'; readonly db: Db };
