ALTER TABLE "sync_feed_subscription" ADD COLUMN "declared_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "sync_feed_subscription" ADD COLUMN "declared_from" text;--> statement-breakpoint
-- The file's subscriptions as they stand were declared by the last worker that started.
UPDATE "sync_feed_subscription" SET "declared_at" = now() WHERE "source" = 'file';
