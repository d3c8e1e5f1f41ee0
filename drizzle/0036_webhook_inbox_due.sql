DROP INDEX "sync_webhook_inbox_queued_idx";--> statement-breakpoint
ALTER TABLE "sync_webhook_inbox" ADD COLUMN "due_at" timestamp with time zone DEFAULT now() + interval '1 minute' NOT NULL;--> statement-breakpoint
-- Each event kept is due when the version before this one would have queued it again.
UPDATE "sync_webhook_inbox" SET "due_at" = "queued_at" + least(60000::bigint << least("requeues", 16), 3600000) * interval '1 millisecond';--> statement-breakpoint
CREATE INDEX "sync_webhook_inbox_due_idx" ON "sync_webhook_inbox" USING btree ("family","due_at");--> statement-breakpoint
CREATE INDEX "sync_webhook_inbox_received_idx" ON "sync_webhook_inbox" USING btree ("family","received_at");
