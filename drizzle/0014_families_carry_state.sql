-- The BC sync's state becomes the `bcs` family's: its lease, schedule and settled stamps keep
-- their row (renamed), its two watermarks become one per model, its run counters take their new
-- names, and every audit row names its root. Nothing is copied again.
UPDATE "sync_state" SET "key" = 'bcs' WHERE "key" = 'dimagaz.bc';--> statement-breakpoint
INSERT INTO "sync_watermark" ("family", "model", "watermark")
  SELECT 'bcs', 'dimagaz.bc', "watermark" FROM "sync_state" WHERE "key" = 'bcs' AND "watermark" IS NOT NULL
  UNION ALL
  SELECT 'bcs', 'dimagaz.bc.line', "line_watermark" FROM "sync_state" WHERE "key" = 'bcs' AND "line_watermark" IS NOT NULL;--> statement-breakpoint
UPDATE "sync_log" SET "records_seen" = "bcs_seen", "children_deleted" = "lines_deleted";--> statement-breakpoint
UPDATE "sync_audit" SET "root_odoo_id" = "bc_odoo_id";--> statement-breakpoint
DELETE FROM "sync_odoo_schema";
