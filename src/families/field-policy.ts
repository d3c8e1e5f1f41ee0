/**
 * Which of a model's stored fields the copy may hold without being told: not its secrets, not its
 * binaries, and nothing whose name could not be an identifier. One list for the families declared
 * in code and those declared in a file (docs/models.md, "Fields left out").
 *
 * A secret is a field whose value lets its holder act as someone: a portal link's token, a signup
 * or password-reset token, a password, a TOTP seed, an API key. Odoo's own models name them so
 * (`account.move.access_token`, `res.partner.signup_token`, `res.users.password`, `totp_secret`,
 * `res.users.apikeys`), and so do most modules — and Odoo's own credentials: an outgoing mail
 * server's `smtp_pass`, a payment provider's `*_secret_key` and `*_hmac_key`, a cloud storage's
 * `*_rtoken`, an employee's `pin`. A reader of the copy must never see one: the API serves
 * `data` whole. Beyond names, a field Odoo restricts to its administrators (`groups` in
 * `fields_get`: Settings, Access Rights) is a setting of theirs, not business data, and is left
 * out the same way unless named.
 */

/** Names of the fields that hold secrets, as patterns on the whole name. */
export const SECRET_FIELD_PATTERNS: readonly RegExp[] = [
  /^password$/,
  /^new_password$/,
  /^access_token$/,
  /^signup_token$/,
  /_token$/,
  /_secret$/,
  /^secret$/,
  /^totp_/,
  /^api_key/,
  /_api_key$/,
  /_password$/,
  /_pass$/,
  /_passwd$/,
  /_secret_key$/,
  /(^|_)private_key$/,
  /_hmac_key$/,
  /^hmac_key$/,
  /_rtoken$/,
  /^pin$/,
];

/** Odoo's groups of its administrators: a field only they may read is theirs (settings). */
const ADMIN_GROUPS = new Set(['base.group_system', 'base.group_erp_manager']);

/** Whether `fields_get`'s `groups` restricts a field to Odoo's administrators alone. */
export function isAdminOnlyField(groups: unknown): boolean {
  if (typeof groups !== 'string' || groups.trim() === '') return false;
  // `!group` excludes a group: a field hidden from some is not restricted to the administrators.
  const listed = groups.split(',').map((group) => group.trim());
  return listed.every((group) => ADMIN_GROUPS.has(group));
}

/** Whether a field holds a secret by its name. */
export function isSecretField(name: string): boolean {
  return SECRET_FIELD_PATTERNS.some((pattern) => pattern.test(name));
}

/** What an Odoo field name must be for the copy to hold it: it becomes a column's name. */
export const FIELD_NAME = /^[a-z_][a-z0-9_]*$/;

/** What an Odoo model name must be (`res.partner`, `x_cylinder`). */
export const MODEL_NAME = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/;

/** Why a stored field is not copied, as `migrate` says it. */
export interface LeftOutField {
  readonly model: string;
  readonly field: string;
  readonly reason: string;
}
