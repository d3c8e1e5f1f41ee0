import { describe, expect, it } from 'vitest';
import {
  decide,
  decideChild,
  STAMP_FROM_FUTURE,
  STAMP_WENT_BACK,
  type StoredVersion,
} from './write-rule.js';
import { at, heal, run, verify } from '../../test/helpers/write-modes.js';

const stored = (over: Partial<StoredVersion> = {}): StoredVersion => ({
  writeDate: at('10:00:00'),
  data: { name: 'a', qty: 1 },
  archived: false,
  staleLayout: false,
  ...over,
});
const incoming = (time: string, data: Record<string, unknown> = { name: 'a', qty: 1 }) => ({
  writeDate: at(time),
  data,
  unread: [] as string[],
});

describe('the writer rule', () => {
  it.each([
    [
      'new record',
      undefined,
      incoming('10:00:00'),
      run,
      { write: true, audit: { action: 'created', changed: [] } },
    ],
    [
      'new record, verify',
      undefined,
      incoming('10:00:00'),
      verify,
      { write: true, audit: { action: 'drift', changed: [] } },
    ],
    ['same stamp, same data', stored(), incoming('10:00:00'), run, { write: false, stale: false }],
    [
      'same stamp, other data',
      stored(),
      incoming('10:00:00', { name: 'b', qty: 1 }),
      run,
      { write: true, audit: { action: 'updated', changed: ['name'] } },
    ],
    [
      'newer stamp',
      stored(),
      incoming('10:00:01', { name: 'b', qty: 1 }),
      run,
      { write: true, audit: { action: 'updated', changed: ['name'] } },
    ],
    [
      'older stamp',
      stored(),
      incoming('09:59:59', { name: 'b', qty: 1 }),
      run,
      { write: false, stale: true },
    ],
    [
      'older stamp over a stamp from the future',
      stored({ writeDate: at('11:00:00') }),
      incoming('10:01:00', { name: 'b', qty: 1 }),
      run,
      { write: true, audit: { action: 'drift', changed: ['name'], reason: STAMP_FROM_FUTURE } },
    ],
    [
      'older stamp, unknown clock',
      stored({ writeDate: at('11:00:00') }),
      incoming('10:01:00'),
      { ...run, futureAfter: undefined },
      { write: false, stale: true },
    ],
    [
      'older stamp under the lease (a restored Odoo)',
      stored(),
      incoming('09:00:00', { name: 'b', qty: 1 }),
      heal,
      { write: true, audit: { action: 'drift', changed: ['name'], reason: STAMP_WENT_BACK } },
    ],
    [
      'archived in the copy',
      stored({ archived: true }),
      incoming('10:00:00'),
      run,
      { write: true, audit: { action: 'restored', changed: [] } },
    ],
    [
      'archived in the copy before the read began',
      stored({ archived: true, archivedAt: at('10:00:05') }),
      incoming('10:00:00'),
      { ...run, readSince: at('10:00:06') },
      { write: true, audit: { action: 'restored', changed: [] } },
    ],
    [
      'archived in the copy after the read began (a deletion confirmed meanwhile)',
      stored({ archived: true, archivedAt: at('10:00:07') }),
      incoming('10:00:00'),
      { ...run, readSince: at('10:00:06') },
      { write: false, stale: true },
    ],
    [
      'archived in the copy after the read began, a newer stamp',
      stored({ archived: true, archivedAt: at('10:00:07') }),
      incoming('10:00:03', { name: 'b', qty: 1 }),
      { ...run, readSince: at('10:00:06') },
      { write: false, stale: true },
    ],
    [
      'stale layout, a field learned',
      stored({ staleLayout: true }),
      incoming('10:00:00', { name: 'a', qty: 1, x_new: 2 }),
      run,
      { write: true, audit: { action: 'relaid', changed: ['x_new'] } },
    ],
    [
      'stale layout, a field changed',
      stored({ staleLayout: true }),
      incoming('10:00:00', { name: 'b', qty: 1 }),
      run,
      { write: true, audit: { action: 'updated', changed: ['name'] } },
    ],
    [
      'verify, same data, links differ',
      stored(),
      incoming('10:00:00'),
      { ...verify, rewrite: true },
      { write: true, audit: { action: 'drift', changed: [] } },
    ],
    ['verify, same data', stored(), incoming('10:00:00'), verify, { write: false, stale: false }],
    [
      'older stamp under the lease, reads that lag have shown the stored one',
      stored(),
      incoming('09:00:00', { name: 'b', qty: 1 }),
      { ...heal, shownThrough: at('10:00:00') },
      { write: true, audit: { action: 'drift', changed: ['name'], reason: STAMP_WENT_BACK } },
    ],
    [
      'older stamp under the lease, reads that lag have not shown the stored one',
      stored(),
      incoming('09:00:00', { name: 'b', qty: 1 }),
      { ...heal, shownThrough: at('09:59:59') },
      { write: false, stale: true },
    ],
    [
      'verify, same stamp, other data, reads that lag',
      stored(),
      incoming('10:00:00', { name: 'b', qty: 1 }),
      { ...verify, shownThrough: at('09:59:59') },
      { write: true, audit: { action: 'drift', changed: ['name'] } },
    ],
    [
      'verify, newer stamp than the reads that lag have shown whole',
      stored(),
      incoming('10:00:01', { name: 'b', qty: 1 }),
      { ...verify, shownThrough: at('09:59:59') },
      { write: true, audit: { action: 'drift', changed: ['name'] } },
    ],
    [
      'older stamp over a stamp from the future, reads that lag',
      stored({ writeDate: at('11:00:00') }),
      incoming('10:01:00', { name: 'b', qty: 1 }),
      { ...heal, shownThrough: at('10:00:00') },
      { write: true, audit: { action: 'drift', changed: ['name'], reason: STAMP_FROM_FUTURE } },
    ],
    [
      'older stamp under the lease, over a row written since the read began (a webhook)',
      stored({ writtenAt: at('10:00:02') }),
      incoming('09:00:00', { name: 'b', qty: 1 }),
      { ...heal, readSince: at('10:00:01') },
      { write: false, stale: true },
    ],
    [
      'verify, same stamp, other data, over a row written since the read began',
      stored({ writtenAt: at('10:00:02') }),
      incoming('10:00:00', { name: 'b', qty: 1 }),
      { ...verify, readSince: at('10:00:01') },
      { write: false, stale: true },
    ],
    [
      'verify, a newer stamp over a row written since the read began',
      stored({ writtenAt: at('10:00:02') }),
      incoming('10:00:01', { name: 'b', qty: 1 }),
      { ...verify, readSince: at('10:00:01') },
      { write: true, audit: { action: 'drift', changed: ['name'] } },
    ],
    [
      'older stamp under the lease, over a row written before the read began',
      stored({ writtenAt: at('10:00:00') }),
      incoming('09:00:00', { name: 'b', qty: 1 }),
      { ...heal, readSince: at('10:00:01') },
      { write: true, audit: { action: 'drift', changed: ['name'], reason: STAMP_WENT_BACK } },
    ],
    [
      'a field Odoo no longer lists',
      stored({ data: { name: 'a', qty: 1, x_gone: 3 } }),
      incoming('10:00:00'),
      run,
      { write: false, stale: false },
    ],
  ])('%s', (_case, before, after, mode, expected) => {
    expect(decide(before, after, mode)).toEqual(expected);
  });

  it('writes a child that moved to another root whatever its data, never as relaid', () => {
    expect(decideChild({ ...stored(), moved: true }, incoming('10:00:00'), run)).toEqual({
      write: true,
      audit: { action: 'updated', changed: [] },
    });
    expect(
      decideChild({ ...stored({ staleLayout: true }), moved: true }, incoming('10:00:00'), run),
    ).toEqual({ write: true, audit: { action: 'updated', changed: [] } });
    expect(decideChild({ ...stored(), moved: true }, incoming('09:00:00'), run)).toEqual({
      write: false,
      stale: true,
    });
  });
});
