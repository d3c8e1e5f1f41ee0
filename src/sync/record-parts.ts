/**
 * A record read in parts (docs/sync.md, "Large values"): its fields found large read apart from a
 * page's reads, and a record too large for an answer read field by field, each large value staged
 * as it is read. Every part says the record's `write_date`: a record written between two of its
 * parts is read again, so that its parts describe one version of it.
 */
import { isOdooError, OdooLargeText } from '../clients/odoo/index.js';
import type { OdooCallOptions, OdooRecord } from '../clients/odoo/odoo-types.js';
import { ValueTooLargeError } from '../families/bad-record-error.js';
import { LARGE_VALUE_BYTES } from '../families/large-values.js';
import type { AppError } from '../lib/errors.js';
import type { LargeReads } from './large-reads.js';
import type { FamilySchema } from './odoo-reads.js';
import type { OdooSource } from './odoo-source.js';
import { ReadWindows, withinAnswer } from './read-windows.js';
import { RecordChangingError } from './sync-errors.js';

/** How a page's records are read in parts: the page's schema and call, and where values are staged. */
export interface PartsReading {
  readonly schema: FamilySchema;
  readonly call: OdooCallOptions | undefined;
  readonly large: LargeReads;
}

/** A record a read refused, as much of it as was read, and why. */
export type Refuse = (partial: OdooRecord, error: AppError) => void;

/**
 * Records read without their fields found large (`deferred`), with them: read for a window of the
 * records per call, bounded by bytes as the records' read was, each record alone past it in parts.
 * A record whose stamp moved between its two reads is read again, in parts: its values then
 * describe one version of it. One Odoo no longer has is left out.
 */
export async function withDeferred(
  source: OdooSource,
  model: string,
  main: readonly OdooRecord[],
  fields: readonly string[],
  deferred: readonly string[],
  reading: PartsReading,
  refuse: Refuse,
): Promise<OdooRecord[]> {
  const { schema, call } = reading;
  const byId = new Map(main.map((record) => [record.id, record]));
  const ids = main.map((record) => record.id);
  const unseen = new Set(ids);
  const again = new Set<number>();
  const windows = new ReadWindows(ids.length);
  while (windows.done < ids.length) {
    const window = ids.slice(windows.done, windows.done + windows.next);
    const answer = await withinAnswer(
      call,
      window.length,
      (options) =>
        source.read(
          model,
          window,
          [...deferred, 'write_date'],
          { context: schema.context },
          options,
        ),
      true,
    );
    if (answer === undefined && window.length > 1) {
      windows.tooLarge(window.length);
      continue;
    }
    for (const part of answer ?? [{ id: window[0]! }]) {
      const record = byId.get(part.id);
      if (!record) continue;
      unseen.delete(part.id);
      if (answer === undefined || part.write_date !== record.write_date) again.add(part.id);
      else for (const field of deferred) record[field] = part[field];
    }
    windows.read(window.length);
  }
  const complete: OdooRecord[] = [];
  for (const record of main) {
    if (unseen.has(record.id)) continue;
    if (!again.has(record.id)) {
      complete.push(record);
      continue;
    }
    const read = await readInParts(source, model, record.id, fields, reading);
    if ('record' in read) complete.push(read.record);
    else if ('refused' in read) refuse(read.partial ?? record, read.refused);
  }
  return complete;
}

/** Reads of a record in parts, when it keeps changing between them, before it fails alone. */
const PART_READS = 3;

type PartsRead =
  | { readonly record: OdooRecord }
  | { readonly gone: true }
  | { readonly refused: AppError; readonly partial: OdooRecord | undefined };

/**
 * One record too large for an answer, in parts: the fields that may hold a large value (the
 * schema's text, html and binary fields, and those found large; every field when the schema does
 * not say) each alone (readValue), the others in one call — each of them alone too when that call
 * is still too large. Read again when a part shows another `write_date` than the first.
 */
export async function readInParts(
  source: OdooSource,
  model: string,
  id: number,
  fields: readonly string[],
  reading: PartsReading,
): Promise<PartsRead> {
  const { schema, call, large } = reading;
  const mayBeLarge = schema.mayBeLarge?.[model];
  const found = large.values.foundLarge(model);
  for (let attempt = 1; ; attempt += 1) {
    let alone = fields.filter(
      (field) =>
        field !== 'write_date' &&
        (found.has(field) || mayBeLarge === undefined || mayBeLarge.includes(field)),
    );
    const rest = [...new Set(['write_date', ...fields.filter((field) => !alone.includes(field))])];
    const first = await withinAnswer(
      call,
      1,
      (options) => source.read(model, [id], rest, { context: schema.context }, options),
      true,
    );
    let record: OdooRecord | undefined;
    if (first !== undefined) [record] = first;
    else {
      alone = fields.filter((field) => field !== 'write_date');
      [record] = await source.read(model, [id], ['write_date'], { context: schema.context }, call);
    }
    if (!record) return { gone: true };
    let moved = false;
    for (const field of alone) {
      let part: OdooRecord | undefined;
      try {
        part = await readValue(source, model, id, field, reading);
      } catch (error) {
        if (error instanceof ValueTooLargeError) return { refused: error, partial: record };
        throw error;
      }
      if (!part) return { gone: true };
      if (part.write_date !== record.write_date) {
        moved = true;
        break;
      }
      record[field] = part[field];
    }
    if (!moved) return { record };
    if (attempt === PART_READS)
      return { refused: new RecordChangingError(model, id, PART_READS, 'parts'), partial: record };
  }
}

/**
 * One field of one record, with its stamp, read alone in the process's turn: a string past a
 * megabyte is staged as it is decoded from the answer, which is freed before the turn ends, and
 * stands in the record as its reference. The field is noted large in its model.
 * @throws ValueTooLargeError when its answer is past the largest value the copy takes
 */
async function readValue(
  source: OdooSource,
  model: string,
  id: number,
  field: string,
  reading: PartsReading,
): Promise<OdooRecord | undefined> {
  const { schema, call, large } = reading;
  return large.values.oneAtATime(async () => {
    let records: OdooRecord[];
    try {
      records = await source.read(
        model,
        [id],
        [field, 'write_date'],
        { context: schema.context },
        {
          ...call,
          maxAnswerBytes: large.maxValueBytes,
          largeTexts: { minBytes: LARGE_VALUE_BYTES },
        },
      );
    } catch (error) {
      if (!isOdooError(error, 'ODOO_ANSWER_TOO_LARGE') || large.maxValueBytes === undefined)
        throw error;
      large.values.noteLarge(model, field);
      throw new ValueTooLargeError(model, id, field, error.answerBytes, large.maxValueBytes, {
        cause: error,
      });
    }
    const [record] = records;
    const value = record?.[field];
    if (record === undefined || !(value instanceof OdooLargeText)) return record;
    try {
      record[field] = await large.stage.take(value, call?.signal);
    } finally {
      value.release();
    }
    large.values.noteLarge(model, field);
    return record;
  }, call?.signal);
}
