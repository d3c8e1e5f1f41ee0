/**
 * PostgreSQL, Redis and trytond from testcontainers, for machines where a container engine
 * answers: a laptop with only Docker runs the whole suite.
 */
import { PostgreSqlContainer } from '@testcontainers/postgresql';
import { RedisContainer } from '@testcontainers/redis';
import { GenericContainer, Wait, getContainerRuntimeClient } from 'testcontainers';
import type { LocalService } from './local-services.js';

/** True when a container engine answers within a few seconds. */
export async function containerRuntimeAnswers(): Promise<boolean> {
  try {
    await Promise.race([
      getContainerRuntimeClient(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 5_000).unref()),
    ]);
    return true;
  } catch {
    return false;
  }
}

export async function startContainerPostgres(): Promise<LocalService> {
  const container = await new PostgreSqlContainer('postgres:15-alpine')
    .withDatabase('postgres')
    .withUsername('postgres')
    .withPassword('postgres')
    .withCommand(['postgres', '-c', 'fsync=off', '-c', 'max_connections=300', '-c', 'jit=off'])
    .start();
  return {
    url: container.getConnectionUri(),
    async stop() {
      await container.stop();
    },
  };
}

export async function startContainerRedis(): Promise<LocalService> {
  // BullMQ needs noeviction; nothing here needs to outlive the container.
  const container = await new RedisContainer('redis:7-alpine')
    .withCommand([
      'redis-server',
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'noeviction',
    ])
    .start();
  return {
    url: container.getConnectionUrl(),
    async stop() {
      await container.stop();
    },
  };
}

export interface TrytondContainerSetup {
  /** The trytond.conf to run with; its `[web] listen` must be `0.0.0.0:8000`. */
  config: string;
  database: string;
  adminPassword: string;
  adminEmail: string;
  modules: readonly string[];
}

/**
 * The official trytond image (the same 6.0 series as Debian's package): the database initialised
 * with `trytond-admin`, then the server, on a SQLite file inside the container.
 */
export async function startContainerTrytond(setup: TrytondContainerSetup): Promise<LocalService> {
  const dataFile = `/var/lib/trytond/db/${setup.database}.sqlite`;
  const container = await new GenericContainer('tryton/tryton:6.0')
    .withCopyContentToContainer([
      { content: setup.config, target: '/etc/trytond.conf' },
      { content: `${setup.adminPassword}\n`, target: '/tmp/admin-password' },
    ])
    .withEnvironment({ TRYTONPASSFILE: '/tmp/admin-password' })
    .withCommand([
      'sh',
      '-c',
      [
        `mkdir -p /var/lib/trytond/db && touch ${dataFile}`,
        `trytond-admin -c /etc/trytond.conf -d ${setup.database} --all -u ${setup.modules.join(' ')} --activate-dependencies --email ${setup.adminEmail}`,
        `exec trytond -c /etc/trytond.conf -d ${setup.database}`,
      ].join(' && '),
    ])
    .withExposedPorts(8000)
    .withWaitStrategy(Wait.forListeningPorts())
    .withStartupTimeout(300_000)
    .start();
  return {
    url: `http://${container.getHost()}:${container.getMappedPort(8000)}`,
    async stop() {
      await container.stop();
    },
  };
}
