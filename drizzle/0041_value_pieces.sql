CREATE TABLE "sync_value_piece" (
	"copy_table" text NOT NULL,
	"odoo_id" integer NOT NULL,
	"field" text NOT NULL,
	"sha256" text NOT NULL,
	"part" integer NOT NULL,
	"piece" text NOT NULL,
	CONSTRAINT "sync_value_piece_copy_table_odoo_id_field_sha256_part_pk" PRIMARY KEY("copy_table","odoo_id","field","sha256","part")
);
--> statement-breakpoint
-- A record's `data` with each large value in place of its reference, for whoever reads the copy
-- in SQL: select sync_restored_data('scrap_dimagaz_bc', odoo_id, data) from scrap_dimagaz_bc
-- (src/db/schema/sync-value-piece.ts).
CREATE FUNCTION sync_restored_data(copy_table text, odoo_id integer, data jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  select case
    when not exists (select 1 from sync_value_piece p where p.copy_table = $1 and p.odoo_id = $2)
      then $3
    else (select jsonb_object_agg(f.key, coalesce(
        (select to_jsonb(string_agg(p.piece, '' order by p.part)) from sync_value_piece p
          where jsonb_typeof(f.value) = 'object' and p.copy_table = $1 and p.odoo_id = $2
            and p.field = f.key and p.sha256 = f.value ->> '$erp_bridge_value'),
        f.value))
      from jsonb_each($3) f)
  end
$$;
