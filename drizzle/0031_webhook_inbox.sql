CREATE TABLE "sync_webhook_inbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"family" text NOT NULL,
	"model" text NOT NULL,
	"record_id" integer NOT NULL,
	"root_id" integer,
	"write_date" text,
	"deleted" boolean NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"queued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"requeues" smallint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX "sync_webhook_inbox_queued_idx" ON "sync_webhook_inbox" USING btree ("queued_at");--> statement-breakpoint
CREATE INDEX "sync_webhook_inbox_root_idx" ON "sync_webhook_inbox" USING btree ("family","root_id");