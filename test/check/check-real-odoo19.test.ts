/**
 * `npm run sync -- check` against a real Odoo 19.0 (test/helpers/odoo19.ts), as an operator runs
 * it before the first copy: a sound deployment (the journal entries declared in code, and a
 * contacts family of the declaration file planned as `migrate` would plan it, before any
 * `migrate`), then
 * what Odoo refuses — a wrong key, a key that lapsed, a family whose model the sync user may not
 * read. Odoo's log must show no call of it that writes. (Odoo's clock cannot be moved here: the
 * skewed clock is the sandbox's rows', test/check/check-cli.test.ts.)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckReport } from '../../src/check/check-report.js';
import { runSyncCli } from '../helpers/sync-cli.js';
import {
  ODOO19_START_TIMEOUT_MS,
  odoo19ProcessEnv,
  startOdoo19,
  type Odoo19,
} from '../helpers/odoo19.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

const FAMILIES = `
families:
  - name: contacts
    model: res.partner
  - name: parameters
    model: ir.config_parameter
`;

describe('check against a real Odoo 19.0', () => {
  let odoo: Odoo19;
  let db: TestDb;
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    [odoo, db] = await Promise.all([startOdoo19(), createTestDb()]);
    dir = mkdtempSync(join(tmpdir(), 'erp-bridge-check-'));
    writeFileSync(join(dir, 'families.yaml'), FAMILIES);
    env = {
      ...odoo19ProcessEnv(odoo, { databaseUrl: db.url, prefix: 'check-odoo19' }),
      ODOO_RETRIES: '0',
      SYNC_FAMILIES_FILE: join(dir, 'families.yaml'),
      SYNC_FAMILIES: 'moves,contacts',
      LOG_LEVEL: 'warn',
    };
  }, ODOO19_START_TIMEOUT_MS);
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await Promise.all([odoo?.stop(), db?.dispose()]);
  });

  const check = async (extra: Record<string, string> = {}) => {
    const result = await runSyncCli(['check', '--json'], { ...env, ...extra });
    return {
      code: result.code,
      stderr: result.stderr,
      report: JSON.parse(result.stdout) as CheckReport,
    };
  };
  const line = (report: CheckReport, topic: string) =>
    report.sections[0]!.lines.filter((one) => one.topic === topic);

  it('proves a sound deployment: JSON-2 with the sync user key, its expiry, the families; exit 0', async () => {
    const logged = odoo.log().length;
    const { code, stderr, report } = await check();
    expect(code, stderr).toBe(0);
    expect(report.ok).toBe(true);
    const lines = Object.fromEntries(
      report.sections[0]!.lines.map((one) => [`${one.topic}: ${one.text}`, one.status]),
    );
    expect(lines).toMatchObject({
      'version: Odoo 19.0 (series 19.0)': 'ok',
      'transport: json2: ODOO_PROTOCOL=auto: Odoo 19.0 with an API key (ODOO_API_KEY); JSON-2':
        'ok',
    });
    expect(line(report, 'credentials')[0]).toMatchObject({
      status: 'ok',
      text: expect.stringMatching(
        /^sync@example\.com \(uid \d+\) logs in to odoo19 with its API key$/,
      ),
    });
    // The key the script made as a user makes one: three months, read from Odoo.
    expect(line(report, 'api key')[0]).toMatchObject({
      status: 'ok',
      text: expect.stringMatching(
        new RegExp(
          `^lapses on ${odoo.apiKeyExpiresAt.toISOString().slice(0, 10)}, in \\d+ days \\(as Odoo says\\)$`,
        ),
      ),
    });
    expect(line(report, 'clock')[0]?.status).toBe('ok');
    expect(line(report, 'family moves')).toEqual([
      expect.objectContaining({
        status: 'ok',
        text: expect.stringMatching(/^account\.move: readable; reads \d+ fields, leaves out \d+: /),
      }),
      expect.objectContaining({
        status: 'ok',
        text: expect.stringMatching(/^account\.move\.line: /),
      }),
    ]);
    // Planned as migrate plans it: what it leaves out, each with why.
    expect(line(report, 'family contacts')[0]?.text).toMatch(
      /^res\.partner: readable; reads \d+ fields and \d+ relations, leaves out \d+: \w+ \(/,
    );
    // Nothing written: every request of the check in Odoo's log reads.
    const requests = odoo
      .log()
      .slice(logged)
      .split('\n')
      .filter((one) => /"POST \/json\/2\//.test(one));
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((one) => /\/(create|write|unlink|generate|revoke)\b/.test(one))).toEqual(
      [],
    );
  }, 120_000);

  it('stops on a wrong key, and on a key that lapsed: exit 1, with why', async () => {
    const wrong = '0123456789abcdef0123456789abcdef01234567';
    const refused = await check({ ODOO_API_KEY: wrong });
    expect(refused.code).toBe(1);
    expect(line(refused.report, 'credentials')[0]).toMatchObject({
      status: 'fail',
      text: 'Odoo refused the API key (ODOO_API_KEY) of sync@example.com on database odoo19',
    });
    // Odoo refuses a lapsed key as it refuses a wrong one; erp-bridge knows it lapsed.
    const lapsedAt = new Date(Date.now() - 86_400_000).toISOString();
    const lapsed = await check({ ODOO_API_KEY: wrong, ODOO_API_KEY_EXPIRES_AT: lapsedAt });
    expect(lapsed.code).toBe(1);
    expect(line(lapsed.report, 'credentials')[0]?.text).toContain(
      `it lapsed at ${lapsedAt} (API_KEY_EXPIRED)`,
    );
  }, 120_000);

  it('stops on a family whose model the sync user may not read: exit 1, naming it', async () => {
    const { code, report } = await check({ SYNC_FAMILIES: 'contacts,parameters' });
    expect(code).toBe(1);
    expect(line(report, 'family parameters')).toEqual([
      expect.objectContaining({
        status: 'fail',
        text: expect.stringMatching(/ir\.config_parameter.*may not read/),
      }),
    ]);
  }, 120_000);
});
