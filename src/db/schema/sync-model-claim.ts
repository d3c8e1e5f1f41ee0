/**
 * `sync_model_claim`: which family copies each Odoo model, for the whole fleet. One process
 * refuses two families of one model; processes with different `SYNC_FAMILIES` would not see
 * each other, and two families of one model write its table under two leases. The first family
 * to copy a model claims it; another is refused while the claim is fresh (its family seen within
 * a day), and takes it over once no process has copied that family for a day
 * (src/sync/model-claims.ts, docs/sync.md "One model, one family").
 */
import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';

const utc = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const syncModelClaim = pgTable('sync_model_claim', {
  model: text('model').primaryKey(),
  family: text('family').notNull(),
  claimedAt: utc('claimed_at').notNull().defaultNow(),
  /** Last time a process copying the family said so (at most hourly). */
  seenAt: utc('seen_at').notNull().defaultNow(),
});
