ALTER TABLE "sync_state" ADD COLUMN "settled_through" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "sync_state" ADD COLUMN "settled_at" timestamp with time zone;