DROP INDEX "scrap_dimagaz_bc_live_name_idx";--> statement-breakpoint
DROP INDEX "scrap_dimagaz_bc_live_date_order_idx";--> statement-breakpoint
DROP INDEX "scrap_dimagaz_bc_live_amount_idx";--> statement-breakpoint
CREATE INDEX "scrap_dimagaz_bc_name_sort_idx" ON "scrap_dimagaz_bc" USING btree (left(coalesce("name", ''), 512),"odoo_id");--> statement-breakpoint
CREATE INDEX "scrap_dimagaz_bc_date_order_sort_idx" ON "scrap_dimagaz_bc" USING btree (coalesce("date_order", '-infinity'::timestamptz),"odoo_id");--> statement-breakpoint
CREATE INDEX "scrap_dimagaz_bc_amount_sort_idx" ON "scrap_dimagaz_bc" USING btree (coalesce("amount_total", '-Infinity'::numeric),"odoo_id");--> statement-breakpoint
CREATE INDEX "scrap_dimagaz_bc_line_write_date_idx" ON "scrap_dimagaz_bc_line" USING btree ("odoo_write_date","odoo_id");