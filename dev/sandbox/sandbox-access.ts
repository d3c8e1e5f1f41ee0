/**
 * The API user's access rights (Odoo's `ir.model.access`), as `check_access_rights` answers them
 * and as reads enforce them: a model loaded from a dump has the rights the dump's user had, a
 * model can be made unreadable (the sync user of a real database without Inventory rights is
 * refused `stock.valuation.layer`), and every other model allows everything. A refusal is the
 * AccessError of Odoo 17's `ir.model.access.check`, fault 4; `search`, `search_read`,
 * `search_count` and `read` check `read` on their model, and reading a one2many checks it on the
 * one2many's model (Odoo searches the comodel as the user).
 *
 * Only reading is enforced: the sandbox's writes are the tests' and Odoo's own.
 */
import type { AccessOperation, ModelSpec } from './models/field-spec.js';
import { accessError, type OdooException } from './sandbox-exceptions.js';

/** A model the API user may not touch, with what Odoo's refusal names. */
export interface SandboxDeniedModel {
  model: string;
  /** The model's `_description`, which the message quotes (default: the model's name). */
  description?: string;
  /** The groups that have the right, as `category/group` (default: none). */
  groups?: readonly string[];
}

/** What Odoo 17 refuses a user without Inventory rights (stock_account's ACL). */
export const NO_INVENTORY_RIGHTS: readonly SandboxDeniedModel[] = [
  {
    model: 'stock.valuation.layer',
    description: 'Stock Valuation Layer',
    groups: ['Inventory/Administrator'],
  },
];

const HEADS: Readonly<Record<AccessOperation, string>> = {
  read: 'You are not allowed to access',
  write: 'You are not allowed to modify',
  create: 'You are not allowed to create',
  unlink: 'You are not allowed to delete',
};

export class SandboxAccess {
  private readonly denied = new Map<string, SandboxDeniedModel>();

  deny(entry: SandboxDeniedModel): void {
    this.denied.set(entry.model, entry);
  }

  allow(model: string): void {
    this.denied.delete(model);
  }

  /** `check_access_rights(operation, raise_exception=False)`. */
  allows(spec: ModelSpec, operation: AccessOperation): boolean {
    if (this.denied.has(spec.name)) return false;
    return spec.access?.[operation] ?? true;
  }

  /** `check_access_rights(operation)`: the AccessError Odoo raises, unless allowed. */
  check(spec: ModelSpec, operation: AccessOperation): void {
    if (!this.allows(spec, operation)) throw this.refusal(spec, operation);
  }

  private refusal(spec: ModelSpec, operation: AccessOperation): OdooException {
    const entry = this.denied.get(spec.name);
    const kind = entry?.description ?? spec.description;
    const groups = entry?.groups ?? [];
    const groupInfo =
      groups.length === 0
        ? 'No group currently allows this operation.'
        : `This operation is allowed for the following groups:\n${groups.map((group) => `\t- ${group}`).join('\n')}`;
    return accessError(
      `${HEADS[operation]} '${kind}' (${spec.name}) records.\n\n${groupInfo}\n\n` +
        'Contact your administrator to request access if necessary.',
    );
  }
}
