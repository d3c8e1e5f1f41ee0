/**
 * The demo's admin API key, kept in the data directory (mode 600) so a restarted demo prints the
 * same key and the browser's saved bull-board login keeps working; and the key sealing its
 * subscriptions' secrets (FEED_SECRET_KEY), kept the same way so a restarted demo opens them.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateApiKey, hashApiKey, type ApiKeyEntry } from '../../src/config/api-keys.js';

export function demoAdminKey(dataDir: string): { key: string; entry: ApiKeyEntry } {
  const file = join(dataDir, 'demo-admin-key');
  let key: string;
  if (existsSync(file)) {
    key = readFileSync(file, 'utf8').trim();
  } else {
    mkdirSync(dataDir, { recursive: true });
    key = generateApiKey('demo', 'admin').key;
    writeFileSync(file, `${key}\n`, { mode: 0o600 });
  }
  return { key, entry: { name: 'demo', role: 'admin', sha256: hashApiKey(key) } };
}

/** FEED_SECRET_KEY for a demo that was given none. */
export function demoFeedSecretKey(dataDir: string): { secret: string } {
  const file = join(dataDir, 'demo-feed-secret-key');
  if (existsSync(file)) return { secret: readFileSync(file, 'utf8').trim() };
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return { secret };
}
