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
import type { OdooTransportSettings } from './odoo-http.js';
import { createModelDocReader, toStoredFields } from './model-doc.js';
import { createOrmCalls } from './orm-calls.js';
import { majorVersion, readServerVersion } from './server-version.js';
import { chooseTransport, configuredChoice, type OdooTransportChoice } from './transport-choice.js';
import type {
  OdooApiKeySource,
  OdooCallOptions,
  OdooClient,
  OdooClientOptions,
  OdooProtocol,
  OdooTransport,
  OdooVersion,
} from './odoo-types.js';
import type { LoginMemo } from './login-memo.js';
import { createOdooSession } from './odoo-session.js';
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
    // What the transports send: the API key when there is one (it stands for the password too).
    secret: () => session.secretNow(),
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
      hasApiKey: options.apiKey !== undefined || deps.apiKeys !== undefined,
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

  const session = createOdooSession(
    {
      database: options.database,
      username: options.username,
      secret: options.apiKey ?? options.password,
      isApiKey: options.apiKey !== undefined,
      authCooldownMs: options.authCooldownMs ?? DEFAULT_AUTH_COOLDOWN_MS,
    },
    {
      login: async () => {
        const wire = await transportFor();
        return attempts.run('common.authenticate', (request) => wire.authenticate(request));
      },
      apiKeys: deps.apiKeys,
      memo: deps.loginMemo,
      logger: log,
    },
  );

  async function executeKw<T>(
    model: string,
    method: string,
    args: readonly unknown[] = [],
    kwargs: Readonly<Record<string, unknown>> = {},
    callOptions?: OdooCallOptions,
  ): Promise<T> {
    const label = `${model}.${method}`;
    const cleanKwargs = withoutUndefined(kwargs);
    return session.call(
      label,
      async (id) => {
        const wire = await transportFor(callOptions?.signal);
        return attempts.run(
          label,
          (request) =>
            wire.executeKw(id, model, method, args, cleanKwargs, {
              ...request,
              maxAnswerBytes: callOptions?.maxAnswerBytes,
              largeTexts: callOptions?.largeTexts,
            }),
          callOptions?.signal,
          callOptions?.retries,
        ) as Promise<T>;
      },
      callOptions,
    );
  }

  const orm = createOrmCalls(
    executeKw,
    serverMajor,
    (error) =>
      log.warn(
        { err: error },
        'Odoo refuses web_read (no such method, or server faults in a row): each page reads its roots and their children in calls of their own',
      ),
    options.treeReads !== false,
  );

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
    authenticate: (callOptions) => session.authenticate(callOptions),
    executeKw,
    ...orm,
    async storedFields(model, callOptions) {
      const wire = await transportFor(callOptions?.signal);
      if (wire.protocol === 'json2') {
        session.assertNotRefused(`${model}.doc`);
        await session.freshSecret();
        const documented = await attempts
          .run(
            `${model}.doc`,
            (request) => modelDocs.storedFields(model, request),
            callOptions?.signal,
          )
          .catch((error: unknown) => {
            throw session.refused(error);
          });
        if (documented !== undefined) return documented;
      }
      return toStoredFields(
        await orm.fieldsGet(
          model,
          ['type', 'store', 'relation', 'groups', 'relation_field', 'domain', 'context'],
          {},
          callOptions,
        ),
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
