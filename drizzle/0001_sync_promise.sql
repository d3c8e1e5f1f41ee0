CREATE TABLE "sync_reconcile_scan" (
	"run_id" bigint NOT NULL,
	"kind" text NOT NULL,
	"odoo_id" integer NOT NULL,
	"bc_odoo_id" integer,
	"write_date" timestamp with time zone,
	CONSTRAINT "sync_reconcile_scan_run_id_kind_odoo_id_pk" PRIMARY KEY("run_id","kind","odoo_id")
);
--> statement-breakpoint
ALTER TABLE "sync_state" ADD COLUMN "lease_token" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "sync_state" ADD COLUMN "halt_code" text;--> statement-breakpoint
ALTER TABLE "sync_state" ADD COLUMN "paused_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "sync_state" ADD COLUMN "paused_by" text;--> statement-breakpoint
ALTER TABLE "sync_failure" ADD COLUMN "next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
CREATE INDEX "sync_reconcile_scan_bc_idx" ON "sync_reconcile_scan" USING btree ("run_id","kind","bc_odoo_id");--> statement-breakpoint
CREATE INDEX "sync_failure_due_idx" ON "sync_failure" USING btree ("next_attempt_at","odoo_id");