import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { parseDurationMs } from './duration.js';
import { CODE_FAMILIES } from '../families/registry.js';
import { configRefusal as problemsOf } from '../../test/helpers/config-files.js';

const production = {
  DATABASE_URL: 'postgres://erp:s3cret-db@db:5432/erp',
  REDIS_URL: 'redis://redis:6379',
  ODOO_URL: 'http://odoo:8069',
  ODOO_DATABASE: 'prod',
  ODOO_USERNAME: 'sync',
  ODOO_PASSWORD: 'odoo-s3cret',
  API_KEYS: `front:reader:${'a'.repeat(64)}`,
};

/** How a production worker and a production API load their configuration. */
const worker = { mode: 'production', role: 'worker', codeFamilies: CODE_FAMILIES } as const;
const api = { mode: 'production', role: 'api', codeFamilies: CODE_FAMILIES } as const;

describe('loadConfig', () => {
  it('builds a frozen, typed config with defaults and units', () => {
    const config = loadConfig(production, worker);
    expect(config.odoo).toMatchObject({
      timeoutMs: 30_000,
      pageSize: 1_000,
      pageMaxBytes: 2 * 1024 * 1024,
      protocol: 'auto',
    });
    expect(config.sync).toMatchObject({ everyMs: 300_000, overlapSeconds: 600 });
    expect(config.redis.cacheUrl).toBe(production.REDIS_URL);
    expect(config.redis.queuePrefix).toBe('{erp-bridge}');
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.sync)).toBe(true);
    expect(config.tryton).toBeUndefined();
    expect(config.apiKeys).toEqual([{ name: 'front', role: 'reader', sha256: 'a'.repeat(64) }]);
    expect(config.odoo?.treeReads).toBeUndefined();
    expect(loadConfig({ ...production, ODOO_TREE_READS: 'false' }, worker).odoo).toMatchObject({
      treeReads: false,
    });
  });

  it('finds the queues through Redis Sentinel when given sentinels, and names bad ones', () => {
    expect(loadConfig(production, worker).redis.sentinel).toBeUndefined();
    const config = loadConfig(
      {
        ...production,
        REDIS_SENTINELS: 'sentinel-a:26379, sentinel-b:26380',
        REDIS_SENTINEL_MASTER: 'queues',
      },
      worker,
    );
    expect(config.redis.sentinel).toEqual({
      sentinels: [
        { host: 'sentinel-a', port: 26379 },
        { host: 'sentinel-b', port: 26380 },
      ],
      name: 'queues',
    });
    const error = problemsOf(() =>
      loadConfig({ ...production, REDIS_SENTINELS: 'sentinel-a' }, worker),
    );
    expect(error.problems).toEqual([
      { key: 'REDIS_SENTINELS', message: 'must be host:port pairs, comma-separated' },
    ]);
  });

  it('puts the queues on a Redis Cluster when given its nodes, and names what a Cluster refuses', () => {
    expect(loadConfig(production, worker).redis.cluster).toBeUndefined();
    const config = loadConfig(
      {
        ...production,
        REDIS_URL: 'rediss://bridge:s3cret-redis@unused:6379',
        REDIS_CLUSTER_NODES: 'redis-a:6379, 127.0.0.7:7001',
      },
      worker,
    );
    expect(config.redis.cluster).toEqual({
      nodes: [
        { host: 'redis-a', port: 6379 },
        { host: '127.0.0.7', port: 7001 },
      ],
    });
    // The Tryton cache is a single Redis: off on a Cluster unless CACHE_REDIS_URL names one.
    expect(config.redis).toMatchObject({ cacheUrl: undefined, cacheSharesQueue: false });
    const error = problemsOf(() =>
      loadConfig(
        {
          ...production,
          REDIS_URL: 'redis://:s3cret-redis@unused:6379/2',
          REDIS_CLUSTER_NODES: 'redis-a:6379',
          REDIS_SENTINELS: 'sentinel-a:26379',
          QUEUE_PREFIX: 'erp-bridge-{}',
        },
        worker,
      ),
    );
    expect(error.problems.map((problem) => problem.key).sort()).toEqual([
      'QUEUE_PREFIX',
      'REDIS_CLUSTER_NODES',
      'REDIS_URL',
    ]);
    expect(error.message).not.toContain('s3cret');
    for (const prefix of ['erp-bridge', '{erp-bridge', 'erp-bridge}'])
      expect(
        problemsOf(() =>
          loadConfig(
            { ...production, REDIS_CLUSTER_NODES: 'redis-a:6379', QUEUE_PREFIX: prefix },
            worker,
          ),
        ).problems,
        prefix,
      ).toEqual([{ key: 'QUEUE_PREFIX', message: expect.stringContaining('hash tag') }]);
    expect(
      loadConfig(
        { ...production, REDIS_CLUSTER_NODES: 'redis-a:6379', QUEUE_PREFIX: 'bridge-{queues}' },
        worker,
      ).redis.queuePrefix,
    ).toBe('bridge-{queues}');
  });

  it('keeps the queues in PostgreSQL without Redis, and names what that choice refuses', () => {
    const { REDIS_URL: _redis, ...withoutRedis } = production;
    const config = loadConfig({ ...withoutRedis, QUEUE_BACKEND: 'postgres' }, worker);
    expect(config.queues).toEqual({ backend: 'postgres', databaseUrl: production.DATABASE_URL });
    expect(config.redis.url).toBeUndefined();
    expect(
      loadConfig(
        {
          ...withoutRedis,
          QUEUE_BACKEND: 'postgres',
          QUEUE_DATABASE_URL: 'postgres://queues:s3cret-q@queues:5432/queues',
        },
        worker,
      ).queues,
    ).toEqual({
      backend: 'postgres',
      databaseUrl: 'postgres://queues:s3cret-q@queues:5432/queues',
    });
    // On Redis, REDIS_URL stays required; QUEUE_DATABASE_URL alone is a mistake, said so.
    const onRedis = problemsOf(() =>
      loadConfig(
        { ...withoutRedis, QUEUE_DATABASE_URL: 'postgres://queues:s3cret-q@queues:5432/queues' },
        worker,
      ),
    );
    expect(onRedis.problems.map((problem) => problem.key).sort()).toEqual([
      'QUEUE_DATABASE_URL',
      'REDIS_URL',
    ]);
    expect(onRedis.message).not.toContain('s3cret');
    // The demo's PGlite cannot hold the queues.
    const demo = problemsOf(() =>
      loadConfig(
        { QUEUE_BACKEND: 'postgres' },
        { mode: 'demo', role: 'api', codeFamilies: CODE_FAMILIES },
      ),
    );
    expect(demo.problems).toEqual([
      { key: 'QUEUE_BACKEND', message: expect.stringContaining('PGlite') },
    ]);
    expect(
      problemsOf(() => loadConfig({ ...production, QUEUE_BACKEND: 'kafka' }, worker)).problems,
    ).toEqual([{ key: 'QUEUE_BACKEND', message: 'must be one of redis, postgres' }]);
  });

  it('names every bad key at once and never prints a value', () => {
    const error = problemsOf(() =>
      loadConfig(
        {
          ...production,
          DATABASE_URL: undefined,
          ODOO_TIMEOUT_MS: 'abc',
          SYNC_EVERY: '5',
          ODOO_PROTOCOL: 'soap',
        },
        api,
      ),
    );
    expect(error.problems.map((p) => p.key).sort()).toEqual([
      'DATABASE_URL',
      'ODOO_PROTOCOL',
      'ODOO_TIMEOUT_MS',
      'SYNC_EVERY',
    ]);
    expect(error.message).not.toMatch(/abc|soap|s3cret/);
  });

  it('refuses settings that would hurt: an overlap under a minute, a long key name, a bad model list', () => {
    const error = problemsOf(() =>
      loadConfig(
        {
          ...production,
          SYNC_OVERLAP_SECONDS: '30',
          API_KEYS: `${'n'.repeat(41)}:reader:${'a'.repeat(64)}`,
          TRYTON_MODELS: 'party.party,party party,product.product:name|,party.party',
          TRYTON_ALLOWED_METHODS: 'model.*party.read',
        },
        api,
      ),
    );
    const messages = (key: string) =>
      error.problems.filter((p) => p.key === key).map((p) => p.message);
    expect(messages('SYNC_OVERLAP_SECONDS')).toEqual([
      expect.stringMatching(/at least 60: Odoo stamps a change with the start of its transaction/),
    ]);
    expect(messages('API_KEYS')).toEqual([expect.stringContaining('1 to 40')]);
    expect(messages('TRYTON_MODELS')).toHaveLength(3);
    expect(messages('TRYTON_ALLOWED_METHODS')).toHaveLength(1);
  });

  it('exposes no Tryton model by default', () => {
    const config = loadConfig(
      {
        ...production,
        TRYTON_RPC_URL: 'http://tryton:8000',
        TRYTON_DATABASE: 'tryton',
        TRYTON_USER: 'svc',
        TRYTON_PASSWORD: 'pw',
      },
      api,
    );
    expect(config.tryton).toMatchObject({
      models: [],
      allowedMethods: ['common.server.version'],
      maxSearchLimit: 1_000,
    });
  });

  it('bounds the Tryton cache: its budget, its lifetime cap, noeviction refused unless allowed', () => {
    const tryton = {
      ...production,
      TRYTON_RPC_URL: 'http://tryton:8000',
      TRYTON_DATABASE: 'tryton',
      TRYTON_USER: 'svc',
      TRYTON_PASSWORD: 'pw',
    };
    const config = loadConfig(tryton, api);
    expect(config.tryton).toMatchObject({
      cacheMaxTtlSeconds: 3_600,
      cacheMaxEntries: 10_000,
      cacheMaxTotalBytes: 67_108_864,
      cacheAllowNoEviction: false,
    });
    expect(config.redis.cacheSharesQueue).toBe(true);
    expect(
      loadConfig(
        { ...tryton, CACHE_REDIS_URL: 'redis://cache:6379', TRYTON_CACHE_ALLOW_NOEVICTION: 'true' },
        api,
      ),
    ).toMatchObject({ redis: { cacheSharesQueue: false }, tryton: { cacheAllowNoEviction: true } });
    // The same server and database, however written, is shared; another database is not.
    for (const [cacheUrl, shared] of [
      ['redis://redis:6379/0', true],
      ['redis://:other-pw@redis', true],
      ['redis://redis:6379/1', false],
      ['rediss://redis:6380', false],
    ] as const)
      expect(
        loadConfig({ ...tryton, CACHE_REDIS_URL: cacheUrl }, api).redis.cacheSharesQueue,
        cacheUrl,
      ).toBe(shared);
    const error = problemsOf(() =>
      loadConfig(
        {
          ...tryton,
          TRYTON_CACHE_MAX_TTL_SECONDS: '0',
          TRYTON_CACHE_MAX_ENTRIES: 'many',
          TRYTON_CACHE_MAX_TOTAL_BYTES: '4096',
          TRYTON_CACHE_MAX_BYTES: '8192',
          TRYTON_CACHE_ALLOW_NOEVICTION: 'perhaps',
        },
        api,
      ),
    );
    expect(error.problems.map((p) => p.key).sort()).toEqual([
      'TRYTON_CACHE_ALLOW_NOEVICTION',
      'TRYTON_CACHE_MAX_BYTES',
      'TRYTON_CACHE_MAX_ENTRIES',
      'TRYTON_CACHE_MAX_TTL_SECONDS',
    ]);
  });

  it('reports a malformed URL without echoing its password', () => {
    const error = problemsOf(() =>
      loadConfig({ ...production, REDIS_URL: 'not a url with p4ssword' }, worker),
    );
    expect(error.problems).toEqual([
      { key: 'REDIS_URL', message: expect.stringContaining('must be a URL') },
    ]);
    expect(error.message).not.toContain('p4ssword');
  });

  it('asks each role only for what it uses', () => {
    const {
      ODOO_URL: _u,
      ODOO_DATABASE: _d,
      ODOO_USERNAME: _n,
      ODOO_PASSWORD: _p,
      ...withoutOdoo
    } = production;
    expect(loadConfig(withoutOdoo, api).odoo).toBeUndefined();
    const { ODOO_PASSWORD: _unused, ...withoutOdooPassword } = production;
    expect(problemsOf(() => loadConfig(withoutOdooPassword, worker)).problems).toEqual([
      { key: 'ODOO_PASSWORD', message: 'is required' },
    ]);
    expect(() =>
      loadConfig(
        { DATABASE_URL: production.DATABASE_URL },
        { mode: 'production', role: 'migrate', codeFamilies: CODE_FAMILIES },
      ),
    ).not.toThrow();
  });

  it("starts the API without the sync user's secrets: it calls no Odoo, and names the link only", () => {
    const { ODOO_PASSWORD: _unused, ...withoutSecret } = production;
    const rotating = { ...withoutSecret, ODOO_API_KEY_ROTATE: 'true' };
    const config = loadConfig(rotating, api);
    expect(config.odoo).toBeUndefined();
    expect(config.odooLink).toMatchObject({
      url: 'http://odoo:8069',
      database: 'prod',
      username: 'sync',
      apiKeyLifecycle: { rotate: true },
    });
    // A worker renews the key: it needs it, and the secret its successor is sealed under.
    expect(
      problemsOf(() => loadConfig(rotating, worker))
        .problems.map((p) => p.key)
        .sort(),
    ).toEqual(['ODOO_API_KEY', 'ODOO_API_KEY_SECRET', 'ODOO_PASSWORD']);
  });

  it('gives the API no Odoo secret, even one its environment holds', () => {
    const secrets = {
      ODOO_PASSWORD: 'odoo-s3cret-password',
      ODOO_API_KEY: 'odoo-s3cret-key',
      ODOO_API_KEY_SECRET: 'odoo-s3cret-sealing-secret-of-32-characters',
      ODOO_API_KEY_SECRET_PREVIOUS: 'odoo-s3cret-previous-secret-of-32-characters',
    };
    const config = loadConfig({ ...production, ...secrets }, api);
    expect(config.odoo).toBeUndefined();
    expect(config.odooLink).toMatchObject({ url: 'http://odoo:8069', database: 'prod' });
    expect(JSON.stringify(config)).not.toMatch(/odoo-s3cret/);
  });

  it('refuses ODOO_PROTOCOL=json2 without ODOO_API_KEY: JSON-2 never takes the password', () => {
    const json2 = { ...production, ODOO_PROTOCOL: 'json2' };
    expect(problemsOf(() => loadConfig(json2, worker)).problems).toEqual([
      {
        key: 'ODOO_API_KEY',
        message: expect.stringContaining('is required with ODOO_PROTOCOL=json2') as unknown,
      },
    ]);
    expect(() => loadConfig({ ...json2, ODOO_API_KEY: 'a-key' }, worker)).not.toThrow();
  });

  it('lets the demo run on embedded defaults but refuses a half-configured Tryton', () => {
    expect(
      loadConfig({}, { mode: 'demo', role: 'demo', codeFamilies: CODE_FAMILIES }).odoo,
    ).toBeUndefined();
    const error = problemsOf(() =>
      loadConfig(
        { TRYTON_RPC_URL: 'http://tryton:8000' },
        { mode: 'demo', role: 'demo', codeFamilies: CODE_FAMILIES },
      ),
    );
    expect(error.problems.map((p) => p.key)).toEqual([
      'TRYTON_DATABASE',
      'TRYTON_USER',
      'TRYTON_PASSWORD',
    ]);
  });

  it('rejects malformed API key entries without echoing them', () => {
    const error = problemsOf(() =>
      loadConfig({ ...production, API_KEYS: 'front:root:abc,ops:admin:' + 'b'.repeat(64) }, api),
    );
    expect(error.problems).toEqual([
      { key: 'API_KEYS', message: expect.stringContaining('entry 1') },
    ]);
  });
});

describe('parseDurationMs', () => {
  it.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
  ])('%s → %d ms', (text, ms) => expect(parseDurationMs(text)).toBe(ms));

  it.each(['5', 'five minutes', '5 m', '-1s', ''])('refuses %j', (text) =>
    expect(parseDurationMs(text)).toBeUndefined(),
  );
});
