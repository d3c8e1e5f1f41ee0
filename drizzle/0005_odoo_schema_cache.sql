CREATE TABLE "sync_odoo_schema" (
	"key" text PRIMARY KEY NOT NULL,
	"schema" jsonb NOT NULL,
	"saved_at" timestamp with time zone NOT NULL
);
