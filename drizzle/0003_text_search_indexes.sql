-- Trigram search for the API's q filter; pg_trgm is a trusted extension (a database owner may create it).
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
CREATE INDEX "scrap_dimagaz_bc_name_trgm_idx" ON "scrap_dimagaz_bc" USING gin ("name" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "scrap_dimagaz_bc_origin_trgm_idx" ON "scrap_dimagaz_bc" USING gin ("origin" gin_trgm_ops);
