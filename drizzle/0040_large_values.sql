CREATE TABLE "sync_large_value" (
	"stage" text NOT NULL,
	"value" integer NOT NULL,
	"part" integer NOT NULL,
	"piece" text NOT NULL,
	"staged_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sync_large_value_stage_value_part_pk" PRIMARY KEY("stage","value","part")
);
--> statement-breakpoint
-- Staged for minutes and worth nothing after a crash: each value is written once more, in the
-- copy, with WAL (src/db/schema/sync-large-value.ts).
ALTER TABLE "sync_large_value" SET UNLOGGED;
