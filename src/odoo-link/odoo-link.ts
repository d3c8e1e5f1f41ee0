/**
 * The Odoo client as every process builds it from the configuration — the worker, the sync CLI,
 * `migrate` and `check` alike: its API key read through the shared store (a key renewed by one
 * worker reaches every process), its calls admitted by the fleet's call budget and its login kept
 * in the fleet's shared state (when the process shares it), the transport it chooses recorded for
 * status, and in the workers the key's lifecycle. The client itself knows nothing of PostgreSQL.
 */
import {
  createLoginMemo,
  createOdooClient,
  type OdooCallGate,
  type OdooCallObserver,
  type OdooClient,
} from '../clients/odoo/index.js';
import type { OdooConfig } from '../config/odoo-config.js';
import type { Db } from '../db/create-db.js';
import type { Logger } from '../lib/logger.js';
import { createConfiguredCallBudget, type CallBudgetObserver } from '../odoo-budget/call-budget.js';
import type { SharedState } from '../stores/shared-state.js';
import { createSharedValues } from '../stores/shared-values.js';
import {
  createApiKeyLifecycle,
  renewalClaimMs,
  retireGraceMs,
  type ApiKeyLifecycle,
} from './api-key-lifecycle.js';
import { createApiKeyProvider, KEY_REFRESH_MS, type ApiKeyProvider } from './api-key-provider.js';
import { createKeyCipher, type KeyCipher } from './key-cipher.js';
import { connectionOf, saveTransport, writeLink } from './link-store.js';

export interface OdooLink {
  readonly client: OdooClient;
  /** The API key's lifecycle (workers only, with an API key); started by the caller. */
  readonly lifecycle?: ApiKeyLifecycle;
}

export function createOdooLink(input: {
  db: Db;
  odoo: OdooConfig;
  logger: Logger;
  observer?: OdooCallObserver;
  /**
   * The fleet's shared state, when the process shares it: every call takes its turn in the
   * fleet's call budget of this Odoo database (src/odoo-budget), and sees the budget's `observer`.
   */
  shared?: SharedState | undefined;
  budgetObserver?: CallBudgetObserver;
  /** A gate of the caller's own instead of the fleet's budget (a test holding a call back). */
  gate?: OdooCallGate;
  /**
   * Whether the login's uid is kept in the shared state (default: when there is one), so that a
   * later process pays no login. A check logs in itself: that is what it checks.
   */
  memoLogin?: boolean;
  /**
   * Whether the transport chosen and how the schema is read are recorded for status (default
   * true); a check, which only reads, records nothing.
   */
  records?: boolean;
  /** Whether this process watches (and renews) the key: the workers do. */
  withLifecycle?: boolean;
  /** How long a process trusts the key it read (default KEY_REFRESH_MS). */
  keyRefreshMs?: number;
}): OdooLink {
  const refreshMs = input.keyRefreshMs ?? KEY_REFRESH_MS;
  const { db, odoo, logger, shared } = input;
  const connection = connectionOf(odoo);
  const settings = odoo.apiKeyLifecycle;
  const { cipher, provider } = keySourceOf({ db, odoo, logger, refreshMs });
  const records = input.records !== false;
  const client = createOdooClient(odoo, {
    logger,
    ...(input.observer ? { observer: input.observer } : {}),
    ...(input.gate
      ? { gate: input.gate }
      : shared
        ? {
            gate: createConfiguredCallBudget({
              shared,
              odoo,
              logger,
              ...(input.budgetObserver ? { observer: input.budgetObserver } : {}),
            }),
          }
        : {}),
    ...(shared && input.memoLogin !== false
      ? { loginMemo: createLoginMemo(createSharedValues(shared), odoo) }
      : {}),
    ...(provider ? { apiKeys: provider } : {}),
    ...(records
      ? {
          onTransportChosen: (choice) => {
            saveTransport(db, connection, choice).catch((error: unknown) =>
              logger.warn({ err: error }, 'could not record the Odoo transport chosen'),
            );
          },
          onModelDoc: (refusal) => {
            writeLink(db, connection, { modelDocRefusal: refusal }).catch((error: unknown) =>
              logger.warn({ err: error }, "could not record how Odoo's schema is read"),
            );
          },
        }
      : {}),
  });
  const lifecycle =
    provider !== undefined && input.withLifecycle === true
      ? createApiKeyLifecycle({
          db,
          odoo: client,
          provider,
          connection,
          configuredKey: odoo.apiKey!,
          settings,
          ...(cipher ? { cipher } : {}),
          graceMs: retireGraceMs(odoo, refreshMs),
          claimMs: renewalClaimMs(odoo),
          logger,
        })
      : undefined;
  return { client, ...(lifecycle ? { lifecycle } : {}) };
}

/**
 * Where a process takes the API key it sends: the key a worker renewed and sealed in PostgreSQL
 * when it descends from ODOO_API_KEY, else ODOO_API_KEY itself (api-key-provider.ts); none with
 * a password only.
 */
function keySourceOf(input: { db: Db; odoo: OdooConfig; logger: Logger; refreshMs?: number }): {
  cipher?: KeyCipher;
  provider?: ApiKeyProvider;
} {
  const { odoo } = input;
  const settings = odoo.apiKeyLifecycle;
  const cipher =
    settings.secret === undefined
      ? undefined
      : createKeyCipher({
          source: settings.source,
          secret: settings.secret,
          previousSecret: settings.previousSecret,
        });
  if (odoo.apiKey === undefined) return cipher ? { cipher } : {};
  const provider = createApiKeyProvider({
    db: input.db,
    connection: connectionOf(odoo),
    configuredKey: odoo.apiKey,
    ...(settings.expiresAt ? { configuredExpiresAt: settings.expiresAt } : {}),
    ...(cipher ? { cipher } : {}),
    logger: input.logger,
    refreshMs: input.refreshMs ?? KEY_REFRESH_MS,
  });
  return { ...(cipher ? { cipher } : {}), provider };
}
