import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import { CODE_FAMILIES } from '../families/registry.js';
import { createLogger } from '../lib/logger.js';
import { WORKER_ENV } from '../../test/helpers/config-files.js';
import { createTestDb } from '../../test/helpers/test-db.js';
import { checkOdooSection, checkTrytonSection } from './check-sections.js';

const logger = createLogger({ level: 'silent', pretty: false });

describe("check's report", () => {
  it('shows ODOO_URL and TRYTON_RPC_URL without their credentials, even where they do not answer', async () => {
    // Nothing listens on port 1: each server line is a FAIL naming the URL.
    const config = loadConfig(
      {
        ...WORKER_ENV,
        ODOO_URL: 'http://sync:odoo-url-s3cret@127.0.0.1:1',
        ODOO_RETRIES: '0',
        TRYTON_RPC_URL: 'http://erp:tryton-url-s3cret@127.0.0.1:1',
        TRYTON_DATABASE: 'tryton',
        TRYTON_USER: 'erp-bridge',
        TRYTON_PASSWORD: 'tryton-pw',
        TRYTON_RETRIES: '0',
      },
      { mode: 'production', role: 'cli', codeFamilies: CODE_FAMILIES },
    );
    const db = await createTestDb();
    try {
      const odoo = await checkOdooSection({
        config,
        source: config.sources[0]!,
        db: db.db,
        shared: undefined,
        logger,
      });
      const tryton = await checkTrytonSection({ tryton: config.tryton!, logger });
      expect(odoo.lines).toEqual([
        expect.objectContaining({
          status: 'fail',
          topic: 'server',
          text: expect.stringMatching(
            /^Odoo does not answer at http:\/\/\[redacted\]@127\.0\.0\.1:1: /,
          ),
        }),
      ]);
      expect(tryton.lines).toEqual([
        expect.objectContaining({
          status: 'fail',
          topic: 'server',
          text: expect.stringMatching(
            /^trytond does not answer at http:\/\/\[redacted\]@127\.0\.0\.1:1: /,
          ),
        }),
      ]);
      expect(JSON.stringify([odoo, tryton])).not.toMatch(/s3cret|sync:|erp:/);
    } finally {
      await db.dispose();
    }
  });
});
