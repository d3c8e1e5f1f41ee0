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
import { Pool } from 'undici';

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

/**
 * Two servers measured call by call, one call at a time: `pairs` calls to each, alternating, the
 * first of each pair swapped every pair. A machine that slows down for a moment slows both alike,
 * so the difference of their latencies is the difference of the servers, not of the moments.
 */
export interface PairedSpec {
  pairs: number;
  targets: readonly [PairedTarget, PairedTarget];
}

export type PairedTarget = Pick<
  LoadSpec,
  'label' | 'origin' | 'path' | 'payload' | 'authorization'
>;

const sendTo = (pool: Pool, target: PairedTarget) =>
  target.payload === undefined
    ? getJson(pool, target.path, target.authorization)
    : postJson(pool, target.path, target.payload, target.authorization);

/** Sends a paired load (one connection per target); used by `bench/load-client.ts`. */
export async function sendPairedLoad(spec: PairedSpec): Promise<[Figures, Figures]> {
  const pools = spec.targets.map((target) => new Pool(target.origin, { connections: 1 }));
  const latenciesMs: [number[], number[]] = [[], []];
  try {
    for (let pair = 0; pair < spec.pairs; pair += 1) {
      for (const side of pair % 2 === 0 ? [0, 1] : [1, 0]) {
        const sentAt = performance.now();
        const status = await sendTo(pools[side]!, spec.targets[side]!);
        latenciesMs[side]!.push(performance.now() - sentAt);
        if (status !== 200) throw new Error(`${spec.targets[side]!.label}: HTTP ${status}`);
      }
    }
  } finally {
    await Promise.all(pools.map((pool) => pool.close()));
  }
  const figures = (side: 0 | 1): Figures => {
    const sorted = latenciesMs[side].sort((a, b) => a - b);
    return {
      label: spec.targets[side].label,
      // Each side's own share of the time: the sum of its latencies.
      requestsPerSecond: (spec.pairs * 1000) / sorted.reduce((sum, ms) => sum + ms, 0),
      p50Ms: percentile(sorted, 0.5),
      p99Ms: percentile(sorted, 0.99),
    };
  };
  return [figures(0), figures(1)];
}

/** Sends one spec's load from the client's own pool; used by `bench/load-client.ts`. */
export function sendLoad(pool: Pool, spec: LoadSpec): Promise<Figures> {
  const sendOne = () => sendTo(pool, spec);
  return spec.rate === undefined
    ? measure(spec.label, sendOne, spec.requests, spec.concurrency)
    : measureAtRate(spec.label, spec.rate, spec.seconds ?? 10, sendOne);
}

const LOAD_CLIENT = fileURLToPath(new URL('./load-client.ts', import.meta.url));
const runFile = promisify(execFile);

/** Runs `spec` from a fresh load-client process and resolves with its figures. */
export const runLoadClient = (spec: LoadSpec) => runClient<Figures>(spec);

/** Runs a paired load from a fresh load-client process and resolves with both sides' figures. */
export const runPairedLoadClient = (spec: PairedSpec) => runClient<[Figures, Figures]>(spec);

async function runClient<T>(spec: LoadSpec | PairedSpec): Promise<T> {
  const { stdout } = await runFile(
    process.execPath,
    ['--import', 'tsx', LOAD_CLIENT, JSON.stringify(spec)],
    { maxBuffer: 1024 * 1024, timeout: 600_000 },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as T;
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
