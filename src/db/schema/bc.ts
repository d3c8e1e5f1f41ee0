/** `scrap_dimagaz_bc`: one row per Odoo `dimagaz.bc` (purchase order), never hard-deleted. */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

/** A stored Odoo record exactly as Odoo sent it (every stored field, Odoo's own conventions). */
export type OdooRecordData = Record<string, unknown>;

const utc = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const scrapDimagazBc = pgTable(
  'scrap_dimagaz_bc',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    // A unique constraint (not only an index) so the line foreign key can reference it.
    odooId: integer('odoo_id').notNull().unique('scrap_dimagaz_bc_odoo_id_key'),
    name: text('name'),
    state: text('state'),
    partnerId: integer('partner_id'),
    partnerName: text('partner_name'),
    dateOrder: utc('date_order'),
    datePlanned: utc('date_planned'),
    // Amounts stay decimal strings end to end: Odoo's doubles are copied, never re-rounded.
    amountUntaxed: numeric('amount_untaxed'),
    amountTax: numeric('amount_tax'),
    amountTotal: numeric('amount_total'),
    currencyId: integer('currency_id'),
    currencyName: text('currency_name'),
    companyId: integer('company_id'),
    origin: text('origin'),
    active: boolean('active').notNull().default(true),
    odooCreateDate: utc('odoo_create_date'),
    odooWriteDate: utc('odoo_write_date').notNull(),
    data: jsonb('data').$type<OdooRecordData>().notNull(),
    archivedAt: utc('archived_at'),
    archiveReason: text('archive_reason'),
    firstSyncedAt: utc('first_synced_at').notNull().defaultNow(),
    syncedAt: utc('synced_at').notNull().defaultNow(),
  },
  (t) => [
    index('scrap_dimagaz_bc_state_idx').on(t.state),
    index('scrap_dimagaz_bc_partner_idx').on(t.partnerId),
    index('scrap_dimagaz_bc_date_order_idx').on(t.dateOrder, t.odooId),
    index('scrap_dimagaz_bc_write_date_idx').on(t.odooWriteDate, t.odooId),
    index('scrap_dimagaz_bc_live_idx')
      .on(t.odooId)
      .where(sql`${t.archivedAt} is null`),
    // The API's sorts, on the very expressions it orders by (see list-bcs.ts), live rows only.
    index('scrap_dimagaz_bc_live_name_idx')
      .on(sql`coalesce(${t.name}, '')`, t.odooId)
      .where(sql`${t.archivedAt} is null`),
    index('scrap_dimagaz_bc_live_date_order_idx')
      .on(sql`coalesce(${t.dateOrder}, '-infinity'::timestamptz)`, t.odooId)
      .where(sql`${t.archivedAt} is null`),
    // The portal's common list: one partner's BCs, newest first. The partner leads, then the
    // same sort expression, so a page and every cursor after it is one index range: without it
    // PostgreSQL intersects the partner and state indexes and sorts the partner's whole set.
    index('scrap_dimagaz_bc_live_partner_date_order_idx')
      .on(t.partnerId, sql`coalesce(${t.dateOrder}, '-infinity'::timestamptz)`, t.odooId)
      .where(sql`${t.archivedAt} is null`),
    index('scrap_dimagaz_bc_live_amount_idx')
      .on(sql`coalesce(${t.amountTotal}, '-Infinity'::numeric)`, t.odooId)
      .where(sql`${t.archivedAt} is null`),
    // `q` searches text inside the name or the origin (ilike '%…%'): trigram indexes (pg_trgm).
    index('scrap_dimagaz_bc_name_trgm_idx').using('gin', t.name.op('gin_trgm_ops')),
    index('scrap_dimagaz_bc_origin_trgm_idx').using('gin', t.origin.op('gin_trgm_ops')),
  ],
);

export type BcRow = typeof scrapDimagazBc.$inferSelect;
export type NewBcRow = typeof scrapDimagazBc.$inferInsert;
