CREATE TABLE "sync_family_seen" (
	"family" text PRIMARY KEY NOT NULL,
	"seen_at" timestamp with time zone NOT NULL
);
