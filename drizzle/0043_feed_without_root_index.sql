-- A root's last position is looked up in sync_feed_root since drizzle/0033; nothing reads the feed
-- by root any more, and every change paid an entry in this index (docs/feed.md, "Its cost").
DROP INDEX "sync_feed_root_idx";
