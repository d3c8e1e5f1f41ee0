-- The change feed partitioned by the UTC day its change was written (created_at), so that its
-- retention drops a day's partition instead of deleting rows (docs/feed.md, "Retention"). The
-- feed is copied whole into the new table: every change keeps its position (xid, id) and its
-- created_at. A partition per day that holds changes, today's and the next two (the worker's
-- feed-prune job creates the later ones), and a default partition for a change no day's partition
-- takes (feed-prune moves such changes into their day's partition). A partitioned table's primary
-- key holds its partition key: (xid, id, created_at), whose first columns still order the reads.
ALTER TABLE "sync_feed" RENAME TO "sync_feed_unpartitioned";--> statement-breakpoint
ALTER TABLE "sync_feed_unpartitioned" RENAME CONSTRAINT "sync_feed_xid_id_pk" TO "sync_feed_unpartitioned_pk";--> statement-breakpoint
ALTER INDEX "sync_feed_root_idx" RENAME TO "sync_feed_unpartitioned_root_idx";--> statement-breakpoint
CREATE TABLE "sync_feed" (
	"xid" "xid8" NOT NULL,
	"id" bigint NOT NULL,
	"family" text NOT NULL,
	"root_odoo_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sync_feed_xid_id_created_at_pk" PRIMARY KEY("xid","id","created_at")
) PARTITION BY RANGE ("created_at");
--> statement-breakpoint
CREATE INDEX "sync_feed_root_idx" ON "sync_feed" USING btree ("family","root_odoo_id","xid");--> statement-breakpoint
CREATE TABLE "sync_feed_default" PARTITION OF "sync_feed" DEFAULT;--> statement-breakpoint
DO $$
DECLARE
  day date;
BEGIN
  FOR day IN
    SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date FROM sync_feed_unpartitioned
    UNION
    SELECT (now() AT TIME ZONE 'UTC')::date + ahead FROM generate_series(0, 2) ahead
  LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF sync_feed FOR VALUES FROM (%L) TO (%L)',
      'sync_feed_p' || to_char(day, 'YYYYMMDD'), day || ' 00:00:00+00', (day + 1) || ' 00:00:00+00');
  END LOOP;
END $$;--> statement-breakpoint
INSERT INTO "sync_feed" ("xid", "id", "family", "root_odoo_id", "created_at")
SELECT "xid", "id", "family", "root_odoo_id", "created_at" FROM "sync_feed_unpartitioned";--> statement-breakpoint
DROP TABLE "sync_feed_unpartitioned";--> statement-breakpoint
ANALYZE "sync_feed";
