/**
 * The Odoo client: authentication, `execute_kw` and the ORM calls the sync needs, over whichever
 * transport the configuration names, with a timeout, an abort signal and bounded retries on
 * every call.
 *
 * Retries follow the errors' own `retryable` flag (transport failures, 502/503/504, HTML pages,
 * serialization faults) with exponential backoff and full jitter. Bad credentials are never
 * retried: Odoo locks an IP out after repeated failed logins, so one refusal ends the call.
 * The password lives only in the transport's request bodies and headers; nothing here logs it.
 */
import { Agent, type Dispatcher } from 'undici';
import { AppError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { createJson2Transport } from './json2-transport.js';
import { abortedError, createOdooAttempts, type OdooCallObserver } from './odoo-attempts.js';
import { createJsonRpcTransport } from './jsonrpc-transport.js';
import { OdooError } from './odoo-errors.js';
import type { OdooTransportSettings } from './odoo-http.js';
import type {
  OdooCallOptions,
  OdooClientOptions,
  OdooContext,
  OdooDomain,
  OdooFieldDescription,
  OdooFieldsGetOptions,
  OdooPagesOptions,
  OdooReadOptions,
  OdooRecord,
  OdooSearchCountOptions,
  OdooSearchOptions,
  OdooSearchReadOptions,
  OdooStoredField,
  OdooTransport,
  OdooVersion,
} from './odoo-types.js';
import type { LoginMemo } from './login-memo.js';
import { createXmlRpcTransport } from './xmlrpc-transport.js';

export interface OdooClientDeps {
  logger: Logger;
  observer?: OdooCallObserver;
  /** An undici dispatcher to share (tests, proxies); the client creates and owns one otherwise. */
  dispatcher?: Dispatcher;
  /** A transport to use instead of the one `options.protocol` names. */
  transport?: OdooTransport;
  /** Shares the uid of a login with later processes (see login-memo.ts). */
  loginMemo?: LoginMemo;
}

/** A client for one Odoo database and user. Every method takes `{ signal }` last. */
export interface OdooClient {
  readonly protocol: OdooClientOptions['protocol'];
  /** The server's version (`common.version`, or `/web/version` on JSON-2). */
  version(options?: OdooCallOptions): Promise<OdooVersion>;
  /**
   * The user's id, cached after the first success. Concurrent callers share one login.
   * @throws OdooError `ODOO_AUTH` (not retryable) when Odoo refuses the credentials.
   */
  authenticate(options?: OdooCallOptions): Promise<number>;
  /** The sync user's own context (`res.users.context_get`: `lang`, `tz`, `uid`). */
  userContext(options?: OdooCallOptions): Promise<OdooContext>;
  /** `execute_kw(model, method, args, kwargs)`; `undefined` kwargs are left out. */
  executeKw<T = unknown>(
    model: string,
    method: string,
    args?: readonly unknown[],
    kwargs?: Readonly<Record<string, unknown>>,
    options?: OdooCallOptions,
  ): Promise<T>;
  searchRead<T extends OdooRecord = OdooRecord>(
    model: string,
    domain: OdooDomain,
    readOptions: OdooSearchReadOptions,
    options?: OdooCallOptions,
  ): Promise<T[]>;
  search(
    model: string,
    domain: OdooDomain,
    searchOptions?: OdooSearchOptions,
    options?: OdooCallOptions,
  ): Promise<number[]>;
  searchCount(
    model: string,
    domain: OdooDomain,
    countOptions?: OdooSearchCountOptions,
    options?: OdooCallOptions,
  ): Promise<number>;
  /** Records that no longer exist are missing from the answer (Odoo drops them silently). */
  read<T extends OdooRecord = OdooRecord>(
    model: string,
    ids: readonly number[],
    fields: readonly string[],
    readOptions?: OdooReadOptions,
    options?: OdooCallOptions,
  ): Promise<T[]>;
  /** `fields_get` with an explicit attribute list (an unbounded one can fault on Odoo 19). */
  fieldsGet(
    model: string,
    attributes: readonly string[],
    fieldsOptions?: OdooFieldsGetOptions,
    options?: OdooCallOptions,
  ): Promise<Record<string, OdooFieldDescription>>;
  /** The model's stored fields (`store: true`) with their types, sorted by name. */
  storedFields(model: string, options?: OdooCallOptions): Promise<OdooStoredField[]>;
  /** Whether the user may read the model (`check_access_rights('read')`, never raising). */
  canRead(model: string, options?: OdooCallOptions): Promise<boolean>;
  /**
   * Pages of the records matching `domain`, by keyset on id (`id > last id`, `order: 'id asc'`):
   * each record that matches throughout is returned exactly once even while others change.
   */
  pages<T extends OdooRecord = OdooRecord>(
    model: string,
    domain: OdooDomain,
    pagesOptions: OdooPagesOptions,
    options?: OdooCallOptions,
  ): AsyncIterable<T[]>;
  /**
   * Odoo's clock as its last answer gave it (the HTTP `Date` header, to the second), or undefined
   * before any answer. Behind a proxy it is the proxy's clock.
   */
  serverTime(): Date | undefined;
  /** Closes the connection pool the client created (a given dispatcher is left open). */
  close(): Promise<void>;
}

const DEFAULT_RETRY_BASE_DELAY_MS = 250;
const DEFAULT_RETRY_MAX_DELAY_MS = 10_000;
const DEFAULT_AUTH_COOLDOWN_MS = 60_000;
const KEEP_ALIVE_TIMEOUT_MS = 30_000;

/** Creates a client; it connects lazily, on the first call. */
export function createOdooClient(options: OdooClientOptions, deps: OdooClientDeps): OdooClient {
  validateOptions(options);
  const log = deps.logger.child({ component: 'odoo-client' });
  const ownedAgent =
    deps.dispatcher === undefined
      ? new Agent({
          keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
          connect: { timeout: options.timeoutMs },
          headersTimeout: options.timeoutMs,
          bodyTimeout: options.timeoutMs,
        })
      : undefined;
  const dispatcher: Dispatcher = deps.dispatcher ?? (ownedAgent as Agent);
  const settings: OdooTransportSettings = {
    url: options.url,
    database: options.database,
    username: options.username,
    password: options.password,
    dispatcher,
  };
  const transport = deps.transport ?? createTransport(options.protocol, settings);
  const timeoutMs = options.timeoutMs;
  const retries = options.retries;
  const baseDelayMs = options.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS;
  const maxDelayMs = options.retryMaxDelayMs ?? DEFAULT_RETRY_MAX_DELAY_MS;

  const authCooldownMs = options.authCooldownMs ?? DEFAULT_AUTH_COOLDOWN_MS;
  let serverDate: Date | undefined;
  const attempts = createOdooAttempts({
    onServerDate: (date) => {
      serverDate = date;
    },
    timeoutMs,
    retries,
    baseDelayMs,
    maxDelayMs,
    logger: log,
    observer: deps.observer,
  });

  let uid: number | undefined;
  /** A uid read from the memo that Odoo has not confirmed to this process yet. */
  let unconfirmedUid: number | undefined;
  /** A remembered uid Odoo refused: calls still in flight with it log in again too. */
  let refusedRememberedUid: number | undefined;
  let pendingLogin: Promise<number> | undefined;
  const memo = deps.loginMemo;
  let authRefusedAtMs: number | undefined;

  /** Remembers a refusal, so the calls that follow fail here instead of at Odoo. */
  function noteAuthRefused(error: unknown): void {
    if (error instanceof OdooError && error.code === 'ODOO_AUTH') {
      uid = undefined;
      authRefusedAtMs = Date.now();
    }
  }

  function assertNotRefused(label: string): void {
    if (authRefusedAtMs === undefined) return;
    const ageMs = Date.now() - authRefusedAtMs;
    if (ageMs >= authCooldownMs) {
      authRefusedAtMs = undefined;
      return;
    }
    throw new OdooError(
      'ODOO_AUTH',
      `${label} not sent: Odoo refused the credentials ${Math.round(ageMs / 1_000)} s ago; ` +
        `no call before ${Math.ceil((authCooldownMs - ageMs) / 1_000)} s`,
      { faultCode: 3 },
    );
  }

  async function login(): Promise<number> {
    assertNotRefused('common.authenticate');
    const answer = await attempts
      .run('common.authenticate', (request) => transport.authenticate(request))
      .catch((error: unknown) => {
        noteAuthRefused(error);
        throw error;
      });
    if (answer === false) {
      authRefusedAtMs = Date.now();
      log.error(
        { database: options.database, username: options.username },
        'Odoo refused the credentials',
      );
      throw new OdooError(
        'ODOO_AUTH',
        `Odoo refused the credentials of user '${options.username}' on database '${options.database}'`,
        {
          faultCode: 3,
          safeMessage: "Odoo refused the sync user's credentials (common.authenticate)",
        },
      );
    }
    uid = answer;
    await memo?.save(answer).catch((error: unknown) => {
      log.warn({ err: error }, 'could not remember the Odoo uid; the next process logs in');
    });
    return answer;
  }

  /** The remembered uid, or a login. */
  async function rememberedOrLogin(): Promise<number> {
    const remembered = await memo?.load().catch(() => undefined);
    if (
      remembered === undefined ||
      remembered === refusedRememberedUid ||
      authRefusedAtMs !== undefined
    )
      return login();
    uid = remembered;
    unconfirmedUid = remembered;
    return remembered;
  }

  async function authenticate(callOptions?: OdooCallOptions): Promise<number> {
    if (uid !== undefined) return uid;
    // One login for all concurrent callers; each still stops waiting when its own signal fires.
    pendingLogin ??= rememberedOrLogin().finally(() => {
      pendingLogin = undefined;
    });
    return raceSignal(pendingLogin, 'common.authenticate', callOptions?.signal);
  }

  /**
   * After Odoo refused a call made with a remembered uid: forget it, so the callers log in for
   * real once (a user created again has a new uid). False when the uid was not a remembered one.
   */
  async function dropRememberedUid(userId: number, error: unknown): Promise<boolean> {
    if (!(error instanceof OdooError && error.code === 'ODOO_AUTH')) return false;
    if (userId !== unconfirmedUid) return userId === refusedRememberedUid;
    unconfirmedUid = undefined;
    refusedRememberedUid = userId;
    if (uid === userId) uid = undefined;
    await memo?.forget().catch(() => undefined);
    return true;
  }

  async function executeKw<T>(
    model: string,
    method: string,
    args: readonly unknown[] = [],
    kwargs: Readonly<Record<string, unknown>> = {},
    callOptions?: OdooCallOptions,
  ): Promise<T> {
    const userId = await authenticate(callOptions);
    assertNotRefused(`${model}.${method}`);
    const cleanKwargs = withoutUndefined(kwargs);
    const send = (id: number) =>
      attempts.run(
        `${model}.${method}`,
        (request) => transport.executeKw(id, model, method, args, cleanKwargs, request),
        callOptions?.signal,
      ) as Promise<T>;
    try {
      const result = await send(userId);
      if (userId === unconfirmedUid) unconfirmedUid = undefined;
      return result;
    } catch (error) {
      if (await dropRememberedUid(userId, error)) {
        return executeKwLoggedIn(send, `${model}.${method}`, callOptions);
      }
      // A key revoked since the login: forget the uid so a call after the cooldown logs in again.
      noteAuthRefused(error);
      throw error;
    }
  }

  /** The call again, once, after a real login. */
  async function executeKwLoggedIn<T>(
    send: (id: number) => Promise<T>,
    label: string,
    callOptions?: OdooCallOptions,
  ): Promise<T> {
    const userId = await authenticate(callOptions);
    assertNotRefused(label);
    try {
      return await send(userId);
    } catch (error) {
      noteAuthRefused(error);
      throw error;
    }
  }

  async function fieldsGet(
    model: string,
    attributes: readonly string[],
    fieldsOptions: OdooFieldsGetOptions = {},
    callOptions?: OdooCallOptions,
  ): Promise<Record<string, OdooFieldDescription>> {
    const result = await executeKw<Record<string, OdooFieldDescription>>(
      model,
      'fields_get',
      [],
      { allfields: fieldsOptions.allfields, attributes, context: fieldsOptions.context },
      callOptions,
    );
    return result;
  }

  async function searchRead<T extends OdooRecord>(
    model: string,
    domain: OdooDomain,
    readOptions: OdooSearchReadOptions,
    callOptions?: OdooCallOptions,
  ): Promise<T[]> {
    return executeKw<T[]>(
      model,
      'search_read',
      [domain],
      {
        fields: readOptions.fields,
        offset: readOptions.offset,
        limit: readOptions.limit,
        order: readOptions.order,
        context: readOptions.context,
        load: readOptions.load,
      },
      callOptions,
    );
  }

  return {
    protocol: options.protocol,
    version: (callOptions) =>
      attempts.run('common.version', (request) => transport.version(request), callOptions?.signal),
    authenticate,
    userContext: (callOptions) =>
      executeKw<OdooContext>('res.users', 'context_get', [], {}, callOptions),
    executeKw,
    searchRead,
    search: (model, domain, searchOptions = {}, callOptions) =>
      executeKw<number[]>(
        model,
        'search',
        [domain],
        {
          offset: searchOptions.offset,
          limit: searchOptions.limit,
          order: searchOptions.order,
          context: searchOptions.context,
        },
        callOptions,
      ),
    searchCount: (model, domain, countOptions = {}, callOptions) =>
      executeKw<number>(
        model,
        'search_count',
        [domain],
        { limit: countOptions.limit, context: countOptions.context },
        callOptions,
      ),
    async read<T extends OdooRecord>(
      model: string,
      ids: readonly number[],
      fields: readonly string[],
      readOptions: OdooReadOptions = {},
      callOptions?: OdooCallOptions,
    ): Promise<T[]> {
      if (ids.length === 0) return [];
      return executeKw<T[]>(
        model,
        'read',
        [ids],
        { fields, context: readOptions.context, load: readOptions.load },
        callOptions,
      );
    },
    fieldsGet,
    async canRead(model, callOptions) {
      const answer = await executeKw<unknown>(
        model,
        'check_access_rights',
        ['read'],
        { raise_exception: false },
        callOptions,
      );
      return answer === true;
    },
    async storedFields(model, callOptions) {
      const fields = await fieldsGet(model, ['type', 'store', 'relation'], {}, callOptions);
      return Object.entries(fields)
        .filter(
          ([, description]) => description.store === true && typeof description.type === 'string',
        )
        .map(([name, description]) => {
          const field: OdooStoredField = {
            name,
            type: description.type as OdooStoredField['type'],
          };
          if (typeof description.relation === 'string') field.relation = description.relation;
          return field;
        })
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
    pages<T extends OdooRecord>(
      model: string,
      domain: OdooDomain,
      pagesOptions: OdooPagesOptions,
      callOptions?: OdooCallOptions,
    ) {
      const { pageSize } = pagesOptions;
      if (!Number.isInteger(pageSize) || pageSize < 1)
        throw new AppError('ODOO_CONFIG', `pageSize must be a positive integer, got ${pageSize}`);
      return {
        async *[Symbol.asyncIterator](): AsyncGenerator<T[]> {
          let lastId = 0;
          for (;;) {
            // Keyset, never offset: each call is its own transaction, so offsets shift under
            // concurrent inserts and archivals; `id > last` does not.
            const page = await searchRead<T>(
              model,
              [['id', '>', lastId], ...domain],
              {
                fields: pagesOptions.fields,
                limit: pageSize,
                order: 'id asc',
                context: pagesOptions.context,
                load: pagesOptions.load,
              },
              callOptions,
            );
            if (page.length === 0) return;
            yield page;
            if (page.length < pageSize) return;
            for (const record of page) if (record.id > lastId) lastId = record.id;
          }
        },
      };
    },
    serverTime: () => serverDate,
    async close() {
      if (ownedAgent !== undefined) await ownedAgent.close();
    },
  };
}

function createTransport(
  protocol: OdooClientOptions['protocol'],
  settings: OdooTransportSettings,
): OdooTransport {
  switch (protocol) {
    case 'xmlrpc':
      return createXmlRpcTransport(settings);
    case 'jsonrpc':
      return createJsonRpcTransport(settings);
    case 'json2':
      return createJson2Transport(settings);
    default:
      throw new AppError('ODOO_CONFIG', `unknown Odoo protocol '${String(protocol)}'`);
  }
}

function validateOptions(options: OdooClientOptions): void {
  const problems: string[] = [];
  try {
    const url = new URL(options.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push('url must be http(s)');
  } catch {
    problems.push('url is not a URL');
  }
  if (!options.database) problems.push('database is empty');
  if (!options.username) problems.push('username is empty');
  if (!Number.isInteger(options.timeoutMs) || options.timeoutMs < 1)
    problems.push('timeoutMs must be a positive integer');
  if (!Number.isInteger(options.retries) || options.retries < 0)
    problems.push('retries must be a whole number');
  if (problems.length > 0)
    throw new AppError('ODOO_CONFIG', `invalid Odoo client options: ${problems.join('; ')}`);
}

function withoutUndefined(kwargs: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const clean: Record<string, unknown> = {};
  for (const key of Object.keys(kwargs)) {
    // The xmlrpc serializer writes undefined as an empty <value/>, which Odoo reads as ''.
    if (kwargs[key] !== undefined) clean[key] = kwargs[key];
  }
  return clean;
}

function raceSignal<T>(promise: Promise<T>, label: string, signal?: AbortSignal): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(abortedError(label, signal.reason));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortedError(label, signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
