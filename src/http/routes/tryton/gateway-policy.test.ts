import { describe, expect, it } from 'vitest';
import { createGatewayPolicy } from './gateway-policy.js';

const policy = createGatewayPolicy({
  models: [{ model: 'party.party' }, { model: 'product.product', fields: ['name', 'code'] }],
  methodPatterns: ['common.server.version', 'model.*.*.search_count', 'model.party.party.create'],
  maxSearchLimit: 100,
});

describe('gateway policy', () => {
  it('allows the read methods of listed models and the named patterns, nothing else', () => {
    for (const method of [
      'model.party.party.read',
      'model.party.party.search_read',
      'model.product.product.fields_get',
      'model.party.address.search_count',
      'model.party.party.create',
      'common.server.version',
    ])
      expect(policy.check(method, [[], {}]).allowed, method).toBe(true);
    for (const method of [
      'model.party.address.read',
      'model.party.party.write',
      'model.party.party.delete',
      'model.party.party.search_reader',
      'model.account.invoice.line.search_count',
      'model.res.user.search_count',
      'model.ir.session.search_count',
      'common.db.login',
    ])
      expect(policy.check(method, [[], {}]), method).toMatchObject({
        allowed: false,
        status: 403,
        code: 'TRYTON_METHOD_NOT_ALLOWED',
      });
  });

  it('warns about user and system models named explicitly, and lets them through', () => {
    const named = createGatewayPolicy({
      models: [{ model: 'res.user', fields: ['name'] }],
      methodPatterns: ['model.ir.date.today'],
      maxSearchLimit: 10,
    });
    expect(named.warnings).toEqual([
      expect.stringContaining('exposes res.user'),
      expect.stringContaining('exposes ir.date'),
    ]);
    expect(named.check('model.res.user.read', [[1], ['name'], {}]).allowed).toBe(true);
    expect(named.check('model.ir.date.today', [{}]).allowed).toBe(true);
    expect(policy.warnings).toEqual([]);
  });

  it('adds the maximum limit to a search without one, keeping the context last', () => {
    expect(policy.check('model.party.party.search', [[['name', 'ilike', 'a%']], {}])).toEqual({
      allowed: true,
      model: 'party.party',
      params: [[['name', 'ilike', 'a%']], 0, 100, null, {}],
    });
    expect(policy.check('model.party.party.search_read', [[], 5, null, null, ['name']])).toEqual({
      allowed: true,
      model: 'party.party',
      params: [[], 5, 100, null, ['name'], {}],
    });
    expect(policy.check('model.party.party.search', [[], 0, 101, null, {}])).toMatchObject({
      allowed: false,
      status: 400,
      code: 'TRYTON_LIMIT_TOO_LARGE',
    });
    expect(policy.check('model.party.party.search', [[], 0, '7', null, {}])).toMatchObject({
      status: 400,
      code: 'TRYTON_BAD_PARAMS',
    });
    const ids = Array.from({ length: 101 }, (_, i) => i + 1);
    expect(policy.check('model.party.party.read', [ids, ['name'], {}])).toMatchObject({
      status: 400,
    });
  });

  it('gives a read without fields the listed fields, and refuses others anywhere in the call', () => {
    expect(policy.check('model.product.product.read', [[1], null, {}])).toMatchObject({
      params: [[1], ['name', 'code'], {}],
    });
    expect(
      policy.check('model.product.product.search_read', [[], 0, 10, null, [], {}]),
    ).toMatchObject({
      params: [[], 0, 10, null, ['name', 'code'], {}],
    });
    for (const params of [
      [[1], ['name', 'cost_price'], {}],
      [[1], ['template.name'], {}],
    ])
      expect(policy.check('model.product.product.read', params)).toMatchObject({
        status: 403,
        code: 'TRYTON_FIELD_NOT_ALLOWED',
      });
    for (const domain of [
      [['cost_price', '>', 0]],
      [
        'OR',
        [['name', '=', 'a']],
        [
          ['code', '=', 'b'],
          ['cost_price', '=', 1],
        ],
      ],
      [['template', 'where', [['name', '=', 'x']]]],
    ])
      expect(policy.check('model.product.product.search', [domain, 0, 10, null, {}])).toMatchObject(
        {
          status: 403,
          code: 'TRYTON_FIELD_NOT_ALLOWED',
        },
      );
    expect(
      policy.check('model.product.product.search', [[], 0, 10, [['cost_price', 'ASC']], {}]),
    ).toMatchObject({ status: 403 });
  });

  it('refuses paths through relations on unrestricted models too', () => {
    expect(policy.check('model.party.party.read', [[1], ['name'], {}]).allowed).toBe(true);
    expect(
      policy.check('model.party.party.read', [[1], ['create_uid.password_reset'], {}]),
    ).toMatchObject({ status: 403, code: 'TRYTON_FIELD_NOT_ALLOWED' });
    expect(
      policy.check('model.party.party.search', [[['create_uid.login', '=', 'admin']], {}]),
    ).toMatchObject({ status: 403 });
  });

  it('answers 400 for params of the wrong shape instead of forwarding them', () => {
    expect(policy.check('model.party.party.read', ['1', {}])).toMatchObject({ status: 400 });
    expect(policy.check('model.party.party.search', ['all', {}])).toMatchObject({ status: 400 });
    expect(policy.check('model.party.party.read', [[1], [42], {}])).toMatchObject({ status: 400 });
  });
});
