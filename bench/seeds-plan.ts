/**
 * The seeds' plan of the BC sync, done literally: the yardstick of the copy's own cost. The plan
 * (the original notes, "Plan d'Action Planifié – Synchronisation BC & Lignes BC") reads Odoo over
 * XML-RPC with a 30 s timeout, takes an `is_syncing` lock and a `last_sync` watermark, pages the
 * BCs with `search_read` (limit/offset, explicit fields), and then, for each BC, in a transaction
 * of its own: `update_or_create` on the Odoo id, its lines read by their ids and each
 * `update_or_create`d, the lines Odoo no longer lists deleted, an audit row; errors isolated per
 * BC; a SyncLog row per run. `update_or_create` is Django's: a select by key, then an update or an
 * insert.
 *
 * It copies every stored field, as the product does: a row holds a few typed columns and the
 * record whole (`data`). It runs in the bench's own process on this repository's Odoo client, so
 * it is faster than the Django command it stands for: the ratio against it is a floor.
 */
import type { OdooClient, OdooRecord } from '../src/clients/odoo/index.js';
import type postgres from 'postgres';
import { BC_LINE_MODEL, BC_MODEL } from '../src/families/bcs/family.js';

/** The plan's page of BCs (`limit`). */
const PAGE_SIZE = 100;

const TABLES = `
  create table if not exists seeds_sync_state (
    key text primary key, is_syncing boolean not null default false, last_sync timestamptz);
  create table if not exists seeds_sync_log (
    id serial primary key, started_at timestamptz not null, ended_at timestamptz,
    status text, bcs integer, lines integer, errors jsonb);
  create table if not exists seeds_bc (
    id serial primary key, odoo_id integer not null unique, name text, state text,
    partner_id integer, date_order timestamptz, amount_total numeric,
    write_date timestamptz, data jsonb not null);
  create table if not exists seeds_bc_line (
    id serial primary key, odoo_id integer not null unique, bc_odoo_id integer not null,
    name text, product_id integer, product_qty numeric, price_unit numeric,
    write_date timestamptz, data jsonb not null);
  create index if not exists seeds_bc_line_bc_idx on seeds_bc_line (bc_odoo_id);
  create table if not exists seeds_audit (
    id serial primary key, model text not null, odoo_id integer not null, action text not null,
    at timestamptz not null default now());
  insert into seeds_sync_state (key) values ('bclinbc') on conflict do nothing`;

export interface SeedsPlanCopy {
  readonly bcs: number;
  readonly lines: number;
  readonly odooCalls: number;
  readonly errors: number;
}

function many2oneId(value: unknown): number | null {
  return Array.isArray(value) ? (value[0] as number) : null;
}

function instant(value: unknown): string | null {
  return typeof value === 'string' ? `${value}Z` : null;
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** Django's `update_or_create` by Odoo id: a select, then an update or an insert. */
async function updateOrCreate(
  tx: postgres.TransactionSql,
  table: 'seeds_bc' | 'seeds_bc_line',
  odooId: number,
  row: Record<string, unknown>,
): Promise<'created' | 'updated'> {
  const [found] = await tx`select id from ${tx(table)} where odoo_id = ${odooId}`;
  if (found) {
    await tx`update ${tx(table)} set ${tx(row as Record<string, postgres.SerializableParameter>)} where id = ${found.id as number}`;
    return 'updated';
  }
  await tx`insert into ${tx(table)} ${tx({ odoo_id: odooId, ...row } as Record<string, postgres.SerializableParameter>)}`;
  return 'created';
}

/**
 * Copies every BC and its lines as the seeds' plan does, into the `seeds_*` tables of `sql`'s
 * database: one connection of postgres.js's own (its JSON serialized by `sql.json`), as Django
 * holds one; `odoo` should speak XML-RPC, as the plan does.
 */
export async function copyAsSeedsPlan(odoo: OdooClient, sql: postgres.Sql): Promise<SeedsPlanCopy> {
  await sql.unsafe(TABLES).simple();
  const [lock] = await sql`
    update seeds_sync_state set is_syncing = true
    where key = 'bclinbc' and not is_syncing returning last_sync`;
  if (!lock) throw new Error('the seeds plan: a sync is already running');
  let odooCalls = 0;
  const counted = <T>(call: Promise<T>) => {
    odooCalls += 1;
    return call;
  };
  const startedAt = new Date();
  const errors: string[] = [];
  let bcs = 0;
  let lines = 0;
  try {
    const [bcFields, lineFields] = await Promise.all(
      [BC_MODEL, BC_LINE_MODEL].map(async (model) =>
        (await counted(odoo.storedFields(model))).map((field) => field.name),
      ),
    );
    const domain = lock.last_sync
      ? [
          [
            'write_date',
            '>',
            (lock.last_sync as Date).toISOString().slice(0, 19).replace('T', ' '),
          ] as const,
        ]
      : [];
    for (let offset = 0; ; offset += PAGE_SIZE) {
      const page = await counted(
        odoo.searchRead(BC_MODEL, domain, {
          fields: bcFields!,
          order: 'id',
          limit: PAGE_SIZE,
          offset,
          context: { active_test: false },
        }),
      );
      if (page.length === 0) break;
      for (const bc of page) {
        try {
          lines += await copyBc(bc, lineFields!);
          bcs += 1;
        } catch (error) {
          errors.push(`BC ${bc.id}: ${(error as Error).message}`);
        }
      }
    }
    await sql`update seeds_sync_state set last_sync = ${startedAt} where key = 'bclinbc'`;
    return { bcs, lines, odooCalls, errors: errors.length };
  } finally {
    await sql`
      insert into seeds_sync_log (started_at, ended_at, status, bcs, lines, errors)
      values (${startedAt}, now(), ${errors.length === 0 ? 'ok' : 'errors'}, ${bcs}, ${lines},
        ${sql.json(errors)})`;
    await sql`update seeds_sync_state set is_syncing = false where key = 'bclinbc'`;
  }

  async function copyBc(bc: OdooRecord, lineFields: readonly string[]): Promise<number> {
    const lineIds = (bc.line_ids as number[] | undefined) ?? [];
    const read =
      lineIds.length === 0 ? [] : await counted(odoo.read(BC_LINE_MODEL, lineIds, lineFields));
    await sql.begin(async (tx) => {
      const action = await updateOrCreate(tx, 'seeds_bc', bc.id, {
        name: text(bc.name),
        state: text(bc.state),
        partner_id: many2oneId(bc.partner_id),
        date_order: instant(bc.date_order),
        amount_total: bc.amount_total,
        write_date: instant(bc.write_date),
        data: tx.json(bc as postgres.JSONValue) as unknown,
      });
      for (const line of read)
        await updateOrCreate(tx, 'seeds_bc_line', line.id, {
          bc_odoo_id: bc.id,
          name: text(line.name),
          product_id: many2oneId(line.product_id),
          product_qty: line.product_qty,
          price_unit: line.price_unit,
          write_date: instant(line.write_date),
          data: tx.json(line as postgres.JSONValue) as unknown,
        });
      await tx`delete from seeds_bc_line where bc_odoo_id = ${bc.id}
        and odoo_id <> all(${lineIds}::int[])`;
      await tx`insert into seeds_audit (model, odoo_id, action) values (${BC_MODEL}, ${bc.id}, ${action})`;
    });
    return read.length;
  }
}
