/**
 * The rows of the Odoo conformance table (test/odoo/odoo19-conformance.test.ts) and what the
 * checks expect of them: the sandbox playing Odoo 19.0 and 20.0 and a real Odoo 19.0, each started
 * with its own setup, and `fields_get`'s attributes and values as Odoo 19 gives them (20.0
 * describes a stored field with the same attributes: docs/odoo.md, "Odoo 20.0").
 */
import { createOdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import { json2Value, startOdoo19 } from './odoo19.js';

/** What a row gives the checks. */
export interface Target {
  readonly url: string;
  readonly database: string;
  readonly username: string;
  readonly password: string;
  /** The sync user's API key. */
  readonly apiKey: string;
  /** A key that may set up anything a check needs (the sandbox's one user, Odoo's admin). */
  readonly adminKey: string;
  /** Puts the sync user in, or out of, Technical Documentation (`api_doc.group_allow_doc`). */
  setDocAccess(allowed: boolean): Promise<void>;
  /** A model the sync user may not read. */
  readonly unreadable: string;
  stop(): Promise<void>;
}

const DAY_MS = 86_400_000;

/** A column of the table: what it plays, and how it starts. */
export interface Row {
  readonly name: string;
  /** The series played: what `/web/version` answers and which methods exist. */
  readonly series: '19.0' | '20.0';
  start(): Promise<Target>;
}

/** The sandbox playing a series, set up as the real row runs. */
function sandboxRow(series: Row['series']): Row {
  return {
    name: `the sandbox as Odoo ${series}`,
    series,
    async start() {
      const sandbox = createOdooSandbox({
        serverVersion: series,
        loginCooldown: false,
        docAccess: true,
        // Odoo takes keys only; the sandbox's password-as-key convenience is off for this row.
        passwordAsApiKey: false,
        // As the real row runs (list_db = False).
        listDatabases: false,
      });
      // A key as an internal user makes one in Odoo: three months.
      const apiKey = sandbox.keys.add({ expiresAt: new Date(Date.now() + 90 * DAY_MS) });
      sandbox.control.denyRead({
        model: 'res.country',
        description: 'Country',
        groups: ['Role / Administrator'],
      });
      await sandbox.start();
      return {
        url: sandbox.url,
        database: sandbox.database,
        username: sandbox.username,
        password: sandbox.password,
        apiKey,
        adminKey: apiKey,
        setDocAccess: (allowed) => Promise.resolve(sandbox.setDocAccess(allowed)),
        unreadable: 'res.country',
        stop: () => sandbox.stop(),
      };
    },
  };
}

/**
 * The columns of the table: the sandbox playing 19.0 and 20.0, and a real Odoo 19.0. No real 20.0
 * runs here: its row is the sandbox playing what 20.0's code shows (docs/odoo.md, "Odoo 20.0").
 */
export const ROWS: readonly Row[] = [
  sandboxRow('19.0'),
  sandboxRow('20.0'),
  {
    name: 'a real Odoo 19.0',
    series: '19.0',
    async start() {
      const odoo = await startOdoo19();
      const admin = odoo.admin.apiKey;
      const [, group] = await json2Value<[string, number]>(
        odoo,
        admin,
        'ir.model.data',
        'check_object_reference',
        { module: 'api_doc', xml_id: 'group_allow_doc' },
      );
      const { uid } = await json2Value<{ uid: number }>(
        odoo,
        odoo.apiKey,
        'res.users',
        'context_get',
        {},
      );
      return {
        url: odoo.url,
        database: odoo.database,
        username: odoo.username,
        password: odoo.password,
        apiKey: odoo.apiKey,
        adminKey: admin,
        async setDocAccess(allowed) {
          await json2Value(odoo, admin, 'res.users', 'write', {
            ids: [uid],
            vals: { group_ids: [[allowed ? 4 : 3, group]] },
          });
        },
        unreadable: 'ir.config_parameter',
        stop: () => odoo.stop(),
      };
    },
  },
];

/**
 * The attributes `fields_get` gives each field type on Odoo 19.0 (`Field.get_description`), as
 * the real server gave them for `res.partner`'s fields.
 */
const BASE_ATTRIBUTES = [
  'change_default',
  'company_dependent',
  'default_export_compatible',
  'depends',
  'exportable',
  'groupable',
  'manual',
  'name',
  'readonly',
  'required',
  'searchable',
  'sortable',
  'store',
  'string',
  'type',
];
const RELATIONAL = ['allow_hierachy_operators', 'context', 'domain', 'relation'];
export const EXPECTED_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  name: [...BASE_ATTRIBUTES, 'translate', 'trim'],
  is_company: [...BASE_ATTRIBUTES, 'help'],
  parent_id: [...BASE_ATTRIBUTES, ...RELATIONAL],
  child_ids: [...BASE_ATTRIBUTES, ...RELATIONAL, 'relation_field'],
  category_id: [...BASE_ATTRIBUTES, ...RELATIONAL],
  write_date: BASE_ATTRIBUTES,
  id: BASE_ATTRIBUTES,
  customer_rank: [...BASE_ATTRIBUTES, 'aggregator'],
  comment: [
    ...BASE_ATTRIBUTES,
    'sanitize',
    'sanitize_attributes',
    'sanitize_style',
    'sanitize_tags',
    'strip_classes',
    'strip_style',
    'translate',
  ],
};
/** What the copy's layout reads of a field (docs/models.md), the same on both rows. */
export const EXPECTED_VALUES: Readonly<Record<string, Record<string, unknown>>> = {
  name: { type: 'char', store: true, required: false, readonly: false, translate: false },
  is_company: { type: 'boolean', store: true },
  parent_id: {
    type: 'many2one',
    store: true,
    relation: 'res.partner',
    allow_hierachy_operators: true,
  },
  child_ids: {
    type: 'one2many',
    store: true,
    relation: 'res.partner',
    relation_field: 'parent_id',
    domain: [['active', '=', true]],
    sortable: false,
    groupable: false,
  },
  category_id: { type: 'many2many', store: true, relation: 'res.partner.category' },
  write_date: { type: 'datetime', store: true, readonly: true, sortable: true },
  id: { type: 'integer', store: true, readonly: true },
  customer_rank: { type: 'integer', store: true, aggregator: 'sum' },
  comment: { type: 'html', store: true, sanitize: true },
};
