/**
 * Odoo codec benchmark: decodes the same recorded `search_read` pages of 1,000 lines with the
 * `xmlrpc` package's deserializer and with our decoder, side by side, then measures what the
 * sandbox serves raw and what the client pulls through each transport.
 *
 * Run alone with `npx tsx bench/odoo-codec.ts`, or through `npm run bench` (runOdooCodecBench).
 * Takes about 20–30 s on two cores.
 */
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { request } from 'undici';
import { createOdooClient } from '../src/clients/odoo/index.js';
import { decodeMethodResponse } from '../src/clients/odoo/xmlrpc-decoder.js';
import { decodeWithXmlrpcPackage } from '../dev/reference/xmlrpc-reference-decoder.js';
import { serializeMethodCall } from '../src/clients/odoo/xmlrpc-transport.js';
import type { OdooProtocol } from '../src/clients/odoo/odoo-types.js';
import { createOdooSandbox, type OdooSandbox } from '../dev/sandbox/odoo-sandbox.js';
import { parseBenchArgs } from './bench-args.js';

const ORDERS = 2_000;
const LINES_PER_ORDER = 10;
const PAGE_SIZE = 1_000;
/** Pages the slow decoder gets (it runs at a few thousand records/s). */
const REFERENCE_PAGES = 6;
/** Passes of the fast decoder over every page, for a stable figure. */
const FAST_PASSES = 5;

function rate(records: number, milliseconds: number): string {
  return `${Math.round((records * 1000) / milliseconds).toLocaleString('en-US')} records/s`;
}

/** The raw XML-RPC answer of one keyset page of lines after `lastId`. */
async function fetchLinePage(
  sandbox: OdooSandbox,
  fields: string[],
  lastId: number,
): Promise<ArrayBuffer> {
  const body = serializeMethodCall('execute_kw', [
    sandbox.database,
    sandbox.uid,
    sandbox.password,
    'dimagaz.bc.line',
    'search_read',
    [[['id', '>', lastId]]],
    { fields, limit: PAGE_SIZE, order: 'id asc' },
  ]);
  const response = await request(`${sandbox.url}/xmlrpc/2/object`, { method: 'POST', body });
  return response.body.arrayBuffer();
}

async function recordPages(sandbox: OdooSandbox, fields: string[]): Promise<Buffer[]> {
  const pages: Buffer[] = [];
  for (let lastId = 0; ;) {
    const xml = Buffer.from(await fetchLinePage(sandbox, fields, lastId));
    const decoded = decodeMethodResponse(xml);
    if (decoded.fault || !Array.isArray(decoded.value) || decoded.value.length === 0) return pages;
    pages.push(xml);
    lastId = (decoded.value[decoded.value.length - 1] as { id: number }).id;
  }
}

async function benchDecoders(pages: Buffer[]): Promise<void> {
  const referencePages = pages.slice(0, REFERENCE_PAGES);
  let referenceRecords = 0;
  const referenceStart = performance.now();
  for (const page of referencePages) {
    const decoded = await decodeWithXmlrpcPackage(page.toString('utf8'));
    referenceRecords += decoded.fault ? 0 : (decoded.value as unknown[]).length;
  }
  const referenceMs = performance.now() - referenceStart;

  /** Whole passes over every page, after one warm-up pass. */
  const timeFast = (input: (page: Buffer) => string | Buffer): { records: number; ms: number } => {
    for (const page of pages) decodeMethodResponse(input(page));
    let records = 0;
    const started = performance.now();
    for (let pass = 0; pass < FAST_PASSES; pass++) {
      for (const page of pages) {
        const decoded = decodeMethodResponse(input(page));
        records += decoded.fault ? 0 : (decoded.value as unknown[]).length;
      }
    }
    return { records, ms: performance.now() - started };
  };
  const fromBytes = timeFast((page) => page);
  const fromText = timeFast((page) => page.toString('utf8'));

  const megabytes = pages.reduce((total, page) => total + page.length, 0) / 1_048_576;
  const referenceRate = (referenceRecords * 1000) / referenceMs;
  const fastRate = (fromBytes.records * 1000) / fromBytes.ms;
  console.log(
    `  pages: ${pages.length} × ${PAGE_SIZE} lines (every stored field), ${(megabytes / pages.length).toFixed(2)} MB each`,
  );
  console.log(
    `  xmlrpc package deserializer    : ${rate(referenceRecords, referenceMs)} (${referenceRecords} records)`,
  );
  console.log(
    `  fast decoder, body bytes       : ${rate(fromBytes.records, fromBytes.ms)} (${fromBytes.records} records, ${((megabytes * FAST_PASSES * 1000) / fromBytes.ms).toFixed(0)} MB/s)`,
  );
  console.log(`  fast decoder, utf8 decode+text : ${rate(fromText.records, fromText.ms)}`);
  console.log(`  speed-up (bytes vs package)    : ×${(fastRate / referenceRate).toFixed(1)}`);
}

async function benchRawServe(sandbox: OdooSandbox, fields: string[]): Promise<void> {
  let records = 0;
  let bytes = 0;
  const started = performance.now();
  for (let lastId = 0; ;) {
    const raw = await fetchLinePage(sandbox, fields, lastId);
    bytes += raw.byteLength;
    // Count without decoding: one struct per record.
    const text = Buffer.from(raw).toString('latin1');
    let count = 0;
    for (let at = text.indexOf('<struct>'); at >= 0; at = text.indexOf('<struct>', at + 8)) count++;
    if (count === 0) break;
    records += count;
    lastId += count;
  }
  const elapsedMs = performance.now() - started;
  console.log(
    `  sandbox raw search_read (XML-RPC, undecoded): ${rate(records, elapsedMs)} (${(bytes / 1_048_576).toFixed(0)} MB)`,
  );
}

async function benchClients(sandbox: OdooSandbox, fields: string[]): Promise<void> {
  const logger = pino({ level: 'silent' });
  for (const protocol of ['xmlrpc', 'jsonrpc', 'json2'] as OdooProtocol[]) {
    const client = createOdooClient(
      {
        url: sandbox.url,
        database: sandbox.database,
        username: sandbox.username,
        password: sandbox.password,
        timeoutMs: 60_000,
        retries: 0,
        protocol,
      },
      { logger },
    );
    try {
      await client.authenticate();
      let records = 0;
      const started = performance.now();
      for await (const page of client.pages('dimagaz.bc.line', [], { fields, pageSize: PAGE_SIZE }))
        records += page.length;
      console.log(
        `  client.pages over ${protocol.padEnd(7)} (fetch + decode): ${rate(records, performance.now() - started)}`,
      );
    } finally {
      await client.close();
    }
  }
}

/** Prints decode figures for both decoders, the sandbox's raw rate and each transport's rate. */
export async function runOdooCodecBench(): Promise<void> {
  console.log(
    `Odoo codec (${ORDERS.toLocaleString('en-US')} BCs × ${LINES_PER_ORDER} lines in the sandbox)`,
  );
  const sandbox = createOdooSandbox({
    orders: ORDERS,
    linesPerOrder: LINES_PER_ORDER,
    seed: 1,
    loginCooldown: false,
  });
  await sandbox.start();
  try {
    const fields = sandbox.control.storedFields('dimagaz.bc.line');
    const pages = await recordPages(sandbox, fields);
    await benchDecoders(pages);
    await benchRawServe(sandbox, fields);
    await benchClients(sandbox, fields);
  } finally {
    await sandbox.stop();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  parseBenchArgs({
    command: 'npx tsx bench/odoo-codec.ts',
    about:
      "The Odoo codec: the same recorded search_read pages of 1,000 lines decoded by the xmlrpc package's deserializer and by erp-bridge's decoder, side by side, then what the sandbox serves raw and what the client pulls through each transport. About 20–30 s on two cores.",
    options: {},
    examples: ['npx tsx bench/odoo-codec.ts', 'npm run bench -- codec'],
  });
  runOdooCodecBench().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
