/**
 * A database's one user and how Odoo checks it: `authenticate`/`login` answer the uid or False,
 * `execute_kw` re-checks uid and password on every call (AccessDenied, fault 3), an API key of
 * the user is taken wherever the password is (a lapsed or revoked one is refused like a wrong
 * one), JSON-2 takes a key — or, unless `passwordAsApiKey` is off, the password: a convenience of
 * the sandbox's, which Odoo refuses with a 401 — as its bearer, and an address
 * that failed too often is refused for a while (Odoo's login cooldown: 10 failures, then 60 s),
 * whatever it sends. The failures are counted per database, as Odoo counts them on the
 * database's registry; which database a call names is the server's concern (sandbox-routing.ts).
 */
import type { SandboxApiKeys } from './sandbox-apikeys.js';
import { accessDenied } from './sandbox-exceptions.js';
import type { SandboxClock } from './sandbox-time.js';

/** The uid of the sandbox's API user. */
export const UID = 2;

export interface SandboxAuthOptions {
  username: string;
  password: string;
  clock: SandboxClock;
  apiKeys: SandboxApiKeys;
  /** Failures before the cooldown and its length; undefined disables it. */
  cooldown?: { failures: number; durationMs: number };
  /** Whether JSON-2 takes the password as its bearer (default true; Odoo takes keys only). */
  passwordAsApiKey?: boolean;
}

export interface SandboxAuth {
  readonly username: string;
  readonly password: string;
  setPassword(next: string): void;
  /** `res.users.authenticate` for the one user: the uid, or false. */
  authenticate(address: string, login: unknown, secret: unknown): number | false;
  /** `_check_uid_passwd` of `execute_kw`: AccessDenied (fault 3) unless uid and password match. */
  checkUidPassword(address: string, uid: unknown, secret: unknown): void;
  /** JSON-2's `Authorization: bearer <key>`: true when the key is the user's. */
  checkApiKey(address: string, authorization: string): boolean;
  resetFailures(): void;
}

export function createSandboxAuth(options: SandboxAuthOptions): SandboxAuth {
  const { username, clock, cooldown, apiKeys } = options;
  let password = options.password;
  /** The password, or a live API key of the user (Odoo's `_check_credentials`). */
  const accepts = (secret: unknown): boolean =>
    typeof secret === 'string' && secret !== '' && (secret === password || apiKeys.check(secret));
  const bearerAccepts = (secret: unknown): boolean =>
    options.passwordAsApiKey === false
      ? typeof secret === 'string' && apiKeys.check(secret)
      : accepts(secret);
  const loginFailures = new Map<string, { count: number; lastMicros: number }>();

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

  return {
    username,
    get password() {
      return password;
    },
    setPassword(next) {
      password = next;
    },
    authenticate(address, login, secret) {
      if (coolingDown(address)) return false;
      if (login === username && accepts(secret)) {
        loginFailures.delete(address);
        return UID;
      }
      registerFailure(address);
      return false;
    },
    checkUidPassword(address, uid, secret) {
      if (typeof secret !== 'string' || secret === '') throw accessDenied();
      if (coolingDown(address)) throw accessDenied();
      if (Number(uid) !== UID || !accepts(secret)) {
        registerFailure(address);
        throw accessDenied();
      }
    },
    checkApiKey(address, authorization) {
      const match = /^bearer\s+(.+)$/i.exec(authorization);
      if (match === null || coolingDown(address) || !bearerAccepts(match[1])) {
        if (match !== null) registerFailure(address);
        return false;
      }
      return true;
    },
    resetFailures() {
      loginFailures.clear();
    },
  };
}
