/**
 * `npm run bench`: every benchmark, one after the other (they share two cores), printing figures
 * to compare between commits. Never a pass/fail: timing belongs here, not in tests.
 *
 * 1. Odoo codec: the `xmlrpc` package's decoder vs ours on the same pages, per-transport reads.
 * 2. Sync: a full sync of 20,000 BCs × 10 lines and an incremental run with 1% changed, once per
 *    transport, each in a fresh process so its peak RSS is its own.
 * 3. Tryton proxy: cached and uncached calls through the API vs trytond directly.
 * 4. API: the BC list, a BC detail and a cached Tryton call through the whole production app.
 * 5. A fresh process: the Odoo calls of an idle `sync run`, and how long `sync status` takes.
 * 6. Webhooks: the lag from an edit in the sandbox to its row in PostgreSQL, 50 edits/s for 60 s.
 *
 * `npm run bench -- sync` (or `codec`, `tryton`, `api`, `cold`, `webhook`) runs one of them.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { OdooProtocol } from '../src/clients/odoo/index.js';
import { runOdooCodecBench } from './odoo-codec.js';
import { runApiBench } from './api-bench.js';
import { printColdRunBench, runColdRunBench } from './cold-run-bench.js';
import { printWebhookBench, runWebhookBench } from './webhook-bench.js';
import type { SyncBenchResult } from './sync-bench.js';
import { runTrytonProxyBench } from './tryton-proxy.js';

const run = promisify(execFile);
const PROTOCOLS: OdooProtocol[] = ['xmlrpc', 'jsonrpc', 'json2'];

async function syncBench(): Promise<void> {
  process.stdout.write('\n== Sync: 20,000 BCs × 10 lines from the sandbox into PostgreSQL ==\n');
  const results: SyncBenchResult[] = [];
  for (const protocol of PROTOCOLS) {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'bench/sync-bench.ts', '--protocol', protocol, '--json'],
      {
        maxBuffer: 16 * 1024 * 1024,
        timeout: 600_000,
      },
    );
    const line = stdout.trim().split('\n').pop()!;
    results.push(JSON.parse(line) as SyncBenchResult);
  }
  const rows = results.map((r) => [
    r.protocol,
    r.records.toLocaleString('en-US'),
    `${r.fullSeconds.toFixed(1)} s`,
    r.fullRecordsPerSecond.toLocaleString('en-US'),
    String(r.fullOdooCalls),
    `${r.incrementalSeconds.toFixed(2)} s`,
    String(r.incrementalChangedBcs),
    String(r.incrementalOdooCalls),
    `${r.peakRssMb} MB`,
  ]);
  const header = [
    'transport',
    'records',
    'full sync',
    'records/s',
    'Odoo calls',
    'incremental (1%)',
    'BCs seen',
    'Odoo calls',
    'peak RSS',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const format = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ');
  process.stdout.write(`${format(header)}\n${rows.map(format).join('\n')}\n`);
}

const BENCHES: Record<string, () => Promise<void>> = {
  codec: runOdooCodecBench,
  sync: syncBench,
  tryton: runTrytonProxyBench,
  api: runApiBench,
  cold: async () => printColdRunBench(await runColdRunBench()),
  webhook: async () => printWebhookBench(await runWebhookBench(), 60, 50),
};

const chosen = process.argv.slice(2);
for (const name of chosen.length > 0 ? chosen : Object.keys(BENCHES)) {
  const bench = BENCHES[name];
  if (!bench) {
    process.stderr.write(
      `unknown benchmark "${name}"; choose from ${Object.keys(BENCHES).join(', ')}\n`,
    );
    process.exit(64);
  }
  await bench();
}
process.exit(0);
