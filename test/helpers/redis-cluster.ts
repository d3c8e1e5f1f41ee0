/**
 * A Redis Cluster on loopback for a test: three primaries, no replicas, each a `redis-server`
 * child with its own temp dir and nodes file, joined by `redis-cli --cluster create`. A missing
 * `redis-server` or `redis-cli` fails the start (never a skipped test).
 *
 * With `appendOnly`, each node keeps an append-only file written at every command (`appendfsync
 * always`): a node restarted on its port and nodes file comes back with what it held, as a
 * production node with its disk does. Without, it comes back empty: a lost disk (README, "What
 * each Redis survives").
 * The nodes call a peer failed after {@link NODE_TIMEOUT_MS} without an answer; with no replica to
 * promote, the whole cluster then refuses commands (every slot must be served) until it is back.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { vi } from 'vitest';
import { freePort } from '../../dev/services/free-port.js';
import { startRedisServer, type RedisServer } from '../../dev/services/redis-server.js';

const PRIMARIES = 3;
/** Redis's `cluster-node-timeout` (15 s by default): a test's outage is seen within seconds. */
const NODE_TIMEOUT_MS = 3_000;

export interface ClusterTopology {
  readonly nodes: readonly { host: string; port: number }[];
  /** What a process is configured with to put its queues on the cluster. */
  readonly env: Record<string, string>;
  /** The port of the primary that holds `key`'s slot. */
  portOf(key: string): Promise<number>;
  /** Stops the node on `port` with `signal`, and resolves once it exited. */
  stopNode(port: number, signal: NodeJS.Signals): Promise<void>;
  /** Resolves once every running node says the cluster is down (`cluster_state:fail`). */
  down(): Promise<void>;
  /** Starts the node on `port` again, on its nodes file, and resolves once the cluster is ok. */
  startNode(port: number): Promise<void>;
  stop(): Promise<void>;
}

/** One command to the node on `port`, on a connection of its own. */
async function ask(port: number, ...command: string[]): Promise<unknown> {
  const redis = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await redis.call(command[0]!, ...command.slice(1));
  } finally {
    redis.disconnect();
  }
}

/**
 * `busPort` is the node's cluster bus. Redis's default, its port + 10000, is not checked free and
 * another test's server may hold it.
 */
function startNode(
  dir: string,
  port: number,
  busPort: number,
  appendOnly: boolean,
): Promise<RedisServer> {
  const nodeDir = join(dir, String(port));
  mkdirSync(nodeDir, { recursive: true });
  return startRedisServer(
    nodeDir,
    [
      '--cluster-enabled',
      'yes',
      '--cluster-port',
      String(busPort),
      '--cluster-config-file',
      `nodes-${port}.conf`,
      '--cluster-node-timeout',
      String(NODE_TIMEOUT_MS),
      '--save',
      '',
      ...(appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
    ],
    port,
  );
}

/** Resolves once each node of `ports` says `cluster_state:<state>`. */
async function clusterState(ports: readonly number[], state: 'ok' | 'fail'): Promise<void> {
  await vi.waitFor(
    async () => {
      for (const port of ports) {
        const info = String(await ask(port, 'CLUSTER', 'INFO'));
        if (!info.includes(`cluster_state:${state}`))
          throw new Error(`node ${port} does not say ${state} yet`);
      }
    },
    { timeout: 30_000, interval: 100 },
  );
}

export async function startRedisCluster(options: {
  appendOnly: boolean;
}): Promise<ClusterTopology> {
  const dir = mkdtempSync(join(tmpdir(), 'erp-bridge-cluster-'));
  const servers = new Map<number, RedisServer>();
  const busPorts = new Map<number, number>();
  const stopped = new Set<number>();
  const stopNode = async (port: number, signal: NodeJS.Signals) => {
    stopped.add(port);
    await servers.get(port)?.stop(signal);
  };
  const stop = async () => {
    for (const port of servers.keys()) await stopNode(port, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ports: number[] = [];
    for (let i = 0; i < PRIMARIES; i += 1) {
      const port = await freePort();
      const busPort = await freePort();
      ports.push(port);
      busPorts.set(port, busPort);
      servers.set(port, await startNode(dir, port, busPort, options.appendOnly));
    }
    const create = spawn(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((port) => `127.0.0.1:${port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    create.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    create.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await Promise.race([
      once(create, 'exit'),
      once(create, 'error').then(([error]) => Promise.reject(error as Error)),
    ])) as [number | null];
    if (code !== 0) throw new Error(`redis-cli --cluster create exited with ${code}: ${output}`);
    await clusterState(ports, 'ok');
    const running = () => ports.filter((port) => !stopped.has(port));
    const nodes = ports.map((port) => ({ host: '127.0.0.1', port }));
    return {
      nodes,
      env: {
        // Only its credentials and TLS count (none here): the nodes say where they are.
        REDIS_URL: 'redis://127.0.0.1:1',
        REDIS_CLUSTER_NODES: nodes.map(({ host, port }) => `${host}:${port}`).join(','),
      },
      async portOf(key) {
        const slot = Number(await ask(ports[0]!, 'CLUSTER', 'KEYSLOT', key));
        const ranges = (await ask(ports[0]!, 'CLUSTER', 'SLOTS')) as [
          number,
          number,
          [string, number, ...unknown[]],
        ][];
        const range = ranges.find(([from, to]) => slot >= from && slot <= to);
        if (!range) throw new Error(`no node holds slot ${slot}`);
        return range[2][1];
      },
      stopNode,
      down: () => clusterState(running(), 'fail'),
      async startNode(port) {
        servers.set(port, await startNode(dir, port, busPorts.get(port)!, options.appendOnly));
        stopped.delete(port);
        await clusterState(ports, 'ok');
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
