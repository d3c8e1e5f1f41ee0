CREATE TABLE "sync_feed" (
	"xid" "xid8" NOT NULL,
	"id" bigint NOT NULL,
	"family" text NOT NULL,
	"root_odoo_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sync_feed_xid_id_pk" PRIMARY KEY("xid","id")
);
--> statement-breakpoint
CREATE TABLE "sync_feed_horizon" (
	"key" smallint PRIMARY KEY DEFAULT 1 NOT NULL,
	"xid" "xid8" NOT NULL,
	"id" bigint NOT NULL,
	"pruned_at" timestamp with time zone,
	CONSTRAINT "sync_feed_horizon_one_row" CHECK ("sync_feed_horizon"."key" = 1)
);
--> statement-breakpoint
CREATE TABLE "sync_feed_subscription" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"url" text NOT NULL,
	"secret" text NOT NULL,
	"families" text[] DEFAULT '{}'::text[] NOT NULL,
	"models" text[] DEFAULT '{}'::text[] NOT NULL,
	"source" text NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"status_reason" text,
	"cursor_xid" "xid8" NOT NULL,
	"cursor_id" bigint NOT NULL,
	"delivered_changes" bigint DEFAULT 0 NOT NULL,
	"delivered_messages" bigint DEFAULT 0 NOT NULL,
	"failed_attempts" bigint DEFAULT 0 NOT NULL,
	"consecutive_failures" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"last_failure_at" timestamp with time zone,
	"last_delivered_at" timestamp with time zone,
	"dead_letter" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sync_feed_subscription_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE INDEX "sync_feed_root_idx" ON "sync_feed" USING btree ("family","root_odoo_id","xid");--> statement-breakpoint
INSERT INTO "sync_feed_horizon" ("key", "xid", "id") VALUES (1, '0', 0);--> statement-breakpoint
-- Every row sync_audit gets becomes a change of the feed, in the statement that wrote it (and so
-- in the transaction that changed the copy). Its position is (xid, id): the writing transaction's
-- id, unless the root's last change already sits later. A transaction can take its id, wait on a
-- root's lock while another transaction with a later id writes that root and commits, then write
-- the root itself: by transaction id alone its change would come first. The root's lock orders
-- its changes, and its change taking the later id (with its own, later audit id) keeps them in
-- that order. It never takes an id below its own: no reader passes a position before the writing
-- transaction has ended (readers stop below their snapshot's xmin).
CREATE FUNCTION "sync_feed_append"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO sync_feed (xid, id, family, root_odoo_id)
  SELECT greatest(pg_current_xact_id(), (
      SELECT f.xid FROM sync_feed f
      WHERE f.family = n.family AND f.root_odoo_id = n.root_odoo_id
      ORDER BY f.xid DESC LIMIT 1)), n.id, n.family, n.root_odoo_id
  FROM added n;
  -- Delivered at commit, once per transaction (identical payloads collapse): readers wake.
  PERFORM pg_notify('erp_bridge_feed', '');
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "sync_feed_append" AFTER INSERT ON "sync_audit"
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION "sync_feed_append"();
