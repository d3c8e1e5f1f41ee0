-- The change feed's trigger function as it stands after every migration, as PostgreSQL prints it
-- (pg_get_functiondef): the trigger on sync_audit (drizzle/0023_change_feed.sql) runs it once per
-- statement, over the statement's inserted rows (`added`). Each change's position is the later of
-- its transaction's id and its root's last change, so a record's changes stay in commit order
-- (docs/feed.md, "Positions"); the root's last position is looked up through the feed's index,
-- whatever the statistics say (enable_seqscan off: drizzle/0025). A migration that changes the
-- function changes this file with it (test/db/feed-trigger-text.test.ts).

CREATE OR REPLACE FUNCTION public.sync_feed_append()
 RETURNS trigger
 LANGUAGE plpgsql
 SET enable_seqscan TO 'off'
AS $function$
BEGIN
  INSERT INTO sync_feed (xid, id, family, root_odoo_id)
  SELECT greatest(pg_current_xact_id(), r.last_xid), n.id, n.family, n.root_odoo_id
  FROM added n
  LEFT JOIN (
    SELECT k.family, k.root_odoo_id, (
        SELECT f.xid FROM sync_feed f
        WHERE f.family = k.family AND f.root_odoo_id = k.root_odoo_id
        ORDER BY f.xid DESC LIMIT 1) AS last_xid
    FROM (SELECT DISTINCT family, root_odoo_id FROM added) k
  ) r ON r.family = n.family AND r.root_odoo_id = n.root_odoo_id;
  -- Delivered at commit, once per transaction (identical payloads collapse): readers wake.
  PERFORM pg_notify('erp_bridge_feed', '');
  RETURN NULL;
END $function$

