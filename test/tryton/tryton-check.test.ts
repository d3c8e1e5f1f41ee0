/**
 * `npm run sync -- check`'s Tryton section against each series of the Tryton table (6.0, 7.0,
 * 8.0; test/helpers/trytond.ts), the gateway's settings as an operator gives them: trytond's
 * version, the paths it serves JSON-RPC at, the service account's login, and each model
 * TRYTON_MODELS exposes; then a refused password and models that cannot be read, each a FAIL
 * with exit 1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOdooSandbox, type OdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import type { CheckReport, CheckSection } from '../../src/check/check-report.js';
import { runSyncCli, syncCliEnv } from '../helpers/sync-cli.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import {
  startTrytond,
  TRYTOND_SERIES,
  TRYTOND_START_TIMEOUT_MS,
  type Trytond,
} from '../helpers/trytond.js';

describe.each(TRYTOND_SERIES)('check of the Tryton gateway against trytond %s', (series) => {
  let trytond: Trytond;
  let db: TestDb;
  let sandbox: OdooSandbox;
  let env: Record<string, string>;
  beforeAll(async () => {
    sandbox = createOdooSandbox({ orders: 2, loginCooldown: false });
    [trytond, db] = await Promise.all([startTrytond({ series }), createTestDb(), sandbox.start()]);
    env = {
      ...syncCliEnv(db.url, sandbox),
      TRYTON_RPC_URL: trytond.url,
      TRYTON_DATABASE: trytond.database,
      TRYTON_USER: trytond.user,
      TRYTON_PASSWORD: trytond.password,
      TRYTON_MODELS: 'party.party:name|code',
    };
  }, TRYTOND_START_TIMEOUT_MS);
  afterAll(async () => {
    await Promise.all([trytond?.stop(), db?.dispose(), sandbox?.stop()]);
  });

  const check = async (extra: Record<string, string> = {}) => {
    const result = await runSyncCli(['check', '--json'], { ...env, ...extra });
    const report = JSON.parse(result.stdout) as CheckReport;
    const section = report.sections.find((one) => one.kind === 'tryton');
    return { code: result.code, stderr: result.stderr, section: section! };
  };
  const lines = (section: CheckSection) =>
    Object.fromEntries(section.lines.map((line) => [line.topic, line]));

  it('proves the gateway: version, RPC paths, login, each exposed model readable', async () => {
    const { code, stderr, section } = await check();
    expect(code, stderr).toBe(0);
    expect(section.target).toBe(
      `${trytond.url}, database ${trytond.database}, user ${trytond.user}`,
    );
    const rpc = series === '8.0' ? '/rpc/ and /erp_bridge_test/rpc/' : '/ and /erp_bridge_test/';
    expect(lines(section)).toEqual({
      version: expect.objectContaining({
        status: series === '6.0' ? 'warn' : 'ok',
        text: expect.stringMatching(new RegExp(`^trytond ${series.replace('.', '\\.')}`)),
      }),
      'rpc path': expect.objectContaining({
        status: 'ok',
        text: `JSON-RPC at ${rpc} under TRYTON_RPC_URL`,
      }),
      login: expect.objectContaining({
        status: 'ok',
        text: `admin logs in to ${trytond.database}`,
      }),
      'model party.party': expect.objectContaining({
        status: 'ok',
        text: `readable by admin: ${trytond.parties.length} records, 2 fields exposed`,
      }),
    });
    expect(section.calls).toBeGreaterThan(0);
  }, 120_000);

  it('stops on a refused password: exit 1, the models not asked', async () => {
    const { code, section } = await check({ TRYTON_PASSWORD: 'not-the-password' });
    expect(code).toBe(1);
    expect(lines(section).login).toMatchObject({
      status: 'fail',
      text: `trytond refused the login admin on database ${trytond.database}`,
    });
    expect(lines(section)['model party.party']).toBeUndefined();
  }, 120_000);

  it('stops on a model that cannot be read, and on a field a model lacks: exit 1, each named', async () => {
    const { code, section } = await check({
      TRYTON_MODELS: 'party.party:name|nickname,party.nowhere',
    });
    expect(code).toBe(1);
    expect(lines(section)['model party.party']).toMatchObject({
      status: 'fail',
      text: 'party.party has no field nickname that TRYTON_MODELS lists',
    });
    expect(lines(section)['model party.nowhere']).toMatchObject({
      status: 'fail',
      text: expect.stringMatching(/^party\.nowhere cannot be read: /),
    });
  }, 120_000);
});
