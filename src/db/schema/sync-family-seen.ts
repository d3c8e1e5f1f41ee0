/**
 * `sync_family_seen`: when a worker last said it copies each family. A family's job schedulers
 * outlive the last worker that copied it by a day, then go (src/queues/schedules.ts); a job of a
 * family no worker copied for an hour fails saying so (workers/hand-back.ts). Kept in PostgreSQL,
 * whichever store holds the queues: a Redis that comes back empty forgets nothing of it.
 */
import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const syncFamilySeen = pgTable('sync_family_seen', {
  family: text('family').primaryKey(),
  seenAt: timestamp('seen_at', { withTimezone: true, mode: 'date' }).notNull(),
});
