ALTER TABLE "sync_feed_subscription" ADD COLUMN "seen_froms" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "sync_feed_subscription" ADD COLUMN "declaration_differs_at" timestamp with time zone;--> statement-breakpoint
-- The `from` each subscription of the file was last declared with was weighed when it was.
UPDATE "sync_feed_subscription" SET "seen_froms" = ARRAY["declared_from"] WHERE "declared_from" IS NOT NULL;
