CREATE TABLE "sync_model_claim" (
	"model" text PRIMARY KEY NOT NULL,
	"family" text NOT NULL,
	"claimed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
