/**
 * The tables of the families declared in code, in a source's schema (docs/sources.md). The
 * migrations create and change them in `public`, the default source's schema; `migrate` makes each
 * other source's from them, and brings them level with them after every migration: a table
 * `public` has and the schema lacks is made `like` it (columns, defaults, identity, checks,
 * indexes), then each column, index and foreign key added since is added, the foreign keys
 * pointing at the schema's own tables. Run again with nothing changed, it changes nothing. A
 * configured family's tables are planned in the schema from that source's `fields_get` instead
 * (src/families/configured).
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import { quoteIdentifier as quote, rowsOf } from '../db/sql-rows.js';
import { familyModels, type RecordFamily } from './family.js';

/** What {@link placeCodeTables} ran, one statement a line: empty when the schema was level. */
export type PlacedStatements = readonly string[];

/**
 * Creates `schema` and the tables of `families` (declared in code) in it, or brings them level
 * with `public`'s, in one transaction.
 */
export async function placeCodeTables(
  db: Db,
  schema: string,
  families: readonly RecordFamily[],
): Promise<PlacedStatements> {
  const tables = families.flatMap((family) =>
    familyModels(family).flatMap((model) => [
      model.table.name,
      ...model.links.map((link) => link.table),
    ]),
  );
  return db.transaction(async (tx) => {
    const run: string[] = [];
    const exec = async (statement: string) => {
      run.push(statement);
      await tx.execute(sql.raw(statement));
    };
    const found = async (query: SQL) => rowsOf(await tx.execute(query)).length > 0;
    const into = (table: string) => `${quote(schema)}.${quote(table)}`;

    if (!(await found(sql`select 1 from pg_namespace where nspname = ${schema}`)))
      await exec(`create schema ${quote(schema)}`);
    for (const table of tables) {
      if (!(await found(sql`select 1 where to_regclass(${into(table)}) is not null`))) {
        await exec(`create table ${into(table)} (like public.${quote(table)} including all)`);
        continue;
      }
      for (const column of await missingColumns(tx, schema, table))
        await exec(`alter table ${into(table)} add column ${column}`);
      for (const index of await missingIndexes(tx, schema, table)) await exec(index);
    }
    // Foreign keys last: a child's points at its root in the same schema, made above.
    for (const table of tables)
      for (const key of await missingForeignKeys(tx, schema, table))
        await exec(
          `alter table ${into(table)} add constraint ${quote(key.name)} ${key.definition}`,
        );
    return run;
  });
}

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** The columns `public`'s table has and the schema's lacks, as `add column` writes them. */
async function missingColumns(tx: Tx, schema: string, table: string): Promise<string[]> {
  return rowsOf<{ definition: string }>(
    await tx.execute(sql`
      select format('%I %s%s%s', a.attname, format_type(a.atttypid, a.atttypmod),
               coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), ''),
               case when a.attnotnull then ' not null' else '' end) as definition
      from pg_attribute a
      left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
      where a.attrelid = to_regclass(${`public.${quote(table)}`}) and a.attnum > 0 and not a.attisdropped
        and not exists (
          select 1 from pg_attribute b
          where b.attrelid = to_regclass(${`${quote(schema)}.${quote(table)}`})
            and b.attname = a.attname and not b.attisdropped)
      order by a.attnum`),
  ).map((row) => row.definition);
}

/**
 * The indexes of `public`'s table that the schema's lacks, made on the schema's. Compared by what
 * they index, not by name: the indexes a table made `like` another got are named anew.
 */
async function missingIndexes(tx: Tx, schema: string, table: string): Promise<string[]> {
  return rowsOf<{ definition: string }>(
    await tx.execute(sql`
      with shape as (
        select schemaname, indexname, indexdef,
               left(indexdef, 13) = 'CREATE UNIQUE' as is_unique,
               substr(indexdef, strpos(indexdef, ' USING ')) as indexes
        from pg_indexes where schemaname in ('public', ${schema}) and tablename = ${table})
      select replace(p.indexdef, ' ON public.' || quote_ident(${table}::text) || ' ',
               ' ON ' || quote_ident(${schema}::text) || '.' || quote_ident(${table}::text) || ' ')
               as definition
      from shape p
      where p.schemaname = 'public'
        and not exists (select 1 from shape o where o.schemaname = ${schema} and o.is_unique = p.is_unique and o.indexes = p.indexes)
      order by p.indexname`),
  ).map((row) => row.definition);
}

/**
 * The foreign keys of `public`'s table that the schema's lacks (by name), each pointing at the
 * schema's table of the one it references.
 */
async function missingForeignKeys(
  tx: Tx,
  schema: string,
  table: string,
): Promise<{ name: string; definition: string }[]> {
  return rowsOf<{ name: string; definition: string }>(
    await tx.execute(sql`
      select c.conname as name,
             format('foreign key (%s) references %I.%I (%s)%s',
               (select string_agg(quote_ident(attname), ', ' order by k.i)
                  from unnest(c.conkey) with ordinality k(attnum, i)
                  join pg_attribute on attrelid = c.conrelid and pg_attribute.attnum = k.attnum),
               ${schema}::text, r.relname,
               (select string_agg(quote_ident(attname), ', ' order by k.i)
                  from unnest(c.confkey) with ordinality k(attnum, i)
                  join pg_attribute on attrelid = c.confrelid and pg_attribute.attnum = k.attnum),
               case c.confdeltype when 'c' then ' on delete cascade' when 'n' then ' on delete set null'
                 else '' end) as definition
      from pg_constraint c
      join pg_class r on r.oid = c.confrelid
      where c.contype = 'f' and c.conrelid = to_regclass(${`public.${quote(table)}`})
        and not exists (
          select 1 from pg_constraint o
          where o.conrelid = to_regclass(${`${quote(schema)}.${quote(table)}`}) and o.conname = c.conname)`),
  );
}
