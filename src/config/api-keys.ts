/**
 * API keys as operators configure them: `API_KEYS=name:role:sha256hex[:source+source],…`. Only the
 * SHA-256 of a key is ever stored, so a leaked `.env` does not leak a usable key. A key given
 * sources reads those sources' copies and changes only (docs/sources.md).
 */
import { createHash, randomBytes } from 'node:crypto';
import { SOURCE_NAME } from '../sources/family-key.js';

export const API_ROLES = ['reader', 'operator', 'admin'] as const;
export type ApiRole = (typeof API_ROLES)[number];

export interface ApiKeyEntry {
  readonly name: string;
  readonly role: ApiRole;
  /** Lower-case hex SHA-256 of the key. */
  readonly sha256: string;
  /** The sources it reads, when limited to some (the default source is `default`). */
  readonly sources?: readonly string[];
}

/**
 * Names show up in logs, run triggers and job ids, so they are short and plain: a letter or digit,
 * then up to 39 letters, digits, `_`, `.` or `-`.
 */
export const API_KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/;
const ENTRY = /^([^:]*):(reader|operator|admin):([0-9a-fA-F]{64})(?::([^:]*))?$/;

/** Parses `API_KEYS`; returns the entries or the list of malformed items (never their hashes). */
export function parseApiKeys(text: string): { entries: ApiKeyEntry[]; problems: string[] } {
  const entries: ApiKeyEntry[] = [];
  const problems: string[] = [];
  const items = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  items.forEach((item, index) => {
    const match = ENTRY.exec(item);
    if (!match) {
      problems.push(
        `entry ${index + 1} is not name:role:sha256hex[:source+source] (role: ${API_ROLES.join('|')})`,
      );
      return;
    }
    if (!API_KEY_NAME.test(match[1]!)) {
      problems.push(
        `entry ${index + 1}: a key name is 1 to 40 letters, digits, "_", "." or "-", starting with a letter or digit`,
      );
      return;
    }
    const sources = match[4]?.split('+');
    if (sources?.some((source) => !SOURCE_NAME.test(source))) {
      problems.push(
        `entry ${index + 1}: its sources are source names joined by "+" (default+acme)`,
      );
      return;
    }
    entries.push({
      name: match[1]!,
      role: match[2] as ApiRole,
      sha256: match[3]!.toLowerCase(),
      ...(sources ? { sources } : {}),
    });
  });
  const names = new Set<string>();
  for (const entry of entries) {
    if (names.has(entry.name)) problems.push(`name "${entry.name}" appears twice`);
    names.add(entry.name);
  }
  return { entries, problems };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A new random key (URL-safe, 256 bits) and the `API_KEYS` entry that grants it. */
export function generateApiKey(name: string, role: ApiRole): { key: string; entry: string } {
  const key = `eb_${randomBytes(32).toString('base64url')}`;
  return { key, entry: `${name}:${role}:${hashApiKey(key)}` };
}
