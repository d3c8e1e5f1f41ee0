/**
 * The calls on Odoo's `res.users.apikeys` the key's lifecycle makes: the expiry of the user's
 * own keys (18.0+; what `search_read` shows of them, never their value), and Odoo 19's
 * programmatic `generate(key, scope, name, expiration_date)` and `revoke(key)`. `generate` is
 * never retried: a timed-out attempt may have made a key, and a second would make another.
 */
import { isOdooError, type OdooClient } from '../clients/odoo/index.js';

/** Odoo's datetime form, UTC. */
function odooDatetime(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

/** Odoo's answers that it cannot say when keys lapse: no such field (17.0), no access to keys. */
const ODOO_CANNOT_TELL = ['ODOO_ACCESS', 'ODOO_USER_ERROR', 'ODOO_SERVER_FAULT'] as const;

/**
 * When the user's RPC keys lapse: the soonest expiry among the live keys usable for RPC (scope
 * none or `rpc`) — the key in use is one of them, and Odoo cannot say which (a key is known by
 * its value only). `null`: none lapses; undefined when Odoo cannot tell (17.0, no access).
 * @throws OdooError when Odoo gave no answer (a timeout, Odoo away): not knowing is not "Odoo
 * cannot tell", and the check that asked is tried again
 */
export async function soonestKeyExpiry(
  odoo: OdooClient,
  signal?: AbortSignal,
): Promise<{ expiresAt: Date | null; keys: number } | undefined> {
  const uid = await odoo.authenticate({ signal });
  const keys = await odoo
    .searchRead(
      'res.users.apikeys',
      [['user_id', '=', uid]],
      { fields: ['scope', 'expiration_date'], order: 'id' },
      { signal },
    )
    .catch((error: unknown) => {
      if (ODOO_CANNOT_TELL.some((code) => isOdooError(error, code))) return undefined;
      throw error;
    });
  if (keys === undefined) return undefined;
  const now = Date.now();
  const dates = keys
    .filter((key) => key.scope === false || key.scope === 'rpc')
    .map((key) =>
      typeof key.expiration_date === 'string'
        ? new Date(`${key.expiration_date.replace(' ', 'T')}Z`)
        : null,
    )
    .filter((date) => date === null || date.getTime() >= now);
  if (dates.length === 0) return undefined;
  const lapsing = dates.filter((date): date is Date => date !== null);
  return {
    expiresAt: lapsing.length === 0 ? null : new Date(Math.min(...lapsing.map((d) => d.getTime()))),
    keys: dates.length,
  };
}

/**
 * A new key from `key`, of the `rpc` scope, lapsing at `expiresAt`. The scope is named: Odoo 20
 * requires one (it fails a call without one, and checks the key against it), and an Odoo 19 key
 * of no scope makes keys of any (docs/odoo.md, "API key").
 */
export function generateKey(
  odoo: OdooClient,
  input: { key: string; name: string; expiresAt: Date },
  signal?: AbortSignal,
): Promise<string> {
  return odoo.executeKw<string>(
    'res.users.apikeys',
    'generate',
    [],
    {
      key: input.key,
      scope: 'rpc',
      name: input.name,
      expiration_date: odooDatetime(input.expiresAt),
    },
    { signal, retries: 0 },
  );
}

export async function revokeKey(
  odoo: OdooClient,
  key: string,
  signal?: AbortSignal,
): Promise<void> {
  await odoo.executeKw('res.users.apikeys', 'revoke', [], { key }, { signal, retries: 0 });
}
