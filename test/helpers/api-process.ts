/**
 * The API started from its bundle, as the image starts it, in a process of its own: for the tests
 * of what only the compiled API shows (its metrics beside a worker's, the files its pages load).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { commandBaseEnv, commandFile } from './commands.js';

export interface ApiProcess {
  readonly child: ChildProcess;
  /** `http://127.0.0.1:<port>`, as it logged it. */
  readonly address: string;
  /** SIGTERM, then its exit. */
  stop(): Promise<void>;
}

/**
 * Starts the API with `env` on 127.0.0.1 and a free port, logging at `info` (its address is read
 * from the log); resolves once it listens.
 */
export async function startApiProcess(env: Record<string, string>): Promise<ApiProcess> {
  const child = spawn(process.execPath, [commandFile('src/server.ts')], {
    env: {
      ...commandBaseEnv(),
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      LOG_PRETTY: 'false',
      // The key sealing the subscriptions' secrets, as test/helpers/sync-harness.ts has it.
      FEED_SECRET_KEY: 'test-feed-secret-key-of-at-least-32-characters',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  };
  let address: string | undefined;
  for await (const line of createInterface({ input: child.stdout })) {
    address = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1];
    if (address) break;
  }
  if (!address) {
    await stop();
    throw new Error('the API exited before it listened');
  }
  child.stdout.resume();
  return { child, address, stop };
}
