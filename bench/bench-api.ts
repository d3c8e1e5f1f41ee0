/**
 * The API as the benches run it: the production app built by `createApi` (auth, the rate limiter
 * in Redis, validation, the Tryton cache) on the database handle `src/server.ts` uses
 * (`createApiDb`), listening on a real socket, with a reader and an operator key of its own; or
 * the compiled API in a process of its own, as a deployment runs it (`startApiProcess`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { freePort } from '../dev/services/free-port.js';
import { generateApiKey } from '../src/config/api-keys.js';
import { loadConfig } from '../src/config/config.js';
import { createApi, createApiDb } from '../src/create-api.js';
import { runMigrations } from '../src/db/migrate.js';
import type { Logger } from '../src/lib/logger.js';
import { createShutdown } from '../src/lib/shutdown.js';
import { CODE_FAMILIES } from '../src/families/registry.js';

export interface BenchApi {
  /** Where it listens, e.g. `http://127.0.0.1:41234`. */
  readonly origin: string;
  /** `Authorization` header values of a reader and an operator key. */
  readonly asReader: string;
  readonly asOperator: string;
  /**
   * Time each request spent inside the server since the last call, in ms sorted ascending: from
   * Fastify's first hook to the response's end. A client latency far above it was spent outside
   * our code (the sockets, the kernel, a stalled event loop before the request was read).
   */
  takeServerTimesMs(): number[];
  close(): Promise<void>;
}

/** Starts the API on `env` (DATABASE_URL, REDIS_URL, Tryton keys…); the database is migrated. */
export async function startBenchApi(input: {
  env: Record<string, string>;
  logger: Logger;
}): Promise<BenchApi> {
  const reader = generateApiKey('bench-reader', 'reader');
  const operator = generateApiKey('bench-operator', 'operator');
  const config = loadConfig(
    {
      API_KEYS: `${reader.entry},${operator.entry}`,
      // The bench measures the limiters' cost, never their refusals: its load comes from one key.
      RATE_LIMIT_PER_MINUTE: '1000000',
      API_MAX_IN_FLIGHT_PER_KEY: '1000',
      LOG_LEVEL: 'warn',
      ...input.env,
    },
    { mode: 'production', role: 'api', codeFamilies: CODE_FAMILIES },
  );
  const { logger } = input;
  const db = await createApiDb(config, logger);
  const shutdown = createShutdown(logger, 10_000);
  shutdown.add('database', () => db.close());
  try {
    await runMigrations(db);
    const app = await createApi({ config, logger, db, shutdown });
    let serverTimesMs: number[] = [];
    app.addHook('onResponse', (_request, reply, done) => {
      serverTimesMs.push(reply.elapsedTime);
      done();
    });
    const origin = await app.listen({ host: '127.0.0.1', port: 0 });
    return {
      origin,
      asReader: `Bearer ${reader.key}`,
      asOperator: `Bearer ${operator.key}`,
      takeServerTimesMs: () => {
        const taken = serverTimesMs.sort((a, b) => a - b);
        serverTimesMs = [];
        return taken;
      },
      close: () => shutdown.run('bench done'),
    };
  } catch (error) {
    await shutdown.run('bench failed');
    throw error;
  }
}

/** The compiled API as `npm start` starts it, once it answers /health/live. */
export async function startApiProcess(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; origin: string }> {
  const { scripts } = JSON.parse(readFileSync('package.json', 'utf8')) as {
    scripts: Record<string, string>;
  };
  const nodeArgs = scripts
    .start!.split(/\s+/)
    .filter((word) => word.startsWith('--') && !word.startsWith('--env-file'));
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeArgs, 'dist/src/server.js'], {
    env: { ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Its warnings and errors (LOG_LEVEL warn) go to the bench's stderr.
  createInterface({ input: child.stdout }).on('line', (line) =>
    process.stderr.write(`api: ${line}\n`),
  );
  const origin = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`the API exited with ${child.exitCode}`);
    const live = await fetch(`${origin}/health/live`).catch(() => undefined);
    if (live?.ok) return { child, origin };
    if (attempt > 600) throw new Error('the API did not answer within a minute');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
