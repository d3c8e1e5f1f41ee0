/**
 * One database of the Odoo sandbox: what a real Odoo keeps per database (per registry) rather
 * than per server process — its records and their schema, its clock, its user with password and
 * API keys, its login cooldown (Odoo counts failures on the registry), its read replica, its
 * webhook rule — and, for tests, its own call log and fault rules. The server (odoo-sandbox.ts)
 * routes each request to one of these (sandbox-routing.ts); the Odoo series is the server's,
 * as one Odoo process is one release.
 */
import type { SandboxReplica } from './sandbox-replica.js';
import {
  createSandboxApiKeys,
  type SandboxApiKeyControl,
  type SandboxApiKeys,
  type SandboxApiKeySpec,
  type SandboxKeyManagement,
} from './sandbox-apikeys.js';
import { createSandboxAuth, UID, type SandboxAuth } from './sandbox-auth.js';
import { realCatalogue } from './real/real-catalogue.js';
import type { SandboxRealSchemas } from './real/real-schemas.js';
import { NO_INVENTORY_RIGHTS } from './sandbox-access.js';
import { createSandboxControl, type SandboxControl } from './sandbox-control.js';
import { generateSandboxData } from './sandbox-data.js';
import { mulberry32, SandboxFaults } from './sandbox-faults.js';
import { createSandboxReplica } from './sandbox-replica.js';
import { SandboxStore, type TransactionInfo } from './sandbox-store.js';
import { createSandboxClock, type MicrosSource, type SandboxClock } from './sandbox-time.js';
import { createSandboxWebhooks } from './sandbox-webhooks.js';

/** What one database holds and how its user logs in. */
export interface SandboxDatabaseOptions {
  username?: string;
  /** Password, also accepted as the JSON-2 API key unless `passwordAsApiKey` is false. */
  password?: string;
  /**
   * Whether JSON-2 (and `/doc-bearer`) take the password as a bearer key (default true: a
   * convenience for tests). Odoo 19 takes API keys only and answers a password with a 401;
   * false plays that.
   */
  passwordAsApiKey?: boolean;
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
  /**
   * Milliseconds between a commit and its visibility to JSON-2's read-only methods, served by a
   * read replica as Odoo 18+ may (default 0: no replica). Measured on the sandbox clock.
   */
  replicaLagMs?: number;
}

/** The test-facing side of one database. */
export interface OdooSandboxDatabase {
  /** Its name: what `login`, `execute_kw` and `X-Odoo-Database` name. */
  readonly database: string;
  readonly username: string;
  readonly password: string;
  readonly uid: number;
  /** Its records, schema, clock, call log and faults. */
  readonly control: SandboxControl;
  /** The sync user's API keys: add, list, lapse; programmatic management on or off. */
  readonly keys: SandboxApiKeyControl;
  /** Whether `/doc-bearer` answers the sync user. */
  setDocAccess(allowed: boolean): void;
}

/** A database as the server serves it. */
export interface SandboxDatabase {
  readonly name: string;
  readonly handle: OdooSandboxDatabase;
  readonly store: SandboxStore;
  readonly auth: SandboxAuth;
  readonly apiKeys: SandboxApiKeys;
  /** Its call log and fault rules. */
  readonly faults: SandboxFaults;
  readonly clock: SandboxClock;
  readonly replica: SandboxReplica;
  /** A new transaction stamp on its clock. */
  transaction(): TransactionInfo;
  docAccess(): boolean;
}

export function createSandboxDatabase(
  name: string,
  options: SandboxDatabaseOptions,
  /** The major version of the Odoo the server plays. */
  major: number,
): SandboxDatabase {
  const username = options.username ?? 'sync@dimagaz.example';
  const clock = createSandboxClock(options.clock);
  const real = options.realSchemas;
  const store = new SandboxStore({
    catalogue: real === undefined ? undefined : realCatalogue(real.models),
    nowMicros: () => clock.peekMicros(),
    major,
  });
  for (const denied of real?.unreadable ?? (real === undefined ? [] : NO_INVENTORY_RIGHTS))
    store.access.deny(denied);
  if (options.userContext) store.userContext = { ...options.userContext };
  const faults = new SandboxFaults(options.seed ?? 1);
  const apiKeys = createSandboxApiKeys({
    clock,
    major,
    ...(options.apiKeys ? { keys: options.apiKeys } : {}),
    ...(options.apiKeyManagement ? { management: options.apiKeyManagement } : {}),
  });
  let docAccess = options.docAccess ?? false;
  const auth = createSandboxAuth({
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
  const transaction = (): TransactionInfo => ({ uid: UID, nowMicros: clock.nowMicros() });
  const control = createSandboxControl({
    store,
    faults,
    transaction,
    nowMicros: () => clock.nowMicros(),
    setPassword: (next) => auth.setPassword(next),
    resetLoginFailures: () => auth.resetFailures(),
    // Its own stream of the seed: the chaos of the posts does not move the faults' draws.
    webhooks: createSandboxWebhooks(mulberry32((options.seed ?? 1) ^ 0x5eb400c5)),
    replica,
  });

  return {
    name,
    handle: {
      database: name,
      username,
      get password() {
        return auth.password;
      },
      uid: UID,
      control,
      keys: apiKeys,
      setDocAccess(allowed) {
        docAccess = allowed;
      },
    },
    store,
    auth,
    apiKeys,
    faults,
    clock,
    replica,
    transaction,
    docAccess: () => docAccess,
  };
}
