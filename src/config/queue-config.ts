/**
 * Where BullMQ keeps the queues (QUEUE_BACKEND): on Redis (redis-config.ts says which) or in
 * PostgreSQL, and the rules that choice sets on the other keys.
 */
import type { Env } from './env-schema.js';

export type QueueConfig =
  | { readonly backend: 'redis' }
  | {
      readonly backend: 'postgres';
      /** QUEUE_DATABASE_URL, else DATABASE_URL: the database whose schema `bullmq` holds them. */
      readonly databaseUrl: string | undefined;
    };

export function queueConfigFrom(env: Env): QueueConfig {
  return env.QUEUE_BACKEND === 'postgres'
    ? { backend: 'postgres', databaseUrl: env.QUEUE_DATABASE_URL ?? env.DATABASE_URL }
    : { backend: 'redis' };
}

/** Whether the queues are in PostgreSQL, read from the raw environment (before it is parsed). */
export function queuesInPostgres(env: Readonly<Record<string, string | undefined>>): boolean {
  return env.QUEUE_BACKEND?.trim() === 'postgres';
}

/** The rules between QUEUE_BACKEND and the other keys, each broken one named. */
export function checkQueueBackend(
  env: Readonly<Record<string, string | undefined>>,
  problems: { key: string; message: string }[],
): void {
  if (queuesInPostgres(env)) {
    if (!env.QUEUE_DATABASE_URL?.trim() && !env.DATABASE_URL?.trim())
      problems.push({
        key: 'QUEUE_BACKEND',
        message:
          "postgres needs DATABASE_URL or QUEUE_DATABASE_URL: the demo's embedded PGlite cannot hold the queues",
      });
    return;
  }
  if (env.QUEUE_DATABASE_URL?.trim())
    problems.push({
      key: 'QUEUE_DATABASE_URL',
      message: 'is only read with QUEUE_BACKEND=postgres: set that too, or unset this',
    });
}
