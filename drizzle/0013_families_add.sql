CREATE TABLE "sync_watermark" (
	"family" text NOT NULL,
	"model" text NOT NULL,
	"watermark" timestamp with time zone NOT NULL,
	CONSTRAINT "sync_watermark_family_model_pk" PRIMARY KEY("family","model")
);
--> statement-breakpoint
CREATE TABLE "scrap_account_move" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "scrap_account_move_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"odoo_id" integer NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"odoo_write_date" timestamp with time zone NOT NULL,
	"data" jsonb NOT NULL,
	"archived_at" timestamp with time zone,
	"archive_reason" text,
	"first_synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"name" text,
	"move_type" text,
	"state" text,
	"partner_id" integer,
	"partner_name" text,
	"date" date,
	"invoice_date" date,
	"ref" text,
	"currency_id" integer,
	"currency_name" text,
	"amount_untaxed" numeric,
	"amount_tax" numeric,
	"amount_total" numeric,
	CONSTRAINT "scrap_account_move_odoo_id_key" UNIQUE("odoo_id")
);
--> statement-breakpoint
CREATE TABLE "scrap_account_move_line" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "scrap_account_move_line_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"odoo_id" integer NOT NULL,
	"odoo_write_date" timestamp with time zone NOT NULL,
	"data" jsonb NOT NULL,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"move_odoo_id" integer NOT NULL,
	"sequence" integer,
	"name" text,
	"account_id" integer,
	"account_name" text,
	"product_id" integer,
	"product_name" text,
	"quantity" numeric,
	"price_unit" numeric,
	"debit" numeric,
	"credit" numeric,
	"balance" numeric,
	"date" date,
	CONSTRAINT "scrap_account_move_line_odoo_id_key" UNIQUE("odoo_id")
);
--> statement-breakpoint
CREATE TABLE "scrap_res_partner" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "scrap_res_partner_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"odoo_id" integer NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"odoo_write_date" timestamp with time zone NOT NULL,
	"data" jsonb NOT NULL,
	"archived_at" timestamp with time zone,
	"archive_reason" text,
	"first_synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"name" text,
	"email" text,
	"phone" text,
	"is_company" boolean,
	"customer_rank" integer,
	"supplier_rank" integer,
	"street" text,
	"city" text,
	"country_id" integer,
	"country_name" text,
	"parent_id" integer,
	"parent_name" text,
	"lang" text,
	"credit_limit" numeric,
	CONSTRAINT "scrap_res_partner_odoo_id_key" UNIQUE("odoo_id")
);
--> statement-breakpoint
ALTER TABLE "sync_log" ADD COLUMN "family" text DEFAULT 'bcs' NOT NULL;--> statement-breakpoint
ALTER TABLE "sync_log" ADD COLUMN "records_seen" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "sync_log" ADD COLUMN "children_deleted" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "sync_audit" ADD COLUMN "family" text DEFAULT 'bcs' NOT NULL;--> statement-breakpoint
ALTER TABLE "sync_audit" ADD COLUMN "root_odoo_id" integer;--> statement-breakpoint
ALTER TABLE "sync_failure" ADD COLUMN "family" text DEFAULT 'bcs' NOT NULL;--> statement-breakpoint
ALTER TABLE "scrap_account_move_line" ADD CONSTRAINT "scrap_account_move_line_move_odoo_id_scrap_account_move_odoo_id_fk" FOREIGN KEY ("move_odoo_id") REFERENCES "public"."scrap_account_move"("odoo_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "scrap_account_move_partner_idx" ON "scrap_account_move" USING btree ("partner_id");--> statement-breakpoint
CREATE INDEX "scrap_account_move_line_move_idx" ON "scrap_account_move_line" USING btree ("move_odoo_id","sequence","odoo_id");--> statement-breakpoint
CREATE INDEX "scrap_res_partner_parent_idx" ON "scrap_res_partner" USING btree ("parent_id");