CREATE TABLE "scrap_dimagaz_bc" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "scrap_dimagaz_bc_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"odoo_id" integer NOT NULL,
	"name" text,
	"state" text,
	"partner_id" integer,
	"partner_name" text,
	"date_order" timestamp with time zone,
	"date_planned" timestamp with time zone,
	"amount_untaxed" numeric,
	"amount_tax" numeric,
	"amount_total" numeric,
	"currency_id" integer,
	"currency_name" text,
	"company_id" integer,
	"origin" text,
	"active" boolean DEFAULT true NOT NULL,
	"odoo_create_date" timestamp with time zone,
	"odoo_write_date" timestamp with time zone NOT NULL,
	"data" jsonb NOT NULL,
	"archived_at" timestamp with time zone,
	"archive_reason" text,
	"first_synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "scrap_dimagaz_bc_odoo_id_key" UNIQUE("odoo_id")
);
--> statement-breakpoint
CREATE TABLE "scrap_dimagaz_bc_line" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "scrap_dimagaz_bc_line_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"odoo_id" integer NOT NULL,
	"bc_odoo_id" integer NOT NULL,
	"sequence" integer,
	"product_id" integer,
	"product_name" text,
	"name" text,
	"product_qty" numeric,
	"qty_received" numeric,
	"price_unit" numeric,
	"price_subtotal" numeric,
	"odoo_write_date" timestamp with time zone NOT NULL,
	"data" jsonb NOT NULL,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "scrap_dimagaz_bc_line_odoo_id_key" UNIQUE("odoo_id")
);
--> statement-breakpoint
CREATE TABLE "sync_state" (
	"key" text PRIMARY KEY NOT NULL,
	"watermark" timestamp with time zone,
	"line_watermark" timestamp with time zone,
	"is_syncing" boolean DEFAULT false NOT NULL,
	"lease_owner" text,
	"lease_expires_at" timestamp with time zone,
	"current_run_id" bigint,
	"last_run_at" timestamp with time zone,
	"last_run_status" text,
	"last_success_at" timestamp with time zone,
	"last_error" text,
	"last_reconcile_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sync_log" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "sync_log_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"kind" text DEFAULT 'sync' NOT NULL,
	"trigger" text NOT NULL,
	"status" text NOT NULL,
	"lease_owner" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"window_from" timestamp with time zone,
	"window_to" timestamp with time zone,
	"pages" integer DEFAULT 0 NOT NULL,
	"bcs_seen" integer DEFAULT 0 NOT NULL,
	"created" integer DEFAULT 0 NOT NULL,
	"updated" integer DEFAULT 0 NOT NULL,
	"unchanged" integer DEFAULT 0 NOT NULL,
	"archived" integer DEFAULT 0 NOT NULL,
	"restored" integer DEFAULT 0 NOT NULL,
	"lines_deleted" integer DEFAULT 0 NOT NULL,
	"failed" integer DEFAULT 0 NOT NULL,
	"odoo_calls" integer DEFAULT 0 NOT NULL,
	"errors" jsonb DEFAULT '[]'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sync_audit" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "sync_audit_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"run_id" bigint,
	"model" text NOT NULL,
	"odoo_id" integer NOT NULL,
	"bc_odoo_id" integer,
	"action" text NOT NULL,
	"changed_fields" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"odoo_write_date" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sync_failure" (
	"odoo_id" integer PRIMARY KEY NOT NULL,
	"error_code" text NOT NULL,
	"error" text NOT NULL,
	"attempts" integer DEFAULT 1 NOT NULL,
	"last_run_id" bigint,
	"last_job_id" text,
	"first_failed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_failed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "scrap_dimagaz_bc_line" ADD CONSTRAINT "scrap_dimagaz_bc_line_bc_odoo_id_scrap_dimagaz_bc_odoo_id_fk" FOREIGN KEY ("bc_odoo_id") REFERENCES "public"."scrap_dimagaz_bc"("odoo_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "scrap_dimagaz_bc_state_idx" ON "scrap_dimagaz_bc" USING btree ("state");--> statement-breakpoint
CREATE INDEX "scrap_dimagaz_bc_partner_idx" ON "scrap_dimagaz_bc" USING btree ("partner_id");--> statement-breakpoint
CREATE INDEX "scrap_dimagaz_bc_date_order_idx" ON "scrap_dimagaz_bc" USING btree ("date_order","odoo_id");--> statement-breakpoint
CREATE INDEX "scrap_dimagaz_bc_write_date_idx" ON "scrap_dimagaz_bc" USING btree ("odoo_write_date","odoo_id");--> statement-breakpoint
CREATE INDEX "scrap_dimagaz_bc_live_idx" ON "scrap_dimagaz_bc" USING btree ("odoo_id") WHERE "scrap_dimagaz_bc"."archived_at" is null;--> statement-breakpoint
CREATE INDEX "scrap_dimagaz_bc_line_bc_idx" ON "scrap_dimagaz_bc_line" USING btree ("bc_odoo_id","sequence","odoo_id");--> statement-breakpoint
CREATE INDEX "sync_log_started_idx" ON "sync_log" USING btree ("started_at","id");--> statement-breakpoint
CREATE INDEX "sync_audit_record_idx" ON "sync_audit" USING btree ("model","odoo_id","id");--> statement-breakpoint
CREATE INDEX "sync_audit_bc_idx" ON "sync_audit" USING btree ("bc_odoo_id","id");--> statement-breakpoint
CREATE INDEX "sync_audit_run_idx" ON "sync_audit" USING btree ("run_id");