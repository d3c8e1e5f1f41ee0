ALTER TABLE "sync_state" ADD COLUMN "settled_run_id" bigint;--> statement-breakpoint
ALTER TABLE "sync_state" ADD COLUMN "settled_audit_after" bigint;