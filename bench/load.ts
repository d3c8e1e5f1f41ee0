/**
 * The benches' load generator: a fixed number of requests over keep-alive connections, a few at
 * a time (closed loop), or a fixed rate (open loop), with requests/s and latency percentiles.
 * Every answer must be a 200, so a bench that measures errors fails instead of printing
 * flattering figures.
 *
 * The measuring itself runs in a process of its own (`bench/load-client.ts`, started by
 * {@link runLoadClient}): a load generator in the server's process takes the server's CPU and
 * adds its own event-loop delays to every latency.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Pool } from 'undici';

export const REQUESTS = 2_000;
export const CONCURRENCY = 8;

export interface Figures {
  label: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
}

/** Sends `requests` requests, `concurrency` at a time; every answer must be a 200. */
export async function measure(
  label: string,
  send: () => Promise<number>,
  requests = REQUESTS,
  concurrency = CONCURRENCY,
): Promise<Figures> {
  const latenciesMs: number[] = [];
  let next = 0;
  const startedAt = performance.now();
  const worker = async () => {
    while (next < requests) {
      next += 1;
      const sentAt = performance.now();
      const status = await send();
      latenciesMs.push(performance.now() - sentAt);
      if (status !== 200) throw new Error(`${label}: HTTP ${status}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedS = (performance.now() - startedAt) / 1000;
  latenciesMs.sort((a, b) => a - b);
  return {
    label,
    requestsPerSecond: requests / elapsedS,
    p50Ms: percentile(latenciesMs, 0.5),
    p99Ms: percentile(latenciesMs, 0.99),
  };
}

/**
 * An open-loop load: `rate` requests per second for `seconds`, each sent on schedule whether or
 * not the earlier ones answered (a closed loop would hide queueing delay). Latency is measured
 * from each request's scheduled time.
 */
export async function measureAtRate(
  label: string,
  rate: number,
  seconds: number,
  send: () => Promise<number>,
): Promise<Figures> {
  const latenciesMs: number[] = [];
  const total = Math.round(rate * seconds);
  const startedAt = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i += 1) {
    const dueMs = startedAt + (i * 1_000) / rate;
    const waitMs = dueMs - performance.now();
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    inFlight.push(
      send().then((status) => {
        latenciesMs.push(performance.now() - dueMs);
        if (status !== 200) throw new Error(`${label}: HTTP ${status}`);
      }),
    );
  }
  await Promise.all(inFlight);
  latenciesMs.sort((a, b) => a - b);
  return {
    label,
    requestsPerSecond: total / ((performance.now() - startedAt) / 1_000),
    p50Ms: percentile(latenciesMs, 0.5),
    p99Ms: percentile(latenciesMs, 0.99),
  };
}

async function send(
  pool: Pool,
  options: { method: 'GET' | 'POST'; path: string; payload?: unknown; authorization?: string },
): Promise<number> {
  const body = options.payload === undefined ? undefined : JSON.stringify(options.payload);
  const response = await pool.request({
    method: options.method,
    path: options.path,
    headers: {
      ...(body === undefined
        ? {}
        : {
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(body)),
          }),
      ...(options.authorization ? { authorization: options.authorization } : {}),
    },
    body,
  });
  await response.body.arrayBuffer();
  return response.statusCode;
}

export const postJson = (pool: Pool, path: string, payload: unknown, authorization?: string) =>
  send(pool, { method: 'POST', path, payload, authorization });

export const getJson = (pool: Pool, path: string, authorization?: string) =>
  send(pool, { method: 'GET', path, authorization });

export async function getJsonBody(
  pool: Pool,
  path: string,
  authorization?: string,
): Promise<Record<string, unknown>> {
  const response = await pool.request({
    method: 'GET',
    path,
    headers: authorization ? { authorization } : {},
  });
  return (await response.body.json()) as Record<string, unknown>;
}

/** One load to put on a server, as `bench/load-client.ts` takes it. */
export interface LoadSpec {
  label: string;
  /** The server's origin, e.g. `http://127.0.0.1:41234`. */
  origin: string;
  path: string;
  /** A JSON body makes it a POST; without one it is a GET. */
  payload?: unknown;
  authorization?: string;
  /** Closed loop: `requests` requests, `concurrency` at a time (defaults 2,000 and 8). */
  requests?: number;
  concurrency?: number;
  /** Open loop instead: `rate` requests per second for `seconds`. */
  rate?: number;
  seconds?: number;
}

/** Sends one spec's load from the client's own pool; used by `bench/load-client.ts`. */
export function sendLoad(pool: Pool, spec: LoadSpec): Promise<Figures> {
  const sendOne = () =>
    spec.payload === undefined
      ? getJson(pool, spec.path, spec.authorization)
      : postJson(pool, spec.path, spec.payload, spec.authorization);
  return spec.rate === undefined
    ? measure(spec.label, sendOne, spec.requests, spec.concurrency)
    : measureAtRate(spec.label, spec.rate, spec.seconds ?? 10, sendOne);
}

const LOAD_CLIENT = fileURLToPath(new URL('./load-client.ts', import.meta.url));
const runFile = promisify(execFile);

/** Runs `spec` from a fresh load-client process and resolves with its figures. */
export async function runLoadClient(spec: LoadSpec): Promise<Figures> {
  const { stdout } = await runFile(
    process.execPath,
    ['--import', 'tsx', LOAD_CLIENT, JSON.stringify(spec)],
    { maxBuffer: 1024 * 1024, timeout: 300_000 },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as Figures;
}

export function printFigures(title: string, figures: readonly Figures[]): void {
  const width = Math.max(...figures.map((f) => f.label.length)) + 2;
  console.log(`\n${title}`);
  console.log(
    `${'path'.padEnd(width)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}`,
  );
  for (const f of figures) {
    console.log(
      `${f.label.padEnd(width)}${f.requestsPerSecond.toFixed(0).padStart(9)}` +
        `${f.p50Ms.toFixed(2).padStart(9)}${f.p99Ms.toFixed(2).padStart(9)}`,
    );
  }
}
