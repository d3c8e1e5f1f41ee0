/**
 * The JSON-RPC transport: Odoo's `/jsonrpc` route, the same `common`/`object` services and
 * `execute_kw` semantics as XML-RPC, in JSON bodies (`JSON.parse` is far cheaper than any XML
 * decoding).
 *
 * Odoo answers errors with HTTP 200 and an `error` object whose `data.name` is the Python
 * exception's class; we map those names to the XML-RPC faultCodes first, so an error is
 * classified the same whatever the wire.
 */
import { OdooError, faultToError } from './odoo-errors.js';
import { decodeAnswer } from './large-texts.js';
import {
  checkHttpResponse,
  sendOdooRequest,
  splitUrl,
  takeBodyText,
  type OdooTransportSettings,
} from './odoo-http.js';
import type { OdooRequestOptions, OdooTransport } from './odoo-types.js';
import { createServiceTransport } from './service-transport.js';

/** The `data` of an Odoo JSON error (`serialize_exception`), also JSON-2's error body. */
export interface OdooJsonErrorData {
  name?: string;
  message?: string;
  debug?: string;
  arguments?: unknown[];
  context?: unknown;
}

const USER_ERROR_NAMES = new Set([
  'UserError',
  'ValidationError',
  'MissingError',
  'RedirectWarning',
  'LockError',
  'Warning',
  'except_orm',
]);

/**
 * The XML-RPC faultCode Odoo would have sent for an exception class name (as in
 * `xmlrpc_handle_exception_int`): 3 AccessDenied, 4 AccessError, 2 the UserError family,
 * 1 anything else.
 */
export function faultCodeForExceptionName(name: string): 1 | 2 | 3 | 4 {
  const short = name.slice(name.lastIndexOf('.') + 1);
  if (name.startsWith('odoo.exceptions.') || !name.includes('.')) {
    if (short === 'AccessDenied') return 3;
    if (short === 'AccessError') return 4;
    if (USER_ERROR_NAMES.has(short)) return 2;
  }
  return 1;
}

/** The text a fault carries: the message for user-facing errors, the traceback for the rest. */
export function faultTextOf(data: OdooJsonErrorData, faultCode: number, fallback: string): string {
  if (faultCode === 1 && typeof data.debug === 'string' && data.debug.trim() !== '')
    return data.debug;
  if (typeof data.message === 'string' && data.message !== '') return data.message;
  return fallback;
}

export function createJsonRpcTransport(settings: OdooTransportSettings): OdooTransport {
  const { origin, basePath } = splitUrl(settings.url);
  const { database, username, secret, dispatcher } = settings;
  let nextId = 1;

  async function call(
    service: 'common' | 'object',
    method: string,
    args: unknown[],
    label: string,
    options: OdooRequestOptions,
  ): Promise<unknown> {
    const id = nextId++;
    const response = await sendOdooRequest(
      dispatcher,
      origin,
      {
        method: 'POST',
        path: `${basePath}/jsonrpc`,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'user-agent': 'erp-bridge',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          method: 'call',
          params: { service, method, args },
          id,
        }),
      },
      label,
      options,
    );
    checkHttpResponse(response, label, 'JSON-RPC');
    if (options.largeTexts === undefined) return resultOf(takeBodyText(response), label);
    return decodeAnswer(response, 'json', options.largeTexts, (body) =>
      resultOf(body.toString('utf8'), label),
    );
  }

  /** The answer's result, or the error it carries. */
  function resultOf(text: string, label: string): unknown {
    let envelope: {
      jsonrpc?: unknown;
      result?: unknown;
      error?: { code?: unknown; message?: unknown; data?: OdooJsonErrorData };
    };
    try {
      envelope = JSON.parse(text) as typeof envelope;
    } catch (error) {
      throw new OdooError('ODOO_PROTOCOL', `${label}: the JSON-RPC answer is not valid JSON`, {
        cause: error,
        retryable: true,
      });
    }
    if (typeof envelope !== 'object' || envelope === null) {
      throw new OdooError('ODOO_PROTOCOL', `${label}: the JSON-RPC answer is not an object`);
    }
    if (envelope.error !== undefined && envelope.error !== null) {
      const error = envelope.error;
      // Odoo's NotFound (code 404): the route is gated off (19+: rpc.use_deprecated_services).
      if (error.code === 404) {
        throw new OdooError(
          'ODOO_HTTP',
          `${label}: Odoo answered 404 on /jsonrpc (is the JSON-RPC endpoint enabled?)`,
          {
            httpStatus: 404,
          },
        );
      }
      const data = error.data ?? {};
      const faultCode = faultCodeForExceptionName(data.name ?? '');
      throw faultToError(
        label,
        faultCode,
        faultTextOf(
          data,
          faultCode,
          typeof error.message === 'string' ? error.message : 'unknown error',
        ),
        secret(),
      );
    }
    if ('result' in envelope) return envelope.result;
    // Odoo's answer to a method that returned None (`action_archive`) leaves `result` out.
    if (envelope.jsonrpc === '2.0') return null;
    throw new OdooError('ODOO_PROTOCOL', `${label}: JSON-RPC answer without result or error`);
  }

  return createServiceTransport('jsonrpc', { database, username, secret }, call);
}
