/**
 * The demo's Redis: the one at REDIS_URL, else one already answering on 127.0.0.1:6379, else a
 * `redis-server` started here on a free port with its files under the demo's data directory.
 * Missing `redis-server` is a clear error saying what to install or set.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { AppError } from '../../src/lib/errors.js';
import { startRedisServer } from '../services/redis-server.js';

export interface DemoRedis {
  readonly url: string;
  /** Set when the demo started the server itself. */
  readonly pid?: number;
  stop(): Promise<void>;
}

async function answersOn(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A demo killed hard (SIGKILL, a closed terminal) leaves its redis-server behind: stop it first. */
function stopLeftover(pidFile: string): void {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (command.startsWith('redis-server')) process.kill(pid, 'SIGTERM');
  } catch {
    // Gone already, or no /proc on this system: nothing to clean up.
  }
}

export async function provideDemoRedis(dataDir: string): Promise<DemoRedis> {
  if (await answersOn(6379))
    return { url: 'redis://127.0.0.1:6379', stop: () => Promise.resolve() };
  mkdirSync(dataDir, { recursive: true });
  const pidFile = join(dataDir, 'redis.pid');
  stopLeftover(pidFile);
  try {
    return await startRedisServer(dataDir, [
      '--save',
      '60 1',
      '--appendonly',
      'no',
      '--pidfile',
      pidFile,
    ]);
  } catch (error) {
    if (error instanceof AppError && error.code === 'REDIS_NOT_INSTALLED') {
      throw new AppError(
        'DEMO_NO_REDIS',
        `the demo needs Redis: ${error.message}, or set REDIS_URL`,
        { cause: error },
      );
    }
    throw error;
  }
}
