/**
 * `/doc-bearer/<model>.json` (Odoo 19's `api_doc`, with the JSON-2 bearer key): the model's
 * `fields_get()` with every attribute (and the module that introduced each field), for users of
 * the group "Technical Documentation" (`api_doc.group_allow_doc`) who may read the model. The answer
 * carries an ETag that changes with the schema (Odoo's is an HMAC of the registry sequence, the
 * language and the user's groups; the sandbox hashes the description itself, which changes when
 * and only when a field is added or dropped); a request whose `If-None-Match` matches is a 304.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { JSON_TYPE, type Answer, type PreparedCall } from './sandbox-answer.js';
import type { SandboxDatabase } from './sandbox-database.js';
import {
  accessError,
  asOdooException,
  httpException,
  serializeException,
  type OdooException,
} from './sandbox-exceptions.js';
import type { SandboxCallInfo } from './sandbox-faults.js';
import { noDatabaseCall } from './sandbox-routing.js';

export function prepareDoc(
  /** The request's database; none serves it when undefined (sandbox-routing.ts). */
  database: Pick<SandboxDatabase, 'store' | 'auth' | 'docAccess'> | undefined,
  request: { address: string; model: string; headers: IncomingMessage['headers'] },
): PreparedCall {
  const { model, headers } = request;
  // `modelMethod` tells the calls that revalidate a copy from those that fetch one.
  const info: SandboxCallInfo = {
    protocol: 'json2',
    service: 'web',
    method: 'doc',
    model,
    ...(headers['if-none-match'] === undefined ? {} : { modelMethod: 'if-none-match' }),
  };
  if (database === undefined) return noDatabaseCall(info);
  const { store, auth } = database;
  const errorAnswer = (exception: OdooException): Answer => ({
    status: exception.family === 'server' ? 500 : exception.httpStatus,
    contentType: JSON_TYPE,
    body: JSON.stringify(serializeException(exception)),
  });
  const unauthorized = (): Answer => errorAnswer(httpException(401, 'Invalid apikey'));
  return {
    info,
    run() {
      if (!auth.checkApiKey(request.address, headers.authorization ?? ''))
        return { result: undefined, answer: unauthorized() };
      try {
        if (!database.docAccess())
          throw accessError('This page is only accessible to Technical Documentation users.');
        const table = store.table(model);
        if (table === undefined) return { result: undefined, answer: notFound() };
        store.access.check(table.spec, 'read');
        const described = store.fieldsGet(model, null, null);
        const fields = Object.fromEntries(
          Object.entries(described).map(([name, description]) => [
            name,
            { ...description, name, module: 'sandbox' },
          ]),
        );
        const body = JSON.stringify({
          model,
          name: table.spec.description,
          doc: null,
          fields,
          methods: {},
        });
        const etag = createHash('sha256').update(JSON.stringify(fields)).digest('hex').slice(0, 40);
        if (headers['if-none-match'] === etag)
          return { result: undefined, answer: { status: 304, contentType: JSON_TYPE, body: '' } };
        return {
          result: undefined,
          answer: { status: 200, contentType: JSON_TYPE, body, headers: { etag } },
        };
      } catch (error) {
        return { result: undefined, answer: errorAnswer(asOdooException(error)) };
      }
    },
    fail: errorAnswer,
    refuse: unauthorized,
  };
}

/** werkzeug's NotFound for an unknown model, as the json2 route serializes it. */
function notFound(): Answer {
  const exception = httpException(404, 'The requested URL was not found on the server.');
  return {
    status: 404,
    contentType: JSON_TYPE,
    body: JSON.stringify(serializeException(exception)),
  };
}
