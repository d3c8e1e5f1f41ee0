import { describe, expect, it } from 'vitest';
import type { BcPayload, UpsertOutcome } from '../src/sync/upsert-bc.js';
import { createUpsertBatcher } from './upsert-batcher.js';

const payload = (id: number): BcPayload => ({
  bc: { id, write_date: '2026-01-01 00:00:00' },
  lines: [],
});
const outcome = (odooId: number): UpsertOutcome => ({
  odooId,
  action: 'created',
  linesCreated: 0,
  linesUpdated: 0,
  linesDeleted: 0,
});

describe('upsert batcher', () => {
  it('writes concurrent upserts as batches, each caller getting its own outcome', async () => {
    const batches: number[][] = [];
    const batcher = createUpsertBatcher({
      maxBatch: 4,
      maxInFlight: 1,
      writeBatch: (payloads) => {
        batches.push(payloads.map((p) => p.bc.id));
        return Promise.resolve(payloads.map((p) => outcome(p.bc.id)));
      },
    });
    const results = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((id) => batcher.upsert(payload(id), 1)),
    );
    expect(results.map((r) => r.odooId)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(batches).toEqual([
      [1, 2, 3, 4],
      [5, 6],
    ]);
  });

  it('never puts two versions of a BC, or two runs, in one batch', async () => {
    const batches: string[][] = [];
    const batcher = createUpsertBatcher({
      maxBatch: 10,
      maxInFlight: 1,
      writeBatch: (payloads, runId) => {
        batches.push(payloads.map((p) => `${runId}:${p.bc.id}`));
        return Promise.resolve(payloads.map((p) => outcome(p.bc.id)));
      },
    });
    await Promise.all([
      batcher.upsert(payload(1), 1),
      batcher.upsert(payload(1), 1),
      batcher.upsert(payload(2), 2),
    ]);
    expect(batches).toEqual([['1:1'], ['1:1'], ['2:2']]);
  });

  it('replays a failed batch BC by BC, so only the bad BC fails', async () => {
    const batcher = createUpsertBatcher({
      maxBatch: 10,
      maxInFlight: 1,
      writeBatch: (payloads) =>
        payloads.some((p) => p.bc.id === 3)
          ? Promise.reject(new Error('bad BC 3'))
          : Promise.resolve(payloads.map((p) => outcome(p.bc.id))),
    });
    const results = await Promise.allSettled(
      [1, 2, 3, 4].map((id) => batcher.upsert(payload(id), 1)),
    );
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect((results[2] as PromiseRejectedResult).reason).toEqual(new Error('bad BC 3'));
  });
});
