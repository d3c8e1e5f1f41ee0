/**
 * Defaults of a model loaded from a dump, for a record created without them. The dump says which
 * fields are required, not what their `default=` is: a required many2one takes the target's
 * first record (the company, its currency, the first journal — what Odoo's defaults pick on a
 * one-company database), a required selection its first value, a date today, a datetime now; an
 * archive field starts active. A required text has no default here, as in Odoo (a contact's
 * name): the caller gives it or the create fails. Some of the mail models' own defaults are known.
 */
import type { ModelSpec } from '../models/field-spec.js';
import type { ModelRules } from '../rules/model-rules.js';
import { formatOdooDate } from '../sandbox-time.js';
import { MESSAGE_MODEL } from './mail-threads.js';

/** Odoo's `default=` of fields the mail models do not require but always fill. */
const KNOWN_DEFAULTS: Readonly<Record<string, (nowMicros: number) => Record<string, unknown>>> = {
  [MESSAGE_MODEL]: (nowMicros) => ({
    message_type: 'comment',
    date: Math.floor(nowMicros / 1_000_000) * 1_000_000,
    body: '',
    email_add_signature: true,
  }),
};

export function requiredDefaults(spec: ModelSpec): ModelRules {
  return {
    defaults(given, ctx) {
      const values: Record<string, unknown> = {
        ...(Object.hasOwn(KNOWN_DEFAULTS, spec.name)
          ? KNOWN_DEFAULTS[spec.name]?.(ctx.tx.nowMicros)
          : {}),
      };
      for (const field of spec.fields) {
        const missing = given[field.name] === undefined || given[field.name] === null;
        if (!missing || field.name in values) continue;
        if (field.name === 'active' && field.type === 'boolean') values.active = true;
        if (field.required !== true) continue;
        switch (field.type) {
          case 'many2one': {
            const target = ctx.tables.table(field.relation as string);
            const first = target?.ids.find((id) => target.rows.get(id)?.active !== false);
            if (first !== undefined) values[field.name] = first;
            break;
          }
          case 'selection':
            if (field.selection?.[0] !== undefined) values[field.name] = field.selection[0][0];
            break;
          case 'date':
            values[field.name] = formatOdooDate(ctx.tx.nowMicros);
            break;
          case 'datetime':
            values[field.name] = ctx.tx.nowMicros;
            break;
          default:
        }
      }
      return values;
    },
  };
}
