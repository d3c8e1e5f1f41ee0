CREATE TABLE "sync_feed_root" (
	"family" text NOT NULL,
	"root_odoo_id" integer NOT NULL,
	"xid" "xid8" NOT NULL,
	CONSTRAINT "sync_feed_root_family_root_odoo_id_pk" PRIMARY KEY("family","root_odoo_id")
);
--> statement-breakpoint
-- Each root's last position, beside the feed: the trigger looked it up in sync_feed, which probed
-- every day partition of the feed for each root of each statement (docs/feed.md, "Positions").
INSERT INTO "sync_feed_root" ("family", "root_odoo_id", "xid")
SELECT "family", "root_odoo_id", max("xid") FROM "sync_feed"
WHERE "root_odoo_id" IS NOT NULL GROUP BY "family", "root_odoo_id";--> statement-breakpoint
-- Index probes whatever the statistics say, as before (drizzle/0025).
CREATE OR REPLACE FUNCTION "sync_feed_append"() RETURNS trigger LANGUAGE plpgsql
SET enable_seqscan = off AS $$
BEGIN
  -- A change's position is the later of its transaction's id and its root's last change; the
  -- root's last change moves with it, in the same statement.
  WITH roots AS (
    SELECT DISTINCT family, root_odoo_id FROM added WHERE root_odoo_id IS NOT NULL
  ), last AS (
    SELECT k.family, k.root_odoo_id, (
        SELECT r.xid FROM sync_feed_root r
        WHERE r.family = k.family AND r.root_odoo_id = k.root_odoo_id) AS last_xid
    FROM roots k
  ), fed AS (
    INSERT INTO sync_feed (xid, id, family, root_odoo_id)
    SELECT greatest(pg_current_xact_id(), l.last_xid), n.id, n.family, n.root_odoo_id
    FROM added n
    LEFT JOIN last l ON l.family = n.family AND l.root_odoo_id = n.root_odoo_id
    RETURNING xid, family, root_odoo_id
  )
  INSERT INTO sync_feed_root (family, root_odoo_id, xid)
  SELECT family, root_odoo_id, max(xid) FROM fed
  WHERE root_odoo_id IS NOT NULL
  GROUP BY family, root_odoo_id
  ON CONFLICT (family, root_odoo_id) DO UPDATE SET xid = greatest(sync_feed_root.xid, excluded.xid);
  -- Delivered at commit, once per transaction (identical payloads collapse): readers wake.
  PERFORM pg_notify('erp_bridge_feed', '');
  RETURN NULL;
END $$;
