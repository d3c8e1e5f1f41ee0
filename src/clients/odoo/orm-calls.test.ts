import { describe, expect, it } from 'vitest';
import type { OdooClient } from './odoo-types.js';
import { createOrmCalls } from './orm-calls.js';

/** An `executeKw` answering `read` from `answers`, in turn, and keeping the ids each was given. */
function reads(answers: readonly unknown[][]) {
  const asked: number[][] = [];
  const executeKw = ((_model: string, method: string, args: unknown[]) => {
    if (method !== 'read') throw new Error(`unexpected ${method}`);
    asked.push(args[0] as number[]);
    return Promise.resolve(answers[asked.length - 1]);
  }) as OdooClient['executeKw'];
  return { calls: createOrmCalls(executeKw, () => Promise.resolve(19)), asked };
}

/** The calls `canRead` makes on a server of series `major`, and what it answered. */
async function accessCheck(major: number | undefined) {
  const sent: unknown[][] = [];
  const executeKw = ((model: string, method: string, args: unknown[], kwargs: unknown) => {
    sent.push([model, method, args, kwargs]);
    return Promise.resolve(true);
  }) as OdooClient['executeKw'];
  const answer = await createOrmCalls(executeKw, () => Promise.resolve(major)).canRead(
    'res.partner',
  );
  return { sent, answer };
}

describe('canRead', () => {
  it.each([18, 19])('asks has_access on an empty recordset on Odoo %i', async (major) => {
    expect(await accessCheck(major)).toEqual({
      sent: [['res.partner', 'has_access', [[], 'read'], {}]],
      answer: true,
    });
  });

  it.each([17, undefined])(
    'asks check_access_rights, never raising, on Odoo %s (has_access came with 18)',
    async (major) => {
      expect(await accessCheck(major)).toEqual({
        sent: [['res.partner', 'check_access_rights', ['read'], { raise_exception: false }]],
        answer: true,
      });
    },
  );
});

describe('read', () => {
  it('reads again the records an answer paired wrong: one without its id, one without a field', async () => {
    const { calls, asked } = reads([
      [{ id: 1, p: 'one' }, { p: 'three' }, { id: 3 }],
      [
        { id: 1, p: 'one' },
        { id: 3, p: 'three' },
      ],
    ]);
    expect(await calls.read('m', [1, 2, 3], ['p'])).toEqual([
      { id: 1, p: 'one' },
      { id: 3, p: 'three' },
    ]);
    expect(asked).toEqual([
      [1, 2, 3],
      [1, 3],
    ]);
  });

  it('gives up retryable after three reads that keep pairing wrong', async () => {
    const wrong = [{ id: 1, p: 'x' }, { p: 'y' }, { id: 3 }];
    const { calls, asked } = reads([wrong, wrong, wrong, wrong]);
    await expect(calls.read('m', [1, 2, 3], ['p'])).rejects.toMatchObject({
      code: 'ODOO_INCONSISTENT_READ',
      retryable: true,
    });
    expect(asked).toHaveLength(3);
  });

  it('asks nothing for no ids, and once for an answer that pairs right', async () => {
    const { calls, asked } = reads([[{ id: 2, p: false }]]);
    expect(await calls.read('m', [], ['p'])).toEqual([]);
    expect(await calls.read('m', [1, 2], ['p'])).toEqual([{ id: 2, p: false }]);
    expect(asked).toEqual([[1, 2]]);
  });
});
