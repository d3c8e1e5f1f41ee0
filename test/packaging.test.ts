/**
 * The production package: the compose file (parsed, since no container engine runs here) and the
 * Dockerfile, which must build the same `npm run build` output that the entrypoint runs.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const run = promisify(execFile);

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  profiles?: string[];
  deploy?: unknown;
  ports?: string[];
  container_name?: string;
}

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as {
    services: Record<string, Service>;
  };
  const services = compose.services;

  it('has the production services, each with a healthcheck or a completion condition', () => {
    expect(Object.keys(services).sort()).toEqual([
      'api',
      'migrate',
      'postgres',
      'redis-cache',
      'redis-queue',
      'trytond',
      'worker',
    ]);
    for (const name of ['postgres', 'redis-queue', 'redis-cache', 'api', 'worker']) {
      expect(services[name]!.healthcheck?.test.length, name).toBeGreaterThan(0);
    }
    expect(services.trytond!.profiles).toEqual(['tryton']);
  });

  it('runs the queue Redis without eviction and with append-only persistence, the cache Redis with LRU eviction', () => {
    const queue = services['redis-queue']!.command!.join(' ');
    expect(queue).toContain('--maxmemory-policy noeviction');
    expect(queue).toContain('--appendonly yes');
    expect(services['redis-cache']!.command!.join(' ')).toContain('--maxmemory-policy allkeys-lru');
    expect(services.api!.environment).toMatchObject({
      REDIS_URL: 'redis://redis-queue:6379',
      CACHE_REDIS_URL: 'redis://redis-cache:6379',
    });
  });

  it('migrates once before the api and the workers start, and lets the workers scale', () => {
    expect(services.migrate!.command).toEqual(['migrate']);
    for (const name of ['api', 'worker']) {
      expect(services[name]!.depends_on?.migrate).toEqual({
        condition: 'service_completed_successfully',
      });
      expect(services[name]!.depends_on?.['redis-queue']).toEqual({ condition: 'service_healthy' });
    }
    expect(services.migrate!.depends_on?.postgres).toEqual({ condition: 'service_healthy' });
    // --scale worker=3 needs a worker without a fixed name or published port.
    expect(services.worker!.container_name).toBeUndefined();
    expect(services.worker!.ports).toBeUndefined();
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  const entrypoint = readFileSync('docker/entrypoint.sh', 'utf8');

  it('is multi-stage on Node LTS, installs production dependencies only, runs as a non-root user, with a healthcheck', () => {
    expect(dockerfile.match(/^FROM node:24-[\w.-]*-slim AS \w+/gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
  });

  it('builds with npm run build into the files its entrypoint starts', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'erp-bridge-build-'));
    try {
      await run('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', outDir], {
        timeout: 240_000,
      });
      const started = [...entrypoint.matchAll(/node (dist\/\S+\.js)/g)].map((m) => m[1]!);
      expect(started.sort()).toEqual([
        'dist/src/db/migrate-cli.js',
        'dist/src/server.js',
        'dist/workers/main.js',
      ]);
      for (const file of started)
        expect(existsSync(join(outDir, file.replace(/^dist\//, ''))), file).toBe(true);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  }, 300_000);
});
