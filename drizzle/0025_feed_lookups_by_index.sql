-- The trigger looks up each written root's last position. On statistics that say sync_feed is
-- empty (analyzed before a first copy, a restored dump) PostgreSQL planned that lookup as a scan
-- of the whole feed, once per root of every statement: a first copy grew quadratic. The writers
-- of the copy set this for their own transactions; the trigger now holds it whoever writes.
ALTER FUNCTION "sync_feed_append"() SET enable_seqscan = off;
