/**
 * The load client as a process of its own: `node --import tsx bench/load-client.ts '<LoadSpec as
 * JSON>'` sends the load, then prints its figures as one JSON line. The benches start it through
 * `runLoadClient` (bench/load.ts) so the server under test has its process to itself.
 */
import { Pool } from 'undici';
import { CONCURRENCY, sendLoad, type LoadSpec } from './load.js';

const spec = JSON.parse(process.argv[2] ?? '') as LoadSpec;
// Open loop: enough connections that requests never queue in the client behind a slow answer.
const connections = spec.rate === undefined ? (spec.concurrency ?? CONCURRENCY) : 64;
const pool = new Pool(spec.origin, { connections });
try {
  const figures = await sendLoad(pool, spec);
  process.stdout.write(`${JSON.stringify(figures)}\n`);
} finally {
  await pool.close();
}
