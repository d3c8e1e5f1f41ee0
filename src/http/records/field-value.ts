/**
 * One field of a copied record, as Odoo sent it (its value in `data`, or a large value's pieces),
 * streamed from PostgreSQL a piece at a time (`GET /api/models/{model}/records/{odooId}/fields/{field}`): what a body's
 * marker points to when the record was too large for its page (record-bodies.ts). The API holds a
 * few pieces of the value, never the value: one query, through a cursor, reads the value once and
 * hands it over in pieces of bytes, as fast as the client takes them (a query per piece would
 * decompress the whole value each time).
 *
 * A text is answered as its UTF-8 bytes (`text/plain`), any other value as its JSON.
 */
import { Readable } from 'node:stream';
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/create-db.js';
import { rowsOf } from '../../db/sql-rows.js';
import { isChild, type ModelDeclaration } from '../../families/family.js';
import { tableColumn } from './record-bodies.js';
import { copyTableKey, tableSql } from '../../families/table-names.js';
import { referenceSha } from '../../families/large-values.js';

/** Bytes of a piece, and pieces a fetch reads: the API holds about a megabyte of a value. */
const PIECE_BYTES = 262_144;
const PIECES_PER_FETCH = 4;

export interface FieldValue {
  /** `string`, or the JSON type of any other value (`object`, `array`, `number`…). */
  readonly kind: string;
  /** The bytes the stream gives: a text's UTF-8, another value's JSON. */
  readonly bytes: number;
  readonly stream: Readable;
}

interface PieceRow {
  readonly kind: string;
  readonly bytes: number | string;
  readonly piece: Uint8Array;
}

/**
 * The value's pieces, in order, its type and size on each: a large value's from its pieces in
 * `sync_value_piece`, a stored piece at a time (its reference in `data` gives its size); any
 * other value read once (`offset 0`) from `data`.
 */
export function piecesQuery(
  model: ModelDeclaration,
  odooId: number,
  field: string,
  includeArchived: boolean,
) {
  const live =
    isChild(model) || includeArchived
      ? sql``
      : sql`and ${tableColumn(model, 'archived_at')} is null`;
  const reference = sql.raw(referenceSha('f.value'));
  return sql`
    with f as materialized (
      select ${tableColumn(model, 'data')} -> ${field} as value
      from ${tableSql(model.table)}
      where ${tableColumn(model, 'odoo_id')} = ${odooId} ${live})
    select v.kind, v.bytes, substring(v.piece from part * ${PIECE_BYTES} + 1 for ${PIECE_BYTES}) as piece
    from (
      -- In the pieces' order, as their key's index gives them: no sort, which would gather every
      -- piece before the first one went out. The reference is a value the scan compares with, not
      -- a join's side: the index gives that order only when every column before part is one value.
      (select 'string' as kind, (select (f.value ->> 'bytes')::bigint from f) as bytes,
        convert_to(p.piece, 'UTF8') as piece
      from sync_value_piece p
      where p.copy_table = ${copyTableKey(model.table)} and p.odoo_id = ${odooId}
        and p.field = ${field} and p.sha256 = (select ${reference} from f)
      order by p.part)
      union all
      select jsonb_typeof(f.value), octet_length(b.bytes), b.bytes
      from f cross join lateral (select case when jsonb_typeof(f.value) = 'string'
          then convert_to(f.value #>> '{}', 'UTF8') else convert_to(f.value::text, 'UTF8') end as bytes) b
      where f.value is not null and ${reference} is null
      offset 0) as v
    cross join lateral generate_series(0, greatest(0, (octet_length(v.piece) - 1) / ${PIECE_BYTES})) as part`;
}

const toBuffer = (piece: Uint8Array) =>
  Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);

/**
 * The field's value as a stream, once its first pieces are read; undefined when the record (a
 * root gone from Odoo unless `includeArchived`) or its field is not there. The stream holds a
 * connection and its transaction until it ends, fails or is destroyed (the client went away).
 */
export function openFieldValue(
  db: Pick<Db, 'transaction'>,
  model: ModelDeclaration,
  odooId: number,
  field: string,
  includeArchived: boolean,
): Promise<FieldValue | undefined> {
  return new Promise((resolve, reject) => {
    let asked = false;
    let stopped = false;
    let wake: (() => void) | undefined;
    const awaken = () => {
      const resume = wake;
      wake = undefined;
      resume?.();
    };
    const stream = new Readable({
      read() {
        asked = true;
        awaken();
      },
      destroy(error, callback) {
        stopped = true;
        awaken();
        callback(error);
      },
    });
    // Resolves once the stream wants more (or was destroyed).
    const demand = async () => {
      if (!asked && !stopped) await new Promise<void>((resume) => (wake = resume));
      asked = false;
    };
    let opened = false;
    db.transaction(async (tx) => {
      await tx.execute(
        sql`declare field_value no scroll cursor for ${piecesQuery(model, odooId, field, includeArchived)}`,
      );
      const fetch = async () =>
        rowsOf<PieceRow>(await tx.execute(sql.raw(`fetch ${PIECES_PER_FETCH} from field_value`)));
      let rows = await fetch();
      const [first] = rows;
      if (!first) return resolve(undefined);
      opened = true;
      resolve({ kind: first.kind, bytes: Number(first.bytes), stream });
      for (;;) {
        for (const row of rows) stream.push(toBuffer(row.piece));
        if (rows.length < PIECES_PER_FETCH) {
          stream.push(null);
          return;
        }
        await demand();
        if (stopped) return;
        rows = await fetch();
      }
    }).catch((error: unknown) => {
      if (opened) stream.destroy(error instanceof Error ? error : new Error(String(error)));
      else reject(error instanceof Error ? error : new Error(String(error)));
    });
  });
}
