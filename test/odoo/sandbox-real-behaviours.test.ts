/**
 * How the models loaded from real Odoo 17.0 dumps behave, as the dumps' README says they were
 * checked on the real server: `mail.followers` (no `_log_access`) faults on `write_date` in a
 * domain, an order or a read; a leaf on a non-stored field that cannot be searched is ignored,
 * even negated, and an order on a field without a column too; the dump's user is refused what it
 * may not read (fault 4, `check_access_rights`); following a record or posting on it changes its
 * followers and messages without moving its `write_date`.
 */
import { describe, expect, it } from 'vitest';
import { OdooError } from '../../src/clients/odoo/index.js';
import { createManualClock } from '../../dev/sandbox/odoo-sandbox.js';
import {
  PROTOCOLS,
  rejectionOf,
  startSandbox,
  useSandbox,
  type SandboxHarness,
} from './sandbox-harness.js';
import { sandboxWire } from './sandbox-wire.js';

const clock = createManualClock(new Date('2025-06-02T09:00:00.000Z'));
const REAL = {
  models: ['res.partner', 'account.move', 'account.move.line', 'res.partner.category'],
  records: { 'res.partner': 40, 'account.move': 10, 'res.partner.category': 5 },
  linesPerMove: 3,
} as const;
let harness: SandboxHarness;
useSandbox({ seed: 9, clock: clock.source, realSchemas: REAL }, (started) => (harness = started));
const { executeKw, value, fault } = sandboxWire(() => harness);
const control = () => harness.sandbox.control;

/** The error a call gets over `protocol`. */
async function failure(
  protocol: (typeof PROTOCOLS)[number],
  model: string,
  method: string,
  args: unknown[],
  kwargs: Record<string, unknown> = {},
): Promise<OdooError> {
  const error = await rejectionOf(harness.client(protocol).executeKw(model, method, args, kwargs));
  expect(error).toBeInstanceOf(OdooError);
  return error as OdooError;
}

const search = async (model: string, domain: unknown[], kwargs: Record<string, unknown> = {}) =>
  (await value(executeKw(model, 'search', [domain], kwargs))) as number[];

describe('mail.followers has no write_date (_log_access off)', () => {
  const leaf =
    "ValueError: Invalid field mail.followers.write_date in leaf ('write_date', '>', '2020-01-01 00:00:00')";
  const field = "ValueError: Invalid field 'write_date' on model 'mail.followers'";

  it('faults 1 on a domain, an order or a read naming it, on every transport', async () => {
    const domain = [['write_date', '>', '2020-01-01 00:00:00']];
    const [id] = control().ids('mail.followers');
    for (const protocol of PROTOCOLS) {
      const calls: Array<[string, unknown[], Record<string, unknown>, string]> = [
        ['search_read', [domain], { fields: ['id'] }, leaf],
        ['search_read', [[]], { fields: ['id'], order: 'write_date asc' }, field],
        ['read', [[id], ['write_date']], {}, field],
      ];
      for (const [method, args, kwargs, text] of calls) {
        const error = await failure(protocol, 'mail.followers', method, args, kwargs);
        expect({ protocol, code: error.code, fault: error.faultCode }).toEqual({
          protocol,
          code: 'ODOO_SERVER_FAULT',
          fault: protocol === 'xmlrpc' ? 1 : expect.anything(),
        });
        expect(error.faultString).toContain(text.replace('ValueError: ', ''));
      }
    }
    const xml = await fault(
      executeKw('mail.followers', 'search_read', [domain], { fields: ['id'] }),
    );
    expect(xml.faultCode).toBe(1);
    expect(xml.faultString.endsWith(`${leaf}\n`)).toBe(true);
  });

  it('names a list inside the leaf as Python prints it', async () => {
    const { faultString } = await fault(
      executeKw('mail.followers', 'search', [[['nofield', 'in', [1, 2]]]]),
    );
    expect(
      faultString.endsWith(
        "ValueError: Invalid field mail.followers.nofield in leaf ('nofield', 'in', [1, 2])\n",
      ),
    ).toBe(true);
  });
});

describe('non-stored fields in domains and orders (Odoo 17)', () => {
  it('ignores a leaf on a field that cannot be searched, negated or under an or', async () => {
    const all = await search('res.partner', [], { context: { active_test: false } });
    for (const domain of [
      [['email_formatted', '=', 'nobody']],
      ['!', ['email_formatted', '=', 'nobody']],
      ['|', ['email_formatted', '=', 'nobody'], ['id', '=', -1]],
      [['display_name', '=', 'nobody']],
    ])
      expect(await search('res.partner', domain, { context: { active_test: false } })).toEqual(all);
  });

  it('searches a searchable computed or related field by its value', async () => {
    const [follower] = control().records('mail.followers', { load: '' });
    const partner = follower!.partner_id as number;
    const followed = control()
      .records('mail.followers', { load: '' })
      .filter((row) => row.partner_id === partner && row.res_model === 'res.partner')
      .map((row) => row.res_id as number);
    expect(
      new Set(
        await search('res.partner', [['message_partner_ids', 'in', [partner]]], {
          context: { active_test: false },
        }),
      ),
    ).toEqual(new Set(followed));
    const french = control()
      .records('res.partner', { load: '', fields: ['country_id', 'active'] })
      .filter((row) => row.country_id === 2 && row.active === true);
    expect(new Set(await search('res.partner', [['country_code', '=', 'FR']]))).toEqual(
      new Set(french.map((row) => row.id)),
    );
  });

  it('negates a comparison as Odoo 17 does: !(date > d) is date <= d, which no empty date matches', async () => {
    const dates = control().records('res.partner', { load: '', fields: ['date'] });
    expect(dates.some((row) => row.date === false)).toBe(true);
    expect(
      await search('res.partner', ['!', ['date', '>', '2000-01-01']], {
        context: { active_test: false },
      }),
    ).toEqual([]);
  });

  it('skips an order term on a field without a column', async () => {
    const context = { active_test: false };
    expect(
      await search('res.partner', [], {
        order: 'message_ids, email_formatted, name desc',
        context,
      }),
    ).toEqual(await search('res.partner', [], { order: 'name desc', context }));
  });
});

describe('access rights of the dump’s user', () => {
  const refusal =
    "You are not allowed to access 'Stock Valuation Layer' (stock.valuation.layer) records.\n\n" +
    'This operation is allowed for the following groups:\n\t- Inventory/Administrator\n\n' +
    'Contact your administrator to request access if necessary.';

  it('refuses stock.valuation.layer with fault 4, and any read of a one2many into it', async () => {
    for (const [method, args] of [
      ['search_read', [[]]],
      ['search', [[]]],
      ['search_count', [[]]],
      ['read', [[1]]],
    ] as const)
      expect(await fault(executeKw('stock.valuation.layer', method, [...args]))).toEqual({
        faultCode: 4,
        faultString: refusal,
      });
    const lines = control().ids('account.move.line').slice(0, 2);
    expect(
      await fault(
        executeKw('account.move.line', 'read', [lines, ['name', 'stock_valuation_layer_ids']]),
      ),
    ).toEqual({ faultCode: 4, faultString: refusal });
    const stored = control().storedFields('account.move');
    expect(
      await fault(executeKw('account.move', 'search_read', [[]], { fields: stored, limit: 1 })),
    ).toEqual({ faultCode: 4, faultString: refusal });
    expect(await value(executeKw('account.move.line', 'read', [lines, ['name']]))).toHaveLength(2);
    for (const protocol of PROTOCOLS)
      expect((await failure(protocol, 'stock.valuation.layer', 'search', [[]])).code).toBe(
        'ODOO_ACCESS',
      );
  });

  it('answers check_access_rights from the dump, and raises fault 4 when asked to', async () => {
    const check = (model: string, operation: string, raise: boolean) =>
      value(executeKw(model, 'check_access_rights', [operation], { raise_exception: raise }));
    expect(await check('stock.valuation.layer', 'read', false)).toBe(false);
    expect(await check('res.partner', 'read', false)).toBe(true);
    expect(await check('res.partner', 'unlink', false)).toBe(false);
    expect(await check('mail.followers', 'write', false)).toBe(false);
    expect(await check('account.move', 'unlink', false)).toBe(true);
    expect(
      await fault(executeKw('stock.valuation.layer', 'check_access_rights', ['read'])),
    ).toEqual({ faultCode: 4, faultString: refusal });
    const bad = await fault(executeKw('res.partner', 'check_access_rights', ['fly']));
    expect(bad.faultString.endsWith('AssertionError: Invalid access mode\n')).toBe(true);
  });

  it('refuses a model the test denies, until it allows it again', async () => {
    control().denyRead({ model: 'res.partner.category' });
    try {
      expect(await fault(executeKw('res.partner.category', 'search', [[]]))).toEqual({
        faultCode: 4,
        faultString:
          "You are not allowed to access 'Partner Tags' (res.partner.category) records.\n\n" +
          'No group currently allows this operation.\n\n' +
          'Contact your administrator to request access if necessary.',
      });
    } finally {
      control().allowRead('res.partner.category');
    }
    expect((await search('res.partner.category', [])).length).toBeGreaterThan(0);
  });

  it('lets a sandbox whose user has Inventory rights read stock.valuation.layer', async () => {
    const other = await startSandbox({ realSchemas: { ...REAL, records: {}, unreadable: [] } });
    try {
      expect(await other.client('xmlrpc').search('stock.valuation.layer', [])).toEqual([]);
    } finally {
      await other.close();
    }
  });
});
