DROP INDEX "sync_audit_bc_idx";--> statement-breakpoint
DROP INDEX "sync_failure_due_idx";--> statement-breakpoint
ALTER TABLE "sync_log" ALTER COLUMN "family" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "sync_audit" ALTER COLUMN "family" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "sync_failure" DROP CONSTRAINT "sync_failure_pkey";--> statement-breakpoint
ALTER TABLE "sync_failure" ALTER COLUMN "family" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "sync_failure" ADD CONSTRAINT "sync_failure_family_odoo_id_pk" PRIMARY KEY("family","odoo_id");--> statement-breakpoint
CREATE INDEX "sync_log_family_idx" ON "sync_log" USING btree ("family","id");--> statement-breakpoint
CREATE INDEX "sync_audit_root_idx" ON "sync_audit" USING btree ("family","root_odoo_id","id");--> statement-breakpoint
CREATE INDEX "sync_failure_due_idx" ON "sync_failure" USING btree ("family","next_attempt_at","odoo_id");--> statement-breakpoint
ALTER TABLE "sync_state" DROP COLUMN "watermark";--> statement-breakpoint
ALTER TABLE "sync_state" DROP COLUMN "line_watermark";--> statement-breakpoint
ALTER TABLE "sync_log" DROP COLUMN "bcs_seen";--> statement-breakpoint
ALTER TABLE "sync_log" DROP COLUMN "lines_deleted";--> statement-breakpoint
ALTER TABLE "sync_audit" DROP COLUMN "bc_odoo_id";