/**
 * The Odoo sandbox: an HTTP server that speaks Odoo's external API the way a real Odoo 19 does
 * — `/xmlrpc/2/common|object|db`, `/jsonrpc`, `/json/2/<model>/<method>`, `/web/version`,
 * `/doc-bearer/<model>.json` — or an Odoo 17.0, 18.0 or 20.0 with the routes those have, over
 * the sandbox's models and time model, with a control interface for tests (mutations, long
 * transactions, committed state, failure injection, call counts).
 *
 * It is the stand-in for Odoo in tests, benchmarks and the demo; its worth is its faithfulness
 * to what docs/odoo.md describes (faults as HTTP 200, exact fault codes and texts, no
 * `<nil/>`, second-truncated datetimes, microsecond `write_date`s, visibility at commit,
 * `fields_get` as Odoo describes each field type).
 *
 * Its models (dev/sandbox/models/): the BC family (`dimagaz.bc`, `dimagaz.bc.line`),
 * `res.partner` with its countries and tags, the journal entries (`account.move`,
 * `account.move.line`), two custom Studio models (`x_cylinder`, `x_cylinder_valve`) and the
 * reference models they point at; fields can be added and dropped at run time, as modules do.
 * With `realSchemas`, models a test names are served from a real Odoo 17.0's `fields_get`
 * dumps instead (dev/sandbox/real/): every field Odoo has, the mixins' followers, messages and
 * activities, Odoo 17's ORM semantics for them, and the dump's user's access rights.
 * One process may serve several databases (`databases`), each with its own records, schema,
 * clock, user and keys, call log and faults, a request routed to one as Odoo routes it
 * (sandbox-routing.ts); each database is built in sandbox-database.ts.
 * It is not an Odoo: one user per database, no workflows (posting, cancelling and their
 * checks), no models beyond those, html stored as written (Odoo sanitizes it).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../../src/lib/logger.js';
import { htmlAnswer, JSON_TYPE, type Answer, type PreparedCall } from './sandbox-answer.js';
import {
  createSandboxDatabase,
  type OdooSandboxDatabase,
  type SandboxDatabaseOptions,
} from './sandbox-database.js';
import { prepareDoc } from './sandbox-doc.js';
import { accessError, moduleError, pythonError, userError } from './sandbox-exceptions.js';
import { callLogOf, type SandboxCallLog, type SandboxFaultRule } from './sandbox-faults.js';
import { prepareJson2 } from './sandbox-json2.js';
import { prepareJsonRpc } from './sandbox-jsonrpc.js';
import { createRpcServices, serverVersionOf, type SandboxSeries } from './sandbox-rpc-services.js';
import { createSandboxDatabases, type CallSink } from './sandbox-routing.js';
import { prepareXmlRpc } from './sandbox-xmlrpc.js';

/**
 * The server's options, and its one database's (or, with `databases`, what every database
 * shares unless its own options say otherwise).
 */
export interface OdooSandboxOptions extends SandboxDatabaseOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The one database's name (default `odoo_sandbox`); not with `databases`. */
  database?: string;
  /**
   * Several databases served by this one process, by name, each with its own options over the
   * shared ones above: its own records, schema, clock, user, keys, call log and faults. The
   * first is the default one: the sandbox's top-level members are its.
   */
  databases?: Readonly<Record<string, SandboxDatabaseOptions>>;
  /**
   * The Odoo series played (default 19.0): 17.0 has no `/web/version` (only the JSON-RPC
   * `/web/webclient/version_info`), no JSON-2 and keys that never lapse; 18.0 adds
   * `/web/version` and key expiry; 19.0 JSON-2, `/doc-bearer` and programmatic key management;
   * 20.0 no longer has `check_access_rights` (docs/odoo.md, "Odoo 20.0", says what else 20.0
   * changes and what it does not). One per process, as one Odoo server is one release.
   */
  serverVersion?: SandboxSeries;
  /** Request bodies above this get a 413 (default 128 MiB, Odoo's own limit). */
  maxBodyBytes?: number;
  /**
   * Serve the deprecated `/xmlrpc` and `/jsonrpc` object and login services (default true).
   * False plays an Odoo that no longer does (`rpc.use_deprecated_services` off, or Odoo 22):
   * `/xmlrpc/*` is a 404 page and `/jsonrpc` answers NotFound; JSON-2 still works.
   */
  deprecatedRpc?: boolean;
  /** Odoo's `list_db`: `db.list` names the databases (default true, Odoo's), or is AccessDenied. */
  listDatabases?: boolean;
  logger?: Logger;
}

/** The sandbox; its database members (`database`, `control`, `keys`…) are the first database's. */
export interface OdooSandbox extends OdooSandboxDatabase {
  /** Base URL, e.g. `http://127.0.0.1:8069` (after `start()`). */
  readonly url: string;
  /** The series played. */
  readonly serverVersion: SandboxSeries;
  /** Every database's name, the first one first. */
  readonly databases: readonly string[];
  /** One database's handle; an error for a name the sandbox does not serve. */
  db(name: string): OdooSandboxDatabase;
  /**
   * The calls that reached no database (`/web/version`, `common.version`, the `db` service, a
   * database that does not exist) and their fault rules: the only database's own log when
   * there is one database.
   */
  readonly serverCalls: SandboxCallLog;
  start(): Promise<void>;
  /** Closes the listener and every connection; pending delayed answers are dropped. */
  stop(): Promise<void>;
}

export function createOdooSandbox(options: OdooSandboxOptions = {}): OdooSandbox {
  const {
    port,
    host = '127.0.0.1',
    database,
    databases: named,
    serverVersion: series = '19.0',
    maxBodyBytes = 128 * 1024 * 1024,
    deprecatedRpc: deprecatedOption,
    listDatabases = true,
    logger,
    ...shared
  } = options;
  if (named !== undefined && database !== undefined)
    throw new Error('give a sandbox either database or databases, not both');
  const major = Number(series.slice(0, 2));
  const version = serverVersionOf(series);
  const databases = createSandboxDatabases(
    Object.entries(named ?? { [database ?? 'odoo_sandbox']: {} }).map(([name, own]) =>
      createSandboxDatabase(name, { ...shared, ...own }, major),
    ),
  );
  const first = databases.first;
  const log = logger?.child({ component: 'odoo-sandbox' });

  const sockets = new Set<Socket>();
  const pendingDelays = new Set<() => void>();
  let server: Server | undefined;
  let url = '';

  const rpc = createRpcServices({ databases, version, listDatabases });
  const deprecatedRpc = deprecatedOption !== false;

  // --- HTTP ---------------------------------------------------------------------------------

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // Odoo's `request.db`; an RPC call moves to the database it names once its body is read.
    const requested = databases.ofRequest(request.headers);
    let sink = databases.sinkOf(requested);
    fly(response, sink);
    response.once('close', () => answeredNow(response));
    const path = (request.url ?? '/').split('?')[0] as string;
    const address = request.socket.remoteAddress ?? 'unknown';
    const xmlrpc = /^\/xmlrpc\/2\/([a-z]+)$/.exec(path);
    // JSON-2 and the API documentation came with 19.0; `/web/version` with 18.0.
    const json2 = major >= 19 ? /^\/json\/2\/([^/]+)\/([^/]+)$/.exec(path) : null;
    const doc = major >= 19 ? /^\/doc-bearer\/([^/]+)\.json$/.exec(path) : null;
    if ((path === '/web/version' || path === '/json/version') && major >= 18) {
      sink.faults.count({ protocol: 'json2', service: 'web', method: 'version' });
      const answer = { version_info: version.server_version_info, version: version.server_version };
      // GET on 19+; older clients POST a JSON-RPC envelope to the same route.
      const payload =
        request.method === 'GET' ? answer : { jsonrpc: '2.0', id: null, result: answer };
      if (request.method === 'POST') await readBody(request, maxBodyBytes);
      send(response, { status: 200, contentType: JSON_TYPE, body: JSON.stringify(payload) });
      return;
    }
    if (path === '/web/webclient/version_info' && request.method === 'POST') {
      // A JSON-RPC route of every series (`type='json'`): `common.version()`'s dict.
      sink.faults.count({ protocol: 'jsonrpc', service: 'web', method: 'version_info' });
      await readBody(request, maxBodyBytes);
      const payload = { jsonrpc: '2.0', id: null, result: version };
      send(response, { status: 200, contentType: JSON_TYPE, body: JSON.stringify(payload) });
      return;
    }
    if (doc !== null && request.method === 'GET') {
      const call = prepareDoc(requested, {
        address,
        model: decodeURIComponent(doc[1] as string),
        headers: request.headers,
      });
      sink.faults.count(call.info);
      send(response, call.run().answer);
      return;
    }
    if (
      (xmlrpc === null && json2 === null && path !== '/jsonrpc') ||
      (xmlrpc !== null && !deprecatedRpc)
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
    if (xmlrpc !== null) call = prepareXmlRpc(rpc, address, xmlrpc[1] as string, body);
    else if (json2 !== null) {
      call = prepareJson2(requested, {
        address,
        model: decodeURIComponent(json2[1] as string),
        method: decodeURIComponent(json2[2] as string),
        headers: request.headers,
        body,
      });
    } else call = prepareJsonRpc(rpc, address, body, { deprecatedRpc });
    const named = databases.find(call.database);
    if (named !== undefined) {
      sink = named;
      fly(response, sink);
    }

    const { faults } = sink;
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
        const page = htmlAnswer(
          status,
          status === 504
            ? 'Gateway Time-out'
            : status === 503
              ? 'Service Temporarily Unavailable'
              : status === 429
                ? 'Too Many Requests'
                : 'Bad Gateway',
          'nginx',
        );
        return rule.retryAfter === undefined
          ? page
          : { ...page, headers: { 'retry-after': rule.retryAfter } };
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

  /** Each request's log (its database's, or the server's) and its end of flight there. */
  const flights = new WeakMap<ServerResponse, { sink: CallSink; end: () => void }>();
  /**
   * The request is in flight in `sink`'s log until its answer is handed to the socket (send),
   * or the client left first; a call found to name another database moves there.
   */
  function fly(response: ServerResponse, sink: CallSink): void {
    const current = flights.get(response);
    if (current?.sink === sink) return;
    current?.end();
    flights.set(response, { sink, end: sink.faults.begin() });
  }
  function answeredNow(response: ServerResponse): void {
    flights.get(response)?.end();
  }
  /** Odoo's HTTP server stamps its answers with its clock: the request's database's, set or real. */
  function dateOf(response: ServerResponse): string {
    const { clock } = flights.get(response)?.sink ?? databases.server;
    return new Date(Math.floor(clock.nowMicros() / 1_000)).toUTCString();
  }

  function send(response: ServerResponse, answer: Answer): void {
    answeredNow(response);
    if (response.destroyed) return;
    const payload = Buffer.from(answer.body, 'utf8');
    response.writeHead(answer.status, {
      ...answer.headers,
      'content-type': answer.contentType,
      'content-length': payload.length,
      date: dateOf(response),
    });
    response.end(payload);
  }

  /** Headers and half the body, then a TCP reset: what a killed worker looks like to a client. */
  function sendAndReset(response: ServerResponse, answer: Answer): void {
    answeredNow(response);
    const payload = Buffer.from(answer.body, 'utf8');
    response.writeHead(answer.status, {
      'content-type': answer.contentType,
      'content-length': payload.length,
      date: dateOf(response),
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

  return {
    get url() {
      return url;
    },
    database: first.name,
    username: first.handle.username,
    get password() {
      return first.handle.password;
    },
    uid: first.handle.uid,
    control: first.handle.control,
    keys: first.handle.keys,
    setDocAccess: (allowed) => first.handle.setDocAccess(allowed),
    serverVersion: series,
    databases: databases.names,
    db(name) {
      const found = databases.find(name);
      if (found === undefined)
        throw new Error(
          `the sandbox has no database ${name} (it has ${databases.names.join(', ')})`,
        );
      return found.handle;
    },
    serverCalls: callLogOf(databases.server.faults),
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
        created.listen(port ?? 0, host, () => {
          created.off('error', reject);
          resolve();
        });
      });
      server = created;
      const address = created.address() as AddressInfo;
      url = `http://${host}:${address.port}`;
      log?.info({ url, databases: databases.names }, 'Odoo sandbox listening');
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

export { createManualClock, type ManualClock } from './sandbox-time.js';
export type { OdooSandboxDatabase, SandboxDatabaseOptions } from './sandbox-database.js';
export type { SandboxRealSchemas } from './real/real-schemas.js';
export type { FieldSpec as SandboxFieldSpec } from './models/field-spec.js';
