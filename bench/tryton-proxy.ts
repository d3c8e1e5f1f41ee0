/**
 * Benchmark of the Tryton gateway: requests/s and p50/p99 latency of a `search_read` served
 * from the Redis cache through the proxy, the same call through the proxy uncached, and the same
 * call sent straight to trytond — side by side, on a real trytond (SQLite), Redis and Fastify
 * listening on real sockets. Everything it starts is stopped at the end.
 *
 * Not a load test of trytond: its built-in server closes every connection and runs Python
 * threads under one GIL, so the direct figure is the ceiling the uncached proxy can approach.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { Pool, request } from 'undici';
import { createTrytonCache } from '../src/clients/tryton/tryton-cache.js';
import { createTrytonClient } from '../src/clients/tryton/tryton-client.js';
import { createLogger } from '../src/lib/logger.js';
import { createGatewayPolicy } from '../src/http/routes/tryton/gateway-policy.js';
import { trytonRoutes } from '../src/http/routes/tryton/index.js';
import { startLocalRedis } from '../test/helpers/local-services.js';
import { startTrytond, trytonConfigFor } from '../test/helpers/trytond.js';
import { CONCURRENCY, measure, postJson, printFigures, REQUESTS } from './load.js';

const PARTIES = 100;
const PAGE = 50;
const FIELDS = ['name', 'code', 'active', 'create_date', 'write_date'];
const PARAMS = [[], 0, PAGE, [['id', 'ASC']], FIELDS, {}];

export async function runTrytonProxyBench(): Promise<void> {
  const logger = createLogger({ level: 'warn', pretty: false, name: 'bench' });
  const stops: (() => Promise<void>)[] = [];
  try {
    const trytond = await startTrytond();
    stops.push(() => trytond.stop());
    const redis = await startLocalRedis();
    stops.push(() => redis.stop());

    const cache = createTrytonCache({
      redisUrl: redis.url,
      keyPrefix: `bench:${randomUUID()}:`,
      logger,
    });
    stops.push(() => cache.close());
    const client = createTrytonClient(trytonConfigFor(trytond), { logger, cache });
    stops.push(() => client.close());
    await client.call('model.party.party.create', [
      Array.from({ length: PARTIES - trytond.parties.length }, (_, i) => ({
        name: `Bench party ${i}`,
      })),
      {},
    ]);

    // Two gateways: one caching reads, one forwarding everything (cache TTL 0).
    const listen = async (cacheTtlSeconds: number): Promise<string> => {
      const app: FastifyInstance = Fastify({ logger: false });
      app.setValidatorCompiler(validatorCompiler);
      app.setSerializerCompiler(serializerCompiler);
      await app.register(trytonRoutes, {
        client,
        policy: createGatewayPolicy({
          models: [{ model: 'party.party' }],
          methodPatterns: [],
          maxSearchLimit: 1_000,
        }),
        cacheTtlSeconds,
        onRequest: (_request, _reply, done) => done(),
      });
      stops.push(() => app.close());
      return app.listen({ host: '127.0.0.1', port: 0 });
    };
    const cachedUrl = await listen(60);
    const uncachedUrl = await listen(0);

    const cachedPool = new Pool(cachedUrl, { connections: CONCURRENCY });
    const uncachedPool = new Pool(uncachedUrl, { connections: CONCURRENCY });
    const trytondPool = new Pool(trytond.url, { connections: CONCURRENCY });
    stops.push(
      () => cachedPool.close(),
      () => uncachedPool.close(),
      () => trytondPool.close(),
    );

    const login = JSON.stringify({
      id: 1,
      method: 'common.db.login',
      params: [trytond.user, { password: trytond.password }, 'en'],
    });
    const loginResponse = await request(`${trytond.url}/${trytond.database}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(login)),
      },
      body: login,
    });
    const [userId, key] = ((await loginResponse.body.json()) as { result: [number, string] })
      .result;
    const authorization = `Session ${Buffer.from(`${trytond.user}:${userId}:${key}`).toString('base64')}`;

    const proxyCall = { method: 'model.party.party.search_read', params: PARAMS };
    let id = 0;
    // Warm-up: the first login, the cache entry, JIT.
    for (const pool of [cachedPool, uncachedPool])
      await postJson(pool, '/api/tryton/rpc', proxyCall);

    const figures = [
      await measure('proxy, cached (Redis hit)', () =>
        postJson(cachedPool, '/api/tryton/rpc', proxyCall),
      ),
      await measure('proxy, uncached (to trytond)', () =>
        postJson(uncachedPool, '/api/tryton/rpc', proxyCall),
      ),
      await measure('trytond direct', () =>
        postJson(
          trytondPool,
          `/${trytond.database}/`,
          { id: ++id, method: 'model.party.party.search_read', params: PARAMS },
          authorization,
        ),
      ),
    ];
    printFigures(
      `Tryton proxy: ${REQUESTS} requests each, concurrency ${CONCURRENCY}, search_read of ${PAGE} parties (${FIELDS.length} fields)`,
      figures,
    );
    console.log(
      `client: ${JSON.stringify(client.stats())}; cache: ${JSON.stringify(cache.stats())}`,
    );
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runTrytonProxyBench().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
