/**
 * Large values: a text of megabytes in a record (a note, a description, a binary a family copies)
 * travels between the worker and PostgreSQL by reference, so that the worker holds it once, as
 * Odoo's answer gave it, and never as part of a statement's parameters (docs/sync.md, "One large
 * value").
 *
 * - The mapping sets each top-level string of a record's `data` past {@link LARGE_VALUE_BYTES}
 *   aside, and puts in its place (and in its typed column's slot) a reference: its SHA-256 and
 *   its size in bytes. The worker compares records with these references in place of the texts.
 * - What the worker reads of the copy to compare with carries the same reference in place of each
 *   such text, made by PostgreSQL ({@link digestedData}), so two versions compare equal exactly
 *   when their texts do.
 * - A write stages the texts it writes in a temporary table, a piece of a megabyte per row
 *   ({@link stageLargeValues}), and the statement that writes the rows puts them back in place of
 *   their references in their typed columns ({@link restoredText}, {@link restoredJson}), and
 *   keeps their pieces in `sync_value_piece` ({@link valuePiecesKept}): `data` keeps the
 *   references, so that whatever reads a record's other fields never reads its large values.
 * - A value a read took alone from Odoo was staged as it was read (src/sync/value-stage.ts): the
 *   record holds its reference from the start ({@link stagedRef}), and the write has PostgreSQL
 *   copy it into its temporary table.
 *
 * Not for values nested deeper than a record's own fields (an element of a JSON field): those
 * travel whole, as every other value does.
 */
import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import { quoteLiteral } from '../db/sql-rows.js';

/** A value is large past this many bytes of UTF-8. */
export const LARGE_VALUE_BYTES = 1_048_576;

/** The key of a reference to a large value: no Odoo field is named so. */
export const LARGE_VALUE_KEY = '$erp_bridge_value';

/** Where a value a read took alone waits for its write (sync_large_value). */
export interface StagedValue {
  /** The stage of the read that staged it. */
  readonly stage: string;
  /** Its number within the stage. */
  readonly value: number;
}

/** The key under which a reference names where its value is staged: never part of its JSON. */
const STAGED: unique symbol = Symbol('staged');

/** What stands for a large value in a record: its SHA-256 (hex) and its size in bytes. */
export interface LargeValueRef {
  readonly [LARGE_VALUE_KEY]: string;
  readonly bytes: number;
  /** A value a read staged (sync_large_value), not held by the worker. */
  readonly [STAGED]?: StagedValue;
}

/** The reference to a value a read staged, which the record holds in the value's place. */
export function stagedRef(sha256: string, bytes: number, staged: StagedValue): LargeValueRef {
  return { [LARGE_VALUE_KEY]: sha256, bytes, [STAGED]: staged };
}

/** Where the value a reference stands for is staged; undefined for any other value. */
export function stagedOf(value: unknown): StagedValue | undefined {
  return typeof value === 'object' && value !== null
    ? (value as { [STAGED]?: StagedValue })[STAGED]
    : undefined;
}

/**
 * The most a record's large values may take together: what one statement puts back in a row's
 * typed columns, bounded well below PostgreSQL's gigabyte per row it forms, as PostgreSQL's
 * largest jsonb was when `data` held the values (268,435,455 bytes, less a megabyte).
 */
export const DATA_MAX_BYTES = 268_435_455 - LARGE_VALUE_BYTES;

/** Characters of a piece: a statement's parameter of at most 3 MB of UTF-8. */
const PIECE_CHARS = 1_048_576;
/** Pieces one staging statement carries. */
const PIECES_PER_STATEMENT = 4;

/** Whether a value is a string past {@link LARGE_VALUE_BYTES}, measured only when it may be. */
export function isLargeText(value: unknown): value is string {
  if (typeof value !== 'string' || value.length * 3 <= LARGE_VALUE_BYTES) return false;
  return value.length > LARGE_VALUE_BYTES || Buffer.byteLength(value) > LARGE_VALUE_BYTES;
}

/**
 * A text in pieces of about `chars` characters, never between the two halves of a surrogate
 * pair: each piece is valid UTF-16 on its own, and encodes to the bytes the text encodes to.
 */
export function* textPieces(text: string, chars = PIECE_CHARS): Generator<string> {
  for (let start = 0; start < text.length;) {
    let end = Math.min(text.length, start + chars);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    yield text.slice(start, end);
    start = end;
  }
}

/** The reference that stands for a large text. */
export function largeValueRef(text: string): LargeValueRef {
  // Hashed a piece at a time: a text of 100 MB is never encoded whole.
  const hash = createHash('sha256');
  let bytes = 0;
  for (const piece of textPieces(text)) {
    hash.update(piece, 'utf8');
    bytes += Buffer.byteLength(piece);
  }
  return { [LARGE_VALUE_KEY]: hash.digest('hex'), bytes };
}

/** The temporary table a write stages its large texts in (a session's own, emptied at commit). */
const STAGE = 'erp_bridge_large_value';

/**
 * Stages these values (by their SHA-256) for the statements of the caller's transaction: a text
 * the worker holds a piece per row, a few pieces per statement; a value a read staged
 * (sync_large_value) copied by PostgreSQL. Call it once per transaction with every value it
 * writes.
 */
export async function stageLargeValues(
  tx: Pick<Db, 'execute'>,
  texts: ReadonlyMap<string, string | StagedValue>,
): Promise<void> {
  if (texts.size === 0) return;
  await tx.execute(
    sql.raw(`create temp table if not exists ${STAGE} (
      sha256 text, part integer, piece text not null, primary key (sha256, part))
      on commit delete rows`),
  );
  for (const [sha256, text] of texts) {
    if (typeof text !== 'string') {
      await tx.execute(
        sql`insert into ${sql.raw(STAGE)} (sha256, part, piece)
          select ${sha256}, part, piece from sync_large_value
          where stage = ${text.stage} and value = ${text.value}
          on conflict do nothing`,
      );
      continue;
    }
    let rows: { part: number; piece: string }[] = [];
    const flush = async () => {
      if (rows.length === 0) return;
      await tx.execute(
        // A text staged before in the transaction (another record's, another batch's) stays once.
        sql`insert into ${sql.raw(STAGE)} (sha256, part, piece) values ${sql.join(
          rows.map((row) => sql`(${sha256}, ${row.part}, ${row.piece})`),
          sql`, `,
        )} on conflict do nothing`,
      );
      rows = [];
    };
    let part = 0;
    for (const piece of textPieces(text)) {
      rows.push({ part: part++, piece });
      if (rows.length === PIECES_PER_STATEMENT) await flush();
    }
    await flush();
  }
}

/** The staged text a reference (a jsonb expression) stands for; NULL for any other value. */
function staged(reference: string): string {
  return `(select string_agg(s.piece, '' order by s.part) from ${STAGE} s
    where s.sha256 = (${reference})->>${quoteLiteral(LARGE_VALUE_KEY)})`;
}

/** SQL: a text from a jsonb value (a row's slot), its staged text when it is a reference. */
export function restoredText(value: string): string {
  return `case when jsonb_typeof(${value}) = 'object' then ${staged(value)} else (${value}) #>> '{}' end`;
}

/** SQL: a jsonb value (a typed column's), its staged text when it is a reference. */
export function restoredJson(value: string): string {
  return `coalesce(to_jsonb(${staged(value)}), nullif(${value}, 'null'::jsonb))`;
}

/** SQL: the SHA-256 a stored value (jsonb) names when it is a large value's reference, else NULL. */
export function referenceSha(value: string): string {
  return `case when jsonb_typeof(${value}) = 'object' then ${value} ->> ${quoteLiteral(LARGE_VALUE_KEY)} end`;
}

/**
 * SQL: the CTEs, for a write's statement, that keep in `sync_value_piece` the pieces of each value
 * the rows `written` (a CTE of their `odoo_id` and new `data`) reference, from the write's stage,
 * and delete those rows' pieces their `data` no longer references (a value changed, a field
 * dropped). Two CTEs of one statement see one snapshot: pieces kept are never those deleted, as
 * a piece is deleted only for another SHA-256 than its record's.
 */
export function valuePiecesKept(copyTable: string, written: string): string {
  const table = quoteLiteral(copyTable);
  const key = quoteLiteral(LARGE_VALUE_KEY);
  return `value_pieces_kept as (
      insert into sync_value_piece (copy_table, odoo_id, field, sha256, part, piece)
      select ${table}, w.odoo_id, f.key, s.sha256, s.part, s.piece
      from ${written} w cross join lateral jsonb_each(w.data) f
      join ${STAGE} s on jsonb_typeof(f.value) = 'object' and s.sha256 = f.value ->> ${key}
      on conflict do nothing),
    value_pieces_gone as (
      delete from sync_value_piece p using ${written} w
      where p.copy_table = ${table} and p.odoo_id = w.odoo_id
        and p.sha256 is distinct from (w.data -> p.field ->> ${key}))`;
}

/**
 * SQL: deletes the pieces of a copy table's values no record of it references any more: what a
 * value left when it became small, which its write does not look for (a reconcile's sweep).
 */
export function unreferencedPiecesDelete(copyTable: string, table: string): string {
  return `delete from sync_value_piece p where p.copy_table = ${quoteLiteral(copyTable)}
    and not exists (select 1 from ${table} r where r.odoo_id = p.odoo_id
      and r.data -> p.field ->> ${quoteLiteral(LARGE_VALUE_KEY)} = p.sha256)`;
}

/**
 * Past this stored size a compressed value may hold a large text: PostgreSQL's compression
 * (pglz, lz4) makes no value more than about 255 times smaller.
 */
const COMPRESSED_BYTES_BOUND = Math.floor(LARGE_VALUE_BYTES / 256);

/**
 * SQL: a stored `data` (a jsonb column), each large text among its fields replaced by its
 * reference, as the mapping replaces Odoo's. Read as it is when its stored size proves it holds
 * none, which PostgreSQL knows without reading it: every ordinary record.
 */
export function digestedData(data: string): string {
  return `case when pg_column_size(${data}) <= ${COMPRESSED_BYTES_BOUND}
      or (pg_column_compression(${data}) is null and pg_column_size(${data}) <= ${LARGE_VALUE_BYTES})
    then ${data}
    else (select jsonb_object_agg(f.key, case when t.text is null then f.value
        else ${referenceOf('t.text')} end)
      from jsonb_each(${data}) f
      left join lateral (select v.text from (select f.value #>> '{}' as text
          where jsonb_typeof(f.value) = 'string' offset 0) v
        where octet_length(v.text) > ${LARGE_VALUE_BYTES}) t on true) end`;
}

/** SQL: the reference of a text (an expression evaluated more than once: a column). */
function referenceOf(text: string): string {
  return `jsonb_build_object(${quoteLiteral(LARGE_VALUE_KEY)}, encode(sha256(convert_to(${text}, 'UTF8')), 'hex'),
    'bytes', octet_length(${text}))`;
}

/** SQL: a stored text column's value as a row's slot compares with it: its reference when large. */
export function digestedText(column: string): string {
  return `case when octet_length(${column}) > ${LARGE_VALUE_BYTES}
    then ${referenceOf(column)}::text else ${column} end`;
}

/** SQL: a stored jsonb column's value as a row's slot compares with it: a large text's reference. */
export function digestedJson(column: string): string {
  return `case when jsonb_typeof(${column}) = 'string' and octet_length(${column} #>> '{}') > ${LARGE_VALUE_BYTES}
    then ${referenceOf(`(${column} #>> '{}')`)} else ${column} end`;
}

/**
 * A record's own fields with every large text set aside: the record itself when it holds none
 * (every ordinary record), else a copy with a reference in each one's place, and the texts by
 * their SHA-256 — a value a read staged (already a reference) by where it is staged.
 */
export function setAsideLargeTexts<T extends Record<string, unknown>>(
  record: T,
): {
  record: T;
  texts?: Map<string, string | StagedValue>;
  refs?: Map<string, LargeValueRef>;
} {
  let texts: Map<string, string | StagedValue> | undefined;
  let refs: Map<string, LargeValueRef> | undefined;
  for (const name in record) {
    const value = record[name];
    const staged = stagedOf(value);
    if (staged) {
      const ref = value as LargeValueRef;
      (texts ??= new Map()).set(ref[LARGE_VALUE_KEY], staged);
      (refs ??= new Map()).set(name, ref);
      continue;
    }
    if (!isLargeText(value)) continue;
    const ref = largeValueRef(value);
    (texts ??= new Map()).set(ref[LARGE_VALUE_KEY], value);
    (refs ??= new Map()).set(name, ref);
  }
  if (!refs) return { record };
  const copy: Record<string, unknown> = { ...record };
  for (const [name, ref] of refs) copy[name] = ref;
  return { record: copy as T, texts: texts!, refs };
}
