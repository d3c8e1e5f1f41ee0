/**
 * The load client as a process of its own: `node --import tsx bench/load-client.ts '<LoadSpec or
 * PairedSpec as JSON>'` sends the load, then prints its figures as one JSON line. The benches
 * start it through `runLoadClient` or `runPairedLoadClient` (bench/load.ts) so the server under
 * test has its process to itself.
 */
import { Pool } from 'undici';
import { CONCURRENCY, sendLoad, sendPairedLoad, type LoadSpec, type PairedSpec } from './load.js';

const spec = JSON.parse(process.argv[2] ?? '') as LoadSpec | PairedSpec;
if ('targets' in spec) {
  process.stdout.write(`${JSON.stringify(await sendPairedLoad(spec))}\n`);
} else {
  // Open loop: enough connections that requests never queue in the client behind a slow answer.
  const connections = spec.rate === undefined ? (spec.concurrency ?? CONCURRENCY) : 64;
  const pool = new Pool(spec.origin, { connections });
  try {
    const figures = await sendLoad(pool, spec);
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    await pool.close();
  }
}
