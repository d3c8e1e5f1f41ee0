import { describe, expect, it } from 'vitest';
import type { OdooClient } from './odoo-types.js';
import { OdooError } from './odoo-errors.js';
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

describe('readTree', () => {
  const tree = {
    fields: ['name', 'partner_id', 'line_ids'],
    many2one: ['partner_id'],
    branches: [{ field: 'line_ids', fields: ['name', 'order_id'], many2one: ['order_id'] }],
  };

  /** The calls `readTree` makes on a server of series `major`, each answered by `answer`. */
  function trees(
    major: number | undefined,
    answer: (method: string) => unknown,
    treeReads?: boolean,
  ) {
    const sent: unknown[][] = [];
    const executeKw = ((model: string, method: string, args: unknown[], kwargs: unknown) => {
      sent.push([model, method, args, kwargs]);
      return Promise.resolve().then(() => answer(method));
    }) as OdooClient['executeKw'];
    const calls = createOrmCalls(executeKw, () => Promise.resolve(major), undefined, treeReads);
    return { calls, sent };
  }

  it('asks web_read for the roots and their lines, and gives them back as read gives them', async () => {
    const { calls, sent } = trees(17, () => [
      {
        id: 7,
        name: 'BC 7',
        partner_id: { id: 3, display_name: 'Acme' },
        line_ids: [
          { id: 71, name: 'a', order_id: { id: 7, display_name: 'BC 7' } },
          { id: 70, name: 'b', order_id: { id: 7, display_name: 'BC 7' } },
        ],
      },
      { id: 8, name: 'BC 8', partner_id: false, line_ids: [] },
    ]);
    expect(await calls.readTree('x.order', [7, 8], tree, { context: { lang: 'fr_FR' } })).toEqual({
      records: [
        { id: 7, name: 'BC 7', partner_id: [3, 'Acme'], line_ids: [71, 70] },
        { id: 8, name: 'BC 8', partner_id: false, line_ids: [] },
      ],
      branches: [
        [
          { id: 71, name: 'a', order_id: [7, 'BC 7'] },
          { id: 70, name: 'b', order_id: [7, 'BC 7'] },
        ],
      ],
    });
    expect(sent).toEqual([
      [
        'x.order',
        'web_read',
        [
          [7, 8],
          {
            name: {},
            partner_id: { fields: { display_name: {} } },
            line_ids: {
              fields: { name: {}, order_id: { fields: { display_name: {} } } },
            },
          },
        ],
        { context: { lang: 'fr_FR' } },
      ],
    ]);
  });

  it.each([16, undefined])('reads nothing on Odoo %s, which has no web_read', async (major) => {
    const { calls, sent } = trees(major, () => []);
    expect(await calls.readTree('x.order', [7], tree)).toBeUndefined();
    expect(sent).toEqual([]);
  });

  it('reads nothing when the tree reads are turned off (ODOO_TREE_READS=false)', async () => {
    const { calls, sent } = trees(17, () => [], false);
    expect(await calls.readTree('x.order', [7], tree)).toBeUndefined();
    expect(sent).toEqual([]);
  });

  it('stops asking a server that says it has no web_read', async () => {
    const { calls, sent } = trees(17, () => {
      throw new OdooError(
        'ODOO_SERVER_FAULT',
        "Odoo server fault on x.order.web_read: The method 'x.order.web_read' does not exist",
      );
    });
    expect(await calls.readTree('x.order', [7], tree)).toBeUndefined();
    expect(await calls.readTree('x.order', [8], tree)).toBeUndefined();
    expect(sent).toHaveLength(1);
  });

  it('stops asking after three server faults in a row, not after faults an answer separates', async () => {
    const fault = () =>
      new OdooError('ODOO_SERVER_FAULT', 'Odoo server fault on x.order.web_read: KeyError', {});
    const answers: Array<() => unknown> = [
      () => {
        throw fault();
      },
      () => {
        throw fault();
      },
      () => [],
      ...Array.from({ length: 3 }, () => () => {
        throw fault();
      }),
    ];
    const { calls, sent } = trees(17, () => answers[sent.length - 1]!());
    const outcomes: string[] = [];
    for (let page = 0; page < 7; page++)
      outcomes.push(
        await calls.readTree('x.order', [page + 1], tree).then(
          (read) => (read === undefined ? 'not asked' : 'read'),
          () => 'fault',
        ),
      );
    expect(outcomes).toEqual([
      'fault',
      'fault',
      'read',
      'fault',
      'fault',
      'not asked',
      'not asked',
    ]);
    expect(sent).toHaveLength(6);
  });

  it('fails a tree whose child came back as its id alone (a record the user may not read)', async () => {
    const { calls } = trees(19, () => [
      { id: 7, name: 'BC 7', partner_id: false, line_ids: [{ id: 71 }] },
    ]);
    await expect(calls.readTree('x.order', [7], tree)).rejects.toMatchObject({
      code: 'ODOO_INCONSISTENT_READ',
    });
  });

  it('passes on any other error: a deleted root is a MissingError, not a refusal', async () => {
    const { calls, sent } = trees(19, () => {
      throw new OdooError('ODOO_USER_ERROR', 'Record does not exist or has been deleted.');
    });
    await expect(calls.readTree('x.order', [7], tree)).rejects.toMatchObject({
      code: 'ODOO_USER_ERROR',
    });
    await expect(calls.readTree('x.order', [7], tree)).rejects.toMatchObject({
      code: 'ODOO_USER_ERROR',
    });
    expect(sent).toHaveLength(2);
  });
});
