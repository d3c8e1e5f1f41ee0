/**
 * `npm run sync -- check` as an operator runs it, a child process, against the sandbox playing
 * each series erp-bridge copies from (17.0, 19.0, 20.0): what it prints and its exit status on a
 * sound deployment, that it writes nothing to Odoo and that every call it makes is one the call
 * budget counted, and the four faults it must stop on (exit 1, each with its reason): a refused
 * password, a key that lapsed, a sync user who may not read a family's model, a skewed clock.
 */
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { createOdooSandbox, type OdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import type { SandboxSeries } from '../../dev/sandbox/sandbox-rpc-services.js';
import { renderReport, type CheckLine, type CheckReport } from '../../src/check/check-report.js';
import { runSyncCli, syncCliEnv } from '../helpers/sync-cli.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

const DAY_MS = 86_400_000;
/** Methods that change something in Odoo: none of them may reach it. */
const WRITES = /^(create|write|unlink|copy|action_\w+|generate|revoke|button_\w+)$/;

let db: TestDb;
let sandbox: OdooSandbox | undefined;
beforeAll(async () => {
  db = await createTestDb();
});
afterAll(async () => {
  await db.dispose();
});
afterEach(async () => {
  await sandbox?.stop();
  sandbox = undefined;
});

/** The sandbox playing `series`, its sync user with a key that lapses in 60 days from 18.0 on. */
async function odoo(
  series: SandboxSeries,
  options: Parameters<typeof createOdooSandbox>[0] = {},
): Promise<{ env: Record<string, string>; key?: string }> {
  sandbox = createOdooSandbox({
    serverVersion: series,
    orders: 3,
    loginCooldown: false,
    ...options,
  });
  await sandbox.start();
  const env = syncCliEnv(db.url, sandbox);
  if (series === '17.0') return { env };
  const key = sandbox.keys.add({ expiresAt: new Date(Date.now() + 60 * DAY_MS) });
  return { env: { ...env, ODOO_API_KEY: key }, key };
}

/**
 * `check --json` as a process: its exit status and its report. Its text is the report rendered
 * as the command renders it; the sound deployment's case runs the text command too.
 */
async function check(env: Record<string, string>) {
  const json = await runSyncCli(['check', '--json'], env);
  const report = JSON.parse(json.stdout) as CheckReport;
  return { json, report, text: renderReport(report) };
}

const lineOf = (report: CheckReport, topic: string): CheckLine | undefined =>
  report.sections[0]!.lines.find((line) => line.topic === topic);

describe.each(['17.0', '19.0', '20.0'] as const)(
  'check against the sandbox as Odoo %s',
  (series) => {
    it('proves a sound deployment: exit 0, a line per check, nothing written, every call counted', async () => {
      const { env } = await odoo(series);
      const { json, report } = await check(env);
      const text = await runSyncCli(['check'], env);
      expect(text.code, text.stderr).toBe(0);
      expect(json.code, json.stderr).toBe(0);
      expect(text.stdout).toMatch(
        new RegExp(`^Odoo, source default: ${sandbox!.url}, database`, 'm'),
      );
      expect(text.stdout).toMatch(
        new RegExp(`^ {2}(OK|WARN) +version +Odoo ${series.replace('.', '\\.')}`, 'm'),
      );
      expect(text.stdout).toMatch(
        /^ {2}OK +credentials +sync@dimagaz\.example \(uid \d+\) logs in/m,
      );
      expect(text.stdout).toMatch(/^ {2}OK +clock +Odoo's clock and PostgreSQL's agree/m);
      expect(text.stdout).toMatch(/^ {2}OK +family bcs +dimagaz\.bc: readable; reads \d+ fields/m);
      expect(text.stdout).toMatch(/^ {2}OK +family bcs +dimagaz\.bc\.line: readable/m);
      expect(text.stdout).toMatch(/^No FAIL, \d+ WARN: erp-bridge can copy/m);
      expect(report.ok).toBe(true);
      expect(lineOf(report, 'version')?.status).toBe(series === '17.0' ? 'warn' : 'ok');
      expect(lineOf(report, 'transport')?.text).toMatch(series === '17.0' ? /^jsonrpc/ : /^json2/);
      expect(lineOf(report, 'webhooks')?.status).toBe('warn');
      // Two runs of check: nothing written, and every call the sandbox saw, the check counted (it
      // counts what its call budget admitted: a schema document JSON-2 already refused to this
      // process is admitted, and answered without a request).
      const calls = sandbox!.control.calls();
      expect(calls.filter((call) => WRITES.test(call.modelMethod ?? call.method))).toEqual([]);
      expect(sandbox!.control.countCalls()).toBeGreaterThan(0);
      expect(sandbox!.control.countCalls()).toBeLessThanOrEqual(2 * report.sections[0]!.calls);
      expect(report.sections[0]!.calls).toBeLessThanOrEqual(15);
    }, 60_000);

    it('stops on a refused password or key: exit 1, and the families not checked', async () => {
      const { env } = await odoo(series);
      const wrong =
        series === '17.0'
          ? { ...env, ODOO_PASSWORD: 'not-the-password' }
          : { ...env, ODOO_API_KEY: '0123456789abcdef0123456789abcdef01234567' };
      const { json, text, report } = await check(wrong);
      expect(json.code, json.stderr).toBe(1);
      expect(lineOf(report, 'credentials')).toMatchObject({
        status: 'fail',
        text: `Odoo refused the ${series === '17.0' ? 'password (ODOO_PASSWORD)' : 'API key (ODOO_API_KEY)'} of sync@dimagaz.example on database odoo_sandbox`,
      });
      expect(lineOf(report, 'families')).toMatchObject({ status: 'fail' });
      expect(text).toMatch(/^ {2}FAIL +credentials +Odoo refused/m);
      expect(text).toMatch(/^\d+ FAIL, \d+ WARN: fix each FAIL before the first copy/m);
    }, 60_000);

    it('stops on a sync user who may not read a family model: exit 1, naming the model', async () => {
      const { env } = await odoo(series);
      sandbox!.control.denyRead({ model: 'dimagaz.bc.line' });
      const { json, report } = await check(env);
      expect(json.code, json.stderr).toBe(1);
      expect(report.sections[0]!.lines.filter((line) => line.status === 'fail')).toEqual([
        expect.objectContaining({
          topic: 'family bcs',
          text: 'sync@dimagaz.example may not read dimagaz.bc.line: every read of the family would be refused',
        }),
      ]);
    }, 60_000);

    it("stops on a skewed clock: Odoo's ten minutes ahead of PostgreSQL's", async () => {
      const { env } = await odoo(series, { clock: () => (Date.now() + 600_000) * 1_000 });
      const { json, report } = await check(env);
      expect(json.code, json.stderr).toBe(1);
      expect(lineOf(report, 'clock')).toMatchObject({
        status: 'fail',
        text: expect.stringMatching(
          /^Odoo's clock is (599|600|601) s ahead of PostgreSQL's: more than the 60 s/,
        ),
      });
    }, 60_000);
  },
);

describe.each(['19.0', '20.0'] as const)('the API key on the sandbox as Odoo %s', (series) => {
  it('stops on a key that lapsed: Odoo refuses it, and check says when it lapsed', async () => {
    const { env } = await odoo(series);
    const lapsedAt = new Date(Date.now() - DAY_MS);
    const lapsed = sandbox!.keys.add({ expiresAt: lapsedAt });
    const { json, report } = await check({
      ...env,
      ODOO_API_KEY: lapsed,
      ODOO_API_KEY_EXPIRES_AT: lapsedAt.toISOString(),
    });
    expect(json.code, json.stderr).toBe(1);
    expect(lineOf(report, 'credentials')).toMatchObject({
      status: 'fail',
      text: expect.stringContaining(`it lapsed at ${lapsedAt.toISOString()} (API_KEY_EXPIRED)`),
      action: expect.stringContaining('New API Key'),
    });
  }, 60_000);

  it('warns of a key that lapses within ODOO_API_KEY_WARN_DAYS, as Odoo says, and exits 0', async () => {
    const { env } = await odoo(series);
    const soon = sandbox!.keys.add({ expiresAt: new Date(Date.now() + 5 * DAY_MS) });
    const { json, report } = await check({ ...env, ODOO_API_KEY: soon });
    expect(json.code, json.stderr).toBe(0);
    expect(lineOf(report, 'api key')).toMatchObject({
      status: 'warn',
      text: expect.stringMatching(/^lapses on \d{4}-\d{2}-\d{2}, in [45] days \(as Odoo says\)$/),
    });
  }, 60_000);
});
