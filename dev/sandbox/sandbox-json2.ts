/**
 * `/json/2/<model>/<method>` (Odoo 19): named arguments as a JSON object, the API key as a bearer
 * token, on the database `X-Odoo-Database` names (the server picks it: sandbox-routing.ts);
 * errors are HTTP statuses with the serialized exception as the body (a server error is a 500).
 */
import type { IncomingMessage } from 'node:http';
import { idsOf, JSON_TYPE, type Answer, type PreparedCall } from './sandbox-answer.js';
import { APIKEYS_MODEL } from './sandbox-apikeys.js';
import type { SandboxDatabase } from './sandbox-database.js';
import { dispatchJson2, isReadonlyMethod } from './sandbox-dispatch.js';
import {
  asOdooException,
  httpException,
  serializeException,
  type OdooException,
} from './sandbox-exceptions.js';
import type { SandboxCallInfo } from './sandbox-faults.js';
import { noDatabaseCall } from './sandbox-routing.js';

export interface Json2Request {
  address: string;
  model: string;
  method: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export function prepareJson2(
  /** The request's database; none serves it when undefined (sandbox-routing.ts). */
  database:
    Pick<SandboxDatabase, 'store' | 'replica' | 'auth' | 'apiKeys' | 'transaction'> | undefined,
  request: Json2Request,
): PreparedCall {
  const { address, model, method, headers, body } = request;
  const errorAnswer = (exception: OdooException): Answer => ({
    status: exception.family === 'server' ? 500 : exception.httpStatus,
    contentType: JSON_TYPE,
    body: JSON.stringify(serializeException(exception)),
  });
  // werkzeug's Unauthorized names the scheme it wants.
  const unauthorized = (): Answer => ({
    ...errorAnswer(httpException(401, 'Invalid apikey')),
    headers: { 'www-authenticate': 'Bearer' },
  });
  let parsed: unknown = {};
  let badRequest: string | undefined;
  if (body.trim() !== '') {
    try {
      parsed = JSON.parse(body);
    } catch (error) {
      badRequest = `could not parse the body as json: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  const named =
    typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  const info: SandboxCallInfo = {
    protocol: 'json2',
    service: 'object',
    method,
    model,
    modelMethod: method,
  };
  const ids = idsOf(named.ids);
  if (ids !== undefined) info.ids = ids;
  if (database === undefined) return noDatabaseCall(info);
  return {
    info,
    run() {
      if (badRequest !== undefined)
        return { result: undefined, answer: errorAnswer(httpException(400, badRequest)) };
      if (!database.auth.checkApiKey(address, headers.authorization ?? ''))
        return { result: undefined, answer: unauthorized() };
      try {
        const tx = database.transaction();
        const { ids: _ids, context: _context, ...keyArguments } = named;
        const result =
          model === APIKEYS_MODEL
            ? database.apiKeys.dispatch(method, keyArguments, tx.uid, 'json2')
            : dispatchJson2(
                isReadonlyMethod(method) ? database.replica.readStore() : database.store,
                tx,
                model,
                method,
                named,
              );
        return {
          result,
          answer: { status: 200, contentType: JSON_TYPE, body: JSON.stringify(result ?? null) },
        };
      } catch (error) {
        return { result: undefined, answer: errorAnswer(asOdooException(error)) };
      }
    },
    fail: errorAnswer,
    refuse: unauthorized,
  };
}
