-- The feed's trigger (0023) looked up the root's last change once per audit row; a statement
-- writes many rows of one root (a first copy: a BC and its ten lines), and one lookup per root
-- gives every one of them the same position floor. Same positions, a tenth of the index probes.
CREATE OR REPLACE FUNCTION "sync_feed_append"() RETURNS trigger LANGUAGE plpgsql AS $$
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
END $$;
