CREATE TABLE "odoo_link" (
	"connection" text PRIMARY KEY NOT NULL,
	"transport" text,
	"transport_reason" text,
	"server_version" text,
	"transport_chosen_at" timestamp with time zone,
	"key_version" integer DEFAULT 0 NOT NULL,
	"key_sealed" text,
	"key_fingerprint" text,
	"key_expires_at" timestamp with time zone,
	"key_expiry_source" text,
	"key_seeds" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"key_renewed_at" timestamp with time zone,
	"retired_sealed" text,
	"retire_after" timestamp with time zone,
	"renewal_error" text,
	"renewal_error_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
