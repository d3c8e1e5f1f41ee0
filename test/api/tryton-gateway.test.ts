import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createTrytonCache, type TrytonCache } from '../../src/clients/tryton/tryton-cache.js';
import { createTrytonClient, type TrytonClient } from '../../src/clients/tryton/tryton-client.js';
import { buildApp, type App } from '../../src/http/app.js';
import { bearer, memoryLogger, testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { startTrytond, type Trytond } from '../helpers/trytond.js';

describe('the Tryton gateway through the API, with real API keys and a real trytond', () => {
  let trytond: Trytond;
  let db: TestDb;
  let client: TrytonClient;
  let cache: TrytonCache;
  let app: App;
  beforeAll(async () => {
    trytond = await startTrytond();
    db = await createTestDb();
    const config = testConfig({
      TRYTON_RPC_URL: trytond.url,
      TRYTON_DATABASE: trytond.database,
      TRYTON_USER: trytond.user,
      TRYTON_PASSWORD: trytond.password,
    });
    const { logger } = memoryLogger('warn');
    cache = createTrytonCache({
      redisUrl: inject('redisUrl'),
      keyPrefix: `test-${db.name}:`,
      logger,
    });
    client = createTrytonClient(config.tryton!, { logger, cache });
    app = await buildApp({ config, logger, db, tryton: client });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await client.close();
    await cache.close();
    await db.dispose();
    await trytond.stop();
  });

  const rpc = (
    method: string,
    params: unknown[],
    role: 'reader' | 'operator' | null = 'operator',
  ) =>
    app.inject({
      method: 'POST',
      url: '/api/tryton/rpc',
      headers: role ? bearer(role) : {},
      payload: { method, params },
    });

  it('forwards an allowed method, cached on the second call', async () => {
    const params = [[], 0, null, [['id', 'ASC']], ['name'], {}];
    const first = await rpc('model.party.party.search_read', params);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.headers['x-cache']).toBe('miss');
    const names = first.json<{ result: { name: string }[] }>().result.map((p) => p.name);
    expect(names).toEqual(trytond.parties.map((p) => p.name));
    const second = await rpc('model.party.party.search_read', params);
    expect(second.headers['x-cache']).toBe('hit');
    expect(second.json()).toEqual(first.json());
  });

  it('refuses a method outside the allowlist with 403, a missing key with 401, a reader with 403', async () => {
    const write = await rpc('model.party.party.write', [[1], { name: 'x' }, {}]);
    expect(write.statusCode).toBe(403);
    expect(write.json()).toMatchObject({ error: 'TRYTON_METHOD_NOT_ALLOWED' });
    expect((await rpc('model.party.party.search', [[], {}], null)).statusCode).toBe(401);
    expect((await rpc('model.party.party.search', [[], {}], 'reader')).statusCode).toBe(403);
  });

  it('/api/tryton/ping answers the server version and latency', async () => {
    const response = await app.inject({ url: '/api/tryton/ping', headers: bearer('operator') });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      version: expect.stringMatching(/^\d+\.\d+/),
      latencyMs: expect.any(Number),
    });
  });

  it('answers 503 JSON when Tryton is not configured', async () => {
    const bare = await buildApp({ config: testConfig(), logger: memoryLogger('warn').logger, db });
    try {
      const response = await bare.inject({ url: '/api/tryton/ping', headers: bearer('operator') });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ error: 'TRYTON_NOT_CONFIGURED' });
    } finally {
      await bare.close();
    }
  });
});
