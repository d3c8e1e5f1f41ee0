/**
 * The gateway routes on a bare Fastify app with a real trytond and Redis.
 * The auth hook is a stand-in (401 without `x-api-key`); test/api/tryton-gateway.test.ts tests the routes
 * with real API keys.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type onRequestHookHandler } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTrytonCache } from '../../src/clients/tryton/tryton-cache.js';
import { createTrytonClient, type TrytonClient } from '../../src/clients/tryton/tryton-client.js';
import { DEFAULT_TRYTON_ALLOWED_METHODS } from '../../src/config/env-schema.js';
import { createGatewayPolicy } from '../../src/http/routes/tryton/gateway-policy.js';
import { HttpError } from '../../src/http/http-error.js';
import { trytonRoutes, type TrytonRoutesOptions } from '../../src/http/routes/tryton/index.js';
import {
  startTrytond,
  TRYTOND_SERIES,
  TRYTOND_START_TIMEOUT_MS,
  missingRecordsMessage,
  seriesVersion,
  trytonConfigFor,
  type Trytond,
} from '../helpers/trytond.js';
import { createCapturedLogger } from './capture-logger.js';
import { createRecordingDispatcher } from './recording-dispatcher.js';

describe.each(TRYTOND_SERIES)('the gateway routes against trytond %s', (series) => {
  let trytond: Trytond;
  let app: FastifyInstance;
  let client: TrytonClient;
  const opened: { close(): Promise<void> }[] = [];
  const recorder = createRecordingDispatcher();
  const KEY = { 'x-api-key': 'operator-key' };

  const requireKey: onRequestHookHandler = (request, reply, done) => {
    if (request.headers['x-api-key'] === undefined) {
      done(new HttpError(401, 'UNAUTHORIZED', 'An API key is required'));
      return;
    }
    done();
  };

  /** What the API's app does around every plugin: zod compilers and one `{error, message}` handler. */
  const policyFor = (models: string[], methodPatterns: string[] = []) =>
    createGatewayPolicy({
      models: models.map((model) => ({ model })),
      methodPatterns,
      maxSearchLimit: 1_000,
    });

  async function buildApp(options: TrytonRoutesOptions): Promise<FastifyInstance> {
    const instance = Fastify({ logger: false });
    instance.setValidatorCompiler(validatorCompiler);
    instance.setSerializerCompiler(serializerCompiler);
    instance.setErrorHandler((error, _request, reply) => {
      if (hasZodFastifySchemaValidationErrors(error)) {
        return reply.code(400).send({ error: 'VALIDATION_FAILED', message: error.message });
      }
      if (error instanceof HttpError) {
        return reply
          .code(error.statusCode)
          .headers(error.headers)
          .send({ error: error.code, message: error.message });
      }
      return reply.code(500).send({ error: 'INTERNAL', message: 'Internal error' });
    });
    await instance.register(trytonRoutes, options);
    await instance.ready();
    return instance;
  }

  beforeAll(async () => {
    trytond = await startTrytond({ series });
    const { logger } = createCapturedLogger();
    const cache = createTrytonCache({
      redisUrl: inject('redisUrl'),
      keyPrefix: `test:tryton-routes:${randomUUID()}:`,
      logger,
      // The test Redis is the queues' (noeviction): allowed here, as an operator may.
      allowNoEviction: true,
    });
    client = createTrytonClient(trytonConfigFor(trytond), {
      logger,
      dispatcher: recorder.dispatcher,
      cache,
    });
    opened.push(recorder, cache, client);
    app = await buildApp({
      client,
      policy: policyFor(['party.party', 'no.such.model'], [DEFAULT_TRYTON_ALLOWED_METHODS]),
      cacheTtlSeconds: 60,
      onRequest: requireKey,
    });
    opened.push(app);
  }, TRYTOND_START_TIMEOUT_MS);

  afterAll(async () => {
    for (const resource of opened.reverse()) await resource.close();
    await trytond?.stop();
  });

  function rpc(method: string, params: unknown[], headers: Record<string, string> = KEY) {
    return app.inject({
      method: 'POST',
      url: '/api/tryton/rpc',
      headers,
      payload: { method, params },
    });
  }

  describe('POST /api/tryton/rpc', () => {
    it('forwards an allowed method and caches its answer (x-cache miss, then hit)', async () => {
      const params = [[], 0, null, [['id', 'ASC']], ['name', 'code'], {}];
      const first = await rpc('model.party.party.search_read', params);
      expect(first.statusCode).toBe(200);
      expect(first.headers['x-cache']).toBe('miss');
      expect(first.json()).toEqual({
        result: trytond.parties.map(({ id, name, code }) => ({ id, name, code })),
      });
      const second = await rpc('model.party.party.search_read', params);
      expect(second.headers['x-cache']).toBe('hit');
      expect(second.json()).toEqual(first.json());
      expect(recorder.count('model.party.party.search_read')).toBe(1);
    });

    it("answers Tryton's typed values in Tryton's own __class__ shape, and accepts them back", async () => {
      const id = trytond.parties[0]?.id;
      const read = await rpc('model.party.party.read', [[id], ['create_date'], {}]);
      const { result } = read.json<{ result: { create_date: { microsecond: number } }[] }>();
      const createDate = result[0]?.create_date;
      expect(createDate).toMatchObject({
        __class__: 'datetime',
        microsecond: expect.any(Number) as number,
      });
      const search = (value: unknown) =>
        rpc('model.party.party.search', [[['create_date', '=', value]], 0, null, null, {}]);
      // The seeded parties share one transaction, hence one create_date.
      expect((await search(createDate)).json<{ result: number[] }>().result).toContain(id);
      const offByOne = {
        ...createDate,
        microsecond: ((createDate?.microsecond ?? 0) + 1) % 1_000_000,
      };
      expect((await search(offByOne)).json()).toEqual({ result: [] });
    });

    it('refuses a method outside the allowlist with 403 JSON, without calling Tryton', async () => {
      const before = recorder.requests.length;
      const response = await rpc('model.party.party.create', [[{ name: 'Evil' }], {}]);
      expect(response.statusCode).toBe(403);
      expect(response.json()).toEqual({
        error: 'TRYTON_METHOD_NOT_ALLOWED',
        message: 'The method model.party.party.create is not allowed through the gateway',
      });
      expect(recorder.requests.length).toBe(before);
    });

    it('answers 401 without an API key', async () => {
      const response = await rpc('model.party.party.search_count', [[], {}], {});
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ error: 'UNAUTHORIZED' });
    });

    it("maps a Tryton UserError to 422 with Tryton's message", async () => {
      const response = await rpc('model.party.party.read', [[9999], ['name'], {}]);
      expect(response.statusCode).toBe(422);
      expect(response.json()).toEqual({
        error: 'TRYTON_USER_ERROR',
        message: missingRecordsMessage(series, '9999', 'Party'),
      });
    });

    it("maps other Tryton errors to 502 naming the method, never the server's text", async () => {
      const response = await rpc('model.no.such.model.search', [[], 0, null, null, {}]);
      expect(response.statusCode).toBe(502);
      expect(response.json()).toMatchObject({
        error: 'TRYTON_SERVER_ERROR',
        message: expect.stringContaining('model.no.such.model.search'),
      });
    });

    it("reads a model's relations from Tryton once, and only for a domain that compares with text", async () => {
      const search = async (domain: unknown[]) =>
        (await rpc('model.party.party.search_count', [domain, {}])).statusCode;
      expect(await search([['id', '>', 0]])).toBe(200);
      expect(await search([['name', 'ilike', 'A%']])).toBe(200);
      const asked = recorder.count('model.party.party.fields_get');
      expect(asked).toBeGreaterThanOrEqual(1);
      expect(await search([['code', '=', 'ACME']])).toBe(200);
      expect(await search([['create_uid', 'ilike', 'adm%']])).toBe(403);
      expect(recorder.count('model.party.party.fields_get')).toBe(asked);
      // A model Tryton lacks fails its relations' lookup as its call would: a typed 502.
      const unknown = await rpc('model.no.such.model.search_count', [[['name', '=', 'x']], {}]);
      expect(unknown.statusCode).toBe(502);
      expect(unknown.json()).toMatchObject({ error: 'TRYTON_SERVER_ERROR' });
    });

    it('rejects a malformed body with 400', async () => {
      const response = await rpc('not a method', []);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ error: 'VALIDATION_FAILED' });
    });
  });

  describe('GET /api/tryton/ping', () => {
    it('answers the server version and latency, then serves it from its short cache', async () => {
      const first = await app.inject({ method: 'GET', url: '/api/tryton/ping', headers: KEY });
      expect(first.statusCode).toBe(200);
      const body = first.json<{ version: string; latencyMs: number; cached: boolean }>();
      expect(body).toMatchObject({
        version: expect.stringMatching(seriesVersion(series)),
        cached: false,
      });
      expect(body.latencyMs).toBeGreaterThanOrEqual(0);
      const second = await app.inject({ method: 'GET', url: '/api/tryton/ping', headers: KEY });
      expect(second.json()).toEqual({ ...body, cached: true });
    });

    it('answers 401 without an API key', async () => {
      const response = await app.inject({ method: 'GET', url: '/api/tryton/ping' });
      expect(response.statusCode).toBe(401);
    });
  });

  describe('failures towards Tryton', () => {
    it('answers 503 TRYTON_NOT_CONFIGURED on every route when there is no client', async () => {
      const bare = await buildApp({
        policy: policyFor(['party.party']),
        cacheTtlSeconds: 0,
        onRequest: requireKey,
      });
      try {
        const call = await bare.inject({
          method: 'POST',
          url: '/api/tryton/rpc',
          headers: KEY,
          payload: { method: 'model.party.party.read', params: [] },
        });
        expect(call.statusCode).toBe(503);
        expect(call.json()).toMatchObject({ error: 'TRYTON_NOT_CONFIGURED' });
        const ping = await bare.inject({ method: 'GET', url: '/api/tryton/ping', headers: KEY });
        expect(ping.statusCode).toBe(503);
      } finally {
        await bare.close();
      }
    });

    it('answers 502 without credentials when Tryton refuses the login', async () => {
      const { logger } = createCapturedLogger();
      const wrong = createTrytonClient(
        trytonConfigFor(trytond, {
          password: 'Not-The-Password-42',
          retries: 0,
          cacheTtlSeconds: 0,
        }),
        { logger },
      );
      const failing = await buildApp({
        client: wrong,
        policy: policyFor(['party.party']),
        cacheTtlSeconds: 0,
        onRequest: requireKey,
      });
      try {
        const response = await failing.inject({
          method: 'POST',
          url: '/api/tryton/rpc',
          headers: KEY,
          payload: { method: 'model.party.party.search_count', params: [[], {}] },
        });
        expect(response.statusCode).toBe(502);
        expect(response.json()).toEqual({
          error: 'TRYTON_AUTH_FAILED',
          message: 'The gateway could not authenticate to Tryton',
        });
        expect(response.body).not.toContain('Not-The-Password-42');
      } finally {
        await failing.close();
        await wrong.close();
      }
    });
  });
});
