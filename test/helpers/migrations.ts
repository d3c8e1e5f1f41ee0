/** The committed migrations as they stood at an earlier point, to test a migration from there. */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findMigrationsFolder } from '../../src/db/migrate.js';

export interface MigrationsFolder {
  readonly dir: string;
  remove(): void;
}

/** A copy of drizzle/ whose journal ends just before `tag`. */
export function migrationsBefore(tag: string): MigrationsFolder {
  const dir = mkdtempSync(join(tmpdir(), 'erp-bridge-migrations-'));
  cpSync(findMigrationsFolder(), dir, { recursive: true });
  const journalPath = join(dir, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as {
    entries: { tag: string }[];
  };
  const at = journal.entries.findIndex((entry) => entry.tag === tag);
  if (at <= 0) throw new Error(`no migration ${tag} after the first`);
  writeFileSync(journalPath, JSON.stringify({ ...journal, entries: journal.entries.slice(0, at) }));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
