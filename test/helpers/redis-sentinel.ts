/**
 * A Redis Sentinel topology on loopback for a test: a primary, a replica and three sentinels,
 * each a `redis-server` child in a temp dir (Debian's redis-server runs a sentinel with
 * `--sentinel`). The sentinels call the primary down after a second without an answer, so a
 * failover takes a few seconds. It needs no test framework: the chaos run (dev/chaos) fails its
 * Redis over with it too, again and again, the failed primary back each time as a replica.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../dev/services/free-port.js';
import { startRedisServer, type RedisServer } from '../../dev/services/redis-server.js';

const MASTER = 'erp-bridge-test';

export interface SentinelTopology {
  readonly name: string;
  readonly sentinels: readonly { host: string; port: number }[];
  /** What a process is configured with to find the primary through the sentinels. */
  readonly env: Record<string, string>;
  /** The primary's port, as the sentinels say. */
  primaryPort(): Promise<number>;
  /**
   * SIGKILLs the primary, and resolves once the sentinels have promoted the replica; the killed
   * server is then started again on its port as a replica of the new primary, so that the next
   * failover has a replica to promote.
   */
  failOver(): Promise<{ from: number; to: number }>;
  stop(): Promise<void>;
}

/** Where a wait hears about changes: a server's port, and the channel pattern it listens to. */
interface EventSource {
  readonly port: number;
  readonly pattern: string;
}

/**
 * Resolves once `check` passes (it throws until then), checking it once subscribed to `sources`
 * and again after each message any of them publishes; rejects with the check's last error after
 * `timeoutMs`. A sentinel publishes an event for each change of what it knows (`+slave`,
 * `+sentinel`, `-sdown`, `+switch-master`…) but none when its link to a server comes up: the
 * hello each sentinel publishes through that link, every two seconds, on the server's
 * `__sentinel__:hello`, tells that one.
 */
async function whenSentinelsSay(
  sources: readonly EventSource[],
  check: () => Promise<void>,
  timeoutMs: number,
): Promise<void> {
  const listeners = sources.map(
    ({ port }) => new Redis({ host: '127.0.0.1', port, lazyConnect: true }),
  );
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      let lastError = new Error('not checked yet');
      let checking = false;
      let again = false;
      const attempt = async (): Promise<void> => {
        if (checking) {
          again = true;
          return;
        }
        checking = true;
        try {
          await check();
          resolve();
        } catch (error) {
          lastError = error instanceof Error ? error : new Error(String(error));
        } finally {
          checking = false;
        }
        if (again) {
          again = false;
          await attempt();
        }
      };
      timer = setTimeout(() => reject(lastError), timeoutMs);
      Promise.all(
        listeners.map(async (listener, i) => {
          await listener.connect();
          listener.on('pmessage', () => void attempt());
          await listener.psubscribe(sources[i]!.pattern);
        }),
      ).then(() => attempt(), reject);
    });
  } finally {
    clearTimeout(timer);
    for (const listener of listeners) listener.disconnect();
  }
}

async function startSentinel(dir: string, primaryPort: number, index: number) {
  const port = await freePort();
  const conf = join(dir, `sentinel-${index}.conf`);
  writeFileSync(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${MASTER} 127.0.0.1 ${primaryPort} 2`,
      `sentinel down-after-milliseconds ${MASTER} 1000`,
      `sentinel failover-timeout ${MASTER} 3000`,
      '',
    ].join('\n'),
  );
  return { port, child: await runSentinel(conf) };
}

/** A sentinel with the configuration file `conf`, once it monitors its primary. */
export async function runSentinel(conf: string): Promise<ChildProcess> {
  const child: ChildProcess = spawn('redis-server', [conf, '--sentinel'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('+monitor master')) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`a sentinel exited with ${code}: ${output}`)));
  });
  return child;
}

export async function startSentinelTopology(): Promise<SentinelTopology> {
  const dir = mkdtempSync(join(tmpdir(), 'erp-bridge-sentinel-'));
  const servers: RedisServer[] = [];
  const sentinels: { port: number; child: ChildProcess }[] = [];
  const stop = async () => {
    for (const { child } of sentinels)
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    await Promise.all(servers.map((server) => server.stop().catch(() => undefined)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const noDisk = ['--save', '', '--appendonly', 'no'];
    const primary = await startRedisServer(join(dir), noDisk);
    servers.push(primary);
    const primaryPort = Number(new URL(primary.url).port);
    servers.push(
      await startRedisServer(dir, [...noDisk, '--replicaof', '127.0.0.1', String(primaryPort)]),
    );
    for (let i = 0; i < 3; i += 1) sentinels.push(await startSentinel(dir, primaryPort, i));
    const ask = new Redis({ host: '127.0.0.1', port: sentinels[0]!.port, lazyConnect: true });
    await ask.connect();
    try {
      // The replica in sync, and every sentinel aware of it and of the others.
      const replicaPort = Number(new URL(servers[1]!.url).port);
      await whenSentinelsSay(
        [
          { port: sentinels[0]!.port, pattern: '*' },
          { port: replicaPort, pattern: '__sentinel__:hello' },
        ],
        async () => {
          const replicas = (await ask.call('SENTINEL', 'REPLICAS', MASTER)) as string[][];
          const flags = replicas.map((fields) => fields[fields.indexOf('flags') + 1]);
          if (flags.length !== 1 || flags[0] !== 'slave') throw new Error('no replica yet');
          const others = (await ask.call('SENTINEL', 'SENTINELS', MASTER)) as unknown[];
          if (others.length !== 2) throw new Error('the sentinels do not all know each other yet');
        },
        30_000,
      );
    } finally {
      ask.disconnect();
    }
    const primaryPortNow = async () => {
      const ask = new Redis({ host: '127.0.0.1', port: sentinels[1]!.port, lazyConnect: true });
      await ask.connect();
      try {
        const [, port] = (await ask.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER)) as [
          string,
          string,
        ];
        return Number(port);
      } finally {
        ask.disconnect();
      }
    };
    const addresses = sentinels.map(({ port }) => ({ host: '127.0.0.1', port }));
    return {
      name: MASTER,
      sentinels: addresses,
      env: {
        // Its host is not used: the sentinels name the primary.
        REDIS_URL: 'redis://127.0.0.1:6379/0',
        REDIS_SENTINELS: addresses.map(({ host, port }) => `${host}:${port}`).join(','),
        REDIS_SENTINEL_MASTER: MASTER,
      },
      primaryPort: primaryPortNow,
      async failOver() {
        const from = await primaryPortNow();
        const victim = servers.find((server) => Number(new URL(server.url).port) === from)!;
        await victim.stop('SIGKILL');
        // primaryPortNow asks this sentinel: its own `+switch-master` is the event awaited.
        await whenSentinelsSay(
          [{ port: sentinels[1]!.port, pattern: '*' }],
          async () => {
            if ((await primaryPortNow()) === from) throw new Error('not failed over yet');
          },
          30_000,
        );
        const to = await primaryPortNow();
        servers.splice(servers.indexOf(victim), 1);
        servers.push(
          await startRedisServer(dir, [...noDisk, '--replicaof', '127.0.0.1', String(to)], from),
        );
        return { from, to };
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
