/**
 * The Odoo client: authentication, `execute_kw` and the ORM calls the sync needs, over the
 * transport the configuration names — or, with `auto`, the one the server's version calls for,
 * read once at the first call of the process (transport-choice.ts) — with a timeout, an abort
 * signal and bounded retries on every call.
 *
 * Retries follow the errors' own `retryable` flag (transport failures, 502/503/504, HTML pages,
 * serialization faults) with exponential backoff and full jitter. Bad credentials are never
 * retried: Odoo locks an IP out after repeated failed logins, so one refusal ends the call.
 * The password lives only in the transport's request bodies and headers; nothing here logs it.
 * An API key may change under the client (renewed by another process): it is read from its
 * source before each call, and a call Odoo refuses is tried once more when a newer key exists.
 */
import { Agent, type Dispatcher } from 'undici';
import { AppError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { createJson2Transport } from './json2-transport.js';
import {
  createOdooAttempts,
  raceSignal,
  type OdooCallGate,
  type OdooCallObserver,
} from './odoo-attempts.js';
import { createJsonRpcTransport } from './jsonrpc-transport.js';
import { OdooError } from './odoo-errors.js';
import type { OdooTransportSettings } from './odoo-http.js';
import { createModelDocReader, toStoredFields } from './model-doc.js';
import { createOrmCalls } from './orm-calls.js';
import { majorVersion, readServerVersion } from './server-version.js';
import { chooseTransport, configuredChoice, type OdooTransportChoice } from './transport-choice.js';
import type {
  OdooApiKeySource,
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
  OdooProtocol,
  OdooStoredField,
  OdooTransport,
  OdooVersion,
} from './odoo-types.js';
import type { LoginMemo } from './login-memo.js';
import { createXmlRpcTransport } from './xmlrpc-transport.js';

export interface OdooClientDeps {
  logger: Logger;
  observer?: OdooCallObserver;
  /** Admits every attempt of every call: a call budget shared by processes (none: no bound). */
  gate?: OdooCallGate;
  /** An undici dispatcher to share (tests, proxies); the client creates and owns one otherwise. */
  dispatcher?: Dispatcher;
  /** A transport to use instead of the one `options.protocol` names. */
  transport?: OdooTransport;
  /** Shares the uid of a login with later processes (see login-memo.ts). */
  loginMemo?: LoginMemo;
  /** The API key, when another process may renew it (in place of `options.apiKey`). */
  apiKeys?: OdooApiKeySource;
  /** Told once, when the transport is chosen (at once for a configured protocol). */
  onTransportChosen?: (choice: OdooTransportChoice) => void;
  /** Told why `/doc-bearer` is not used (JSON-2), or `null` once it answered. */
  onModelDoc?: (refusal: string | null) => void;
}

/** A client for one Odoo database and user. Every method takes `{ signal }` last. */
export interface OdooClient {
  /**
   * The transport and why; with `auto` the first call of the process reads the server's version
   * (no credentials needed) and every later call reuses the answer. A failure is not kept: the
   * next call tries again.
   */
  transport(options?: OdooCallOptions): Promise<OdooTransportChoice>;
  /** The transport chosen so far, without asking Odoo. */
  chosenTransport(): OdooTransportChoice | undefined;
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
  /**
   * Records that no longer exist are missing from the answer (Odoo drops them silently); each
   * other record comes with its own values, read a second time when Odoo paired them wrong
   * (docs/odoo.md, "Reads by id").
   * @throws OdooError `ODOO_INCONSISTENT_READ` (retryable) when that keeps happening
   */
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
  /**
   * The model's stored fields (`store: true`) with their types, sorted by name: on JSON-2 from
   * `/doc-bearer/<model>.json` revalidated by its ETag when the user may read it (model-doc.ts),
   * else from `fields_get`.
   */
  storedFields(model: string, options?: OdooCallOptions): Promise<OdooStoredField[]>;
  /**
   * Whether the user may read the model, never raising: `has_access('read')` from Odoo 18 on,
   * `check_access_rights('read')` before (deprecated since 18: Odoo logs each call).
   */
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
  /**
   * Odoo's clock now: the `Date` of a fresh answer (one light call, `version`), where
   * `serverTime` is the last answer's, which may be hours old or from before a clock was set right.
   */
  clock(options?: OdooCallOptions): Promise<Date | undefined>;
  /**
   * Whether the reads of the transport chosen may come from a replica that lags: JSON-2 with
   * `readReplica`. Before the transport is chosen, whether it may be JSON-2.
   */
  readsMayLag(): boolean;
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
  /** What the transports send: the API key when there is one (it stands for the password too). */
  let secretNow = options.apiKey ?? options.password;
  const apiKeys = deps.apiKeys;
  const settings: OdooTransportSettings = {
    url: options.url,
    database: options.database,
    username: options.username,
    secret: () => secretNow,
    dispatcher,
  };
  let choice: OdooTransportChoice | undefined =
    deps.transport !== undefined
      ? configuredChoice(deps.transport.protocol)
      : options.protocol === 'auto'
        ? undefined
        : configuredChoice(options.protocol);
  let transport: OdooTransport | undefined =
    deps.transport ??
    (choice === undefined ? undefined : createTransport(choice.protocol, settings));
  if (choice !== undefined) deps.onTransportChosen?.(choice);
  let choosing: Promise<OdooTransport> | undefined;
  const modelDocs = createModelDocReader(settings, log, deps.onModelDoc);
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
    gate: deps.gate,
  });

  /** The server's series, once read (by `auto`'s choice, or for the calls that depend on it). */
  let series: { major: number | undefined } | undefined;
  let readingVersion: Promise<number | undefined> | undefined;

  async function readVersion(): Promise<OdooVersion> {
    const version = await attempts.run('web.version', (request) =>
      readServerVersion(dispatcher, options.url, request),
    );
    series = { major: majorVersion(version) };
    return version;
  }

  /** The series, read once per process (no credentials); undefined when it cannot be parsed. */
  async function serverMajor(callOptions?: OdooCallOptions): Promise<number | undefined> {
    // `auto` reads it to choose the transport: one read serves both.
    if (choice === undefined) await transportFor(callOptions?.signal);
    if (series !== undefined) return series.major;
    readingVersion ??= readVersion()
      .then(() => series?.major)
      .finally(() => {
        readingVersion = undefined;
      });
    return raceSignal(readingVersion, 'web.version', callOptions?.signal);
  }

  /** The version read once, then the transport it calls for (see transport-choice.ts). */
  async function chooseNow(): Promise<OdooTransport> {
    const version = await readVersion();
    const chosen = chooseTransport(version, {
      hasApiKey: options.apiKey !== undefined || apiKeys !== undefined,
      password: options.password,
    });
    transport = createTransport(chosen.protocol, settings);
    choice = chosen;
    const facts = { transport: chosen.protocol, serverVersion: chosen.serverVersion };
    if (chosen.deprecationWarning !== undefined) log.warn(facts, chosen.deprecationWarning);
    else log.info(facts, `Odoo transport chosen: ${chosen.reason}`);
    deps.onTransportChosen?.(chosen);
    return transport;
  }

  async function transportFor(signal?: AbortSignal): Promise<OdooTransport> {
    if (transport !== undefined) return transport;
    // One version read for all concurrent first callers; a failure is not kept.
    choosing ??= chooseNow().finally(() => {
      choosing = undefined;
    });
    return raceSignal(choosing, 'web.version', signal);
  }

  /** The key of the next call, from its source when another process may renew it. */
  async function freshSecret(): Promise<string> {
    if (apiKeys !== undefined) secretNow = await apiKeys.current();
    return secretNow;
  }

  /**
   * A refusal of a key erp-bridge knows to have lapsed says so: Odoo answers an expired key as it
   * answers a wrong one.
   */
  function explainRefusal(error: unknown): unknown {
    const expiresAt = apiKeys?.expiresAt();
    if (
      !(error instanceof OdooError && error.code === 'ODOO_AUTH') ||
      error.reason !== undefined ||
      expiresAt === undefined ||
      expiresAt.getTime() > Date.now() ||
      (options.apiKey === undefined && apiKeys === undefined)
    )
      return error;
    const when = expiresAt.toISOString();
    return new OdooError(
      'ODOO_AUTH',
      `Odoo refused the API key: it lapsed at ${when} (API_KEY_EXPIRED). Create a new key for ` +
        'the sync user and set it as ODOO_API_KEY, or let erp-bridge renew it (ODOO_API_KEY_ROTATE)',
      {
        cause: error,
        reason: 'API_KEY_EXPIRED',
        faultCode: error.faultCode,
        ...(error.httpStatus === undefined ? {} : { httpStatus: error.httpStatus }),
        safeMessage: `Odoo's API key lapsed at ${when} (API_KEY_EXPIRED): set a new ODOO_API_KEY`,
      },
    );
  }

  let uid: number | undefined;
  /** A uid read from the memo that Odoo has not confirmed to this process yet. */
  let unconfirmedUid: number | undefined;
  /** A remembered uid Odoo refused: calls still in flight with it log in again too. */
  let refusedRememberedUid: number | undefined;
  let pendingLogin: Promise<number> | undefined;
  const memo = deps.loginMemo;
  let authRefusedAtMs: number | undefined;
  let refusalReason: OdooError['reason'];

  /** Remembers a refusal, so the calls that follow fail here instead of at Odoo. */
  function noteAuthRefused(error: unknown): void {
    if (error instanceof OdooError && error.code === 'ODOO_AUTH') {
      uid = undefined;
      authRefusedAtMs = Date.now();
      refusalReason = error.reason;
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
      `${label} not sent: Odoo refused the credentials ${Math.round(ageMs / 1_000)} s ago` +
        `${refusalReason === undefined ? '' : ` (${refusalReason})`}; ` +
        `no call before ${Math.ceil((authCooldownMs - ageMs) / 1_000)} s`,
      { faultCode: 3, ...(refusalReason === undefined ? {} : { reason: refusalReason }) },
    );
  }

  async function login(): Promise<number> {
    assertNotRefused('common.authenticate');
    const wire = await transportFor();
    const tryLogin = () =>
      attempts.run('common.authenticate', (request) => wire.authenticate(request));
    let answer = await freshSecret()
      .then(tryLogin)
      .catch((error: unknown) => {
        const explained = explainRefusal(error);
        noteAuthRefused(explained);
        throw explained;
      });
    if (answer === false && apiKeys !== undefined) {
      // Renewed by another process since this one read its key: once more with the new key.
      const newer = await apiKeys.newerThan(secretNow);
      if (newer !== undefined) {
        secretNow = newer;
        answer = await tryLogin();
      }
    }
    if (answer === false) {
      const refusal = explainRefusal(
        new OdooError(
          'ODOO_AUTH',
          `Odoo refused the credentials of user '${options.username}' on database '${options.database}'`,
          {
            faultCode: 3,
            safeMessage: "Odoo refused the sync user's credentials (common.authenticate)",
          },
        ),
      ) as OdooError;
      noteAuthRefused(refusal);
      log.error(
        { database: options.database, username: options.username, reason: refusal.reason },
        'Odoo refused the credentials',
      );
      throw refusal;
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
    const wire = await transportFor(callOptions?.signal);
    const cleanKwargs = withoutUndefined(kwargs);
    const send = (id: number) =>
      attempts.run(
        `${model}.${method}`,
        (request) =>
          wire.executeKw(id, model, method, args, cleanKwargs, {
            ...request,
            maxAnswerBytes: callOptions?.maxAnswerBytes,
          }),
        callOptions?.signal,
        callOptions?.retries,
      ) as Promise<T>;
    const sentWith = await freshSecret();
    try {
      const result = await send(userId);
      if (userId === unconfirmedUid) unconfirmedUid = undefined;
      return result;
    } catch (error) {
      if (await dropRememberedUid(userId, error)) {
        return executeKwLoggedIn(send, `${model}.${method}`, callOptions);
      }
      const newer = isRefusal(error) ? await apiKeys?.newerThan(sentWith) : undefined;
      if (newer !== undefined) {
        // Renewed by another process since this one read its key: once more with the new key.
        secretNow = newer;
        return executeKwLoggedIn(send, `${model}.${method}`, callOptions);
      }
      // A key revoked since the login: forget the uid so a call after the cooldown logs in again.
      const explained = explainRefusal(error);
      noteAuthRefused(explained);
      throw explained;
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
      const explained = explainRefusal(error);
      noteAuthRefused(explained);
      throw explained;
    }
  }

  const orm = createOrmCalls(executeKw, serverMajor);

  async function version(callOptions?: OdooCallOptions): Promise<OdooVersion> {
    const wire = await transportFor(callOptions?.signal);
    return attempts.run('common.version', (request) => wire.version(request), callOptions?.signal);
  }

  return {
    async transport(callOptions) {
      await transportFor(callOptions?.signal);
      return choice as OdooTransportChoice;
    },
    chosenTransport: () => choice,
    version,
    authenticate,
    executeKw,
    ...orm,
    async storedFields(model, callOptions) {
      const wire = await transportFor(callOptions?.signal);
      if (wire.protocol === 'json2') {
        assertNotRefused(`${model}.doc`);
        await freshSecret();
        const documented = await attempts
          .run(
            `${model}.doc`,
            (request) => modelDocs.storedFields(model, request),
            callOptions?.signal,
          )
          .catch((error: unknown) => {
            const explained = explainRefusal(error);
            noteAuthRefused(explained);
            throw explained;
          });
        if (documented !== undefined) return documented;
      }
      return toStoredFields(
        await orm.fieldsGet(model, ['type', 'store', 'relation', 'groups'], {}, callOptions),
      );
    },
    serverTime: () => serverDate,
    async clock(callOptions) {
      await version(callOptions);
      return serverDate;
    },
    readsMayLag: () =>
      options.readReplica === true && (choice === undefined || choice.protocol === 'json2'),
    async close() {
      if (ownedAgent !== undefined) await ownedAgent.close();
    },
  };
}

function isRefusal(error: unknown): boolean {
  return error instanceof OdooError && error.code === 'ODOO_AUTH';
}

function createTransport(protocol: OdooProtocol, settings: OdooTransportSettings): OdooTransport {
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
