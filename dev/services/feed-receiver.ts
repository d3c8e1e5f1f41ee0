/**
 * A receiver of the change feed's webhooks for the demo, the tests, the benchmarks and the chaos
 * run: it verifies every delivery's signature with the Standard Webhooks library (as a real
 * receiver would), can fail a share of deliveries with a 500, answer slowly and be down (its port
 * closed), and keeps each change once — the first time it came — in the order it came. Callers
 * await what they need (`until`), never a delay.
 */
import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { ChangeBody } from '../../src/feed/change-body.js';

export interface ReceivedMessage {
  readonly webhookId: string;
  readonly changes: readonly ChangeBody[];
}

export interface FeedReceiver {
  readonly url: string;
  /** Each change once, in the order of its first arrival. */
  readonly changes: ChangeBody[];
  /** Every message accepted (2xx), duplicates included. */
  readonly messages: ReceivedMessage[];
  /** The webhook-id of every delivery whose signature verified, failed on purpose or not. */
  readonly attempts: string[];
  /** Deliveries failed on purpose. */
  failedOnPurpose: number;
  /** Deliveries whose signature did not verify (answered 400): a test expects none. */
  readonly badSignatures: string[];
  /** Fails this share of deliveries with `status` (500 by default), chosen by `random`. */
  setFailureRate(rate: number, status?: number): void;
  /** Answers each delivery this long after it came (0: at once). */
  setLatencyMs(ms: number): void;
  /** Closes the port: deliveries meet a refused connection. */
  down(): Promise<void>;
  up(): Promise<void>;
  /** Resolves once `done()` holds, checked after every accepted message. */
  until(done: () => boolean): Promise<void>;
  close(): Promise<void>;
}

export async function startFeedReceiver(options: {
  secret: string;
  random?: () => number;
  /** What to do with each accepted message (the demo prints it). */
  onMessage?: (message: ReceivedMessage) => void;
}): Promise<FeedReceiver> {
  const verifier = new Webhook(options.secret);
  const random = options.random ?? Math.random;
  let failureRate = 0;
  let failureStatus = 500;
  let latencyMs = 0;
  const seenIds = new Set<string>();
  const waiters = new Set<() => void>();
  const sockets = new Set<Socket>();
  const receiver: Omit<FeedReceiver, 'url'> & { url: string } = {
    url: '',
    changes: [],
    messages: [],
    attempts: [],
    failedOnPurpose: 0,
    badSignatures: [],
    setFailureRate: (rate, status = 500) => {
      failureRate = rate;
      failureStatus = status;
    },
    setLatencyMs: (ms) => {
      latencyMs = ms;
    },
    down: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    up: async () => {
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
    },
    until: (done) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (!done()) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      }),
    close: async () => {
      waiters.clear();
      if (server.listening) await receiver.down();
    },
  };
  const answer = (response: ServerResponse, status: number) => {
    response.statusCode = status;
    response.end();
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (latencyMs > 0) setTimeout(receive, latencyMs);
      else receive();
    });
    const receive = () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [name, String(value)]),
      );
      let payload: { data: { changes: ChangeBody[] } };
      try {
        payload = verifier.verify(body, headers) as typeof payload;
      } catch (error) {
        receiver.badSignatures.push((error as Error).message);
        return answer(response, 400);
      }
      receiver.attempts.push(headers['webhook-id']!);
      if (random() < failureRate) {
        receiver.failedOnPurpose += 1;
        return answer(response, failureStatus);
      }
      const message = { webhookId: headers['webhook-id']!, changes: payload.data.changes };
      receiver.messages.push(message);
      for (const change of message.changes)
        if (!seenIds.has(change.id)) {
          seenIds.add(change.id);
          receiver.changes.push(change);
        }
      options.onMessage?.(message);
      answer(response, 204);
      for (const check of [...waiters]) check();
    };
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  receiver.url = `http://127.0.0.1:${port}/hooks/erp-bridge`;
  return receiver;
}
