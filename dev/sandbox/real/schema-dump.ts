/**
 * The real Odoo 17.0 `fields_get` dumps of schemas/odoo-17.0/ (their README says where they come
 * from and what each key means), read from disk on first use and kept: the sandbox's own copy of
 * what a real server answered, never derived from the sandbox's declarations.
 */
import { readFileSync } from 'node:fs';
import type { PyValue } from '../python-values.js';
import type { AccessOperation } from '../models/field-spec.js';

/** The models with a dump. */
export const DUMPED_MODELS = [
  'account.move',
  'account.move.line',
  'mail.activity',
  'mail.followers',
  'mail.message',
  'project.project',
  'project.tags',
  'project.task',
  'res.company',
  'res.country',
  'res.currency',
  'res.partner',
  'res.partner.category',
  'res.users',
] as const;

export type DumpedModel = (typeof DUMPED_MODELS)[number];

/** What `orm` says of a field beyond `fields_get`. */
export interface OrmFacts {
  readonly column: boolean;
  /** `index=`: true, or the kind of index (`btree_not_null`, `trigram`). */
  readonly index?: boolean | string;
  readonly compute?: boolean;
  readonly related?: string;
  readonly ondelete?: 'cascade' | 'set null' | 'restrict';
  readonly inverse_name?: string;
  readonly model_field?: string;
  readonly relation_table?: string;
  readonly company_dependent?: boolean;
  readonly attachment?: boolean;
}

export interface SchemaDump {
  readonly model: DumpedModel;
  readonly odoo_version: '17.0';
  readonly description: string;
  readonly log_access: boolean;
  readonly order: string;
  readonly rec_name: string;
  readonly active_field: string | null;
  readonly parent_name: string | null;
  readonly inherits: Readonly<Record<string, string>>;
  readonly mixins: readonly string[];
  readonly access: Readonly<Record<AccessOperation, boolean>>;
  /** res.users: entries `fields_get` returns whole whatever the attributes (no field behind). */
  readonly fields_get_unfiltered?: readonly string[];
  readonly orm: Readonly<Record<string, OrmFacts>>;
  readonly fields: Readonly<Record<string, Readonly<Record<string, PyValue>>>>;
}

const cache = new Map<DumpedModel, SchemaDump>();

export function isDumpedModel(model: string): model is DumpedModel {
  return (DUMPED_MODELS as readonly string[]).includes(model);
}

/** The dump of `model`, as the file holds it. */
export function schemaDump(model: DumpedModel): SchemaDump {
  let dump = cache.get(model);
  if (dump === undefined) {
    const url = new URL(`../schemas/odoo-17.0/${model}.json`, import.meta.url);
    dump = JSON.parse(readFileSync(url, 'utf8')) as SchemaDump;
    if (dump.model !== model || dump.odoo_version !== '17.0')
      throw new Error(`${url.pathname} is not the Odoo 17.0 dump of ${model}`);
    cache.set(model, dump);
  }
  return dump;
}
