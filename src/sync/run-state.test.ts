import { describe, expect, it } from 'vitest';
import { runStateSchema, type RunState } from './run-state.js';

const state: RunState = {
  run: { runId: 7, lease: { key: 'bcs', owner: 'run-1', token: 3 } },
  watermarks: { 'dimagaz.bc': new Date('2026-11-24T10:00:00.000Z') },
  settledThrough: new Date('2026-11-24T09:49:00.000Z'),
  startedAt: new Date('2026-11-24T10:05:00.123Z'),
  startCalls: 4,
  futureStamped: 0,
  scanErrors: [],
  schemaKey: 'a'.repeat(64),
  pageCount: 12,
  pageSize: 100,
  pagesAfter: 0,
};

describe("a run's step state", () => {
  it('travels in job data as JSON, its instants as ISO text, and comes back with real instants', () => {
    const stored: unknown = JSON.parse(JSON.stringify(runStateSchema.encode(state)));
    expect(stored).toMatchObject({
      watermarks: { 'dimagaz.bc': '2026-11-24T10:00:00.000Z' },
      startedAt: '2026-11-24T10:05:00.123Z',
    });
    expect(runStateSchema.parse(stored)).toEqual(state);
  });

  it('refuses an instant that is not ISO text', () => {
    const stored = { ...runStateSchema.encode(state), startedAt: 'yesterday' };
    expect(runStateSchema.safeParse(stored).success).toBe(false);
  });
});
