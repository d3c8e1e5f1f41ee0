/**
 * The JSON-2 transport (Odoo 19+): `POST /json/2/<model>/<method>` with a bearer API key,
 * named arguments only, one transaction per call, errors as real HTTP statuses with a JSON body
 * (`serialize_exception`: name, message, debug…).
 *
 * JSON-2 has no login: `authenticate` asks `res.users/context_get` for the key's uid, which also
 * proves the key. Positional arguments of the methods the client uses are renamed to Odoo's
 * parameter names here, so callers keep `execute_kw`'s shape whatever the wire.
 */
import { OdooError, faultToError, isRetryableHttpStatus } from './odoo-errors.js';
import { decodeAnswer } from './large-texts.js';
import {
  bodyExcerpt,
  httpStatusError,
  isHtmlResponse,
  retryAfterMsOf,
  sendOdooRequest,
  splitUrl,
  takeBodyText,
  type OdooHttpResponse,
  type OdooTransportSettings,
} from './odoo-http.js';
import {
  faultCodeForExceptionName,
  faultTextOf,
  type OdooJsonErrorData,
} from './jsonrpc-transport.js';
import type { OdooRequestOptions, OdooTransport } from './odoo-types.js';
import { readWebVersion } from './server-version.js';

/**
 * Parameter names of the ORM methods, in positional order. `ids` first marks a method called on
 * records (JSON-2 takes those as `ids`); the others are `@api.model`.
 */
const PARAMETER_NAMES: Readonly<Record<string, readonly string[]>> = {
  search_read: ['domain', 'fields', 'offset', 'limit', 'order'],
  search: ['domain', 'offset', 'limit', 'order'],
  search_count: ['domain', 'limit'],
  search_fetch: ['domain', 'field_names', 'offset', 'limit', 'order'],
  fields_get: ['allfields', 'attributes'],
  create: ['vals_list'],
  name_search: ['name', 'domain', 'operator', 'limit'],
  default_get: ['fields_list'],
  context_get: [],
  check_access_rights: ['operation', 'raise_exception'],
  has_access: ['ids', 'operation'],
  read: ['ids', 'fields', 'load'],
  web_read: ['ids', 'specification'],
  write: ['ids', 'vals'],
  unlink: ['ids'],
  copy: ['ids', 'default'],
  exists: ['ids'],
  action_archive: ['ids'],
  action_unarchive: ['ids'],
};

/** `execute_kw`'s positional args and kwargs → JSON-2's named body. */
export function toNamedArguments(
  model: string,
  method: string,
  args: readonly unknown[],
  kwargs: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const names = PARAMETER_NAMES[method];
  if (names === undefined) {
    // Unknown signature: only ids (a list of numbers) can be placed without guessing.
    if (args.length > 1 || (args.length === 1 && !isIdList(args[0]))) {
      throw new OdooError(
        'ODOO_PROTOCOL',
        `${model}.${method}: JSON-2 takes named arguments only; pass them in kwargs`,
      );
    }
    if (args.length === 1) body.ids = args[0];
  } else {
    if (args.length > names.length) {
      throw new OdooError(
        'ODOO_PROTOCOL',
        `${model}.${method}: too many positional arguments for JSON-2`,
      );
    }
    args.forEach((value, index) => {
      body[names[index] as string] = value;
    });
  }
  for (const [name, value] of Object.entries(kwargs)) {
    if (value !== undefined) body[name] = value;
  }
  return body;
}

function isIdList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((id) => typeof id === 'number');
}

export function createJson2Transport(settings: OdooTransportSettings): OdooTransport {
  const { origin, basePath } = splitUrl(settings.url);
  const { database, secret, dispatcher } = settings;

  async function post(
    model: string,
    method: string,
    body: Record<string, unknown>,
    options: OdooRequestOptions,
  ): Promise<unknown> {
    const label = `${model}.${method}`;
    const response = await sendOdooRequest(
      dispatcher,
      origin,
      {
        method: 'POST',
        path: `${basePath}/json/2/${encodeURIComponent(model)}/${encodeURIComponent(method)}`,
        headers: {
          authorization: `bearer ${secret()}`,
          'x-odoo-database': database,
          'content-type': 'application/json',
          accept: 'application/json',
          'user-agent': 'erp-bridge',
        },
        body: JSON.stringify(body),
      },
      label,
      options,
    );
    if (isHtmlResponse(response)) {
      if (response.status !== 200) throw httpStatusError(response, label, 'JSON', true);
      throw new OdooError('ODOO_PROTOCOL', `${label}: HTML page (HTTP 200) instead of JSON`, {
        retryable: true,
        httpStatus: 200,
      });
    }
    if (response.status === 200) {
      if (options.largeTexts === undefined) return parsedAnswer(takeBodyText(response), label);
      return decodeAnswer(response, 'json', options.largeTexts, (body) =>
        parsedAnswer(body.toString('utf8'), label),
      );
    }
    let parsed: unknown;
    try {
      // An error's body stays for its message.
      parsed = JSON.parse(response.body.toString('utf8'));
    } catch {
      throw httpStatusError(response, label, 'JSON', false);
    }
    throw json2Error(label, parsed, response);
  }

  function parsedAnswer(text: string, label: string): unknown {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new OdooError('ODOO_PROTOCOL', `${label}: the JSON-2 answer is not valid JSON`, {
        cause: error,
        retryable: true,
      });
    }
  }

  function json2Error(label: string, parsed: unknown, response: OdooHttpResponse): OdooError {
    const { status, body } = response;
    const retryAfterMs = retryAfterMsOf(response);
    const waitAsked = retryAfterMs === undefined ? {} : { retryAfterMs };
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      return new OdooError('ODOO_HTTP', `${label}: HTTP ${status}: ${bodyExcerpt(body)}`, {
        httpStatus: status,
        safeMessage: `${label}: HTTP ${status}`,
        retryable: isRetryableHttpStatus(status),
        ...waitAsked,
      });
    }
    const data = parsed as OdooJsonErrorData;
    if (isRetryableHttpStatus(status)) {
      return new OdooError(
        'ODOO_HTTP',
        `${label}: HTTP ${status}: ${data.message ?? bodyExcerpt(body)}`,
        {
          httpStatus: status,
          safeMessage: `${label}: HTTP ${status}`,
          retryable: true,
          ...waitAsked,
        },
      );
    }
    // 401 is the bearer check (Unauthorized "Invalid apikey"), 403 AccessError/AccessDenied;
    // werkzeug's 4xx (NotFound for an unknown model or method, UnprocessableEntity for bad
    // arguments) are the caller's mistakes like a UserError; 500 is a server exception.
    let faultCode = faultCodeForExceptionName(data.name ?? '');
    if (status === 401) faultCode = 3;
    // The bearer key was checked before the method ran (a refusal is the 401 above): an
    // AccessDenied the method raises itself (revoking a key that is no longer valid) refuses the
    // call, not erp-bridge's credentials, and must not start the refusal cooldown.
    else if (faultCode === 3) faultCode = 4;
    else if (faultCode === 1 && status >= 400 && status < 500) faultCode = status === 403 ? 4 : 2;
    return faultToError(
      label,
      faultCode,
      faultTextOf(data, faultCode, `HTTP ${status}`),
      secret(),
      { httpStatus: status },
    );
  }

  return {
    protocol: 'json2',
    async version(options) {
      const version = await readWebVersion(dispatcher, settings.url, options);
      if (version === undefined)
        throw new OdooError(
          'ODOO_HTTP',
          'web.version: Odoo answered 404 (is it Odoo 19 or later?)',
          {
            httpStatus: 404,
          },
        );
      return version;
    },
    async authenticate(options) {
      try {
        const context = await post('res.users', 'context_get', {}, options);
        const uid = (context as { uid?: unknown } | null)?.uid;
        if (typeof uid !== 'number')
          throw new OdooError('ODOO_PROTOCOL', 'res.users.context_get: no uid in the context');
        return uid;
      } catch (error) {
        // The same contract as XML-RPC's authenticate: refused credentials are an answer.
        if (error instanceof OdooError && error.code === 'ODOO_AUTH') return false;
        throw error;
      }
    },
    executeKw(_uid, model, method, args, kwargs, options) {
      const body = toNamedArguments(model, method, args, kwargs);
      const singleCreate =
        method === 'create' &&
        typeof args[0] === 'object' &&
        args[0] !== null &&
        !Array.isArray(args[0]);
      const result = post(model, method, body, options);
      // JSON-2 turns every recordset into ids; execute_kw answers create({...}) with one id.
      return singleCreate
        ? result.then((ids) => (Array.isArray(ids) && ids.length === 1 ? (ids[0] as unknown) : ids))
        : result;
    },
  };
}
