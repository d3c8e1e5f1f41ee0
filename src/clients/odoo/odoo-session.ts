/**
 * The Odoo client's session, as `tryton-session.ts` is the Tryton client's: which key the next
 * call sends, which uid it calls with, and what a refusal means.
 *
 * - The uid: remembered by another process (login-memo.ts) or one login for all concurrent
 *   callers. A remembered uid Odoo refuses is forgotten and the call made once more after a real
 *   login (a user created again has a new uid).
 * - The key: read from its source before each call when another process may renew it; a call Odoo
 *   refuses is made once more when a newer key exists.
 * - A refusal: remembered for the cooldown, so the calls that follow fail here instead of at Odoo
 *   (Odoo locks an address out after ten failed logins a minute); a refusal of a key known to
 *   have lapsed says so (`API_KEY_EXPIRED`).
 *
 * Not for: the wire. `login` and every call's `send` are the client's (odoo-client.ts).
 */
import type { Logger } from '../../lib/logger.js';
import { raceSignal } from './odoo-attempts.js';
import { OdooError } from './odoo-errors.js';
import type { LoginMemo } from './login-memo.js';
import type { OdooApiKeySource, OdooCallOptions } from './odoo-types.js';

export interface OdooSessionSettings {
  readonly database: string;
  readonly username: string;
  /** The configured key or password: what is sent until a source gives a newer key. */
  readonly secret: string;
  /** Whether the secret is an API key (an expired one is told apart from a wrong one). */
  readonly isApiKey: boolean;
  readonly authCooldownMs: number;
}

export interface OdooSessionDeps {
  /** `common.authenticate` with the key sent now: the uid, or false when Odoo refused. */
  readonly login: () => Promise<number | false>;
  readonly apiKeys?: OdooApiKeySource | undefined;
  readonly memo?: LoginMemo | undefined;
  readonly logger: Logger;
}

export interface OdooSession {
  /** What the transports send now. */
  secretNow(): string;
  /** The key of the next call, from its source when another process may renew it. */
  freshSecret(): Promise<string>;
  /**
   * The user's id, cached after the first success. Concurrent callers share one login.
   * @throws OdooError `ODOO_AUTH` (not retryable) when Odoo refuses the credentials.
   */
  authenticate(options?: OdooCallOptions): Promise<number>;
  /** @throws OdooError `ODOO_AUTH` while a refusal's cooldown lasts */
  assertNotRefused(label: string): void;
  /**
   * `send` with the uid; a refusal is decided here: once more after a real login (a remembered
   * uid), once more with a newer key, or remembered for the cooldown and thrown.
   */
  call<T>(label: string, send: (uid: number) => Promise<T>, options?: OdooCallOptions): Promise<T>;
  /** A call that takes no uid (the schema's document) failed: a refusal is remembered. */
  refused(error: unknown): unknown;
}

export function createOdooSession(
  settings: OdooSessionSettings,
  deps: OdooSessionDeps,
): OdooSession {
  const { apiKeys, memo, logger: log } = deps;
  let secretNow = settings.secret;
  let uid: number | undefined;
  /** A uid read from the memo that Odoo has not confirmed to this process yet. */
  let unconfirmedUid: number | undefined;
  /** A remembered uid Odoo refused: calls still in flight with it log in again too. */
  let refusedRememberedUid: number | undefined;
  let pendingLogin: Promise<number> | undefined;
  let authRefusedAtMs: number | undefined;
  let refusalReason: OdooError['reason'];

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
      !isRefusal(error) ||
      error.reason !== undefined ||
      expiresAt === undefined ||
      expiresAt.getTime() > Date.now() ||
      (!settings.isApiKey && apiKeys === undefined)
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

  /** Remembers a refusal, so the calls that follow fail here instead of at Odoo. */
  function refused(error: unknown): unknown {
    const explained = explainRefusal(error);
    if (isRefusal(explained)) {
      uid = undefined;
      authRefusedAtMs = Date.now();
      refusalReason = explained.reason;
    }
    return explained;
  }

  function assertNotRefused(label: string): void {
    if (authRefusedAtMs === undefined) return;
    const ageMs = Date.now() - authRefusedAtMs;
    if (ageMs >= settings.authCooldownMs) {
      authRefusedAtMs = undefined;
      return;
    }
    throw new OdooError(
      'ODOO_AUTH',
      `${label} not sent: Odoo refused the credentials ${Math.round(ageMs / 1_000)} s ago` +
        `${refusalReason === undefined ? '' : ` (${refusalReason})`}; ` +
        `no call before ${Math.ceil((settings.authCooldownMs - ageMs) / 1_000)} s`,
      { faultCode: 3, ...(refusalReason === undefined ? {} : { reason: refusalReason }) },
    );
  }

  async function login(): Promise<number> {
    assertNotRefused('common.authenticate');
    let answer = await freshSecret()
      .then(deps.login)
      .catch((error: unknown) => {
        throw refused(error);
      });
    if (answer === false && apiKeys !== undefined) {
      // Renewed by another process since this one read its key: once more with the new key.
      const newer = await apiKeys.newerThan(secretNow);
      if (newer !== undefined) {
        secretNow = newer;
        answer = await deps.login();
      }
    }
    if (answer === false) {
      const refusal = refused(
        new OdooError(
          'ODOO_AUTH',
          `Odoo refused the credentials of user '${settings.username}' on database '${settings.database}'`,
          {
            faultCode: 3,
            safeMessage: "Odoo refused the sync user's credentials (common.authenticate)",
          },
        ),
      ) as OdooError;
      log.error(
        { database: settings.database, username: settings.username, reason: refusal.reason },
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
   * real once. False when the uid was not a remembered one.
   */
  async function dropRememberedUid(userId: number, error: unknown): Promise<boolean> {
    if (!isRefusal(error)) return false;
    if (userId !== unconfirmedUid) return userId === refusedRememberedUid;
    unconfirmedUid = undefined;
    refusedRememberedUid = userId;
    if (uid === userId) uid = undefined;
    await memo?.forget().catch(() => undefined);
    return true;
  }

  /** The call again, once, after a real login. */
  async function callLoggedIn<T>(
    label: string,
    send: (uid: number) => Promise<T>,
    callOptions?: OdooCallOptions,
  ): Promise<T> {
    const userId = await authenticate(callOptions);
    assertNotRefused(label);
    try {
      return await send(userId);
    } catch (error) {
      throw refused(error);
    }
  }

  return {
    secretNow: () => secretNow,
    freshSecret,
    authenticate,
    assertNotRefused,
    refused,
    async call(label, send, callOptions) {
      const userId = await authenticate(callOptions);
      assertNotRefused(label);
      const sentWith = await freshSecret();
      try {
        const result = await send(userId);
        if (userId === unconfirmedUid) unconfirmedUid = undefined;
        return result;
      } catch (error) {
        if (await dropRememberedUid(userId, error)) return callLoggedIn(label, send, callOptions);
        const newer = isRefusal(error) ? await apiKeys?.newerThan(sentWith) : undefined;
        if (newer !== undefined) {
          // Renewed by another process since this one read its key: once more with the new key.
          secretNow = newer;
          return callLoggedIn(label, send, callOptions);
        }
        // A key revoked since the login: forget the uid so a call after the cooldown logs in again.
        throw refused(error);
      }
    },
  };
}

function isRefusal(error: unknown): error is OdooError {
  return error instanceof OdooError && error.code === 'ODOO_AUTH';
}
