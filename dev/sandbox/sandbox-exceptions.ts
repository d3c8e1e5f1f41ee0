/**
 * Python exceptions as the sandbox raises them, and how each wire reports them.
 *
 * Real Odoo classifies by exception class: on `/xmlrpc/2`, AccessDenied → fault 3, AccessError
 * → fault 4, the UserError family (UserError, ValidationError, MissingError…) → fault 2 with the
 * bare message, anything else → fault 1 with the full traceback; `/jsonrpc` sends the class
 * name in `error.data.name`; JSON-2 answers with the exception's HTTP status.
 */

/** The families that decide an exception's fault code and HTTP status. */
export type ExceptionFamily = 'access_denied' | 'access_error' | 'user_error' | 'server' | 'http';

/** A Python exception raised inside an emulated Odoo call. */
export class OdooException extends Error {
  constructor(
    /** Qualified Python class, e.g. `odoo.exceptions.UserError`, `builtins.ValueError`. */
    readonly pythonClass: string,
    message: string,
    readonly family: ExceptionFamily,
    /** JSON-2 status (UserError.http_status, werkzeug's code, or 500). */
    readonly httpStatus: number,
  ) {
    super(message);
    this.name = pythonClass;
  }

  /** The class name as a traceback's last line shows it (`ValueError`, `odoo.exceptions.UserError`). */
  get tracebackName(): string {
    return this.pythonClass.startsWith('builtins.')
      ? this.pythonClass.slice('builtins.'.length)
      : this.pythonClass;
  }

  /** `traceback.format_exception` of this exception, raised from a plausible call stack. */
  traceback(): string {
    return (
      'Traceback (most recent call last):\n' +
      '  File "/usr/lib/python3/dist-packages/odoo/addons/rpc/controllers/xmlrpc.py", line 160, in xmlrpc_2\n' +
      '    response = self._xmlrpc(service)\n' +
      '  File "/usr/lib/python3/dist-packages/odoo/addons/rpc/controllers/xmlrpc.py", line 139, in _xmlrpc\n' +
      '    result = dispatch_rpc(service, method, params)\n' +
      '  File "/usr/lib/python3/dist-packages/odoo/http.py", line 432, in dispatch_rpc\n' +
      '    return dispatch(method, params)\n' +
      '  File "/usr/lib/python3/dist-packages/odoo/service/model.py", line 68, in dispatch\n' +
      '    res = execute_kw(db, uid, *params[3:])\n' +
      '  File "/usr/lib/python3/dist-packages/odoo/service/model.py", line 94, in execute_kw\n' +
      '    return execute(db, uid, obj, method, *args, **kw or {})\n' +
      '  File "/usr/lib/python3/dist-packages/odoo/service/model.py", line 101, in execute\n' +
      '    res = execute_cr(cr, uid, obj, method, *args, **kw)\n' +
      `${this.tracebackName}: ${this.message}\n`
    );
  }
}

export function userError(message: string): OdooException {
  return new OdooException('odoo.exceptions.UserError', message, 'user_error', 422);
}

export function validationError(message: string): OdooException {
  return new OdooException('odoo.exceptions.ValidationError', message, 'user_error', 422);
}

export function missingError(message: string): OdooException {
  return new OdooException('odoo.exceptions.MissingError', message, 'user_error', 404);
}

export function accessDenied(): OdooException {
  return new OdooException('odoo.exceptions.AccessDenied', 'Access Denied', 'access_denied', 403);
}

export function accessError(message: string): OdooException {
  return new OdooException('odoo.exceptions.AccessError', message, 'access_error', 403);
}

/** A Python built-in exception (`ValueError`, `TypeError`, `AttributeError`…): fault 1. */
export function pythonError(className: string, message: string): OdooException {
  return new OdooException(`builtins.${className}`, message, 'server', 500);
}

/** A server exception from a module (`psycopg2.errors.SerializationFailure`): fault 1. */
export function moduleError(qualifiedClass: string, message: string): OdooException {
  return new OdooException(qualifiedClass, message, 'server', 500);
}

/** A werkzeug HTTP exception (JSON-2's NotFound, UnprocessableEntity, Unauthorized). */
export function httpException(status: 401 | 404 | 422 | 400, message: string): OdooException {
  const names = {
    400: 'BadRequest',
    401: 'Unauthorized',
    404: 'NotFound',
    422: 'UnprocessableEntity',
  } as const;
  return new OdooException(`werkzeug.exceptions.${names[status]}`, message, 'http', status);
}

/** The XML-RPC `/xmlrpc/2` fault of an exception: `[faultCode, faultString]`. */
export function toXmlRpcFault(exception: OdooException): [number, string] {
  switch (exception.family) {
    case 'access_denied':
      return [3, exception.message];
    case 'access_error':
      return [4, exception.message];
    case 'user_error':
      return [2, exception.message];
    default:
      return [1, exception.traceback()];
  }
}

/**
 * `odoo.http.serialize_exception`: the JSON-RPC `error.data` and the JSON-2 error body (a
 * werkzeug exception's arguments are its description and its status, as `Json2Dispatcher` gives them).
 */
export function serializeException(exception: OdooException): Record<string, unknown> {
  return {
    name: exception.pythonClass,
    message: exception.message,
    arguments:
      exception.family === 'http' ? [exception.message, exception.httpStatus] : [exception.message],
    context: {},
    debug: exception.traceback(),
  };
}

/** Wraps any thrown value as the Python exception Odoo would have reported. */
export function asOdooException(error: unknown): OdooException {
  if (error instanceof OdooException) return error;
  const message = error instanceof Error ? error.message : String(error);
  return pythonError('RuntimeError', message);
}
