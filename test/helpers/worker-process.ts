/**
 * The worker as an operator starts it (`workers/main.ts`, its own OS process), and the producer
 * side a test drives it with: queues and the events of one queue on the test's prefix.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import type { OdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import { createLogger } from '../../src/lib/logger.js';
import { createQueueEvents, type OwnedQueueEvents } from '../../src/queues/queue-events.js';
import { createQueues, type Queues } from '../../src/queues/queues.js';
import { redisQueues } from '../../src/stores/queue-store.js';
import type { QueueName } from '../../src/queues/catalogue.js';
import { commandBaseEnv, commandFile } from './commands.js';

export interface WorkerProcess {
  readonly child: ChildProcess;
  /** Its `worker started` log line, parsed. */
  readonly started: Record<string, unknown>;
  /** Every line it printed so far. */
  readonly output: string[];
}

/**
 * A worker's environment: the test's database, Redis and queue prefix, the sandbox as its Odoo,
 * an hourly schedule, a free HTTP port, JSON logs; `extra` adds or overrides keys.
 */
export function workerEnv(
  input: {
    databaseUrl: string;
    prefix: string;
    odoo: Pick<OdooSandbox, 'url' | 'database' | 'username' | 'password'>;
  },
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  return {
    ...commandBaseEnv(),
    DATABASE_URL: input.databaseUrl,
    DATABASE_POOL_MAX: '4',
    REDIS_URL: inject('redisUrl'),
    QUEUE_PREFIX: input.prefix,
    ODOO_URL: input.odoo.url,
    ODOO_DATABASE: input.odoo.database,
    ODOO_USERNAME: input.odoo.username,
    ODOO_PASSWORD: input.odoo.password,
    SYNC_EVERY: '1h',
    WORKER_HTTP_PORT: '0',
    LOG_LEVEL: 'info',
    LOG_PRETTY: 'false',
    // The key sealing the subscriptions' secrets, as test/helpers/sync-harness.ts has it.
    FEED_SECRET_KEY: 'test-feed-secret-key-of-at-least-32-characters',
    ...extra,
  };
}

/**
 * Spawns a worker with `env` (and Node's `nodeOptions`, a heap limit say) and resolves once it
 * logged `worker started`.
 */
export async function startWorkerProcess(
  env: NodeJS.ProcessEnv,
  nodeOptions: readonly string[] = [],
  /** Aborts the start: a worker not started yet is killed (a test's afterAll, after a timeout). */
  signal?: AbortSignal,
): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [...nodeOptions, commandFile('workers/main.ts')], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // A worker that never starts (its test's hook times out, and no test stops it) must not outlive
  // the test run.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  if (signal?.aborted) reap();
  signal?.addEventListener('abort', reap, { once: true });
  try {
    return await workerStarted(child);
  } finally {
    signal?.removeEventListener('abort', reap);
  }
}

async function workerStarted(child: ChildProcess): Promise<WorkerProcess> {
  const output: string[] = [];
  // Piped, as the spawn's stdio says.
  const lines = createInterface({ input: child.stdout! });
  let started: Record<string, unknown> | undefined;
  for await (const line of lines) {
    output.push(line);
    if (line.includes('worker started')) {
      started = JSON.parse(line) as Record<string, unknown>;
      break;
    }
  }
  lines.on('line', (line) => output.push(line));
  if (!started) throw new Error(`the worker exited before it started:\n${output.join('\n')}`);
  return { child, started, output };
}

export interface Producer {
  readonly connection: Redis;
  readonly queues: Queues;
  readonly events: OwnedQueueEvents;
  /** Obliterates the test's queues and closes every connection. */
  close(): Promise<void>;
}

export async function createProducer(prefix: string, eventsOf: QueueName): Promise<Producer> {
  const connection = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  const queues = createQueues({
    backend: redisQueues(connection, prefix),
    settings: { attempts: 3, backoffMs: 100 },
    logger: createLogger({ level: 'silent', pretty: false }),
  });
  const events = await createQueueEvents(queues.backend, queues.byName[eventsOf]);
  return {
    connection,
    queues,
    events,
    async close() {
      await Promise.all(queues.all.map((queue) => queue.obliterate({ force: true })));
      await queues.close();
      await events.close();
      await connection.quit();
    },
  };
}
