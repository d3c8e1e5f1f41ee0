CREATE INDEX "scrap_dimagaz_bc_live_partner_date_order_idx" ON "scrap_dimagaz_bc" USING btree ("partner_id",coalesce("date_order", '-infinity'::timestamptz),"odoo_id") WHERE "scrap_dimagaz_bc"."archived_at" is null;--> statement-breakpoint
-- Written by hand (drizzle-kit does not model statistics objects). Without it the planner takes a
-- partner's states to be independent of the partner: it under-counts "partner X in state Y" and
-- prefers intersecting the partner and state indexes, then sorting, to reading the partner's
-- BCs in list order off the index above and stopping after one page.
CREATE STATISTICS "scrap_dimagaz_bc_partner_state_stats" (dependencies) ON "partner_id", "state" FROM "scrap_dimagaz_bc";
