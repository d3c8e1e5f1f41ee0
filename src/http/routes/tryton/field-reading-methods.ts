/**
 * The Tryton RPC methods that read fields or render records without the gateway's field policy
 * seeing which fields (docs/tryton.md §3, "Methods that read fields"): no method pattern reaches
 * them, even one naming them outright. A closed list, from the `__rpc__` declarations of trytond
 * 6.0 and 7.0 (ModelStorage, ModelSQL, ModelView, fields' `set_rpc`):
 *
 * - `export_data` and `export_data_domain` read any field path (`create_uid/password_reset`);
 *   `import_data` looks related records up by any path; `history_revisions` reads users' names;
 * - `fields_view_get` describes every field of a view, listed or not; `default_get`,
 *   `pre_validate`, `on_change`, `on_change_with` and the per-field `on_change_<field>`,
 *   `on_change_with_<field>` and `autocomplete_<field>` compute values from the fields a caller
 *   sends or names; so do 7.0's `on_scan_code` and `on_change_notify`, which build a record from
 *   the caller's values as `on_change` does;
 * - 7.0's `autocomplete(text, domain, limit, order)` searches `[domain, rec_name ilike text]` and
 *   answers each record's `rec_name`. It is refused rather than checked like `search`: checking it
 *   would still answer `rec_name` past a field list (`party.party:code` would show names) and
 *   search the model's own `rec_name` code, and it gives a portal nothing `search_read` with
 *   `rec_name` does not, through the one set of checks the gateway keeps;
 * - every `report.*` method renders records (`report.res.user.email_reset_password.execute`
 *   renders a user's reset password), and every `wizard.*` method runs a wizard whose views show
 *   records and whose code reads any model.
 *
 * The read methods the policy checks (search, search_read, search_count, read, fields_get) are
 * not here: they are forwarded, through the field checks.
 */

const MODEL_METHODS: ReadonlySet<string> = new Set([
  'export_data',
  'export_data_domain',
  'import_data',
  'history_revisions',
  'fields_view_get',
  'default_get',
  'pre_validate',
  'on_change',
  'on_change_with',
  'on_change_notify',
  'on_scan_code',
  'autocomplete',
]);

/** trytond adds one RPC method per field with these (`Field.set_rpc`, `Char.set_rpc`). */
const MODEL_METHOD_PREFIXES = ['on_change_', 'autocomplete_'] as const;

/** Method types trytond dispatches (`model.`, `wizard.`, `report.`) whose every method renders. */
const RENDERING_TYPES: ReadonlySet<string> = new Set(['report', 'wizard']);

/** Whether a model method name (the last segment) reads fields outside the field policy. */
export function isFieldReadingModelMethod(name: string): boolean {
  return MODEL_METHODS.has(name) || MODEL_METHOD_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/** Whether a method type (the first segment) only has methods that render records. */
export function isRenderingMethodType(type: string): boolean {
  return RENDERING_TYPES.has(type);
}

/** Whether the gateway must refuse a method whatever pattern matches it. */
export function readsFieldsOutsideThePolicy(method: string): boolean {
  const segments = method.split('.');
  const [type] = segments;
  if (type === undefined || segments.length < 3) return false;
  if (isRenderingMethodType(type)) return true;
  return type === 'model' && isFieldReadingModelMethod(segments[segments.length - 1]!);
}
