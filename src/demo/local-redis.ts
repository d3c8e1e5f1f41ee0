/**
 * The demo's Redis: the one at REDIS_URL, else one already answering on 127.0.0.1:6379, else a
 * `redis-server` started here on a free port with its files under the demo's data directory.
 * Missing `redis-server` is a clear error saying what to install or set.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection, createServer } from 'node:net';
import { AppError } from '../lib/errors.js';

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

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
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
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dataDir,
      '--save',
      '60 1',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'noeviction',
      '--pidfile',
      pidFile,
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
              'DEMO_NO_REDIS',
              'the demo needs Redis: install it (Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis) or set REDIS_URL',
            )
          : error,
      ),
    );
    child.once('exit', (code) =>
      reject(
        new AppError(
          'DEMO_REDIS_EXITED',
          `redis-server exited with code ${code}: ${output.slice(-300)}`,
        ),
      ),
    );
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
