/**
 * TLS on Redis Sentinel: with a `rediss:` REDIS_URL and REDIS_SENTINELS, a process speaks TLS to
 * the sentinels and to the primary they name, and neither password crosses the wire in clear.
 * The primary and the sentinel listen on TLS alone (a certificate the test makes with the
 * `openssl` CLI); every byte to and from them goes through a recording relay on 127.0.0.1, the
 * sentinel's own link to the primary too (it monitors the primary at the relay's port).
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../dev/services/free-port.js';
import { startRedisServer, type RedisServer } from '../../dev/services/redis-server.js';
import { createRedisConnection, type QueueRedis } from '../../src/stores/redis-connection.js';
import { runSentinel } from '../helpers/redis-sentinel.js';
import { memoryLogger } from '../helpers/test-app.js';

const MASTER = 'erp-bridge-tls';
/** A TLS record of type handshake: how every TLS connection's first byte from its client reads. */
const TLS_HANDSHAKE = 0x16;

/** A CA and a certificate for 127.0.0.1 it signed, as files in `dir`. */
function makeCertificates(dir: string) {
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  openssl(
    ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test CA'],
    ...['-keyout', file('ca.key'), '-out', file('ca.crt')],
  );
  openssl(
    ...['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1'],
    ...['-keyout', file('server.key'), '-out', file('server.csr')],
  );
  writeFileSync(file('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(
    ...['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key')],
    ...['-CAcreateserial', '-days', '1', '-extfile', file('san.ext'), '-out', file('server.crt')],
  );
  return { ca: file('ca.crt'), cert: file('server.crt'), key: file('server.key') };
}

/** The bytes of one connection through a relay, each way. */
interface Recorded {
  fromClient: Buffer[];
  fromServer: Buffer[];
}

/** A TCP relay on 127.0.0.1 to `targetPort` that keeps every byte of every connection. */
async function startRelay(targetPort: number) {
  const connections: Recorded[] = [];
  /** Emits `sent` when a client's first bytes come through. */
  const events = new EventEmitter();
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const recorded: Recorded = { fromClient: [], fromServer: [] };
    connections.push(recorded);
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => socket.destroy());
      socket.on('close', () => sockets.delete(socket));
    }
    client.on('data', (chunk: Buffer) => {
      recorded.fromClient.push(chunk);
      events.emit('sent');
    });
    upstream.on('data', (chunk: Buffer) => recorded.fromServer.push(chunk));
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    connections,
    events,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A sentinel on TLS alone, on a free port, monitoring the primary at `primaryPort`. */
async function startTlsSentinel(
  dir: string,
  files: ReturnType<typeof makeCertificates>,
  primaryPort: number,
  passwords: { primary: string; sentinel: string },
) {
  const port = await freePort();
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      'port 0',
      `tls-port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `tls-cert-file ${files.cert}`,
      `tls-key-file ${files.key}`,
      `tls-ca-cert-file ${files.ca}`,
      'tls-auth-clients no',
      // The sentinel's own link to the primary.
      'tls-replication yes',
      `requirepass ${passwords.sentinel}`,
      `sentinel monitor ${MASTER} 127.0.0.1 ${primaryPort} 1`,
      `sentinel auth-pass ${MASTER} ${passwords.primary}`,
      '',
    ].join('\n'),
  );
  return { port, child: await runSentinel(conf) };
}

describe('Redis Sentinel with a rediss: URL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'erp-bridge-sentinel-tls-'));
  const passwords = {
    primary: `primary-${randomBytes(8).toString('hex')}`,
    sentinel: `sentinel-${randomBytes(8).toString('hex')}`,
  };
  const trusted = getCACertificates('default');
  const started: { stop(): Promise<void> }[] = [];
  let primary: RedisServer | undefined;
  let sentinel: { port: number; child: ChildProcess } | undefined;
  let primaryRelay: Awaited<ReturnType<typeof startRelay>>;
  let sentinelRelay: Awaited<ReturnType<typeof startRelay>>;
  let connection: QueueRedis | undefined;

  beforeAll(async () => {
    const files = makeCertificates(dir);
    // What NODE_EXTRA_CA_CERTS does for an operator's private CA, for this process alone.
    setDefaultCACertificates([...trusted, readFileSync(files.ca, 'utf8')]);
    const primaryTlsPort = await freePort();
    primary = await startRedisServer(dir, [
      // TLS alone: the helper's plain port is turned off again.
      ...['--port', '0', '--tls-port', String(primaryTlsPort)],
      ...['--tls-cert-file', files.cert, '--tls-key-file', files.key],
      ...['--tls-ca-cert-file', files.ca, '--tls-auth-clients', 'no'],
      ...['--requirepass', passwords.primary, '--save', '', '--appendonly', 'no'],
    ]);
    primaryRelay = await startRelay(primaryTlsPort);
    started.push(primaryRelay);
    sentinel = await startTlsSentinel(dir, files, primaryRelay.port, passwords);
    sentinelRelay = await startRelay(sentinel.port);
    started.push(sentinelRelay);
  }, 60_000);

  afterAll(async () => {
    connection?.disconnect();
    for (const one of started) await one.stop();
    if (sentinel && sentinel.child.exitCode === null) {
      sentinel.child.kill('SIGKILL');
      await once(sentinel.child, 'exit');
    }
    await primary?.stop();
    setDefaultCACertificates(trusted);
    rmSync(dir, { recursive: true, force: true });
  });

  it('speaks TLS to the sentinels and the primary, and sends no password in clear', async () => {
    connection = createRedisConnection(
      `rediss://:${passwords.primary}@unused.invalid:6379/0`,
      'worker',
      memoryLogger().logger,
      {
        sentinel: {
          sentinels: [{ host: '127.0.0.1', port: sentinelRelay.port }],
          name: MASTER,
          password: passwords.sentinel,
        },
      },
    );
    // A worker's connection queues its commands until it reaches the primary; without TLS, it
    // never does (neither server has a plain port): the wire is read as soon as it asks.
    const asked = once(sentinelRelay.events, 'sent');
    const written = connection.set('erp-bridge:tls-probe', 'through the primary');
    await asked;
    const everyConnection = () => [...sentinelRelay.connections, ...primaryRelay.connections];
    const noCleartext = () => {
      for (const { fromClient, fromServer } of everyConnection()) {
        const sent = Buffer.concat(fromClient);
        if (sent.length > 0) expect(sent[0], 'a connection opened in clear').toBe(TLS_HANDSHAKE);
        for (const bytes of [sent, Buffer.concat(fromServer)]) {
          expect(bytes.includes(passwords.primary)).toBe(false);
          expect(bytes.includes(passwords.sentinel)).toBe(false);
          expect(bytes.includes('erp-bridge:tls-probe')).toBe(false);
        }
      }
    };
    noCleartext();
    await written;
    expect(await connection.get('erp-bridge:tls-probe')).toBe('through the primary');
    // The process asked the sentinel, and reached the primary through the address it named.
    expect(sentinelRelay.connections.length).toBeGreaterThan(0);
    expect(primaryRelay.connections.length).toBeGreaterThan(1);
    noCleartext();
  });
});
