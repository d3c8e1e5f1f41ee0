ALTER TABLE "odoo_link" ADD COLUMN "renewal_claimed_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "odoo_link" ADD COLUMN "renewal_retry_after" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "odoo_link" ADD COLUMN "model_doc_refusal" text;