/**
 * Builds the API against a test database (and optionally real queues), with one key per role.
 */
import { Writable } from 'node:stream';
import { generateApiKey } from '../../src/config/api-keys.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { buildApp, type App, type AppDeps } from '../../src/http/app.js';
import { createLogger } from '../../src/lib/logger.js';
import type { TestDb } from './test-db.js';
import { CODE_FAMILIES } from '../../src/families/registry.js';

export const KEYS = {
  reader: generateApiKey('front', 'reader'),
  operator: generateApiKey('ops', 'operator'),
  admin: generateApiKey('root', 'admin'),
};

export const bearer = (role: keyof typeof KEYS) => ({ authorization: `Bearer ${KEYS[role].key}` });

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig(
    {
      DATABASE_URL: 'postgres://unused@127.0.0.1/unused',
      REDIS_URL: 'redis://127.0.0.1:1',
      API_KEYS: Object.values(KEYS)
        .map((k) => k.entry)
        .join(','),
      LOG_LEVEL: 'warn',
      // The key sealing the subscriptions' secrets, as test/helpers/sync-harness.ts has it.
      FEED_SECRET_KEY: 'test-feed-secret-key-of-at-least-32-characters',
      ...env,
    },
    { mode: 'production', role: 'api', codeFamilies: CODE_FAMILIES },
  );
}

/** A logger that keeps its lines in memory (tests assert on them). */
export function memoryLogger(level = 'info') {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: createLogger({ level, pretty: false }, stream) };
}

export async function createTestApp(db: TestDb, deps: Partial<AppDeps> = {}): Promise<App> {
  const app = await buildApp({
    config: testConfig(),
    logger: memoryLogger('warn').logger,
    db,
    ...deps,
  });
  await app.ready();
  return app;
}
