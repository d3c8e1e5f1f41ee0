import { describe, expect, it } from 'vitest';
import { OdooError } from '../clients/odoo/odoo-errors.js';
import type { OdooCallOptions, OdooRecord } from '../clients/odoo/odoo-types.js';
import { BC_LINE_MODEL, BC_MODEL, bcsFamily } from '../families/bcs/family.js';
import { createLargeValues, createOneAtATime, type LargeReads } from './large-reads.js';
import type { FamilySchema } from './odoo-reads.js';
import type { OdooSource } from './odoo-source.js';
import { readRootPageIsolating } from './isolated-pages.js';
import { readRootPage } from './root-pages.js';

const schema: FamilySchema = {
  fields: {
    [BC_MODEL]: ['name', 'notes', 'write_date'],
    [BC_LINE_MODEL]: ['bc_id', 'name', 'write_date'],
  },
  unread: {},
  context: { active_test: false },
  mayBeLarge: { [BC_MODEL]: ['notes'], [BC_LINE_MODEL]: ['name'] },
};

/** A page's largest answer in these tests. */
const BOUND = 5_000;

interface Versioned {
  version: number;
  /** The size of its large field's value, in characters. */
  size: number;
}

/**
 * An Odoo of BCs 1–6, one line each (id 10 × the BC's), whose reads answer as many bytes as their
 * values as JSON, refused past `call.maxAnswerBytes`; `onValueRead` sees each read of one large
 * field (the moment a user may write the record between its parts).
 */
function fakeOdoo(
  records: Map<string, Versioned>,
  onValueRead?: (key: string) => void,
  /** A BC's `line_ids` as each read of it shows them (by default its one line). */
  listing: (bcId: number) => number[] = (bcId) => [bcId * 10],
) {
  const reads: { model: string; ids: number[]; fields: string[] }[] = [];
  const valueOf = (model: string, id: number, field: string): unknown => {
    const { version, size } = records.get(`${model}:${id}`) ?? { version: 1, size: 10 };
    if (field === 'write_date') return `2026-03-02 08:00:0${version}`;
    if (field === 'line_ids') return listing(id);
    if (field === 'bc_id') return [id / 10, `BC ${id / 10}`];
    const large =
      (model === BC_MODEL && field === 'notes') || (model === BC_LINE_MODEL && field === 'name');
    return large ? `v${version}:`.padEnd(size, 'x') : `${field} v${version}`;
  };
  const read = (
    model: string,
    ids: readonly number[],
    fields: readonly string[],
    call?: OdooCallOptions,
  ) => {
    reads.push({ model, ids: [...ids], fields: [...fields] });
    const large = model === BC_MODEL ? 'notes' : 'name';
    if (fields.length <= 2 && fields.includes(large) && ids.length === 1)
      onValueRead?.(`${model}:${ids[0]!}`);
    const answer = ids.map((id): OdooRecord => ({
      id,
      ...Object.fromEntries(fields.map((field) => [field, valueOf(model, id, field)])),
    }));
    const bytes = Buffer.byteLength(JSON.stringify(answer));
    if (call?.maxAnswerBytes !== undefined && bytes > call.maxAnswerBytes)
      return Promise.reject(
        new OdooError('ODOO_ANSWER_TOO_LARGE', `${bytes} bytes`, { answerBytes: bytes }),
      );
    return Promise.resolve(answer);
  };
  const source: OdooSource = {
    read: (model, ids, fields, _options, call) => read(model, ids, fields, call),
    searchRead: () => Promise.resolve([]),
    search: (model, domain) => {
      const roots = (domain[0] as readonly [string, string, number[]])[2];
      const after = (domain[1] as readonly [string, string, number])[2];
      return Promise.resolve(roots.map((id) => id * 10).filter((id) => id > after));
    },
    storedFields: () => Promise.resolve([]),
    canRead: () => Promise.resolve(true),
    userContext: () => Promise.resolve({}),
  };
  return { source, reads };
}

/** Means to read values alone, none staged (the fake's values are small strings). */
function largeReads(maxValueBytes?: number): LargeReads {
  return {
    values: createLargeValues(createOneAtATime()),
    stage: {
      take: () => Promise.reject(new Error('nothing to stage')),
      drop: () => Promise.resolve(),
    },
    maxValueBytes,
  };
}

const IDS = [1, 2, 3, 4, 5, 6];
const call = { maxAnswerBytes: BOUND };
/** The BC schema with its lines read by a search (not listed by the roots). */
const withLines: FamilySchema = { ...schema, readById: [BC_LINE_MODEL] };

describe('a record too large for an answer', () => {
  it('is read in parts, each field that may be large alone, and the rest of its page in windows', async () => {
    const records = new Map([[`${BC_MODEL}:5`, { version: 1, size: 8_000 }]]);
    const { source, reads } = fakeOdoo(records);
    const page = await readRootPage(source, bcsFamily, IDS, withLines, call, true, largeReads());
    expect(page.refused).toEqual([]);
    expect(page.items.map((item) => item.root.id)).toEqual(IDS);
    const five = page.items.find((item) => item.root.id === 5)!.root;
    expect(five).toEqual({
      id: 5,
      name: 'name v1',
      notes: 'v1:'.padEnd(8_000, 'x'),
      write_date: '2026-03-02 08:00:01',
    });
    const bcReads = reads.filter((read) => read.model === BC_MODEL);
    // The page, refused; a window of one record at a time (an eighth of six); 5 alone, refused;
    // then 5's parts: all but notes, then notes alone with its stamp.
    expect(bcReads.filter((read) => read.ids.includes(5)).map((read) => read.fields)).toEqual([
      ['name', 'notes', 'write_date'],
      ['name', 'notes', 'write_date'],
      ['write_date', 'name'],
      ['notes', 'write_date'],
    ]);
  });

  it('is read again when it was written between its parts, and its parts then describe one version', async () => {
    const records = new Map([[`${BC_MODEL}:5`, { version: 1, size: 8_000 }]]);
    let written = false;
    const { source } = fakeOdoo(records, (key) => {
      // A user saves the record once, as its notes are about to be read alone.
      if (written || key !== `${BC_MODEL}:5`) return;
      written = true;
      records.set(key, { version: 2, size: 8_000 });
    });
    const page = await readRootPage(source, bcsFamily, IDS, schema, call, true, largeReads());
    const five = page.items.find((item) => item.root.id === 5)!.root;
    expect(five).toEqual({
      id: 5,
      name: 'name v2',
      notes: 'v2:'.padEnd(8_000, 'x'),
      write_date: '2026-03-02 08:00:02',
    });
  });

  it('fails alone when it is written between its parts at every read', async () => {
    const records = new Map([[`${BC_MODEL}:5`, { version: 1, size: 8_000 }]]);
    const { source } = fakeOdoo(records, (key) => {
      const record = records.get(key);
      if (record) records.set(key, { ...record, version: record.version + 1 });
    });
    const page = await readRootPageIsolating(
      source,
      bcsFamily,
      IDS,
      schema,
      call,
      undefined,
      largeReads(),
    );
    expect(page.items.map((item) => item.root.id)).toEqual([1, 2, 3, 4, 6]);
    expect(page.unreadable).toEqual([
      {
        odooId: 5,
        error: expect.objectContaining({ code: 'SYNC_RECORD_CHANGING', retryable: true }),
      },
    ]);
    expect(page.missingIds).toEqual([]);
  });

  it('fails alone, its field and size named, when a value is past the largest the copy takes; the field is then read apart', async () => {
    const records = new Map([[`${BC_MODEL}:5`, { version: 1, size: 9_000 }]]);
    const { source, reads } = fakeOdoo(records);
    const large = largeReads(8_000);
    const page = await readRootPageIsolating(
      source,
      bcsFamily,
      IDS,
      schema,
      call,
      undefined,
      large,
    );
    expect(page.items.map((item) => item.root.id)).toEqual([1, 2, 3, 4, 6]);
    const [refused] = page.unreadable;
    expect(refused).toMatchObject({
      odooId: 5,
      error: { code: 'SYNC_VALUE_TOO_LARGE', retryable: false },
    });
    expect(refused!.error.message).toMatch(
      /^dimagaz\.bc 5: field notes takes 9,0\d\d bytes in Odoo's answer, past ODOO_VALUE_MAX_BYTES \(8,000 bytes\)/,
    );

    // The model's notes were found large: a later page reads its records without them, then
    // them in reads bounded by bytes, down to the one past the bound alone.
    reads.length = 0;
    const again = await readRootPageIsolating(
      source,
      bcsFamily,
      [1, 2, 3, 4, 6],
      schema,
      call,
      undefined,
      large,
    );
    expect(again.items.map((item) => item.root.notes)).toEqual(
      [1, 2, 3, 4, 6].map(() => 'v1:xxxxxxx'),
    );
    expect(
      reads.filter((read) => read.model === BC_MODEL).map((read) => [read.ids, read.fields]),
    ).toEqual([
      [
        [1, 2, 3, 4, 6],
        ['name', 'write_date'],
      ],
      [
        [1, 2, 3, 4, 6],
        ['notes', 'write_date'],
      ],
    ]);
  });

  it('fails its root alone when a child holds a value past the largest the copy takes', async () => {
    const records = new Map([[`${BC_LINE_MODEL}:30`, { version: 1, size: 9_000 }]]);
    const { source } = fakeOdoo(records);
    const page = await readRootPageIsolating(
      source,
      bcsFamily,
      IDS,
      withLines,
      call,
      undefined,
      largeReads(8_000),
    );
    expect(page.items.map((item) => item.root.id)).toEqual([1, 2, 4, 5, 6]);
    expect(page.items.every((item) => item.children[0]!.length === 1)).toBe(true);
    expect(page.unreadable).toMatchObject([{ odooId: 3, error: { code: 'SYNC_VALUE_TOO_LARGE' } }]);
    expect(page.unreadable[0]!.error.message).toMatch(/^dimagaz\.bc\.line 30: field name takes/);
  });

  it('is read whole when the read stages nothing (no large reads given)', async () => {
    const records = new Map([[`${BC_MODEL}:5`, { version: 1, size: 8_000 }]]);
    const { source, reads } = fakeOdoo(records);
    const page = await readRootPage(source, bcsFamily, IDS, schema, call);
    expect(page.items).toHaveLength(6);
    expect(
      reads
        .filter((read) => read.model === BC_MODEL && read.ids.length === 1 && read.ids[0] === 5)
        .at(-1)?.fields,
    ).toEqual(['name', 'notes', 'write_date']);
  });
});

describe('a root whose children changed between its read and theirs', () => {
  /** The BCs read with `line_ids`, the one2many that lists all their lines. */
  const listing: FamilySchema = {
    ...withLines,
    fields: { ...withLines.fields, [BC_MODEL]: ['line_ids', 'name', 'write_date'] },
    listedBy: { [BC_LINE_MODEL]: 'line_ids' },
  };

  it('is read again, and written as its second read lists its children', async () => {
    // BC 3's first read still lists line 31, deleted before the lines were searched.
    let listed31 = false;
    const { source, reads } = fakeOdoo(new Map(), undefined, (bcId) => {
      if (bcId !== 3 || listed31) return [bcId * 10];
      listed31 = true;
      return [30, 31];
    });
    const page = await readRootPage(source, bcsFamily, IDS, listing, call);
    expect(page.refused).toEqual([]);
    expect(page.items.map((item) => item.root.id)).toEqual(IDS);
    const three = page.items.find((item) => item.root.id === 3)!;
    expect(three.root.line_ids).toEqual([30]);
    expect(three.children[0]!.map((line) => line.id)).toEqual([30]);
    const bcReads = reads.filter((read) => read.model === BC_MODEL).map((read) => read.ids);
    expect(bcReads).toEqual([IDS, [3]]);
  });

  it('fails alone when its children change between its read and theirs at every read', async () => {
    const { source, reads } = fakeOdoo(new Map(), undefined, (bcId) =>
      bcId === 3 ? [30, 31] : [bcId * 10],
    );
    const page = await readRootPage(source, bcsFamily, IDS, listing, call);
    expect(page.items.map((item) => item.root.id)).toEqual([1, 2, 4, 5, 6]);
    expect(page.refused).toEqual([
      {
        odooId: 3,
        error: expect.objectContaining({ code: 'SYNC_RECORD_CHANGING', retryable: true }),
      },
    ]);
    expect(reads.filter((read) => read.model === BC_MODEL && read.ids.includes(3))).toHaveLength(3);
  });
});
