import { EventEmitter, once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';

/**
 * A TCP relay on 127.0.0.1 in front of a server (PostgreSQL, Redis), for tests of a connection
 * that dies under its client. `reset()` ends every client connection with an RST, as
 * PostgreSQL's immediate stop does, and closes its side to the server; `close()` also stops
 * listening, so that the client's reconnections are refused, as by a server that went away.
 * `port`: where it listens (a free one by default); a port a client already tries is a server
 * that comes up late.
 */
export async function startRelay(target: URL, port = 0) {
  const clients = new Set<Socket>();
  const sent = new EventEmitter();
  const server = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
    clients.add(client);
    for (const socket of [client, upstream]) socket.on('error', () => socket.destroy());
    client.on('data', (chunk: Buffer) => sent.emit('data', chunk));
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => {
      clients.delete(client);
      upstream.destroy();
    });
    upstream.on('close', () => client.destroy());
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const url = new URL(target);
  url.port = String(typeof address === 'object' && address ? address.port : 0);
  return {
    url: url.toString(),
    /** Resolves once a client has sent bytes that hold `text`. */
    sends(text: string): Promise<void> {
      return new Promise((resolve) => {
        const seen = (chunk: Buffer) => {
          if (!chunk.includes(text)) return;
          sent.off('data', seen);
          resolve();
        };
        sent.on('data', seen);
      });
    },
    reset() {
      for (const client of clients) client.resetAndDestroy();
    },
    async close() {
      for (const client of clients) client.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
