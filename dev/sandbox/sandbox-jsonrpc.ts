/**
 * `/jsonrpc`: the same services as XML-RPC in a JSON-RPC 2.0 envelope; Odoo errors come back as
 * `error` with code 200 and the serialized exception, a body that is not JSON as a 400. With the
 * deprecated services off, the object and login services answer NotFound.
 */
import { JSON_TYPE, type Answer, type PreparedCall } from './sandbox-answer.js';
import {
  accessDenied,
  asOdooException,
  httpException,
  serializeException,
  type OdooException,
} from './sandbox-exceptions.js';
import type { RpcServices } from './sandbox-rpc-services.js';

export function prepareJsonRpc(
  rpc: RpcServices,
  address: string,
  body: string,
  options: { deprecatedRpc: boolean },
): PreparedCall {
  let request: {
    id?: unknown;
    params?: { service?: unknown; method?: unknown; args?: unknown };
  } = {};
  let badRequest = false;
  try {
    request = JSON.parse(body) as typeof request;
  } catch {
    badRequest = true;
  }
  const id = request.id ?? null;
  const service = typeof request.params?.service === 'string' ? request.params.service : '';
  const method = typeof request.params?.method === 'string' ? request.params.method : '';
  const args = Array.isArray(request.params?.args) ? (request.params.args as unknown[]) : [];
  const respond = (payload: Record<string, unknown>): Answer => ({
    status: 200,
    contentType: JSON_TYPE,
    body: JSON.stringify({ jsonrpc: '2.0', id, ...payload }),
  });
  const jsonFault = (exception: OdooException): Answer =>
    respond({
      error: { code: 200, message: 'Odoo Server Error', data: serializeException(exception) },
    });
  const info = rpc.callInfo('jsonrpc', service, method, args);
  return {
    info,
    database: rpc.databaseOf(service, method, args),
    run() {
      if (badRequest) {
        return {
          result: undefined,
          answer: {
            status: 400,
            contentType: JSON_TYPE,
            body: JSON.stringify({
              jsonrpc: '2.0',
              id: null,
              error: { code: 400, message: 'Invalid JSON data', data: {} },
            }),
          },
        };
      }
      if (
        !options.deprecatedRpc &&
        (service === 'object' || method === 'login' || method === 'authenticate')
      ) {
        const notFound = serializeException(
          httpException(404, 'The requested URL was not found on the server.'),
        );
        return {
          result: undefined,
          answer: respond({ error: { code: 404, message: '404: Not Found', data: notFound } }),
        };
      }
      try {
        const result = rpc.dispatch(address, service, method, args);
        // Odoo's `_response` leaves `result` out when the method returned None.
        return {
          result,
          answer: respond(result === null || result === undefined ? {} : { result }),
        };
      } catch (error) {
        return { result: undefined, answer: jsonFault(asOdooException(error)) };
      }
    },
    fail: jsonFault,
    refuse: () =>
      info.method === 'authenticate' || info.method === 'login'
        ? respond({ result: false })
        : jsonFault(accessDenied()),
  };
}
