-- The change feed's trigger function as it stands after every migration, as PostgreSQL prints it
-- (pg_get_functiondef): the trigger on sync_audit (drizzle/0023_change_feed.sql) runs it once per
-- statement, over the statement's inserted rows (`added`). Each change's position is the later of
-- its transaction's id and its root's last change, so a record's changes stay in commit order
-- (docs/feed.md, "Positions"); the root's last position is kept in sync_feed_root, one index
-- probe per root whatever the statistics say (enable_seqscan off: drizzle/0025) and however many
-- day partitions the feed has (drizzle/0033). A migration that changes the function changes this
-- file with it (test/db/feed-trigger-text.test.ts).

CREATE OR REPLACE FUNCTION public.sync_feed_append()
 RETURNS trigger
 LANGUAGE plpgsql
 SET enable_seqscan TO 'off'
AS $function$
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
END $function$
