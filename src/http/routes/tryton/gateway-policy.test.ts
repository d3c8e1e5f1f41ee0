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
      'model.web.user.search_count',
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
      expect.stringContaining('"model.ir.date.today" matches methods other than the read methods'),
    ]);
    expect(named.check('model.res.user.read', [[1], ['name'], {}]).allowed).toBe(true);
    expect(named.check('model.ir.date.today', [{}]).allowed).toBe(true);
    expect(policy.warnings).toEqual([expect.stringContaining('"model.party.party.create"')]);
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

describe('domains, read as trytond reads them', () => {
  const count = (domain: unknown) => policy.check('model.party.party.search_count', [domain, {}]);
  const leak = ['create_uid.password_reset', 'like', 'zq7%'];

  it('takes a group head only when it is AND or OR: any other text (the empty one too) is a 400', () => {
    for (const head of ['', 'and', 'Or', 'NOT', ' AND', 'name'])
      for (const domain of [
        [head, leak],
        [head, ['name', '=', 'x']],
        ['AND', [head, ['name', '=', 'x']]],
      ])
        expect(count(domain), JSON.stringify(domain)).toMatchObject({
          allowed: false,
          status: 400,
          code: 'TRYTON_BAD_DOMAIN',
        });
  });

  it('refuses with 400 group elements that are neither a clause nor a group, which trytond reads as true', () => {
    for (const element of [null, false, 0, 1, true, {}, 'AND'])
      for (const domain of [
        [['name', '=', 'x'], element],
        ['OR', [['name', '=', 'x'], element]],
      ])
        expect(count(domain), JSON.stringify(domain)).toMatchObject({
          status: 400,
          code: 'TRYTON_BAD_DOMAIN',
        });
  });

  it('refuses clauses trytond cannot read: a lone clause, five elements, a field that is not text', () => {
    for (const domain of [
      ['name', '=', 'x'],
      [['name', '=', 'x', 'party.party', 'extra']],
      [[['name'], '=', 'x']],
      [[null, 'in', [1]]],
      [['name', '=']],
      [['name', 'WHERE', []]],
    ])
      expect(count(domain), JSON.stringify(domain)).toMatchObject({
        status: 400,
        code: 'TRYTON_BAD_DOMAIN',
      });
    expect(count('all')).toMatchObject({ status: 400, code: 'TRYTON_BAD_DOMAIN' });
  });

  it('refuses with 403 what reaches another model: paths, where, a fourth element', () => {
    for (const domain of [
      [leak],
      ['OR', [['name', '=', 'x']], [[leak]]],
      [[], [leak]],
      [['create_uid', 'where', [['password_reset', '=', 'x']]]],
      [['create_uid', 'not where', []]],
      [['create_uid', 'child_of', [1], 'create_uid']],
      [['origin', '=', 1, 'res.user']],
      [['create_uid/password_reset', '=', 'x']],
    ])
      expect(count(domain), JSON.stringify(domain)).toMatchObject({
        status: 403,
        code: 'TRYTON_FIELD_NOT_ALLOWED',
      });
  });

  it('walks every nesting level, and refuses a domain nested deeper than it reads', () => {
    let deep: unknown[] = [leak];
    for (let level = 0; level < 20; level += 1) deep = [level % 2 ? 'AND' : 'OR', deep];
    expect(count(deep)).toMatchObject({ status: 403 });
    let tooDeep: unknown[] = [['name', '=', 'x']];
    for (let level = 0; level < 10_000; level += 1) tooDeep = [tooDeep];
    expect(count(tooDeep)).toMatchObject({ status: 400, code: 'TRYTON_BAD_DOMAIN' });
  });

  it('lets through what trytond reads one way only, and never walks into a clause value', () => {
    for (const domain of [
      [],
      null,
      ['AND'],
      ['OR'],
      [[]],
      ['OR', [['name', 'ilike', '%a%']], ['AND', [['code', 'in', ['A', 'B']]], []]],
      [['name', '=', ['create_uid.password_reset', 'like', 'x']]],
      [['parent', 'child_of', [1]]],
    ])
      expect(count(domain).allowed, JSON.stringify(domain)).toBe(true);
  });

  it('reads sort orders as trytond does: [field, direction] pairs only', () => {
    const search = (order: unknown) =>
      policy.check('model.party.party.search', [[], 0, 10, order, {}]);
    for (const order of [
      null,
      [],
      [['name', 'ASC']],
      [
        ['name', 'desc nulls first'],
        ['id', null],
      ],
      [['code', '']],
    ])
      expect(search(order).allowed, JSON.stringify(order)).toBe(true);
    for (const order of [
      'name',
      ['name'],
      [['name']],
      [['name', 'ASC', 'x']],
      [['name', 'sideways']],
      [[1, 'ASC']],
    ])
      expect(search(order), JSON.stringify(order)).toMatchObject({ status: 400 });
    expect(search([['create_uid.login', 'ASC']])).toMatchObject({ status: 403 });
  });

  it('refuses paths written with a slash in field lists, and names that are not field names', () => {
    expect(
      policy.check('model.party.party.read', [[1], ['create_uid/password_reset'], {}]),
    ).toMatchObject({
      status: 403,
      code: 'TRYTON_FIELD_NOT_ALLOWED',
    });
    expect(policy.check('model.party.party.read', [[1], ['name; drop'], {}])).toMatchObject({
      status: 400,
    });
  });
});

describe('read method arguments', () => {
  it('refuses arguments past the signature instead of forwarding them in the wrong place', () => {
    for (const [method, params] of [
      ['model.party.party.search_count', [[], ['name'], {}]],
      ['model.party.party.search', [[], 0, 10, null, false, 'x', {}]],
      ['model.party.party.search_read', [[], 0, 10, null, ['name'], ['create_uid'], {}]],
      ['model.party.party.read', [[1], ['name'], ['code'], {}]],
      ['model.party.party.fields_get', [['name'], 1, {}]],
    ] as const)
      expect(
        policy.check(method, [...params]),
        `${method} ${JSON.stringify(params)}`,
      ).toMatchObject({
        status: 400,
        code: 'TRYTON_BAD_PARAMS',
      });
  });

  it('refuses offsets and ids that are not whole numbers', () => {
    for (const offset of [-1, 1.5, '0'])
      expect(policy.check('model.party.party.search', [[], offset, 10, null, {}])).toMatchObject({
        status: 400,
      });
    for (const ids of [['1'], [1.5], [null], [[1]]])
      expect(policy.check('model.party.party.read', [ids, ['name'], {}])).toMatchObject({
        status: 400,
      });
  });
});

describe('methods that read fields or render records', () => {
  const everything = createGatewayPolicy({
    models: [{ model: 'party.party', fields: ['name'] }],
    methodPatterns: [
      'model.party.party.*',
      'model.*.*.*',
      'report.*.*.*.execute',
      'report.*.*.execute',
      'wizard.*.*.*',
      'model.party.party.export_data',
    ],
    maxSearchLimit: 100,
  });

  it('are never forwarded, whatever pattern matches them, even by name', () => {
    for (const method of [
      'model.party.party.export_data',
      'model.party.party.export_data_domain',
      'model.party.party.import_data',
      'model.party.party.history_revisions',
      'model.party.party.fields_view_get',
      'model.party.party.default_get',
      'model.party.party.pre_validate',
      'model.party.party.on_change',
      'model.party.party.on_change_with',
      'model.party.party.on_change_name',
      'model.party.party.on_change_with_rec_name',
      'model.party.party.autocomplete_name',
      'model.party.party.autocomplete',
      'model.party.party.on_scan_code',
      'model.party.party.on_change_notify',
      'report.res.user.email_reset_password.execute',
      'report.party.label.execute',
      'wizard.party.replace.create',
      'wizard.party.replace.execute',
    ])
      expect(everything.check(method, [[1], ['name'], {}]), method).toMatchObject({
        allowed: false,
        status: 403,
        code: 'TRYTON_METHOD_NOT_ALLOWED',
      });
  });

  it('lets a pattern forward other methods, and read methods only through the field policy', () => {
    expect(everything.check('model.party.party.write', [[1], { name: 'x' }, {}]).allowed).toBe(
      true,
    );
    expect(everything.check('model.party.address.search_count', [[], {}]).allowed).toBe(true);
    expect(
      everything.check('model.party.address.read', [[1], ['party.create_uid'], {}]),
    ).toMatchObject({ status: 403, code: 'TRYTON_FIELD_NOT_ALLOWED' });
    expect(everything.check('model.party.party.read', [[1], ['code'], {}])).toMatchObject({
      status: 403,
    });
  });

  it('warns at boot about every pattern matching a method outside the read methods', () => {
    const warned = (patterns: string[]) =>
      createGatewayPolicy({ models: [], methodPatterns: patterns, maxSearchLimit: 10 }).warnings;
    expect(
      warned([
        'common.server.version',
        'common.db.list',
        'model.party.party.read',
        'model.*.*.search_read',
        'model.*.*.*.fields_get',
      ]),
    ).toEqual([]);
    for (const pattern of [
      'model.party.party.*',
      'model.party.party.create',
      'model.*.*.*',
      '*.party.party.read',
      'report.*.*.*.execute',
      'wizard.*.*.*',
      'model.party.party.export_data',
      'system.listMethods',
    ])
      expect(warned([pattern]), pattern).toEqual([expect.stringContaining(`"${pattern}"`)]);
    // 7.0's record-building and autocomplete methods, named, are said to be never forwarded.
    for (const method of ['autocomplete', 'on_scan_code', 'on_change_notify'])
      expect(warned([`model.party.party.${method}`]), method).toEqual([
        expect.stringContaining('the gateway never forwards them'),
      ]);
  });
});
