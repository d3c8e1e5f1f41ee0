/**
 * The Odoo sandbox: an HTTP server that speaks Odoo's external API the way a real Odoo 19 does
 * — `/xmlrpc/2/common|object|db`, `/jsonrpc`, `/json/2/<model>/<method>`, `/web/version` — over
 * the sandbox's models and time model, with a control interface for tests (mutations, long
 * transactions, committed state, failure injection, call counts).
 *
 * It is the stand-in for Odoo in tests, benchmarks and the demo; its worth is its faithfulness
 * to what `protocols/odoo.md` documents (faults as HTTP 200, exact fault codes and texts, no
 * `<nil/>`, second-truncated datetimes, microsecond `write_date`s, visibility at commit).
 * It is not an Odoo: no access rights beyond one user, no workflows, no other models.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../../src/lib/logger.js';
import type { OdooProtocol } from '../../src/clients/odoo/odoo-types.js';
import { decodeMethodCall } from '../../src/clients/odoo/xmlrpc-decoder.js';
import type { PyValue } from './python-values.js';
import { createSandboxControl, type SandboxControl } from './sandbox-control.js';
import { generateSandboxData } from './sandbox-data.js';
import { dispatchExecuteKw, dispatchJson2 } from './sandbox-dispatch.js';
import type { OdooException } from './sandbox-exceptions.js';
import {
  accessDenied,
  accessError,
  asOdooException,
  httpException,
  moduleError,
  pythonError,
  serializeException,
  toXmlRpcFault,
  userError,
} from './sandbox-exceptions.js';
import { SandboxFaults, type SandboxCallInfo, type SandboxFaultRule } from './sandbox-faults.js';
import { BC_LINE_MODEL, BC_MODEL } from './sandbox-models.js';
import { SandboxStore, type TransactionInfo } from './sandbox-store.js';
import { createSandboxClock, type MicrosSource, type SandboxClock } from './sandbox-time.js';
import { marshalFault, marshalResponse } from './xmlrpc-marshaller.js';

export interface OdooSandboxOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  database?: string;
  username?: string;
  /** Password, also accepted as the JSON-2 API key. */
  password?: string;
  /** BCs to generate (default 0). */
  orders?: number;
  /** Lines per generated BC (default 0). */
  linesPerOrder?: number;
  /** The API user's language and time zone, as `res.users.context_get` reports them (default fr_FR, Africa/Casablanca). */
  userContext?: { lang: string; tz: string };
  /** Seed of the data generator and of probabilistic faults (default 1). */
  seed?: number;
  /** Time source in microseconds since the epoch (default: the wall clock). */
  clock?: MicrosSource;
  /** Login throttling like Odoo's (10 failures → 60 s of refusals); false to disable. */
  loginCooldown?: false | { failures: number; durationMs: number };
  /** Request bodies above this get a 413 (default 128 MiB, Odoo's own limit). */
  maxBodyBytes?: number;
  /**
   * Serve the deprecated `/xmlrpc` and `/jsonrpc` object and login services (default true).
   * False plays an Odoo that no longer does (`rpc.use_deprecated_services` off, or Odoo 22):
   * `/xmlrpc/*` is a 404 page and `/jsonrpc` answers NotFound; JSON-2 still works.
   */
  deprecatedRpc?: boolean;
  logger?: Logger;
}

export interface OdooSandbox {
  /** Base URL, e.g. `http://127.0.0.1:8069` (after `start()`). */
  readonly url: string;
  readonly database: string;
  readonly username: string;
  readonly password: string;
  readonly uid: number;
  readonly control: SandboxControl;
  start(): Promise<void>;
  /** Closes the listener and every connection; pending delayed answers are dropped. */
  stop(): Promise<void>;
}

const SERVER_VERSION = {
  server_version: '19.0',
  server_version_info: [19, 0, 0, 'final', 0, ''],
  server_serie: '19.0',
  protocol_version: 1,
};
const UID = 2;
const XML_TYPE = 'text/xml; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';
const HTML_TYPE = 'text/html; charset=utf-8';

/** A prepared answer. */
interface Answer {
  status: number;
  contentType: string;
  body: string;
}

/** A parsed request: what to count and match, and how to run it. */
interface PreparedCall {
  info: SandboxCallInfo;
  /** Runs the call and returns its result value (for record-fault checks) and answer. */
  run(): { result: unknown; answer: Answer };
  /** The answer for an exception raised by an injected fault. */
  fail(exception: OdooException): Answer;
  /** The answer of an `auth` fault: authenticate says False, others are refused. */
  refuse(): Answer;
}

export function createOdooSandbox(options: OdooSandboxOptions = {}): OdooSandbox {
  const host = options.host ?? '127.0.0.1';
  const database = options.database ?? 'odoo_sandbox';
  const username = options.username ?? 'sync@dimagaz.example';
  let password = options.password ?? 'sandbox-secret';
  const clock: SandboxClock = createSandboxClock(options.clock);
  const store = new SandboxStore();
  if (options.userContext) store.userContext = { ...options.userContext };
  const faults = new SandboxFaults(options.seed ?? 1);
  const cooldown =
    options.loginCooldown === false
      ? undefined
      : (options.loginCooldown ?? { failures: 10, durationMs: 60_000 });
  const loginFailures = new Map<string, { count: number; lastMicros: number }>();
  const maxBodyBytes = options.maxBodyBytes ?? 128 * 1024 * 1024;
  const log = options.logger?.child({ component: 'odoo-sandbox' });

  generateSandboxData(store, {
    orders: options.orders ?? 0,
    linesPerOrder: options.linesPerOrder ?? 0,
    seed: options.seed ?? 1,
    nowMicros: clock.nowMicros(),
    username,
  });

  const sockets = new Set<Socket>();
  const pendingDelays = new Set<() => void>();
  let server: Server | undefined;
  let url = '';

  const transaction = (): TransactionInfo => ({ uid: UID, nowMicros: clock.nowMicros() });

  // --- authentication -----------------------------------------------------------------------

  function coolingDown(address: string): boolean {
    if (cooldown === undefined) return false;
    const entry = loginFailures.get(address);
    return (
      entry !== undefined &&
      entry.count >= cooldown.failures &&
      clock.nowMicros() - entry.lastMicros < cooldown.durationMs * 1000
    );
  }

  function registerFailure(address: string): void {
    if (cooldown === undefined) return;
    const entry = loginFailures.get(address) ?? { count: 0, lastMicros: 0 };
    if (clock.nowMicros() - entry.lastMicros >= cooldown.durationMs * 1000) entry.count = 0;
    entry.count++;
    entry.lastMicros = clock.nowMicros();
    loginFailures.set(address, entry);
  }

  /** `res.users.authenticate` for the one user: the uid, or false. */
  function authenticate(
    address: string,
    db: unknown,
    login: unknown,
    secret: unknown,
  ): number | false {
    checkDatabase(db);
    if (coolingDown(address)) return false;
    if (login === username && typeof secret === 'string' && secret !== '' && secret === password) {
      loginFailures.delete(address);
      return UID;
    }
    registerFailure(address);
    return false;
  }

  /** `_check_uid_passwd` of `execute_kw`: AccessDenied (fault 3) unless uid and password match. */
  function checkUidPassword(address: string, uid: unknown, secret: unknown): void {
    if (typeof secret !== 'string' || secret === '') throw accessDenied();
    if (coolingDown(address)) throw accessDenied();
    if (Number(uid) !== UID || secret !== password) {
      registerFailure(address);
      throw accessDenied();
    }
  }

  function checkDatabase(db: unknown): void {
    if (db !== database) {
      throw moduleError(
        'psycopg2.OperationalError',
        `connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: FATAL:  database "${String(db)}" does not exist`,
      );
    }
  }

  // --- the RPC services ---------------------------------------------------------------------

  /** `dispatch_rpc(service, method, params)`, shared by XML-RPC and JSON-RPC. */
  function dispatchRpc(
    address: string,
    service: string,
    method: string,
    params: unknown[],
  ): PyValue {
    switch (service) {
      case 'common':
        if (method === 'version') return SERVER_VERSION;
        if (method === 'authenticate' || method === 'login')
          return authenticate(address, params[0], params[1], params[2]);
        if (method === 'about') return 'See http://openerp.com';
        throw pythonError('Exception', `Method not found: ${method}`);
      case 'db':
        if (method === 'list') return [database];
        if (method === 'server_version') return SERVER_VERSION.server_version;
        if (method === 'db_exist') return params[0] === database;
        throw pythonError('KeyError', `'${method}'`);
      case 'object': {
        if (method !== 'execute_kw' && method !== 'execute')
          throw pythonError('NameError', `Method not available ${method}`);
        if (params.length < 5)
          throw pythonError(
            'ValueError',
            `not enough values to unpack (expected at least 5, got ${params.length})`,
          );
        const [db, uid, secret, model, modelMethod, ...rest] = params;
        checkUidPassword(address, uid, secret);
        checkDatabase(db);
        if (typeof model !== 'string' || typeof modelMethod !== 'string')
          throw pythonError('TypeError', 'model and method must be strings');
        const tx = transaction();
        if (method === 'execute') return dispatchExecuteKw(store, tx, model, modelMethod, rest, {});
        return dispatchExecuteKw(store, tx, model, modelMethod, rest[0] ?? [], rest[1] ?? {});
      }
      default:
        throw pythonError('KeyError', `'${service}'`);
    }
  }

  function rpcCallInfo(
    protocol: OdooProtocol,
    service: string,
    method: string,
    params: unknown[],
  ): SandboxCallInfo {
    const info: SandboxCallInfo = { protocol, service: asService(service), method };
    if (service === 'object' && typeof params[3] === 'string') {
      info.model = params[3];
      if (typeof params[4] === 'string') info.modelMethod = params[4];
      const ids = idsOf(params[5]);
      if (
        ids !== undefined &&
        info.modelMethod !== undefined &&
        RECORD_METHODS.has(info.modelMethod)
      )
        info.ids = ids;
    }
    return info;
  }

  function prepareXmlRpc(address: string, service: string, body: string): PreparedCall {
    const xmlFault = (exception: OdooException): Answer => {
      const [code, text] = toXmlRpcFault(exception);
      return { status: 200, contentType: XML_TYPE, body: marshalFault(code, text) };
    };
    let methodName = '';
    let params: unknown[] = [];
    let parseError: OdooException | undefined;
    try {
      ({ methodName, params } = decodeMethodCall(body));
    } catch (error) {
      parseError = moduleError(
        'xml.parsers.expat.ExpatError',
        `syntax error: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const info = rpcCallInfo('xmlrpc', service, methodName, params);
    return {
      info,
      run() {
        if (parseError !== undefined) return { result: undefined, answer: xmlFault(parseError) };
        try {
          const result = dispatchRpc(address, service, methodName, params);
          return {
            result,
            answer: { status: 200, contentType: XML_TYPE, body: marshalResponse(result) },
          };
        } catch (error) {
          return { result: undefined, answer: xmlFault(asOdooException(error)) };
        }
      },
      fail: xmlFault,
      refuse: () =>
        info.method === 'authenticate' || info.method === 'login'
          ? { status: 200, contentType: XML_TYPE, body: marshalResponse(false) }
          : xmlFault(accessDenied()),
    };
  }

  function prepareJsonRpc(address: string, body: string): PreparedCall {
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
    const info = rpcCallInfo('jsonrpc', service, method, args);
    return {
      info,
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
          options.deprecatedRpc === false &&
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
          const result = dispatchRpc(address, service, method, args);
          return { result, answer: respond({ result: result ?? null }) };
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

  function prepareJson2(
    address: string,
    model: string,
    method: string,
    headers: IncomingMessage['headers'],
    body: string,
  ): PreparedCall {
    const errorAnswer = (exception: OdooException): Answer => ({
      status: exception.family === 'server' ? 500 : exception.httpStatus,
      contentType: JSON_TYPE,
      body: JSON.stringify(serializeException(exception)),
    });
    const unauthorized = (): Answer => errorAnswer(httpException(401, 'Invalid apikey'));
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
    return {
      info,
      run() {
        if (badRequest !== undefined)
          return { result: undefined, answer: errorAnswer(httpException(400, badRequest)) };
        const authorization = headers.authorization ?? '';
        const match = /^bearer\s+(.+)$/i.exec(authorization);
        if (match === null || coolingDown(address) || match[1] !== password) {
          if (match !== null) registerFailure(address);
          return { result: undefined, answer: unauthorized() };
        }
        const requested = headers['x-odoo-database'];
        if (requested !== undefined && requested !== database) {
          return {
            result: undefined,
            answer: errorAnswer(
              httpException(404, `database ${JSON.stringify(requested)} not found`),
            ),
          };
        }
        try {
          const result = dispatchJson2(store, transaction(), model, method, named);
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

  // --- HTTP ---------------------------------------------------------------------------------

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0] as string;
    const address = request.socket.remoteAddress ?? 'unknown';
    const xmlrpc = /^\/xmlrpc\/2\/([a-z]+)$/.exec(path);
    const json2 = /^\/json\/2\/([^/]+)\/([^/]+)$/.exec(path);
    if (path === '/web/version' || path === '/json/version') {
      const version = {
        version_info: SERVER_VERSION.server_version_info,
        version: SERVER_VERSION.server_version,
      };
      // GET on 19+; older clients POST a JSON-RPC envelope to the same route.
      const payload =
        request.method === 'GET' ? version : { jsonrpc: '2.0', id: null, result: version };
      if (request.method === 'POST') await readBody(request, maxBodyBytes);
      send(response, { status: 200, contentType: JSON_TYPE, body: JSON.stringify(payload) });
      return;
    }
    if (
      (xmlrpc === null && json2 === null && path !== '/jsonrpc') ||
      (xmlrpc !== null && options.deprecatedRpc === false)
    ) {
      send(
        response,
        htmlAnswer(404, 'Not Found', 'The requested URL was not found on the server.'),
      );
      return;
    }
    if (request.method !== 'POST') {
      send(
        response,
        htmlAnswer(405, 'Method Not Allowed', 'The method is not allowed for the requested URL.'),
      );
      return;
    }
    const body = await readBody(request, maxBodyBytes);
    if (body === undefined) {
      send(
        response,
        htmlAnswer(
          413,
          'Request Entity Too Large',
          'The data value transmitted exceeds the capacity limit.',
        ),
      );
      return;
    }
    let call: PreparedCall;
    if (xmlrpc !== null) call = prepareXmlRpc(address, xmlrpc[1] as string, body);
    else if (json2 !== null) {
      call = prepareJson2(
        address,
        decodeURIComponent(json2[1] as string),
        decodeURIComponent(json2[2] as string),
        request.headers,
        body,
      );
    } else call = prepareJsonRpc(address, body);

    faults.count(call.info);
    const decision = faults.beforeCall(call.info);
    if (decision.latencyMs > 0) {
      const completed = await delay(decision.latencyMs, request.socket);
      if (!completed) return;
    }
    const failure = decision.failure;
    if (failure !== undefined && failure.kind !== 'reset' && failure.kind !== 'truncate') {
      send(response, failureAnswer(call, failure));
      return;
    }
    const { result, answer } = call.run();
    const afterFailure = answer.status === 200 ? faults.afterCall(call.info, result) : undefined;
    const finalFailure = failure ?? afterFailure;
    if (finalFailure === undefined) send(response, answer);
    else if (finalFailure.kind === 'reset') sendAndReset(response, answer);
    else if (finalFailure.kind === 'truncate')
      send(response, { ...answer, body: answer.body.slice(0, Math.floor(answer.body.length / 2)) });
    else send(response, failureAnswer(call, finalFailure));
  }

  function failureAnswer(call: PreparedCall, rule: SandboxFaultRule): Answer {
    switch (rule.kind) {
      case 'html': {
        const status = rule.status ?? 502;
        return htmlAnswer(
          status,
          status === 504
            ? 'Gateway Time-out'
            : status === 503
              ? 'Service Temporarily Unavailable'
              : 'Bad Gateway',
          'nginx',
        );
      }
      case 'serialization':
        return call.fail(
          moduleError(
            'psycopg2.errors.SerializationFailure',
            'could not serialize access due to concurrent update',
          ),
        );
      case 'auth':
        return call.refuse();
      case 'fault': {
        const message = rule.message ?? 'Injected failure';
        switch (rule.faultCode ?? 2) {
          case 1:
            return call.fail(pythonError('ValueError', message));
          case 3:
            return call.refuse();
          case 4:
            return call.fail(accessError(message));
          default:
            return call.fail(userError(message));
        }
      }
      default:
        return call.fail(pythonError('RuntimeError', `unsupported injected fault ${rule.kind}`));
    }
  }

  function send(response: ServerResponse, answer: Answer): void {
    if (response.destroyed) return;
    const payload = Buffer.from(answer.body, 'utf8');
    response.writeHead(answer.status, {
      'content-type': answer.contentType,
      'content-length': payload.length,
    });
    response.end(payload);
  }

  /** Headers and half the body, then a TCP reset: what a killed worker looks like to a client. */
  function sendAndReset(response: ServerResponse, answer: Answer): void {
    const payload = Buffer.from(answer.body, 'utf8');
    response.writeHead(answer.status, {
      'content-type': answer.contentType,
      'content-length': payload.length,
    });
    response.flushHeaders();
    response.write(payload.subarray(0, Math.max(1, Math.floor(payload.length / 2))), () => {
      response.socket?.resetAndDestroy();
    });
  }

  function delay(milliseconds: number, socket: Socket): Promise<boolean> {
    return new Promise((resolve) => {
      const finish = (completed: boolean): void => {
        clearTimeout(timer);
        socket.off('close', onClose);
        pendingDelays.delete(cancel);
        resolve(completed);
      };
      const onClose = (): void => finish(false);
      const cancel = (): void => finish(false);
      const timer = setTimeout(() => finish(true), milliseconds);
      socket.once('close', onClose);
      pendingDelays.add(cancel);
    });
  }

  const control = createSandboxControl({
    store,
    faults,
    transaction,
    nowMicros: () => clock.nowMicros(),
    setPassword: (next) => {
      password = next;
    },
    resetLoginFailures: () => loginFailures.clear(),
  });

  return {
    get url() {
      return url;
    },
    database,
    username,
    get password() {
      return password;
    },
    uid: UID,
    control,
    async start() {
      if (server !== undefined) return;
      const created = createServer(
        { keepAliveTimeout: 65_000, requestTimeout: 0 },
        (request, response) => {
          handle(request, response).catch((error: unknown) => {
            log?.error({ err: error }, 'sandbox request failed');
            if (!response.headersSent)
              send(
                response,
                htmlAnswer(
                  500,
                  'Internal Server Error',
                  'The server encountered an internal error.',
                ),
              );
            else response.destroy();
          });
        },
      );
      created.on('connection', (socket: Socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve, reject) => {
        created.once('error', reject);
        created.listen(options.port ?? 0, host, () => {
          created.off('error', reject);
          resolve();
        });
      });
      server = created;
      const address = created.address() as AddressInfo;
      url = `http://${host}:${address.port}`;
      log?.info({ url, database }, 'Odoo sandbox listening');
    },
    async stop() {
      const current = server;
      if (current === undefined) return;
      server = undefined;
      for (const cancel of [...pendingDelays]) cancel();
      const closed = new Promise<void>((resolve, reject) =>
        current.close((error) => (error ? reject(error) : resolve())),
      );
      for (const socket of sockets) socket.destroy();
      current.closeAllConnections();
      await closed;
    },
  };
}

const RECORD_METHODS = new Set(['read', 'write', 'unlink', 'action_archive', 'action_unarchive']);

function asService(service: string): SandboxCallInfo['service'] {
  return service === 'common' || service === 'db' ? service : 'object';
}

function idsOf(args: unknown): number[] | undefined {
  const first = Array.isArray(args) ? (args as unknown[])[0] : args;
  if (typeof first === 'number') return [first];
  if (Array.isArray(first) && first.every((id) => typeof id === 'number')) return first;
  return undefined;
}

function htmlAnswer(status: number, title: string, text: string): Answer {
  const body =
    text === 'nginx'
      ? `<html>\r\n<head><title>${status} ${title}</title></head>\r\n<body>\r\n<center><h1>${status} ${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`
      : `<!doctype html>\n<html lang=en>\n<title>${status} ${title}</title>\n<h1>${title}</h1>\n<p>${text}</p>\n`;
  return { status, contentType: HTML_TYPE, body };
}

async function readBody(request: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBytes) tooLarge = true;
    else chunks.push(buffer);
  }
  return tooLarge ? undefined : Buffer.concat(chunks).toString('utf8');
}

export { BC_MODEL, BC_LINE_MODEL };
export type {
  SandboxFaultRule,
  SandboxFaultHandle,
  SandboxFaultKind,
  SandboxCallFilter,
  SandboxCallCount,
  SandboxCallInfo,
} from './sandbox-faults.js';
export { createManualClock, type ManualClock } from './sandbox-time.js';
