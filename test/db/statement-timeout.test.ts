/** The API's pool cancels a query that runs past its statement timeout; other pools do not. */
import { describe, expect, inject, it } from 'vitest';
import { createDb } from '../../src/db/create-db.js';

describe('statement timeout', () => {
  it('cancels a statement running longer than statementTimeoutMs (SQLSTATE 57014)', async () => {
    const bounded = await createDb({
      url: inject('postgresAdminUrl'),
      poolMax: 1,
      statementTimeoutMs: 100,
    });
    const unbounded = await createDb({ url: inject('postgresAdminUrl'), poolMax: 1 });
    try {
      await expect(bounded.sql!`select pg_sleep(2)`).rejects.toMatchObject({ code: '57014' });
      const [row] = await unbounded.sql!<
        { timeout: string }[]
      >`select current_setting('statement_timeout') as timeout`;
      expect(row?.timeout).toBe('0');
    } finally {
      await bounded.close();
      await unbounded.close();
    }
  });
});
