ALTER TABLE "sync_state" ADD COLUMN "last_verify_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "sync_state" ADD COLUMN "verify_slice" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "sync_state" ADD COLUMN "verify_schema_hash" text;--> statement-breakpoint
ALTER TABLE "sync_log" ADD COLUMN "drifted" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "sync_log" ADD COLUMN "healed" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "sync_log" ADD COLUMN "drift_fields" jsonb DEFAULT '{}'::jsonb NOT NULL;