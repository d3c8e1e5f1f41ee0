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
CREATE INDEX "sync_feed_root_idx" ON "sync_feed" USING btree ("family","root_odoo_id","xid");