ALTER TABLE "sync_feed_subscription" ADD COLUMN "sources" text[];--> statement-breakpoint
-- Each subscription keeps the deliveries it had. One that names families follows those alone
-- (every source: its families name theirs). One that named none took every change: the default
-- source's, and those of each source whose first run came before it was made; a source added
-- after it no longer reaches it (docs/feed.md, "Whose records").
UPDATE "sync_feed_subscription" s SET "sources" = CASE
  WHEN cardinality(s."families") > 0 THEN ARRAY['*']
  ELSE ARRAY['default'] || coalesce((
    SELECT array_agg(DISTINCT split_part(l."family", '.', 1))
    FROM "sync_log" l
    WHERE strpos(l."family", '.') > 0 AND l."started_at" < s."created_at"), '{}'::text[])
END;--> statement-breakpoint
ALTER TABLE "sync_feed_subscription" ALTER COLUMN "sources" SET NOT NULL;
