/**
 * Which wire the client speaks, and why: the configured protocol, or with `auto` the one the
 * server's version and the credentials call for. Pure: the client reads the version once per
 * process and keeps the answer.
 *
 * Odoo 19 deprecates the XML-RPC and JSON-RPC `common`/`object` services (each call logs a
 * deprecation warning in Odoo's log; removal is planned for Odoo 22 / Online 21.1) in favour of
 * JSON-2, which authenticates with an API key only. So: JSON-2 from 19.0 when a key is
 * configured; JSON-RPC below 19 (cheaper to decode than XML-RPC, same semantics) and on 19+ with
 * only a password, with a warning; XML-RPC only when asked for.
 */
import type { OdooProtocol, OdooTransportChoice, OdooVersion } from './odoo-types.js';

export type { OdooProtocolSetting, OdooTransportChoice } from './odoo-types.js';
import { majorVersion } from './server-version.js';

/** The first series that serves JSON-2 and deprecates the RPC services. */
export const JSON2_SINCE_MAJOR = 19;

/** The choice for an explicit protocol: no version needed. */
export function configuredChoice(protocol: OdooProtocol): OdooTransportChoice {
  return { protocol, requested: protocol, reason: `ODOO_PROTOCOL=${protocol}` };
}

/** Odoo's API keys are 20 random bytes in hex: a "password" of that shape is most likely one. */
const API_KEY_SHAPE = /^[0-9a-f]{40}$/;

/** The choice of `auto` for this server version and these credentials. */
export function chooseTransport(
  version: OdooVersion,
  credentials: { hasApiKey: boolean; password: string },
): OdooTransportChoice {
  const major = majorVersion(version);
  const serverVersion = version.serverVersion || (major === undefined ? 'unknown' : `${major}.0`);
  const base = { requested: 'auto' as const, serverVersion };
  if (major === undefined)
    return {
      ...base,
      protocol: 'jsonrpc',
      reason: `ODOO_PROTOCOL=auto: Odoo's version (${serverVersion}) is not one erp-bridge can read; JSON-RPC works on every series`,
    };
  if (major < JSON2_SINCE_MAJOR)
    return {
      ...base,
      protocol: 'jsonrpc',
      reason: `ODOO_PROTOCOL=auto: Odoo ${serverVersion} has no JSON-2 (Odoo 19+); JSON-RPC`,
    };
  if (credentials.hasApiKey)
    return {
      ...base,
      protocol: 'json2',
      reason: `ODOO_PROTOCOL=auto: Odoo ${serverVersion} with an API key (ODOO_API_KEY); JSON-2`,
    };
  const looksLikeKey = API_KEY_SHAPE.test(credentials.password)
    ? ' ODOO_PASSWORD looks like an API key already: set it as ODOO_API_KEY instead.'
    : '';
  return {
    ...base,
    protocol: 'jsonrpc',
    reason: `ODOO_PROTOCOL=auto: Odoo ${serverVersion} without an API key; JSON-RPC (deprecated by Odoo ${JSON2_SINCE_MAJOR})`,
    deprecationWarning:
      `Odoo ${serverVersion} logs every JSON-RPC and XML-RPC call of erp-bridge as deprecated ` +
      '(these services are removed in Odoo 22 and Odoo Online 21.1). Create an API key for the sync ' +
      'user (Odoo: Preferences → Account Security → New API Key) and set it as ODOO_API_KEY: ' +
      `erp-bridge then uses JSON-2 (docs/odoo.md, "API key").${looksLikeKey}`,
  };
}
