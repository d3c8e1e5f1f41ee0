/**
 * End to end from a real Odoo 19.0 (test/helpers/odoo19.ts), as an operator runs erp-bridge
 * against it: `res.partner` and `account.move` with its lines declared in a families file with no
 * field list, the sync user's API key and every other setting at its default; `migrate`, a run,
 * edits made in Odoo by its administrator (over JSON-2), a run, a reconcile and `verify --all`,
 * each the command an operator types. The copy is then compared with Odoo read independently
 * (test/helpers/odoo19-copy-diff.ts), and Odoo's log shows every call came over JSON-2: no
 * `/xmlrpc` or `/jsonrpc` request and no deprecation warning.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFamilies } from '../../src/families/load-families.js';
import type { Families } from '../../src/families/registry.js';
import { diffCopyWithOdoo, type LeftOut } from '../helpers/odoo19-copy-diff.js';
import {
  deprecatedCalls,
  json2Value,
  ODOO19_START_TIMEOUT_MS,
  odoo19ProcessEnv,
  startOdoo19,
  type Odoo19,
} from '../helpers/odoo19.js';
import { testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { commandFile } from '../helpers/commands.js';

const run = promisify(execFile);

// The README's example, without its API section: every stored field of each model.
const FAMILIES = `
families:
  - name: invoices
    model: account.move
    children: [{ model: account.move.line, link: move_id }]
  - name: contacts
    model: res.partner
`;
const COMMAND_TIMEOUT_MS = 180_000;

interface LogLine {
  msg: string;
  leftOut?: { field: string; reason: string }[];
  model?: string;
}

describe('a real Odoo 19 copied end to end over JSON-2', () => {
  let odoo: Odoo19;
  let db: TestDb;
  let dir: string;
  let env: Record<string, string>;
  let families: Families;
  const leftOut: LeftOut[] = [];
  const ids: Record<string, number> = {};

  /** Odoo's administrator, over JSON-2: the hands of the people who use Odoo. */
  const admin = <T = unknown>(model: string, method: string, body: Record<string, unknown>) =>
    json2Value<T>(odoo, odoo.admin.apiKey, model, method, body);
  /** An erp-bridge command as an operator runs it; its output, or why it failed. */
  const command = async (script: string, args: string[] = []) => {
    try {
      return await run(process.execPath, [commandFile(script), ...args], {
        env,
        timeout: COMMAND_TIMEOUT_MS,
        maxBuffer: 64 * 1024 * 1024,
      });
    } catch (error) {
      const failed = error as { code: unknown; stdout?: string; stderr?: string };
      throw new Error(
        `${script} ${args.join(' ')} exited ${String(failed.code)}:\n${failed.stderr ?? ''}\n${(failed.stdout ?? '').slice(-4_000)}`,
        { cause: error },
      );
    }
  };
  const sync = (...args: string[]) => command('workers/sync-cli.ts', [...args, '--json']);
  const results = (stdout: string) =>
    JSON.parse(stdout) as Array<{ family: string; result: Record<string, unknown> }>;
  const bothEqualOdoo = async () => {
    expect(await diffCopyWithOdoo(db.db, odoo, families.require('contacts'), leftOut)).toEqual([]);
    expect(await diffCopyWithOdoo(db.db, odoo, families.require('invoices'), leftOut)).toEqual([]);
  };

  beforeAll(async () => {
    odoo = await startOdoo19();
    db = await createTestDb({ migrated: false });
    dir = mkdtempSync(join(tmpdir(), 'erp-bridge-odoo19-'));
    writeFileSync(join(dir, 'families.yaml'), FAMILIES);
    env = {
      ...odoo19ProcessEnv(odoo, {
        databaseUrl: db.url,
        prefix: `odoo19-${randomBytes(4).toString('hex')}`,
      }),
      // This Odoo has no read replica (docs/odoo.md, "Reads from a replica"): with the default a
      // record deleted less than SYNC_OVERLAP_SECONDS after Odoo's latest change is archived
      // only by a reconcile that runs once Odoo's stamps have moved past it.
      ODOO_READ_REPLICA: 'false',
      SYNC_FAMILIES_FILE: join(dir, 'families.yaml'),
      SYNC_FAMILIES: 'invoices,contacts',
      LOG_LEVEL: 'info',
      LOG_PRETTY: 'false',
    };

    // What people made in Odoo before erp-bridge came: companies, contacts, tags, invoices.
    const [vip, supplier] = await admin<number[]>('res.partner.category', 'create', {
      vals_list: [{ name: 'VIP' }, { name: 'Supplier' }],
    });
    const [acme, globex, solo] = await admin<number[]>('res.partner', 'create', {
      vals_list: [
        {
          name: 'Acme Gas',
          is_company: true,
          email: 'hello@acme.example',
          category_id: [[6, 0, [vip]]],
        },
        { name: 'Globex', is_company: true, category_id: [[6, 0, [supplier]]] },
        { name: 'Sam Solo', email: 'sam@example.com' },
      ],
    });
    const [alice, bob] = await admin<number[]>('res.partner', 'create', {
      vals_list: [
        { name: 'Alice Martin', parent_id: acme, email: 'alice@acme.example' },
        { name: 'Bob Durand', parent_id: acme },
      ],
    });
    const invoice = (partner: number, lines: [string, number, number][]) => ({
      move_type: 'out_invoice',
      partner_id: partner,
      invoice_line_ids: lines.map(([name, quantity, price_unit]) => [
        0,
        0,
        { name, quantity, price_unit },
      ]),
    });
    const [posted, draft, other] = await admin<number[]>('account.move', 'create', {
      vals_list: [
        invoice(acme!, [
          ['Cylinder refill 13 kg', 3, 120],
          ['Delivery', 1, 25],
        ]),
        invoice(globex!, [['Cylinder deposit', 2, 300]]),
        invoice(acme!, [['Valve check', 4, 15.5]]),
      ],
    });
    await admin('account.move', 'action_post', { ids: [posted, other] });
    const [bill] = await admin<number[]>('account.move', 'create', {
      vals_list: [
        {
          move_type: 'in_invoice',
          partner_id: globex,
          invoice_date: '2026-11-02',
          invoice_line_ids: [[0, 0, { name: 'Empty cylinders', quantity: 10, price_unit: 40 }]],
        },
      ],
    });
    Object.assign(ids, {
      vip,
      supplier,
      acme,
      globex,
      solo,
      alice,
      bob,
      posted,
      draft,
      other,
      bill,
    });
  }, ODOO19_START_TIMEOUT_MS);

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db?.dispose();
    await odoo?.stop();
  });

  it(
    'migrate makes the tables from Odoo 19’s fields_get, saying what it leaves out and why',
    async () => {
      const { stdout } = await command('src/cli/migrate.ts');
      const lines = stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as LogLine);
      for (const line of lines)
        for (const { field } of line.leftOut ?? []) leftOut.push({ model: line.model!, field });
      const reasons = Object.fromEntries(
        lines
          .filter((line) => line.leftOut !== undefined)
          .flatMap((line) =>
            line.leftOut!.map(({ field, reason }) => [`${line.model}.${field}`, reason]),
          ),
      );
      // A field the sync user may not read is left out, never a refused migrate.
      expect(reasons['res.partner.image_1920']).toBe('a binary: list it under binary to copy it');
      expect(reasons['account.move.access_token']).toMatch(/holds a secret/);
      expect(lines.map((line) => line.msg)).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^family invoices: tables at layout 1/),
          expect.stringMatching(/^family contacts: tables at layout 1/),
        ]),
      );
      families = await loadFamilies(
        db.db,
        testConfig({
          SYNC_FAMILIES_FILE: env.SYNC_FAMILIES_FILE!,
          SYNC_FAMILIES: env.SYNC_FAMILIES!,
        }).sync.families,
      );
    },
    COMMAND_TIMEOUT_MS,
  );

  it(
    'the first run copies both families exactly',
    async () => {
      const { stdout } = await sync('run');
      for (const { result } of results(stdout))
        expect(result).toMatchObject({ status: 'succeeded' });
      await bothEqualOdoo();
    },
    COMMAND_TIMEOUT_MS,
  );

  it(
    'edits made in Odoo reach the copy through a run, a reconcile and verify --all',
    async () => {
      // Contacts: a company renamed (its contacts' names and the invoices' partner names follow),
      // tags changed, a contact archived, a person deleted, a new contact.
      await admin('res.partner', 'write', { ids: [ids.globex], vals: { name: 'Globex Gas' } });
      await admin('res.partner', 'write', {
        ids: [ids.acme],
        vals: { category_id: [[6, 0, [ids.vip, ids.supplier]]] },
      });
      await admin('res.partner', 'action_archive', { ids: [ids.bob] });
      await admin('res.partner', 'unlink', { ids: [ids.solo] });
      await admin('res.partner', 'create', {
        vals_list: [{ name: 'Carla Nouvelle', parent_id: ids.globex, phone: '+33 1 23 45 67 89' }],
      });
      // Invoices: a draft's lines changed, added and removed, then posted; a new invoice; a draft
      // bill deleted.
      const [draft] = await admin<Array<{ invoice_line_ids: number[] }>>('account.move', 'read', {
        ids: [ids.draft],
        fields: ['invoice_line_ids'],
      });
      const [line] = draft!.invoice_line_ids;
      await admin('account.move', 'write', {
        ids: [ids.draft],
        vals: {
          invoice_line_ids: [
            [1, line, { quantity: 5, price_unit: 280 }],
            [0, 0, { name: 'Safety seal', quantity: 5, price_unit: 3 }],
          ],
        },
      });
      const [withSeal] = await admin<Array<{ invoice_line_ids: number[] }>>(
        'account.move',
        'read',
        {
          ids: [ids.draft],
          fields: ['invoice_line_ids'],
        },
      );
      await admin('account.move', 'write', {
        ids: [ids.draft],
        vals: { invoice_line_ids: [[2, withSeal!.invoice_line_ids.at(-1), 0]] },
      });
      await admin('account.move', 'action_post', { ids: [ids.draft] });
      await admin('account.move', 'create', {
        vals_list: [
          {
            move_type: 'out_invoice',
            partner_id: ids.alice,
            invoice_line_ids: [[0, 0, { name: 'Regulator', quantity: 1, price_unit: 49.9 }]],
          },
        ],
      });
      await admin('account.move', 'unlink', { ids: [ids.bill] });

      const ran = results((await sync('run')).stdout);
      for (const { result } of ran) expect(result).toMatchObject({ status: 'succeeded' });
      const reconciled = results((await sync('reconcile')).stdout);
      for (const { result } of reconciled) expect(result).toMatchObject({ status: 'succeeded' });
      const verified = results((await sync('verify', '--all')).stdout);
      for (const { result } of verified) expect(result).toMatchObject({ status: 'succeeded' });
      await bothEqualOdoo();
    },
    3 * COMMAND_TIMEOUT_MS,
  );

  it('every call went over JSON-2: no /xmlrpc or /jsonrpc request, no deprecation warning in Odoo’s log', () => {
    const log = odoo.log();
    // The sync's own reads (the test reads Odoo with search and read only).
    expect(log).toMatch(/"POST \/json\/2\/account\.move\.line\/search_read /);
    expect(deprecatedCalls(log)).toEqual({ rpcRequests: [], warnings: [] });
  });
});
