/**
 * The sync user's API keys (`res.users.apikeys`) as Odoo keeps and checks them: 40 hex
 * characters, a scope (none: any RPC, up to 19; from 20.0 every key has one, `rpc` by default),
 * an expiration date from 18.0 on (a lapsed key is refused like a wrong one), and from 19.x the
 * programmatic management of `generate(key, scope, name, expiration_date)` and `revoke(key)`.
 *
 * As in Odoo: `generate` needs a valid key of the calling user, a date within the longest
 * duration the user's groups allow (90 days for internal users), fewer than 10 live keys, and the
 * system parameter `base.enable_programmatic_api_keys` for a user who is not an administrator
 * (`programmatic`); the old key stays valid until it is revoked or lapses. `search_read` lists
 * the user's own keys (name, scope, expiration_date), never their value.
 */
import { randomBytes } from 'node:crypto';
import {
  httpException,
  OdooException,
  pythonError,
  userError,
  validationError,
} from './sandbox-exceptions.js';
import type { PyValue } from './python-values.js';
import { formatOdooDatetime, parseDatetimeMicros, type SandboxClock } from './sandbox-time.js';

export const APIKEYS_MODEL = 'res.users.apikeys';

/** A key as the test sets it up. */
export interface SandboxApiKeySpec {
  key: string;
  name?: string;
  /** Absent: a persistent key (only an administrator can make one in Odoo). */
  expiresAt?: Date;
  /** Absent or null: any RPC (from 20.0, absent is `rpc`: a key without a scope is no more). */
  scope?: string | null;
}

/** What a test sees of a key. */
export interface SandboxApiKeyInfo {
  readonly id: number;
  /** The first 8 characters, Odoo's index; the value itself is never listed. */
  readonly index: string;
  readonly name: string;
  readonly scope: string | null;
  readonly expiresAt?: Date;
  readonly revoked: boolean;
  /** Calls it authenticated. */
  readonly uses: number;
}

/** The test-facing side of the key registry. */
export interface SandboxApiKeyControl {
  /** Adds a key of the sync user; returns its value. */
  add(spec: Omit<SandboxApiKeySpec, 'key'> & { key?: string }): string;
  list(): SandboxApiKeyInfo[];
  /** The key's record, by its value. */
  info(key: string): SandboxApiKeyInfo | undefined;
  /** Moves a key's expiration (a past date makes it lapse now). */
  setExpiry(key: string, expiresAt: Date | undefined): void;
  /** `base.enable_programmatic_api_keys` for the sync user (a plain internal user). */
  setProgrammatic(mode: SandboxKeyManagement): void;
  /** Calls refused for a key that exists but lapsed or was revoked, or is unknown. */
  readonly refusals: number;
}

interface StoredKey {
  id: number;
  key: string;
  name: string;
  scope: string | null;
  expiresMicros?: number;
  createMicros: number;
  revoked: boolean;
  uses: number;
}

/**
 * `generate`/`revoke`: `absent` as on an Odoo 19 before they came (19.0.0: JSON-2 answers 404),
 * `disabled` as Odoo ships them for a user who is not an administrator (the user error
 * "Programmatic API keys are not enabled", a 422), `enabled` once
 * `base.enable_programmatic_api_keys` is set.
 */
export type SandboxKeyManagement = 'absent' | 'disabled' | 'enabled';

const INDEX_SIZE = 8;
const PROGRAMMATIC_LIMIT = 10;

export interface SandboxApiKeys extends SandboxApiKeyControl {
  /** `_check_credentials(scope='rpc', key)`: true for a live key of the user; counts refusals. */
  check(key: string): boolean;
  /** A call on `res.users.apikeys`, its arguments bound by name (JSON-2: a miss is a 404). */
  dispatch(
    method: string,
    args: Record<string, unknown>,
    uid: number,
    style: 'execute_kw' | 'json2',
  ): PyValue;
}

export function createSandboxApiKeys(options: {
  clock: SandboxClock;
  /** The series: keys have no expiration before 18, no programmatic management before 19. */
  major: number;
  keys?: readonly SandboxApiKeySpec[];
  management?: SandboxKeyManagement;
  /** The longest duration the user's groups allow (`api_key_duration`), in days. */
  maxDays?: number;
}): SandboxApiKeys {
  const { clock, major } = options;
  // Odoo 20 made the scope required, and checks a key against the scope asked alone: a key with
  // no scope no longer stands for any (Vauxoo/odoo, odoo/addons/base/models/res_users.py at
  // ce495e06217d30212dd4ab266038c9ad6c9b1b49: `scope = fields.Char(required=True)`, and
  // `_check_apikey_credentials` matches `scope = %(scope)s`; docs/odoo.md, "Odoo 20.0").
  const scopeRequired = major >= 20;
  const maxDays = options.maxDays ?? 90;
  let management: SandboxKeyManagement = major < 19 ? 'absent' : (options.management ?? 'disabled');
  let nextId = 1;
  let refusals = 0;
  const keys: StoredKey[] = [];

  const live = (stored: StoredKey) =>
    !stored.revoked &&
    (stored.expiresMicros === undefined || stored.expiresMicros >= clock.peekMicros());
  const infoOf = (stored: StoredKey): SandboxApiKeyInfo => ({
    id: stored.id,
    index: stored.key.slice(0, INDEX_SIZE),
    name: stored.name,
    scope: stored.scope,
    ...(stored.expiresMicros === undefined
      ? {}
      : { expiresAt: new Date(Math.floor(stored.expiresMicros / 1_000)) }),
    revoked: stored.revoked,
    uses: stored.uses,
  });
  function add(spec: Omit<SandboxApiKeySpec, 'key'> & { key?: string }): string {
    const key = spec.key ?? randomBytes(20).toString('hex');
    keys.push({
      id: nextId++,
      key,
      name: spec.name ?? 'erp-bridge',
      scope: spec.scope ?? (scopeRequired ? 'rpc' : null),
      createMicros: clock.peekMicros(),
      revoked: false,
      uses: 0,
      ...(spec.expiresAt === undefined || major < 18
        ? {}
        : { expiresMicros: spec.expiresAt.getTime() * 1_000 }),
    });
    return key;
  }
  for (const spec of options.keys ?? []) add(spec);
  const find = (key: string) => keys.find((stored) => stored.key === key);
  /** A live key of the user usable for `scope` (up to 19, a key of no scope is usable for any). */
  const liveKey = (key: unknown, scope = 'rpc') =>
    typeof key === 'string'
      ? keys.find(
          (stored) =>
            stored.key === key &&
            live(stored) &&
            (stored.scope === scope || (!scopeRequired && stored.scope === null)),
        )
      : undefined;

  function requireProgrammatic(): void {
    if (management === 'disabled') throw userError('Programmatic API keys are not enabled');
  }

  function generate(args: Record<string, unknown>): string {
    requireProgrammatic();
    const micros = parseDatetimeMicros(args.expiration_date);
    if (args.expiration_date === false || args.expiration_date === null)
      throw validationError('The API key must have an expiration date');
    if (micros === undefined)
      throw pythonError('ValueError', `Invalid datetime ${JSON.stringify(args.expiration_date)}`);
    if (micros > clock.peekMicros() + maxDays * 86_400_000_000)
      throw validationError(`You cannot exceed ${maxDays.toFixed(1)} days.`);
    if (keys.filter(live).length >= PROGRAMMATIC_LIMIT)
      throw userError(
        `Limit of ${PROGRAMMATIC_LIMIT} API keys is reached for programmatic creation`,
      );
    const scope = typeof args.scope === 'string' && args.scope !== '' ? args.scope : undefined;
    // 20's `_check_apikey_credentials` opens with `assert scope and key`.
    if (scopeRequired && scope === undefined)
      throw pythonError('AssertionError', 'scope and key required');
    // A key makes keys of its own scope only (up to 19, a key of no scope makes any).
    if (liveKey(args.key, scope) === undefined)
      throw deniedWith('The provided API key is invalid or does not belong to the current user.');
    return add({
      name: typeof args.name === 'string' ? args.name : 'API key',
      scope: scope ?? null,
      expiresAt: new Date(Math.floor(micros / 1_000)),
    });
  }

  function revoke(args: Record<string, unknown>): boolean {
    requireProgrammatic();
    const stored = typeof args.key === 'string' ? find(args.key) : undefined;
    if (stored === undefined || !live(stored)) throw deniedWith('The provided API key is invalid.');
    stored.revoked = true;
    return true;
  }

  function searchRead(args: Record<string, unknown>, uid: number): PyValue {
    const fields = Array.isArray(args.fields) ? (args.fields as unknown[]) : ['name', 'scope'];
    return keys
      .filter((stored) => !stored.revoked)
      .map((stored) => {
        const record: Record<string, PyValue> = { id: stored.id };
        for (const field of fields) {
          if (field === 'name') record.name = stored.name;
          else if (field === 'scope') record.scope = stored.scope ?? false;
          else if (field === 'user_id') record.user_id = [uid, 'sync'];
          else if (field === 'create_date')
            record.create_date = formatOdooDatetime(stored.createMicros);
          else if (field === 'expiration_date' && major >= 18)
            record.expiration_date =
              stored.expiresMicros === undefined ? false : formatOdooDatetime(stored.expiresMicros);
          else if (field !== 'id')
            throw pythonError(
              'ValueError',
              `Invalid field '${String(field)}' on model '${APIKEYS_MODEL}'`,
            );
        }
        return record;
      });
  }

  return {
    add,
    list: () => keys.map(infoOf),
    info: (key) => {
      const stored = find(key);
      return stored === undefined ? undefined : infoOf(stored);
    },
    setExpiry(key, expiresAt) {
      const stored = find(key);
      if (stored === undefined) throw new Error('no such sandbox API key');
      if (expiresAt === undefined) delete stored.expiresMicros;
      else stored.expiresMicros = expiresAt.getTime() * 1_000;
    },
    setProgrammatic(mode) {
      management = major < 19 ? 'absent' : mode;
    },
    get refusals() {
      return refusals;
    },
    check(key) {
      const stored = liveKey(key);
      if (stored === undefined) {
        refusals++;
        return false;
      }
      stored.uses++;
      return true;
    },
    dispatch(method, args, uid, style) {
      const managed = management !== 'absent';
      if (method === 'generate' && managed) return generate(args);
      if (method === 'revoke' && managed) return revoke(args);
      if (method === 'search_read') return searchRead(args, uid);
      const message = `The method '${APIKEYS_MODEL}.${method}' does not exist`;
      throw style === 'json2'
        ? httpException(404, message)
        : pythonError('AttributeError', message);
    },
  };
}

/** Binds `execute_kw`'s positional arguments to the names of the few methods served here. */
export function apiKeyArguments(
  method: string,
  args: readonly unknown[],
  kwargs: Record<string, unknown>,
): Record<string, unknown> {
  const names: Record<string, readonly string[]> = {
    generate: ['key', 'scope', 'name', 'expiration_date'],
    revoke: ['key'],
    search_read: ['domain', 'fields', 'offset', 'limit', 'order'],
  };
  const bound: Record<string, unknown> = {};
  (names[method] ?? []).forEach((name, index) => {
    if (index < args.length) bound[name] = args[index];
  });
  return { ...bound, ...kwargs };
}

function deniedWith(message: string): OdooException {
  return new OdooException('odoo.exceptions.AccessDenied', message, 'access_denied', 403);
}
