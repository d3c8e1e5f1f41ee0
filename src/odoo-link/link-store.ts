/**
 * The one row of `odoo_link` per Odoo link: read by every process (the key in use, what status
 * shows), written by the worker that chose a transport, learned an expiry or renewed the key.
 * Plain reads and writes; the renewal's locking is the lifecycle's (api-key-lifecycle.ts).
 */
import { createHash } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import type { OdooTransportChoice } from '../clients/odoo/index.js';
import type { Db } from '../db/create-db.js';
import type { OdooConfig } from '../config/odoo-config.js';
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

/** The link's status as every process can read it (the API, `npm run sync -- status`). */
export async function readLinkStatus(
  db: Db,
  odoo: OdooConfig | undefined,
): Promise<LinkStatus | null> {
  if (odoo === undefined) return null;
  const row = await readLink(db, connectionOf(odoo));
  return describeLink(row, odoo.apiKeyLifecycle, odoo.apiKey !== undefined, Date.now());
}
