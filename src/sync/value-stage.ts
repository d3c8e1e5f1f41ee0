/**
 * Where one read stages the values it takes alone from Odoo (docs/sync.md, "Large values"): each
 * is written to `sync_large_value` a few pieces at a time as it is decoded from Odoo's answer,
 * hashed on the way, and the record keeps its reference (large-values.ts), so that a worker holds
 * one such value at a time, as bytes of one answer, and never as one string. The write that
 * copies the record has PostgreSQL put it back (stageLargeValues); the read deletes its stage
 * once its writes are done.
 *
 * Not for the values a page's read parsed with their records: those the writer stages itself.
 */
import { createHash, randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { OdooLargeText } from '../clients/odoo/index.js';
import type { Db } from '../db/create-db.js';
import { LARGE_VALUE_BYTES, stagedRef, type LargeValueRef } from '../families/large-values.js';

/** Pieces one statement carries: a few megabytes of parameters. */
const PIECES_PER_STATEMENT = 4;

/** A stage left by a process that died is deleted by the next one after this long. */
const ABANDONED_AFTER = '1 day';

export interface ValueStage {
  /**
   * Stages a text as it is decoded, a piece at a time; its reference, or the text itself when it
   * is not past a megabyte once decoded (escapes made it long in the answer): the copy holds such
   * a text in its records as any other.
   */
  take(text: OdooLargeText, signal?: AbortSignal): Promise<LargeValueRef | string>;
  /** Deletes what it staged: once the writes of its read are done, whatever they did. */
  drop(): Promise<void>;
}

export function createValueStage(db: Pick<Db, 'execute'>): ValueStage {
  const stage = randomUUID();
  let values = 0;
  return {
    async take(text, signal) {
      if (values === 0)
        await db.execute(
          sql`delete from sync_large_value
            where staged_at < now() - ${ABANDONED_AFTER}::interval`,
        );
      const value = ++values;
      const hash = createHash('sha256');
      let bytes = 0;
      let part = 0;
      let pieces: string[] = [];
      const flush = async () => {
        if (pieces.length === 0) return;
        signal?.throwIfAborted();
        const first = part;
        await db.execute(
          sql`insert into sync_large_value (stage, value, part, piece) values ${sql.join(
            pieces.map((piece, i) => sql`(${stage}, ${value}, ${first + i}, ${piece})`),
            sql`, `,
          )}`,
        );
        part += pieces.length;
        pieces = [];
      };
      for (const piece of text.pieces()) {
        hash.update(piece, 'utf8');
        bytes += Buffer.byteLength(piece);
        pieces.push(piece);
        if (pieces.length === PIECES_PER_STATEMENT) await flush();
      }
      await flush();
      if (bytes <= LARGE_VALUE_BYTES) return text.text();
      return stagedRef(hash.digest('hex'), bytes, { stage, value });
    },
    async drop() {
      if (values > 0) await db.execute(sql`delete from sync_large_value where stage = ${stage}`);
    },
  };
}
