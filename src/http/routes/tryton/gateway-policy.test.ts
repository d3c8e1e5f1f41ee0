import { describe, expect, it } from 'vitest';
import type { ExposedModel } from '../../../config/tryton-exposure.js';
import {
  createGatewayPolicy,
  type GatewayPolicyOptions,
  type RelationFields,
} from './gateway-policy.js';

/** party.party's relations as Tryton describes them, for the policies below. */
const RELATIONS: Record<string, ReadonlyMap<string, string>> = {
  'party.party': new Map([
    ['create_uid', 'res.user'],
    ['identifiers', 'party.identifier'],
    ['addresses', 'party.address'],
  ]),
};
const relationFields: RelationFields = (model) =>
  Promise.resolve(RELATIONS[model] ?? new Map<string, string>());

/** A policy whose checks look relations up in {@link RELATIONS}. */
function policyOf(options: GatewayPolicyOptions) {
  const policy = createGatewayPolicy(options);
  return {
    warnings: policy.warnings,
    check: (method: string, params: readonly unknown[]) =>
      policy.check(method, params, relationFields),
  };
}

const policy = policyOf({
  models: [{ model: 'party.party' }, { model: 'product.product', fields: ['name', 'code'] }],
  methodPatterns: ['common.server.version', 'model.*.*.search_count', 'model.party.party.create'],
  maxSearchLimit: 100,
});

describe('gateway policy', () => {
  it.each([
    'model.party.party.read',
    'model.party.party.search_read',
    'model.product.product.fields_get',
    'model.party.address.search_count',
    'model.party.party.create',
    'common.server.version',
  ])('allows %s: a read method of a listed model or a named pattern', async (method) => {
    expect((await policy.check(method, [[], {}])).allowed).toBe(true);
  });

  it.each([
    'model.party.address.read',
    'model.party.party.write',
    'model.party.party.delete',
    'model.party.party.search_reader',
    'model.account.invoice.line.search_count',
    'model.res.user.search_count',
    'model.ir.session.search_count',
    'model.web.user.search_count',
    'common.db.login',
  ])('refuses %s: nothing else is forwarded', async (method) => {
    expect(await policy.check(method, [[], {}])).toMatchObject({
      allowed: false,
      status: 403,
      code: 'TRYTON_METHOD_NOT_ALLOWED',
    });
  });

  it('warns about user and system models named explicitly, and lets them through', async () => {
    const named = policyOf({
      models: [{ model: 'res.user', fields: ['name'] }],
      methodPatterns: ['model.ir.date.today'],
      maxSearchLimit: 10,
    });
    expect(named.warnings).toEqual([
      expect.stringContaining('exposes res.user'),
      expect.stringContaining('exposes ir.date'),
      expect.stringContaining('"model.ir.date.today" matches methods other than the read methods'),
    ]);
    expect((await named.check('model.res.user.read', [[1], ['name'], {}])).allowed).toBe(true);
    expect((await named.check('model.ir.date.today', [{}])).allowed).toBe(true);
    expect(policy.warnings).toEqual([expect.stringContaining('"model.party.party.create"')]);
  });

  it('adds the maximum limit to a search without one, keeping the context last', async () => {
    expect(await policy.check('model.party.party.search', [[['name', 'ilike', 'a%']], {}])).toEqual(
      {
        allowed: true,
        model: 'party.party',
        params: [[['name', 'ilike', 'a%']], 0, 100, null, {}],
      },
    );
    expect(
      await policy.check('model.party.party.search_read', [[], 5, null, null, ['name']]),
    ).toEqual({
      allowed: true,
      model: 'party.party',
      params: [[], 5, 100, null, ['name'], {}],
    });
    expect(await policy.check('model.party.party.search', [[], 0, 101, null, {}])).toMatchObject({
      allowed: false,
      status: 400,
      code: 'TRYTON_LIMIT_TOO_LARGE',
    });
    expect(await policy.check('model.party.party.search', [[], 0, '7', null, {}])).toMatchObject({
      status: 400,
      code: 'TRYTON_BAD_PARAMS',
    });
    const ids = Array.from({ length: 101 }, (_, i) => i + 1);
    expect(await policy.check('model.party.party.read', [ids, ['name'], {}])).toMatchObject({
      status: 400,
    });
  });

  it('gives a read without fields the listed fields, and refuses others anywhere in the call', async () => {
    expect(await policy.check('model.product.product.read', [[1], null, {}])).toMatchObject({
      params: [[1], ['name', 'code'], {}],
    });
    expect(
      await policy.check('model.product.product.search_read', [[], 0, 10, null, [], {}]),
    ).toMatchObject({
      params: [[], 0, 10, null, ['name', 'code'], {}],
    });
    for (const params of [
      [[1], ['name', 'cost_price'], {}],
      [[1], ['template.name'], {}],
    ])
      expect(await policy.check('model.product.product.read', params)).toMatchObject({
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
      expect(
        await policy.check('model.product.product.search', [domain, 0, 10, null, {}]),
      ).toMatchObject({
        status: 403,
        code: 'TRYTON_FIELD_NOT_ALLOWED',
      });
    expect(
      await policy.check('model.product.product.search', [[], 0, 10, [['cost_price', 'ASC']], {}]),
    ).toMatchObject({ status: 403 });
  });

  it('refuses paths through relations on unrestricted models too', async () => {
    expect((await policy.check('model.party.party.read', [[1], ['name'], {}])).allowed).toBe(true);
    expect(
      await policy.check('model.party.party.read', [[1], ['create_uid.password_reset'], {}]),
    ).toMatchObject({ status: 403, code: 'TRYTON_FIELD_NOT_ALLOWED' });
    expect(
      await policy.check('model.party.party.search', [[['create_uid.login', '=', 'admin']], {}]),
    ).toMatchObject({ status: 403 });
  });

  it('answers 400 for params of the wrong shape instead of forwarding them', async () => {
    expect(await policy.check('model.party.party.read', ['1', {}])).toMatchObject({ status: 400 });
    expect(await policy.check('model.party.party.search', ['all', {}])).toMatchObject({
      status: 400,
    });
    expect(await policy.check('model.party.party.read', [[1], [42], {}])).toMatchObject({
      status: 400,
    });
  });
});

describe('domains, read as trytond reads them', () => {
  const count = (domain: unknown) => policy.check('model.party.party.search_count', [domain, {}]);
  const leak = ['create_uid.password_reset', 'like', 'zq7%'];

  it('takes a group head only when it is AND or OR: any other text (the empty one too) is a 400', async () => {
    for (const head of ['', 'and', 'Or', 'NOT', ' AND', 'name'])
      for (const domain of [
        [head, leak],
        [head, ['name', '=', 'x']],
        ['AND', [head, ['name', '=', 'x']]],
      ])
        expect(await count(domain), JSON.stringify(domain)).toMatchObject({
          allowed: false,
          status: 400,
          code: 'TRYTON_BAD_DOMAIN',
        });
  });

  it('refuses with 400 group elements that are neither a clause nor a group, which trytond reads as true', async () => {
    for (const element of [null, false, 0, 1, true, {}, 'AND'])
      for (const domain of [
        [['name', '=', 'x'], element],
        ['OR', [['name', '=', 'x'], element]],
      ])
        expect(await count(domain), JSON.stringify(domain)).toMatchObject({
          status: 400,
          code: 'TRYTON_BAD_DOMAIN',
        });
  });

  it('refuses clauses trytond cannot read: a lone clause, five elements, a field that is not text', async () => {
    for (const domain of [
      ['name', '=', 'x'],
      [['name', '=', 'x', 'party.party', 'extra']],
      [[['name'], '=', 'x']],
      [[null, 'in', [1]]],
      [['name', '=']],
      [['name', 'WHERE', []]],
    ])
      expect(await count(domain), JSON.stringify(domain)).toMatchObject({
        status: 400,
        code: 'TRYTON_BAD_DOMAIN',
      });
    expect(await count('all')).toMatchObject({ status: 400, code: 'TRYTON_BAD_DOMAIN' });
  });

  it('refuses with 403 what reaches another model: paths, where, a fourth element', async () => {
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
      expect(await count(domain), JSON.stringify(domain)).toMatchObject({
        status: 403,
        code: 'TRYTON_FIELD_NOT_ALLOWED',
      });
  });

  it('walks every nesting level, and refuses a domain nested deeper than it reads', async () => {
    let deep: unknown[] = [leak];
    for (let level = 0; level < 20; level += 1) deep = [level % 2 ? 'AND' : 'OR', deep];
    expect(await count(deep)).toMatchObject({ status: 403 });
    let tooDeep: unknown[] = [['name', '=', 'x']];
    for (let level = 0; level < 10_000; level += 1) tooDeep = [tooDeep];
    expect(await count(tooDeep)).toMatchObject({ status: 400, code: 'TRYTON_BAD_DOMAIN' });
  });

  it('lets through what trytond reads one way only, and never walks into a clause value', async () => {
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
      expect((await count(domain)).allowed, JSON.stringify(domain)).toBe(true);
  });

  it('reads sort orders as trytond does: [field, direction] pairs only', async () => {
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
      expect((await search(order)).allowed, JSON.stringify(order)).toBe(true);
    for (const order of [
      'name',
      ['name'],
      [['name']],
      [['name', 'ASC', 'x']],
      [['name', 'sideways']],
      [[1, 'ASC']],
    ])
      expect(await search(order), JSON.stringify(order)).toMatchObject({ status: 400 });
    expect(await search([['create_uid.login', 'ASC']])).toMatchObject({ status: 403 });
  });

  it('refuses paths written with a slash in field lists, and names that are not field names', async () => {
    expect(
      await policy.check('model.party.party.read', [[1], ['create_uid/password_reset'], {}]),
    ).toMatchObject({
      status: 403,
      code: 'TRYTON_FIELD_NOT_ALLOWED',
    });
    expect(await policy.check('model.party.party.read', [[1], ['name; drop'], {}])).toMatchObject({
      status: 400,
    });
  });
});

describe('read method arguments', () => {
  it('refuses arguments past the signature instead of forwarding them in the wrong place', async () => {
    for (const [method, params] of [
      ['model.party.party.search_count', [[], ['name'], {}]],
      ['model.party.party.search', [[], 0, 10, null, false, 'x', {}]],
      ['model.party.party.search_read', [[], 0, 10, null, ['name'], ['create_uid'], {}]],
      ['model.party.party.read', [[1], ['name'], ['code'], {}]],
      ['model.party.party.fields_get', [['name'], 1, {}]],
    ] as const)
      expect(
        await policy.check(method, [...params]),
        `${method} ${JSON.stringify(params)}`,
      ).toMatchObject({
        status: 400,
        code: 'TRYTON_BAD_PARAMS',
      });
  });

  it('refuses offsets and ids that are not whole numbers', async () => {
    for (const offset of [-1, 1.5, '0'])
      expect(
        await policy.check('model.party.party.search', [[], offset, 10, null, {}]),
      ).toMatchObject({
        status: 400,
      });
    for (const ids of [['1'], [1.5], [null], [[1]]])
      expect(await policy.check('model.party.party.read', [ids, ['name'], {}])).toMatchObject({
        status: 400,
      });
  });
});

describe('methods that read fields or render records', () => {
  const everything = policyOf({
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

  it('are never forwarded, whatever pattern matches them, even by name', async () => {
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
      expect(await everything.check(method, [[1], ['name'], {}]), method).toMatchObject({
        allowed: false,
        status: 403,
        code: 'TRYTON_METHOD_NOT_ALLOWED',
      });
  });

  it('lets a pattern forward other methods, and read methods only through the field policy', async () => {
    expect(
      (await everything.check('model.party.party.write', [[1], { name: 'x' }, {}])).allowed,
    ).toBe(true);
    expect((await everything.check('model.party.address.search_count', [[], {}])).allowed).toBe(
      true,
    );
    expect(
      await everything.check('model.party.address.read', [[1], ['party.create_uid'], {}]),
    ).toMatchObject({ status: 403, code: 'TRYTON_FIELD_NOT_ALLOWED' });
    expect(await everything.check('model.party.party.read', [[1], ['code'], {}])).toMatchObject({
      status: 403,
    });
  });

  it('warns at boot about every pattern matching a method outside the read methods', () => {
    const warned = (patterns: string[]) =>
      policyOf({ models: [], methodPatterns: patterns, maxSearchLimit: 10 }).warnings;
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

describe('text compared with a relation, which trytond runs as a name search of the related model', () => {
  const exposing = (models: ExposedModel[], methodPatterns: string[] = []) =>
    policyOf({ models, methodPatterns, maxSearchLimit: 100 });
  const count = (policy: ReturnType<typeof exposing>, domain: unknown) =>
    policy.check('model.party.party.search_count', [domain, {}]);
  const byIdentifier = [['identifiers', 'ilike', 'X%']];
  const byUser = [['create_uid', '=', 'admin']];

  it('is refused at any depth, whatever the operator, while the related model is not exposed', async () => {
    const party = exposing([{ model: 'party.party' }]);
    for (const domain of [
      byIdentifier,
      byUser,
      [['addresses', 'in', ['1 Main Street']]],
      [['create_uid', 'child_of', 'adm']],
      ['OR', [['name', '=', 'x']], [[['identifiers', 'not like', 'X%']]]],
    ])
      expect(await count(party, domain), JSON.stringify(domain)).toMatchObject({
        allowed: false,
        status: 403,
        code: 'TRYTON_FIELD_NOT_ALLOWED',
        message: expect.stringContaining('compare ids') as string,
      });
  });

  it('lets ids and null through on relations, and text on fields that are not relations', async () => {
    const party = exposing([{ model: 'party.party' }]);
    for (const domain of [
      [['identifiers', '=', null]],
      [['create_uid', 'in', [1, 2]]],
      [['create_uid', '=', 1]],
      [['name', 'ilike', 'a%']],
      [['code', 'in', ['A', 'B']]],
    ])
      expect((await count(party, domain)).allowed, JSON.stringify(domain)).toBe(true);
  });

  it('passes only when TRYTON_MODELS lists the related model with fields naming rec_name', async () => {
    for (const [policy, domain, allowed] of [
      [
        exposing([{ model: 'party.party' }, { model: 'party.identifier', fields: ['rec_name'] }]),
        byIdentifier,
        true,
      ],
      // Listed without a field list, reached by a pattern, or listed without its names: the
      // related model's name search is its own code, forwarded only where an operator named it.
      [exposing([{ model: 'party.party' }, { model: 'party.identifier' }]), byIdentifier, false],
      [
        exposing([
          { model: 'party.party', fields: ['name', 'identifiers'] },
          { model: 'party.identifier', fields: ['code'] },
        ]),
        byIdentifier,
        false,
      ],
      [exposing([{ model: 'party.party' }], ['model.*.*.search_count']), byIdentifier, false],
      [
        exposing([{ model: 'party.party' }, { model: 'res.user', fields: ['name'] }]),
        byUser,
        false,
      ],
      [
        exposing([{ model: 'party.party' }, { model: 'res.user', fields: ['rec_name'] }]),
        byUser,
        true,
      ],
    ] as const)
      expect((await count(policy, domain)).allowed, JSON.stringify(domain)).toBe(allowed);
  });

  it("refuses a search on the model's own rec_name unless its field list names it: its name search is the model's code", async () => {
    const byName = [['rec_name', 'ilike', '%@example.com']];
    for (const [policy, allowed] of [
      [exposing([{ model: 'party.party' }]), false],
      [exposing([], ['model.party.party.search_count']), false],
      [exposing([{ model: 'party.party', fields: ['name', 'rec_name'] }]), true],
    ] as const)
      expect((await count(policy, byName)).allowed, JSON.stringify(policy.warnings)).toBe(allowed);
    expect(await count(exposing([{ model: 'party.party' }]), [['rec_name', '=', 5]])).toMatchObject(
      {
        status: 403,
        code: 'TRYTON_FIELD_NOT_ALLOWED',
        message: expect.stringContaining('rec_name') as string,
      },
    );
  });

  it("asks for the model's relations only when a domain compares with text", async () => {
    const asked: string[] = [];
    const policy = createGatewayPolicy({
      models: [{ model: 'party.party' }],
      methodPatterns: [],
      maxSearchLimit: 100,
    });
    const lookup: RelationFields = (model) => {
      asked.push(model);
      return relationFields(model);
    };
    for (const [method, params] of [
      ['model.party.party.search', [[['create_uid', '=', 1]], {}]],
      ['model.party.party.read', [[1], ['name'], {}]],
      ['model.party.party.search_read', [[['name', '=', 'x']], 0, 10, null, ['name'], {}]],
    ] as const)
      expect((await policy.check(method, params, lookup)).allowed).toBe(true);
    expect(asked).toEqual(['party.party']);
  });
});
