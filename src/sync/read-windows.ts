/**
 * A read of many records in calls whose answers stay within a bound (`maxAnswerBytes`): a record
 * far larger than a page (a long text, a binary) is read alone, the others in windows as large as
 * the answer allows (docs/sync.md, "Large values").
 */
import { isOdooError } from '../clients/odoo/odoo-errors.js';
import type { OdooCallOptions } from '../clients/odoo/odoo-types.js';

/**
 * How many records each call of a read asks for (readRootPage): all of them first; after an
 * answer too large, an eighth as many, over the records that call asked for (the large one is
 * among them), and an eighth again within a part whose answer is too large; past that call's
 * records, as many as before. A record far larger than the others costs Odoo one answer per level
 * (four for a page of 4,000 records), each asked for once.
 */
export class ReadWindows {
  /** Records read so far, in the read's order. */
  done = 0;
  /** The calls whose answer was too large, innermost last: where their records end. */
  private readonly levels: { end: number; size: number }[];

  constructor(size: number) {
    this.levels = [{ end: Number.POSITIVE_INFINITY, size }];
  }

  /** How many records the next call asks for. */
  get next(): number {
    const level = this.levels.at(-1)!;
    return Math.min(level.size, level.end - this.done);
  }

  tooLarge(asked: number): void {
    this.levels.push({ end: this.done + asked, size: Math.ceil(asked / 8) });
  }

  read(records: number): void {
    this.done += records;
    while (this.levels.length > 1 && this.done >= this.levels.at(-1)!.end) this.levels.pop();
  }
}

/**
 * A read of `records` records within the call's largest answer; undefined when its answer is past
 * it. A read of one record takes any answer, unless `boundAlone` (its caller then reads it in
 * parts: root-pages.ts). `records` 0: a read not windowed, whose answer too large fails it.
 */
export async function withinAnswer<T>(
  call: OdooCallOptions | undefined,
  records: number,
  read: (call: OdooCallOptions | undefined) => Promise<T>,
  boundAlone = false,
): Promise<T | undefined> {
  if (call?.maxAnswerBytes === undefined || records === 0) return read(call);
  try {
    return await read(records === 1 && !boundAlone ? { ...call, maxAnswerBytes: undefined } : call);
  } catch (error) {
    if (isOdooError(error, 'ODOO_ANSWER_TOO_LARGE')) return undefined;
    throw error;
  }
}
