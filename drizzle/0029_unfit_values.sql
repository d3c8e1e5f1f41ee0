CREATE TABLE "sync_unfit_value" (
	"family" text NOT NULL,
	"model" text NOT NULL,
	"field" text NOT NULL,
	"kind" text NOT NULL,
	"writes" bigint NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_odoo_id" integer NOT NULL,
	CONSTRAINT "sync_unfit_value_family_model_field_pk" PRIMARY KEY("family","model","field")
);
