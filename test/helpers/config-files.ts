/**
 * What the configuration's unit tests share: declaration files of the test's own in a temp dir
 * (removed after the test file), a production worker's environment around them, and the
 * `ConfigError` a refused configuration throws.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { ConfigError } from '../../src/config/config.js';

/** A worker's environment: its PostgreSQL, its Redis and the Odoo of ODOO_*. */
export const WORKER_ENV = {
  DATABASE_URL: 'postgres://erp@db:5432/erp',
  REDIS_URL: 'redis://redis:6379',
  ODOO_URL: 'http://odoo:8069',
  ODOO_DATABASE: 'prod',
  ODOO_USERNAME: 'sync',
  ODOO_PASSWORD: 'odoo-s3cret',
};

/** A temp dir of the calling test file's (`name-N.yaml` files), removed after its tests. */
export function declarationFiles(name: string): {
  readonly dir: string;
  /** Writes `text` as the next file; returns its path. */
  readonly write: (text: string, extension?: string) => string;
} {
  const dir = mkdtempSync(join(tmpdir(), `erp-bridge-${name}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let files = 0;
  return {
    dir,
    write: (text, extension = 'yaml') => {
      files += 1;
      const path = join(dir, `${name}-${files}.${extension}`);
      writeFileSync(path, text);
      return path;
    },
  };
}

/** The error `load` refuses the configuration with; throws when it accepts it. */
export function configRefusal(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}
