/**
 * `odoo_link`: what erp-bridge knows of its link to one Odoo (URL, database and user), shared by
 * every process: the transport the workers chose and why, and the API key's lifecycle — its
 * expiry, and once renewed by erp-bridge the current key sealed (AES-256-GCM, see
 * odoo-link/key-cipher.ts), the key it replaced until that one is revoked, the last renewal
 * error, and the renewal's claim and back-off. Never a key in clear.
 */
import { integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const odooLink = pgTable('odoo_link', {
  /** SHA-256 prefix of URL, database and login (odoo-link/link-store.ts). */
  connection: text('connection').primaryKey(),
  transport: text('transport'),
  transportReason: text('transport_reason'),
  serverVersion: text('server_version'),
  transportChosenAt: instant('transport_chosen_at'),
  /** Grows at each key erp-bridge stores: processes switch when they see it move. */
  keyVersion: integer('key_version').notNull().default(0),
  keySealed: text('key_sealed'),
  /** Fingerprint of the key `keyExpiresAt` describes. */
  keyFingerprint: text('key_fingerprint'),
  keyExpiresAt: instant('key_expires_at'),
  /** `config` (ODOO_API_KEY_EXPIRES_AT), `odoo` (the user's keys), `renewal` (asked for). */
  keyExpirySource: text('key_expiry_source'),
  /** Fingerprints of the configured keys the stored one descends from. */
  keySeeds: jsonb('key_seeds').$type<string[]>().notNull().default([]),
  keyRenewedAt: instant('key_renewed_at'),
  /** The key a renewal replaced, revoked once no process can still be using it. */
  retiredSealed: text('retired_sealed'),
  retireAfter: instant('retire_after'),
  renewalError: text('renewal_error'),
  renewalErrorAt: instant('renewal_error_at'),
  /**
   * A worker renewing the key holds the renewal until then (its Odoo call is made outside any
   * transaction): the others leave it alone meanwhile.
   */
  renewalClaimedUntil: instant('renewal_claimed_until'),
  /** After Odoo refused a renewal (no such method, not allowed, too many keys): none before. */
  renewalRetryAfter: instant('renewal_retry_after'),
  /**
   * Why the last worker to read a model's schema over JSON-2 asked `fields_get` and not
   * `/doc-bearer/<model>.json` (the user not in "Technical Documentation"; no api_doc module);
   * null while the route answers.
   */
  modelDocRefusal: text('model_doc_refusal'),
  updatedAt: instant('updated_at').notNull().defaultNow(),
});

export type OdooLinkRow = typeof odooLink.$inferSelect;
