/**
 * The in-flight bench's clients, each a process of its own (`node --import tsx
 * bench/in-flight-client.ts '<spec as JSON>'`), so neither takes the server's CPU nor the other's
 * event loop:
 *
 * - `flood`: `concurrency` loops, each sending the slow request again as soon as it answered;
 *   after a refusal (429) at once too, or once its Retry-After has passed;
 * - `probe`: another key's request at a fixed rate (open loop: latency from each request's
 *   scheduled time), and readiness twice a second.
 *
 * Each runs for `seconds`, then prints one JSON line: latencies and the count of each status.
 */
import { Pool } from 'undici';

export type InFlightClientSpec =
  | {
      role: 'flood';
      origin: string;
      path: string;
      authorization: string;
      concurrency: number;
      seconds: number;
      /** Whether a refused request waits for the Retry-After it was given before the next. */
      honoursRetryAfter: boolean;
    }
  | {
      role: 'probe';
      origin: string;
      path: string;
      authorization: string;
      ratePerSecond: number;
      seconds: number;
    };

export interface InFlightClientResult {
  /** Latencies in ms, sorted (the probe's requests; the flood's answers). */
  latenciesMs: number[];
  statuses: Record<string, number>;
  /** The probe's readiness answers. */
  readyStatuses: Record<string, number>;
}

async function send(pool: Pool, path: string, authorization?: string) {
  const response = await pool.request({
    method: 'GET',
    path,
    headers: authorization ? { authorization } : {},
  });
  await response.body.arrayBuffer();
  const retryAfter = response.headers['retry-after'];
  return {
    status: response.statusCode,
    retryAfterMs: typeof retryAfter === 'string' ? Number(retryAfter) * 1_000 : 0,
  };
}

const get = async (pool: Pool, path: string, authorization?: string) =>
  (await send(pool, path, authorization)).status;

const count = (into: Record<string, number>, status: number) => {
  into[status] = (into[status] ?? 0) + 1;
};

async function flood(spec: Extract<InFlightClientSpec, { role: 'flood' }>) {
  const pool = new Pool(spec.origin, { connections: spec.concurrency });
  const result: InFlightClientResult = { latenciesMs: [], statuses: {}, readyStatuses: {} };
  const endsAt = performance.now() + spec.seconds * 1_000;
  try {
    await Promise.all(
      Array.from({ length: spec.concurrency }, async () => {
        while (performance.now() < endsAt) {
          const sentAt = performance.now();
          const { status, retryAfterMs } = await send(pool, spec.path, spec.authorization);
          count(result.statuses, status);
          result.latenciesMs.push(performance.now() - sentAt);
          if (spec.honoursRetryAfter && retryAfterMs > 0)
            await new Promise((resolve) =>
              setTimeout(resolve, Math.min(retryAfterMs, endsAt - performance.now())),
            );
        }
      }),
    );
  } finally {
    await pool.close();
  }
  return result;
}

async function probe(spec: Extract<InFlightClientSpec, { role: 'probe' }>) {
  // Enough connections that no probe waits in the client behind a slow one.
  const pool = new Pool(spec.origin, { connections: 64 });
  const result: InFlightClientResult = { latenciesMs: [], statuses: {}, readyStatuses: {} };
  const startedAt = performance.now();
  const sent: Promise<void>[] = [];
  const total = Math.round(spec.ratePerSecond * spec.seconds);
  try {
    for (let i = 0; i < total; i += 1) {
      const dueMs = startedAt + (i * 1_000) / spec.ratePerSecond;
      const waitMs = dueMs - performance.now();
      if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
      sent.push(
        get(pool, spec.path, spec.authorization).then((status) => {
          result.latenciesMs.push(performance.now() - dueMs);
          count(result.statuses, status);
        }),
      );
      // Readiness twice a second, as a Kubernetes probe might.
      if (i % Math.max(1, Math.round(spec.ratePerSecond / 2)) === 0)
        sent.push(get(pool, '/health/ready').then((status) => count(result.readyStatuses, status)));
    }
    await Promise.all(sent);
  } finally {
    await pool.close();
  }
  return result;
}

const spec = JSON.parse(process.argv[2] ?? '') as InFlightClientSpec;
const result = spec.role === 'flood' ? await flood(spec) : await probe(spec);
result.latenciesMs.sort((a, b) => a - b);
process.stdout.write(`${JSON.stringify(result)}\n`);
