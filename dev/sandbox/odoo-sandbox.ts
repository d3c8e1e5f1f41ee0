/**
 * The Odoo sandbox: an HTTP server that speaks Odoo's external API the way a real Odoo 19 does
 * — `/xmlrpc/2/common|object|db`, `/jsonrpc`, `/json/2/<model>/<method>`, `/web/version`,
 * `/doc-bearer/<model>.json` — or an Odoo 17.0 or 18.0 with the routes those have, over
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
 * It is not an Odoo: one user, no workflows (posting, cancelling and their checks), no models
 * beyond those, html stored as written (Odoo sanitizes it).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../../src/lib/logger.js';
import { htmlAnswer, JSON_TYPE, type Answer, type PreparedCall } from './sandbox-answer.js';
import {
  createSandboxApiKeys,
  type SandboxApiKeyControl,
  type SandboxApiKeySpec,
  type SandboxKeyManagement,
} from './sandbox-apikeys.js';
import { createSandboxAuth, UID } from './sandbox-auth.js';
import { prepareDoc } from './sandbox-doc.js';
import { realCatalogue } from './real/real-catalogue.js';
import type { SandboxRealSchemas } from './real/real-schemas.js';
import { NO_INVENTORY_RIGHTS } from './sandbox-access.js';
import { createSandboxControl, type SandboxControl } from './sandbox-control.js';
import { createSandboxWebhooks } from './sandbox-webhooks.js';
import { generateSandboxData } from './sandbox-data.js';
import { accessError, moduleError, pythonError, userError } from './sandbox-exceptions.js';
import { SandboxFaults, type SandboxFaultRule } from './sandbox-faults.js';
import { prepareJson2 } from './sandbox-json2.js';
import { prepareJsonRpc } from './sandbox-jsonrpc.js';
import { createRpcServices, serverVersionOf, type SandboxSeries } from './sandbox-rpc-services.js';
import { SandboxStore, type TransactionInfo } from './sandbox-store.js';
import { createSandboxClock, type MicrosSource, type SandboxClock } from './sandbox-time.js';
import { prepareXmlRpc } from './sandbox-xmlrpc.js';
import { createSandboxReplica } from './sandbox-replica.js';

export interface OdooSandboxOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  database?: string;
  username?: string;
  /** Password, also accepted as the JSON-2 API key unless `passwordAsApiKey` is false. */
  password?: string;
  /**
   * Whether JSON-2 (and `/doc-bearer`) take the password as a bearer key (default true: a
   * convenience for tests). Odoo 19 takes API keys only and answers a password with a 401;
   * false plays that.
   */
  passwordAsApiKey?: boolean;
  /**
   * The Odoo series played (default 19.0): 17.0 has no `/web/version` (only the JSON-RPC
   * `/web/webclient/version_info`), no JSON-2 and keys that never lapse; 18.0 adds
   * `/web/version` and key expiry; 19.0 JSON-2, `/doc-bearer` and programmatic key management.
   */
  serverVersion?: SandboxSeries;
  /** The sync user's API keys (taken wherever the password is; lapsed ones refused). */
  apiKeys?: readonly SandboxApiKeySpec[];
  /**
   * `res.users.apikeys.generate`/`revoke` on 19 (default `disabled`, as Odoo ships them; `absent`
   * plays Debian's 19.0.0, which has neither: a 404 over JSON-2).
   */
  apiKeyManagement?: SandboxKeyManagement;
  /**
   * Whether the sync user is in "Technical Documentation" (`api_doc.group_allow_doc`) and may
   * read `/doc-bearer` (default no).
   */
  docAccess?: boolean;
  /** BCs to generate (default 0). */
  orders?: number;
  /** Lines per generated BC (default 0). */
  linesPerOrder?: number;
  /** Contacts (`res.partner`) beyond the BCs' vendors (default 0: the vendors only). */
  partners?: number;
  /** Journal entries (`account.move`) to generate (default 0). */
  moves?: number;
  /** Lines (`account.move.line`) per generated entry (default 0). */
  linesPerMove?: number;
  /** Custom `x_cylinder` records, with their `x_cylinder_valve`s (default 0). */
  cylinders?: number;
  /** The API user's language and time zone, as `res.users.context_get` reports them (default fr_FR, Africa/Casablanca). */
  userContext?: { lang: string; tz: string };
  /**
   * Models served from a real Odoo 17.0's dumps (schemas/odoo-17.0/) instead of the sandbox's
   * own declarations, with the records to generate in them.
   */
  realSchemas?: SandboxRealSchemas;
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
  /**
   * Milliseconds between a commit and its visibility to JSON-2's read-only methods, served by a
   * read replica as Odoo 18+ may (default 0: no replica). Measured on the sandbox clock.
   */
  replicaLagMs?: number;
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
  /** The sync user's API keys: add, list, lapse; programmatic management on or off. */
  readonly keys: SandboxApiKeyControl;
  /** The series played. */
  readonly serverVersion: SandboxSeries;
  /** Whether `/doc-bearer` answers the sync user. */
  setDocAccess(allowed: boolean): void;
  start(): Promise<void>;
  /** Closes the listener and every connection; pending delayed answers are dropped. */
  stop(): Promise<void>;
}

export function createOdooSandbox(options: OdooSandboxOptions = {}): OdooSandbox {
  const host = options.host ?? '127.0.0.1';
  const database = options.database ?? 'odoo_sandbox';
  const username = options.username ?? 'sync@dimagaz.example';
  const clock: SandboxClock = createSandboxClock(options.clock);
  const real = options.realSchemas;
  const series = options.serverVersion ?? '19.0';
  const major = Number(series.slice(0, 2));
  const store = new SandboxStore({
    catalogue: real === undefined ? undefined : realCatalogue(real.models),
    nowMicros: () => clock.peekMicros(),
    major,
  });
  for (const denied of real?.unreadable ?? (real === undefined ? [] : NO_INVENTORY_RIGHTS))
    store.access.deny(denied);
  if (options.userContext) store.userContext = { ...options.userContext };
  const faults = new SandboxFaults(options.seed ?? 1);
  const version = serverVersionOf(series);
  const apiKeys = createSandboxApiKeys({
    clock,
    major,
    ...(options.apiKeys ? { keys: options.apiKeys } : {}),
    ...(options.apiKeyManagement ? { management: options.apiKeyManagement } : {}),
  });
  let docAccess = options.docAccess ?? false;
  const auth = createSandboxAuth({
    database,
    username,
    password: options.password ?? 'sandbox-secret',
    clock,
    apiKeys,
    ...(options.passwordAsApiKey === undefined
      ? {}
      : { passwordAsApiKey: options.passwordAsApiKey }),
    cooldown:
      options.loginCooldown === false
        ? undefined
        : (options.loginCooldown ?? { failures: 10, durationMs: 60_000 }),
  });
  const maxBodyBytes = options.maxBodyBytes ?? 128 * 1024 * 1024;
  const log = options.logger?.child({ component: 'odoo-sandbox' });

  generateSandboxData(store, {
    orders: options.orders ?? 0,
    linesPerOrder: options.linesPerOrder ?? 0,
    partners: options.partners,
    moves: options.moves,
    linesPerMove: options.linesPerMove,
    cylinders: options.cylinders,
    seed: options.seed ?? 1,
    nowMicros: clock.nowMicros(),
    username,
    ...(real === undefined
      ? {}
      : { real: { records: real.records ?? {}, linesPerMove: real.linesPerMove ?? 3 } }),
  });

  // After the generated data: a replica starts with all of it.
  const replica = createSandboxReplica(store, {
    nowMicros: () => clock.peekMicros(),
    ...(options.replicaLagMs === undefined ? {} : { lagMs: options.replicaLagMs }),
  });

  const sockets = new Set<Socket>();
  const pendingDelays = new Set<() => void>();
  let server: Server | undefined;
  let url = '';

  const transaction = (): TransactionInfo => ({ uid: UID, nowMicros: clock.nowMicros() });
  const rpc = createRpcServices({ store, auth, apiKeys, version, transaction });
  const deprecatedRpc = options.deprecatedRpc !== false;

  // --- HTTP ---------------------------------------------------------------------------------

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // In flight until its answer is handed to the socket (send), or the client left first.
    answered.set(response, faults.begin());
    response.once('close', () => answeredNow(response));
    const path = (request.url ?? '/').split('?')[0] as string;
    const address = request.socket.remoteAddress ?? 'unknown';
    const xmlrpc = /^\/xmlrpc\/2\/([a-z]+)$/.exec(path);
    // JSON-2 and the API documentation came with 19.0; `/web/version` with 18.0.
    const json2 = major >= 19 ? /^\/json\/2\/([^/]+)\/([^/]+)$/.exec(path) : null;
    const doc = major >= 19 ? /^\/doc-bearer\/([^/]+)\.json$/.exec(path) : null;
    if ((path === '/web/version' || path === '/json/version') && major >= 18) {
      faults.count({ protocol: 'json2', service: 'web', method: 'version' });
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
      faults.count({ protocol: 'jsonrpc', service: 'web', method: 'version_info' });
      await readBody(request, maxBodyBytes);
      const payload = { jsonrpc: '2.0', id: null, result: version };
      send(response, { status: 200, contentType: JSON_TYPE, body: JSON.stringify(payload) });
      return;
    }
    if (doc !== null && request.method === 'GET') {
      const call = prepareDoc(
        { store, auth, docAccess: () => docAccess },
        { address, model: decodeURIComponent(doc[1] as string), headers: request.headers },
      );
      faults.count(call.info);
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
      call = prepareJson2(
        { store, readStore: () => replica.readStore(), auth, apiKeys, transaction },
        {
          address,
          model: decodeURIComponent(json2[1] as string),
          method: decodeURIComponent(json2[2] as string),
          headers: request.headers,
          body,
        },
      );
    } else call = prepareJsonRpc(rpc, address, body, { deprecatedRpc });

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

  /** Each request's end of flight (SandboxFaults.begin). */
  const answered = new WeakMap<ServerResponse, () => void>();
  function answeredNow(response: ServerResponse): void {
    answered.get(response)?.();
  }

  function send(response: ServerResponse, answer: Answer): void {
    answeredNow(response);
    if (response.destroyed) return;
    const payload = Buffer.from(answer.body, 'utf8');
    response.writeHead(answer.status, {
      ...answer.headers,
      'content-type': answer.contentType,
      'content-length': payload.length,
      // Odoo's HTTP server stamps its answers with its clock: the sandbox's, set or real.
      date: new Date(Math.floor(clock.nowMicros() / 1_000)).toUTCString(),
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
      // Odoo's HTTP server stamps its answers with its clock: the sandbox's, set or real.
      date: new Date(Math.floor(clock.nowMicros() / 1_000)).toUTCString(),
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
    setPassword: (next) => auth.setPassword(next),
    resetLoginFailures: () => auth.resetFailures(),
    webhooks: createSandboxWebhooks(),
    replica,
  });

  return {
    get url() {
      return url;
    },
    database,
    username,
    get password() {
      return auth.password;
    },
    uid: UID,
    control,
    keys: apiKeys,
    serverVersion: series,
    setDocAccess(allowed) {
      docAccess = allowed;
    },
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
export type { SandboxRealSchemas } from './real/real-schemas.js';
export type { FieldSpec as SandboxFieldSpec } from './models/field-spec.js';
