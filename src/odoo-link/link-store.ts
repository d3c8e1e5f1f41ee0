/**
 * The one row of `odoo_link` per Odoo link: read by every process (the key in use, what status
 * shows), written by the worker that chose a transport, learned an expiry or renewed the key.
 * Plain reads and single-statement writes, each conditional on what its writer read: none waits
 * on Odoo, and the renewal's order of steps is key-renewal.ts's.
 */
import { createHash } from 'node:crypto';
import { and, eq, isNull, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import type { OdooTransportChoice } from '../clients/odoo/index.js';
import type { Db } from '../db/create-db.js';
import type { OdooLinkConfig } from '../config/odoo-config.js';
import { odooLink, type OdooLinkRow } from '../db/schema/index.js';
import { describeLink, type LinkStatus } from './link-status.js';

/** The link's id: the same Odoo, database and user give the same row in every process. */
export function connectionOf(odoo: { url: string; database: string; username: string }): string {
  return createHash('sha256')
    .update([odoo.url, odoo.database, odoo.username].join('\0'))
    .digest('hex')
    .slice(0, 24);
}

export type LinkUpdate = Partial<Omit<OdooLinkRow, 'connection' | 'updatedAt'>>;

export async function readLink(db: Db, connection: string): Promise<OdooLinkRow | undefined> {
  const [row] = await db.select().from(odooLink).where(eq(odooLink.connection, connection));
  return row;
}

/** Creates the row or changes the given columns of it. */
export async function writeLink(db: Db, connection: string, update: LinkUpdate): Promise<void> {
  await db
    .insert(odooLink)
    .values({ connection, ...update })
    .onConflictDoUpdate({
      target: odooLink.connection,
      set: { ...update, updatedAt: sql`now()` },
    });
}

/**
 * Changes the given columns only while the row holds key `version` (or creates it at version
 * 0): what a process learned of the key it read must not land on a key renewed since.
 */
export async function writeLinkAt(
  db: Db,
  connection: string,
  version: number,
  update: LinkUpdate,
): Promise<void> {
  await db
    .insert(odooLink)
    .values({ connection, ...update })
    .onConflictDoUpdate({
      target: odooLink.connection,
      set: { ...update, updatedAt: sql`now()` },
      setWhere: eq(odooLink.keyVersion, version),
    });
}

/**
 * Changes the given columns of the link's row only while `conditions` hold: true when it did,
 * false when another process changed what they test first.
 */
async function updateLinkIf(
  db: Db,
  connection: string,
  update: LinkUpdate,
  ...conditions: SQL[]
): Promise<boolean> {
  const updated = await db
    .update(odooLink)
    .set({ ...update, updatedAt: sql`now()` })
    .where(and(eq(odooLink.connection, connection), ...conditions))
    .returning({ connection: odooLink.connection });
  return updated.length === 1;
}

/**
 * Claims the renewal of key `version` until `until`: false when the key moved on, another worker
 * holds an unexpired claim, or Odoo's last refusal is not over (`renewal_retry_after`).
 */
export function claimRenewal(
  db: Db,
  connection: string,
  version: number,
  now: Date,
  until: Date,
): Promise<boolean> {
  return updateLinkIf(
    db,
    connection,
    { renewalClaimedUntil: until },
    eq(odooLink.keyVersion, version),
    or(isNull(odooLink.renewalClaimedUntil), lt(odooLink.renewalClaimedUntil, now))!,
    or(isNull(odooLink.renewalRetryAfter), lte(odooLink.renewalRetryAfter, now))!,
  );
}

/**
 * Stores a renewed key as version `version + 1`, only while the row still holds key `version`:
 * false when another worker stored one meanwhile (the caller revokes its own).
 */
export function storeRenewedKey(
  db: Db,
  connection: string,
  version: number,
  update: LinkUpdate,
): Promise<boolean> {
  return updateLinkIf(
    db,
    connection,
    { ...update, keyVersion: version + 1, renewalClaimedUntil: null },
    eq(odooLink.keyVersion, version),
  );
}

/**
 * Claims the revocation of the key a renewal replaced (`sealed`), once its grace is over: pushes
 * `retire_after` to `until`, so the other workers leave it alone meanwhile. False when another
 * claimed it, or it is no longer the one recorded.
 */
export function claimRetirement(
  db: Db,
  connection: string,
  sealed: string,
  now: Date,
  until: Date,
): Promise<boolean> {
  return updateLinkIf(
    db,
    connection,
    { retireAfter: until },
    eq(odooLink.retiredSealed, sealed),
    lte(odooLink.retireAfter, now),
  );
}

/** Forgets the key a renewal replaced, once revoked: only if it is still the one recorded. */
export async function clearRetired(db: Db, connection: string, sealed: string): Promise<void> {
  await updateLinkIf(
    db,
    connection,
    { retiredSealed: null, retireAfter: null },
    eq(odooLink.retiredSealed, sealed),
  );
}

/**
 * Stores the keys sealed anew (key-cipher.ts), only while the row still holds the values `read`
 * had: false when a renewal or a revocation changed them first.
 */
export function resealKeys(
  db: Db,
  connection: string,
  read: Pick<OdooLinkRow, 'keySealed' | 'retiredSealed'>,
  update: Pick<LinkUpdate, 'keySealed' | 'retiredSealed'>,
): Promise<boolean> {
  return updateLinkIf(
    db,
    connection,
    update,
    read.keySealed === null ? isNull(odooLink.keySealed) : eq(odooLink.keySealed, read.keySealed),
    read.retiredSealed === null
      ? isNull(odooLink.retiredSealed)
      : eq(odooLink.retiredSealed, read.retiredSealed),
  );
}

/** What the last process to choose a transport chose, for status and the API. */
export async function saveTransport(
  db: Db,
  connection: string,
  choice: OdooTransportChoice,
): Promise<void> {
  await writeLink(db, connection, {
    transport: choice.protocol,
    transportReason: choice.reason,
    serverVersion: choice.serverVersion ?? null,
    transportChosenAt: new Date(),
  });
}

/**
 * The link's status as every process can read it (the API, `npm run sync -- status`). A process
 * without ODOO_API_KEY (the API needs none) shows the key's status when the row says a worker
 * uses one: it adopted, renewed or learned the expiry of a key.
 */
export async function readLinkStatus(
  db: Db,
  odoo: OdooLinkConfig | undefined,
): Promise<LinkStatus | null> {
  if (odoo === undefined) return null;
  const row = await readLink(db, connectionOf(odoo));
  const keyInUse =
    odoo.apiKey !== undefined ||
    (row !== undefined && (row.keyVersion > 0 || row.keyExpirySource !== null));
  return describeLink(row, odoo.apiKeyLifecycle, keyInUse, Date.now());
}
