/**
 * A failed statement is logged as its SQLSTATE, table and constraint, never as its text or its
 * parameters: the writer's statements carry whole Odoo records, and one record holding a long
 * hostile text (`?pass` repeated, which URL masking once took seconds over) blocked a worker for
 * as long on every log line of every retry.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeError, toSafeError } from '../../src/lib/errors.js';
import { memoryLogger } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

describe('a failed statement in the logs', () => {
  let db: TestDb;
  // Incompressible (PostgreSQL compresses a long index entry that repeats itself), and full of
  // `?pass` names without a value.
  const hostile = Array.from(
    { length: 1_200 },
    () => `?pass${randomBytes(3).toString('base64url')}`,
  ).join('');
  beforeAll(async () => {
    db = await createTestDb();
    await db.db.execute(
      sql`create table hostile_copy (odoo_id int primary key, name text not null, data jsonb not null)`,
    );
    await db.db.execute(sql`create index hostile_copy_name_idx on hostile_copy (name)`);
  });
  afterAll(async () => {
    await db.dispose();
  });

  async function failedWrite(): Promise<unknown> {
    // What the writer sends: the record's typed columns and the whole record as jsonb.
    const record = { id: 7, name: hostile, note: hostile };
    return db.db
      .execute(
        sql`insert into hostile_copy (odoo_id, name, data) values (7, ${hostile}, ${JSON.stringify(record)}::jsonb)`,
      )
      .then(
        () => undefined,
        (error: unknown) => error,
      );
  }

  it('is its SQLSTATE, table and index, in a short line holding no parameter', async () => {
    const error = await failedWrite();
    expect(error).toBeInstanceOf(Error);
    const { lines, logger } = memoryLogger();
    logger.warn({ err: error, family: 'bcs' }, 'batch write failed');
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line).not.toContain(hostile.slice(0, 40));
    expect(line).not.toContain('insert into');
    expect(line.length).toBeLessThan(2_000);
    const logged = JSON.parse(line) as { err: Record<string, unknown> };
    expect(logged.err).toMatchObject({ code: '54000', table: 'hostile_copy' });
    expect(logged.err.message).toMatch(/^database error SQLSTATE 54000: index row size/);
    expect(logged.err.message).toContain('hostile_copy_name_idx');
    expect(logged.err.stack).toMatch(/^ {4}at /);
  });

  it('describes the failure in one bounded line for job reasons and stored failures', async () => {
    const error = await failedWrite();
    expect(describeError(error)).toMatch(
      /^database error SQLSTATE 54000: .{1,220} \(table hostile_copy, constraint hostile_copy_name_idx\)$/,
    );
    expect(toSafeError(error)).toEqual({
      code: 'DATABASE_ERROR',
      message: 'database error (SQLSTATE 54000)',
    });
  });

  it('masks and bounds any other error: a message of any length is cut before it is scanned', () => {
    const { lines, logger } = memoryLogger();
    logger.error({ err: new Error(`GET /x${hostile.repeat(10)}&password=hunter2`) }, 'failed');
    expect(lines[0]!.length).toBeLessThan(20_000);
    expect(lines[0]).not.toContain('hunter2');
  });
});
