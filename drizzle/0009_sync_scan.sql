CREATE TABLE "sync_scan" (
	"run_id" bigint NOT NULL,
	"token" bigint NOT NULL,
	"kind" text NOT NULL,
	"odoo_id" integer NOT NULL,
	"root_id" integer,
	"write_date" timestamp with time zone,
	"proven" boolean DEFAULT false NOT NULL,
	CONSTRAINT "sync_scan_run_id_token_kind_odoo_id_pk" PRIMARY KEY("run_id","token","kind","odoo_id")
);
--> statement-breakpoint
CREATE INDEX "sync_scan_root_idx" ON "sync_scan" USING btree ("run_id","token","kind","root_id");