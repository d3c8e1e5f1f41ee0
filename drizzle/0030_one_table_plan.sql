-- The table plan (src/families/table-plan.ts): an index whose shape stays is renamed, not built
-- again; a filter's index on a many2one or a selection now holds the id after the column.
ALTER INDEX "scrap_dimagaz_bc_name_sort_idx" RENAME TO "scrap_dimagaz_bc_name_order_idx";--> statement-breakpoint
ALTER INDEX "scrap_dimagaz_bc_date_order_sort_idx" RENAME TO "scrap_dimagaz_bc_date_order_order_idx";--> statement-breakpoint
ALTER INDEX "scrap_dimagaz_bc_line_bc_idx" RENAME TO "scrap_dimagaz_bc_line_parent_idx";--> statement-breakpoint
ALTER INDEX "scrap_account_move_name_sort_idx" RENAME TO "scrap_account_move_name_order_idx";--> statement-breakpoint
ALTER INDEX "scrap_account_move_date_sort_idx" RENAME TO "scrap_account_move_date_order_idx";--> statement-breakpoint
ALTER INDEX "scrap_account_move_amount_total_sort_idx" RENAME TO "scrap_account_move_amount_total_order_idx";--> statement-breakpoint
ALTER INDEX "scrap_account_move_line_move_idx" RENAME TO "scrap_account_move_line_parent_idx";--> statement-breakpoint
ALTER INDEX "scrap_res_partner_name_sort_idx" RENAME TO "scrap_res_partner_name_order_idx";--> statement-breakpoint
ALTER INDEX "scrap_res_partner_customer_rank_sort_idx" RENAME TO "scrap_res_partner_customer_rank_order_idx";--> statement-breakpoint
ALTER INDEX "scrap_res_partner_supplier_rank_sort_idx" RENAME TO "scrap_res_partner_supplier_rank_order_idx";--> statement-breakpoint
ALTER INDEX "scrap_res_partner_email_idx" RENAME TO "scrap_res_partner_email_key_idx";--> statement-breakpoint
DROP INDEX "scrap_dimagaz_bc_partner_idx";--> statement-breakpoint
DROP INDEX "scrap_account_move_partner_idx";--> statement-breakpoint
DROP INDEX "scrap_account_move_line_account_idx";--> statement-breakpoint
DROP INDEX "scrap_account_move_line_product_idx";--> statement-breakpoint
DROP INDEX "scrap_res_partner_country_idx";--> statement-breakpoint
DROP INDEX "scrap_res_partner_parent_idx";--> statement-breakpoint
DROP INDEX "scrap_dimagaz_bc_state_idx";--> statement-breakpoint
DROP INDEX "scrap_account_move_move_type_idx";--> statement-breakpoint
DROP INDEX "scrap_account_move_state_idx";--> statement-breakpoint
CREATE INDEX "scrap_dimagaz_bc_partner_id_idx" ON "scrap_dimagaz_bc" USING btree ("partner_id","odoo_id");--> statement-breakpoint
CREATE INDEX "scrap_account_move_partner_id_idx" ON "scrap_account_move" USING btree ("partner_id","odoo_id");--> statement-breakpoint
CREATE INDEX "scrap_account_move_line_account_id_idx" ON "scrap_account_move_line" USING btree ("account_id","odoo_id");--> statement-breakpoint
CREATE INDEX "scrap_account_move_line_product_id_idx" ON "scrap_account_move_line" USING btree ("product_id","odoo_id");--> statement-breakpoint
CREATE INDEX "scrap_res_partner_country_id_idx" ON "scrap_res_partner" USING btree ("country_id","odoo_id");--> statement-breakpoint
CREATE INDEX "scrap_res_partner_parent_id_idx" ON "scrap_res_partner" USING btree ("parent_id","odoo_id");--> statement-breakpoint
CREATE INDEX "scrap_dimagaz_bc_state_idx" ON "scrap_dimagaz_bc" USING btree ("state","odoo_id");--> statement-breakpoint
CREATE INDEX "scrap_account_move_move_type_idx" ON "scrap_account_move" USING btree ("move_type","odoo_id");--> statement-breakpoint
CREATE INDEX "scrap_account_move_state_idx" ON "scrap_account_move" USING btree ("state","odoo_id");
