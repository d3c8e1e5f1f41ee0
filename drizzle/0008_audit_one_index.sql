-- A BC's own audit rows name the BC too, so its history (lines included) is one index range.
UPDATE "sync_audit" SET "bc_odoo_id" = "odoo_id" WHERE "model" = 'dimagaz.bc' AND "bc_odoo_id" IS NULL;--> statement-breakpoint
DROP INDEX "sync_audit_record_idx";--> statement-breakpoint
DROP INDEX "sync_audit_run_idx";
