/**
 * The server's version without logging in, read the way each Odoo series offers it: `GET
 * /web/version` from 18.0 on, and before that the JSON-RPC route `/web/webclient/version_info`
 * (17.0 has no `/web/version`; the older route still answers on 18 and 19). Both need no
 * credentials, so the transport can be chosen before the first authenticated call.
 *
 * It is not the transports' `version()` (`common.version` over RPC): this reads what any Odoo
 * serves, whatever the protocol later chosen.
 */
import { OdooError } from './odoo-errors.js';
import {
  checkHttpResponse,
  httpStatusError,
  isHtmlResponse,
  sendOdooRequest,
  splitUrl,
  toVersion,
} from './odoo-http.js';
import type { OdooRequestOptions, OdooVersion } from './odoo-types.js';
import type { Dispatcher } from 'undici';

const HEADERS = { accept: 'application/json', 'user-agent': 'erp-bridge' };

/** `/web/version`'s `{version, version_info}` → {@link OdooVersion}. */
export function toWebVersion(raw: unknown, label: string): OdooVersion {
  if (typeof raw !== 'object' || raw === null)
    throw new OdooError('ODOO_PROTOCOL', `${label}: unexpected answer`);
  const { version, version_info: info } = raw as { version?: unknown; version_info?: unknown };
  return {
    serverVersion: typeof version === 'string' ? version : '',
    versionInfo: Array.isArray(info) ? (info as Array<number | string>) : [],
  };
}

function parseJson(body: Buffer, label: string): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new OdooError('ODOO_PROTOCOL', `${label}: the answer is not valid JSON`, {
      cause: error,
      retryable: true,
    });
  }
}

/** `GET /web/version` (Odoo 18+); undefined when the route does not exist (404). */
export async function readWebVersion(
  dispatcher: Dispatcher,
  url: string,
  options: OdooRequestOptions,
): Promise<OdooVersion | undefined> {
  const { origin, basePath } = splitUrl(url);
  const label = 'web.version';
  const response = await sendOdooRequest(
    dispatcher,
    origin,
    { method: 'GET', path: `${basePath}/web/version`, headers: HEADERS },
    label,
    options,
  );
  if (response.status === 404) return undefined;
  if (response.status !== 200)
    throw httpStatusError(response, label, 'JSON', isHtmlResponse(response));
  return toWebVersion(parseJson(response.body, label), label);
}

/** `POST /web/webclient/version_info` (a JSON-RPC route of every series, 17.0 included). */
export async function readVersionInfo(
  dispatcher: Dispatcher,
  url: string,
  options: OdooRequestOptions,
): Promise<OdooVersion> {
  const { origin, basePath } = splitUrl(url);
  const label = 'web.webclient.version_info';
  const response = await sendOdooRequest(
    dispatcher,
    origin,
    {
      method: 'POST',
      path: `${basePath}/web/webclient/version_info`,
      headers: { ...HEADERS, 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'call', params: {}, id: 1 }),
    },
    label,
    options,
  );
  checkHttpResponse(response, label, 'JSON-RPC');
  const envelope = parseJson(response.body, label) as { result?: unknown } | null;
  if (envelope === null || typeof envelope !== 'object' || !('result' in envelope))
    throw new OdooError('ODOO_PROTOCOL', `${label}: JSON-RPC answer without a result`);
  return toVersion(envelope.result);
}

/** The version as the newest route the server has gives it. */
export async function readServerVersion(
  dispatcher: Dispatcher,
  url: string,
  options: OdooRequestOptions,
): Promise<OdooVersion> {
  return (
    (await readWebVersion(dispatcher, url, options)) ?? readVersionInfo(dispatcher, url, options)
  );
}

/** The major version: 19 of `[19, 0, 0, 'final', 0, '']`, 18 of `['saas~18', 4, …]`. */
export function majorVersion(version: OdooVersion): number | undefined {
  const first = version.versionInfo[0];
  if (typeof first === 'number') return first;
  const match = /(\d+)/.exec(typeof first === 'string' ? first : version.serverVersion);
  return match ? Number(match[1]) : undefined;
}
