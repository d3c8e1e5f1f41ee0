/**
 * What `migrate` asks Odoo of a configured family's models, answered from recorded `fields_get`
 * answers, for tests that need a family's tables without an Odoo: the sync user may read every
 * model.
 */
import type { OdooFieldDescription } from '../../src/clients/odoo/odoo-types.js';

type Fields = Readonly<Record<string, OdooFieldDescription>>;

/** A stored field as `fields_get` describes it. */
export const storedField = (type: string, more: Partial<OdooFieldDescription> = {}) =>
  ({ type, store: true, ...more }) as OdooFieldDescription;

/** `fields` by model, or one answer for every model. */
export function schemaAnswers(fields: Readonly<Record<string, Fields>> | Fields, byModel = true) {
  return {
    fieldsGet: (model: string) =>
      Promise.resolve(
        byModel ? ((fields as Record<string, Fields>)[model] ?? {}) : (fields as Fields),
      ),
    canRead: () => Promise.resolve(true),
  };
}
