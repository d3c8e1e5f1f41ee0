CREATE TABLE "sync_family_layout" (
	"family" text PRIMARY KEY NOT NULL,
	"spec_hash" text NOT NULL,
	"version" integer NOT NULL,
	"layout" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
