/**
 * Starts a `redis-server` child on 127.0.0.1 and resolves once it accepts connections. The demo
 * runs its Redis this way; so do the tests on machines without a container engine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { AppError } from '../../src/lib/errors.js';
import { freePort } from './free-port.js';

export interface RedisServer {
  readonly url: string;
  readonly pid: number | undefined;
  /** Stops it with `signal` (SIGTERM by default) and resolves once it exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * `args` are further `redis-server` options (`--save`, `--pidfile` …); bind and dir are set here,
 * and the port: `port`, or a free one.
 */
export async function startRedisServer(
  dir: string,
  args: readonly string[],
  port?: number,
): Promise<RedisServer> {
  port ??= await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--maxmemory-policy',
      'noeviction',
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.resume();
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new AppError(
              'REDIS_NOT_INSTALLED',
              'redis-server is not installed (Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis)',
            )
          : error,
      ),
    );
    child.once('exit', (code) =>
      reject(
        new AppError(
          'REDIS_EXITED',
          `redis-server exited with code ${code}: ${output.slice(-300)}`,
        ),
      ),
    );
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill(signal);
      await exited;
    },
  };
}
