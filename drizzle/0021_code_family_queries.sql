CREATE INDEX "scrap_account_move_write_date_idx" ON "scrap_account_move" USING btree ("odoo_write_date","odoo_id");--> statement-breakpoint
CREATE INDEX "scrap_account_move_live_idx" ON "scrap_account_move" USING btree ("odoo_id") WHERE "scrap_account_move"."archived_at" is null;--> statement-breakpoint
CREATE INDEX "scrap_account_move_name_sort_idx" ON "scrap_account_move" USING btree (left(coalesce("name", ''), 512),"odoo_id");--> statement-breakpoint
CREATE INDEX "scrap_account_move_date_sort_idx" ON "scrap_account_move" USING btree (coalesce("date", '-infinity'::date),"odoo_id");--> statement-breakpoint
CREATE INDEX "scrap_account_move_amount_total_sort_idx" ON "scrap_account_move" USING btree (coalesce("amount_total", '-Infinity'::numeric),"odoo_id");--> statement-breakpoint
CREATE INDEX "scrap_account_move_move_type_idx" ON "scrap_account_move" USING btree ("move_type");--> statement-breakpoint
CREATE INDEX "scrap_account_move_state_idx" ON "scrap_account_move" USING btree ("state");--> statement-breakpoint
CREATE INDEX "scrap_account_move_date_idx" ON "scrap_account_move" USING btree ("date","odoo_id");--> statement-breakpoint
CREATE INDEX "scrap_account_move_amount_total_idx" ON "scrap_account_move" USING btree ("amount_total","odoo_id");--> statement-breakpoint
CREATE INDEX "scrap_account_move_name_trgm_idx" ON "scrap_account_move" USING gin ("name" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "scrap_account_move_line_write_date_idx" ON "scrap_account_move_line" USING btree ("odoo_write_date","odoo_id");--> statement-breakpoint
CREATE INDEX "scrap_account_move_line_account_idx" ON "scrap_account_move_line" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "scrap_account_move_line_product_idx" ON "scrap_account_move_line" USING btree ("product_id");--> statement-breakpoint
CREATE INDEX "scrap_res_partner_write_date_idx" ON "scrap_res_partner" USING btree ("odoo_write_date","odoo_id");--> statement-breakpoint
CREATE INDEX "scrap_res_partner_live_idx" ON "scrap_res_partner" USING btree ("odoo_id") WHERE "scrap_res_partner"."archived_at" is null;--> statement-breakpoint
CREATE INDEX "scrap_res_partner_name_sort_idx" ON "scrap_res_partner" USING btree (left(coalesce("name", ''), 512),"odoo_id");--> statement-breakpoint
CREATE INDEX "scrap_res_partner_customer_rank_sort_idx" ON "scrap_res_partner" USING btree (coalesce("customer_rank", -2147483648),"odoo_id");--> statement-breakpoint
CREATE INDEX "scrap_res_partner_supplier_rank_sort_idx" ON "scrap_res_partner" USING btree (coalesce("supplier_rank", -2147483648),"odoo_id");--> statement-breakpoint
CREATE INDEX "scrap_res_partner_email_idx" ON "scrap_res_partner" USING btree (left(coalesce("email", ''), 512));--> statement-breakpoint
CREATE INDEX "scrap_res_partner_is_company_idx" ON "scrap_res_partner" USING btree ("is_company","odoo_id");--> statement-breakpoint
CREATE INDEX "scrap_res_partner_country_idx" ON "scrap_res_partner" USING btree ("country_id");--> statement-breakpoint
CREATE INDEX "scrap_res_partner_name_trgm_idx" ON "scrap_res_partner" USING gin ("name" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "scrap_res_partner_email_trgm_idx" ON "scrap_res_partner" USING gin ("email" gin_trgm_ops);