/**
 * Provides real services to every test file, once per run:
 * - PostgreSQL and Redis from TEST_DATABASE_URL / TEST_REDIS_URL when set, else from
 *   testcontainers when a container engine answers, else started locally from Debian's binaries;
 * - a migrated template database that each test file clones (isolation by construction);
 * - the operator commands, bundled as `npm run build` bundles them, for the tests that spawn one
 *   (test/helpers/commands.ts).
 * A service that cannot be provided fails the run: tests never skip for lack of one.
 * It first prints the Node version the suite runs on (the project's own Node 24 where the
 * machine's is older), so a CI log shows what was tested.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import postgres from 'postgres';
import { bundleCommands } from '../build.js';
import { createDb } from '../src/db/create-db.js';
import { runMigrations } from '../src/db/migrate.js';
import { runQueueMigrations } from '../src/stores/queue-store.js';
import {
  containerRuntimeAnswers,
  startContainerPostgres,
  startContainerRedis,
} from './helpers/container-services.js';
import {
  startLocalPostgres,
  startLocalRedis,
  type LocalService,
} from './helpers/local-services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of the test PostgreSQL server (databases are created from it). */
    postgresAdminUrl: string;
    /** Name of the migrated template database each test file clones. */
    templateDatabase: string;
    redisUrl: string;
    /** Where the operator commands are bundled for this run (test/helpers/commands.ts). */
    commandsDir: string;
  }
}

export const TEMPLATE_DATABASE = 'erp_bridge_template';

/** What a step of the setup gave, or its failure thrown. */
function settled<T>(step: PromiseSettledResult<T>): T {
  if (step.status === 'rejected') throw step.reason;
  return step.value;
}

async function provide(
  name: string,
  fromEnv: string | undefined,
  useContainers: boolean,
  startContainer: () => Promise<LocalService>,
  startLocal: () => Promise<LocalService>,
): Promise<LocalService> {
  if (fromEnv) {
    console.log(`[test services] ${name}: from environment`);
    return { url: fromEnv, stop: () => Promise.resolve() };
  }
  const mode = useContainers ? 'testcontainers' : 'local server in a temp dir';
  try {
    const service = await (useContainers ? startContainer() : startLocal());
    console.log(`[test services] ${name}: ${mode} (${new URL(service.url).host})`);
    return service;
  } catch (error) {
    throw new Error(
      `[test services] cannot provide ${name} (${mode}): ${(error as Error).message}. ` +
        `Set TEST_${name === 'PostgreSQL' ? 'DATABASE' : 'REDIS'}_URL or install it (see README, Prerequisites).`,
      { cause: error },
    );
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  console.log(`[test runtime] Node ${process.version}`);
  const needContainers = !process.env.TEST_DATABASE_URL || !process.env.TEST_REDIS_URL;
  const useContainers = needContainers && (await containerRuntimeAnswers());
  if (needContainers && !useContainers) {
    console.log('[test services] no container engine answers; using local Debian binaries');
  }
  const stops: (() => Promise<void>)[] = [];
  const teardown = async () => {
    for (const stop of stops.reverse()) await stop();
  };
  try {
    // At the project's root, as dist/ is: the bundles load their dependencies from node_modules.
    const commandsDir = mkdtempSync(join(process.cwd(), '.test-commands-'));
    stops.push(() => Promise.resolve(rmSync(commandsDir, { recursive: true, force: true })));
    // The servers start while the commands are bundled: none waits for another.
    const [pgStarted, redisStarted, built] = await Promise.allSettled([
      provide(
        'PostgreSQL',
        process.env.TEST_DATABASE_URL,
        useContainers,
        startContainerPostgres,
        // Its databases live for seconds: autovacuum would only visit each one. With no table
        // analysed, the planner's guesses put a reconcile's diff past JIT's cost threshold:
        // compiling it took 280 ms of a query that ran in 1.
        () => startLocalPostgres({ autovacuum: 'off', jit: 'off' }, { inMemory: true }),
      ),
      provide(
        'Redis',
        process.env.TEST_REDIS_URL,
        useContainers,
        startContainerRedis,
        startLocalRedis,
      ),
      bundleCommands(commandsDir),
    ]);
    for (const started of [pgStarted, redisStarted])
      if (started.status === 'fulfilled') stops.push(() => started.value.stop());
    const pg = settled(pgStarted);
    const redis = settled(redisStarted);
    settled(built);
    project.provide('commandsDir', commandsDir);

    await createTemplate(pg.url);
    project.provide('postgresAdminUrl', pg.url);
    project.provide('templateDatabase', TEMPLATE_DATABASE);
    project.provide('redisUrl', redis.url);
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}

async function createTemplate(adminUrl: string): Promise<void> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`drop database if exists ${TEMPLATE_DATABASE} with (force)`);
    await admin.unsafe(`create database ${TEMPLATE_DATABASE}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${TEMPLATE_DATABASE}`;
  const handle = await createDb({ url: url.toString(), poolMax: 1 });
  try {
    await runMigrations(handle);
    // Each file's database then holds BullMQ's tables too, for the tests of QUEUE_BACKEND=postgres.
    await runQueueMigrations(url.toString());
  } finally {
    await handle.close();
  }
}
