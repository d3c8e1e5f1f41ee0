/**
 * Which Tryton RPC methods only read: the client replays them after a timeout, and the gateway
 * may cache their answers. Everything else (`create`, `write`, `delete`, `copy`, buttons,
 * wizards, `device.renew`…) may have committed when its answer was lost, so it is neither
 * replayed after a timeout nor cached (docs/tryton.md §3).
 *
 * Deliberately a closed list: a method missing here is merely not retried, while a write listed
 * here by mistake could run twice.
 */

const READ_ONLY_MODEL_METHODS: ReadonlySet<string> = new Set([
  'search',
  'search_read',
  'search_count',
  'read',
  'fields_get',
  'fields_view_get',
  'view_toolbar_get',
  'default_get',
]);

const READ_ONLY_METHODS: ReadonlySet<string> = new Set([
  'common.server.version',
  'common.db.list',
  'system.listMethods',
  'model.res.user.get_preferences',
  'model.ir.date.today',
]);

/** True for methods that change nothing on the server, so replaying or caching them is safe. */
export function isReadOnlyTrytonMethod(method: string): boolean {
  if (READ_ONLY_METHODS.has(method)) return true;
  if (!method.startsWith('model.')) return false;
  const lastDot = method.lastIndexOf('.');
  // `model.<model name>.<method>`: the model name has at least one segment.
  return lastDot > 'model.'.length && READ_ONLY_MODEL_METHODS.has(method.slice(lastDot + 1));
}
