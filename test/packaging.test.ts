/**
 * The production package, checked statically since no container engine runs here: the compose
 * file and its Sentinel and Cluster overrides (deploy/compose/), the Dockerfile and its entrypoint (base image, user, commands, healthcheck per command;
 * the compiled commands run through the entrypoint), and the Kubernetes manifests, whose ports and
 * probes must match the code's configuration defaults.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig, type ConfigRole } from '../src/config/config.js';
import { ENV_KEYS } from '../src/config/env-schema.js';
import { CODE_FAMILIES } from '../src/families/registry.js';

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

  it("gives each process only the secrets it reads, out of one .env: the API no Odoo secret, the others no Tryton's", () => {
    // A .env that holds them all, as an operator fills it.
    const dotEnv = {
      ODOO_URL: 'http://odoo:8069',
      ODOO_DATABASE: 'prod',
      ODOO_USERNAME: 'sync',
      ODOO_PASSWORD: 's3cret-odoo-password',
      ODOO_API_KEY: 's3cret-odoo-key',
      ODOO_API_KEY_SECRET: 's3cret-odoo-sealing-secret-of-32-characters',
      TRYTON_RPC_URL: 'http://trytond:8000',
      TRYTON_DATABASE: 'tryton',
      TRYTON_USER: 'gateway',
      TRYTON_PASSWORD: 's3cret-tryton-password',
      API_KEYS: `admin:admin:${'0'.repeat(64)}`,
    };
    const configOf = (service: string, role: ConfigRole) =>
      loadConfig(
        { ...dotEnv, ...services[service]!.environment },
        { mode: 'production', role, codeFamilies: CODE_FAMILIES },
      );
    const environment = (service: string) => JSON.stringify(services[service]!.environment);
    expect(JSON.stringify(configOf('api', 'api'))).not.toMatch(/s3cret-odoo/);
    for (const key of ['ODOO_PASSWORD', 'ODOO_API_KEY', 'ODOO_API_KEY_SECRET'])
      expect(services.api!.environment?.[key], key).toBe('');
    expect(configOf('api', 'api').tryton?.password).toBe(dotEnv.TRYTON_PASSWORD);
    for (const [service, role] of [
      ['worker', 'worker'],
      ['migrate', 'migrate'],
    ] as const) {
      const config = configOf(service, role);
      expect(config.tryton, service).toBeUndefined();
      expect(config.odoo?.password, service).toBe(dotEnv.ODOO_PASSWORD);
      expect(environment(service)).toContain('"TRYTON_PASSWORD":""');
    }
  });
});

/** A compose file over docker-compose.yml, with its anchors' `<<` merges resolved. */
function readOverride(file: string) {
  return (
    parse(readFileSync(file, 'utf8'), { merge: true }) as { services: Record<string, Service> }
  ).services;
}

/** What an override must keep of the queue Redis of docker-compose.yml. */
function expectQueueRedis(service: Service | undefined, name: string) {
  const command = service!.command!.join(' ');
  expect(command, name).toMatch(/^redis-server /);
  expect(command, name).toContain('--maxmemory-policy noeviction');
  expect(command, name).toContain('--appendonly yes');
  expect(service!.healthcheck?.test, name).toEqual(['CMD', 'redis-cli', 'ping']);
}

/** The app's processes get `settings`, start after `ready`, and keep the cache's own Redis. */
function expectAppOn(
  services: Record<string, Service>,
  settings: Record<string, string>,
  ready: Record<string, { condition: string }>,
) {
  for (const name of ['migrate', 'api', 'worker']) {
    expect(services[name]!.environment, name).toEqual(settings);
    expect(services[name]!.depends_on, name).toEqual(ready);
  }
}

describe('deploy/compose/sentinel.yml', () => {
  const services = readOverride('deploy/compose/sentinel.yml');
  const sentinels = ['sentinel-a', 'sentinel-b', 'sentinel-c'];

  it('runs the queue Redis as a primary and a replica, both without eviction and append-only', () => {
    expectQueueRedis(services['redis-queue'], 'redis-queue');
    expectQueueRedis(services['redis-queue-replica'], 'redis-queue-replica');
    expect(services['redis-queue-replica']!.command!.join(' ')).toContain(
      '--replicaof redis-queue 6379',
    );
    for (const name of ['redis-queue', 'redis-queue-replica'])
      expect(services[name]!.command!.join(' ')).toContain(`--replica-announce-ip ${name}`);
  });

  it('has three sentinels on host names that monitor the primary with a quorum of two', () => {
    for (const name of sentinels) {
      const sentinel = services[name]!;
      const script = sentinel.command!.join(' ');
      expect(script).toContain('sentinel resolve-hostnames yes');
      expect(script).toContain('sentinel announce-hostnames yes');
      expect(script).toContain('sentinel monitor mymaster redis-queue 6379 2');
      expect(script).toContain('sentinel announce-ip $$SENTINEL_NAME');
      expect(script).toContain('redis-server /data/sentinel.conf --sentinel');
      expect(sentinel.environment).toEqual({ SENTINEL_NAME: name });
      expect(sentinel.healthcheck?.test).toEqual(['CMD', 'redis-cli', '-p', '26379', 'ping']);
    }
  });

  it('points migrate, the api and the workers at the sentinels once they answer', () => {
    expectAppOn(
      services,
      {
        REDIS_SENTINELS: sentinels.map((name) => `${name}:26379`).join(','),
        REDIS_SENTINEL_MASTER: 'mymaster',
      },
      Object.fromEntries(sentinels.map((name) => [name, { condition: 'service_healthy' }])),
    );
  });
});

describe('deploy/compose/cluster.yml', () => {
  const services = readOverride('deploy/compose/cluster.yml');
  const nodes = ['redis-queue', 'redis-queue-2', 'redis-queue-3'];

  it('runs three cluster nodes without eviction, append-only, each announcing its service name', () => {
    for (const name of nodes) {
      expectQueueRedis(services[name], name);
      const command = services[name]!.command!.join(' ');
      expect(command).toContain('--cluster-enabled yes');
      expect(command).toContain(`--cluster-announce-hostname ${name}`);
      expect(command).toContain('--cluster-preferred-endpoint-type hostname');
    }
  });

  it('makes them one cluster of three primaries once all three answer', () => {
    const create = services['redis-cluster-create']!;
    expect(create.command!.join(' ')).toContain(
      `redis-cli --cluster create ${nodes.map((name) => `${name}:6379`).join(' ')}`,
    );
    expect(create.command!.join(' ')).toContain('--cluster-replicas 0 --cluster-yes');
    expect(create.depends_on).toEqual(
      Object.fromEntries(nodes.map((name) => [name, { condition: 'service_healthy' }])),
    );
  });

  it('points migrate, the api and the workers at the nodes once the cluster is made', () => {
    expectAppOn(
      services,
      { REDIS_CLUSTER_NODES: nodes.map((name) => `${name}:6379`).join(',') },
      { 'redis-cluster-create': { condition: 'service_completed_successfully' } },
    );
  });
});

/** The defaults operators get, from the config schema: manifests and the image must agree. */
const DEFAULTS = Object.fromEntries(ENV_KEYS.map((doc) => [doc.key, doc.default]));

describe('Dockerfile', () => {
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  const entrypoint = readFileSync('docker/entrypoint.sh', 'utf8');
  /** `name) run dist/….js` arms of the entrypoint: the operator commands and what they start. */
  const commands = Object.fromEntries(
    [...entrypoint.matchAll(/^\s*(\w+)\) run (dist\/\S+\.js)/gm)].map((m) => [m[1]!, m[2]!]),
  );

  it('is multi-stage on Node 24 slim, installs production dependencies only, runs as a non-root user', () => {
    expect(dockerfile.match(/^FROM node:24-[\w.-]*-slim AS \w+/gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/npm ci --omit=dev --omit=optional/);
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    const lines = dockerfile.split('\n');
    const user = lines.findIndex((line) => line === 'USER node');
    expect(user).toBeGreaterThan(lines.findLastIndex((line) => line.startsWith('FROM ')));
    expect(user).toBeLessThan(lines.findIndex((line) => line.startsWith('ENTRYPOINT ')));
    expect(dockerfile).toMatch(/^COPY docker\/entrypoint\.sh \/usr\/local\/bin\/erp-bridge$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["erp-bridge"\]$/m);
    expect(dockerfile).toMatch(/^CMD \["api"\]$/m);
    expect(dockerfile).toMatch(
      new RegExp(`^EXPOSE ${DEFAULTS.PORT} ${DEFAULTS.WORKER_HTTP_PORT}$`, 'm'),
    );
  });

  it('starts every operator command from the compiled build, with source maps (but the sync processes) and an optional .env', () => {
    expect(commands).toEqual({
      api: 'dist/src/server.js',
      worker: 'dist/workers/main.js',
      migrate: 'dist/src/cli/migrate.js',
      sync: 'dist/workers/sync-cli.js',
      apikey: 'dist/src/cli/apikey.js',
    });
    expect(entrypoint).toMatch(/^\s*source_maps=--enable-source-maps$/m);
    expect(entrypoint).toMatch(/exec node \$source_maps --env-file-if-exists=\.env "\$@"/);
  });

  it('starts the sync processes with the memory settings npm run start:worker and start:sync use', () => {
    const arm =
      /dist\/workers\/\*\)\n(?:\s*#.*\n)*\s*export (.+)\n\s*set -- (.+) "\$@"\n\s*source_maps=\n/.exec(
        entrypoint,
      );
    expect(arm).not.toBeNull();
    const [, exports, flags] = arm!;
    const { scripts } = JSON.parse(readFileSync('package.json', 'utf8')) as {
      scripts: Record<string, string>;
    };
    for (const script of ['start:worker', 'start:sync']) {
      expect(scripts[script]).toContain(`${exports} node ${flags} --env-file-if-exists=.env`);
    }
    expect(flags).toMatch(/--max-semi-space-size=\d+ --heap-growing-percent=\d+/);
  });

  it('has a healthcheck that probes the port of the process it runs', () => {
    expect(dockerfile).toMatch(/^HEALTHCHECK .* CMD \["erp-bridge", "healthcheck"\]$/m);
    const arms = [...entrypoint.matchAll(/\*(dist\/\S+\.js)\*\) url="([^"]+)"/g)].map((m) => [
      m[1],
      m[2],
    ]);
    expect(arms).toEqual([
      [commands.api, `http://127.0.0.1:\${PORT:-${DEFAULTS.PORT}}/health/live`],
      [
        commands.worker,
        `http://127.0.0.1:\${WORKER_HTTP_PORT:-${DEFAULTS.WORKER_HTTP_PORT}}/health/ready`,
      ],
    ]);
  });

  it('applies the reviewed patches to its dependencies, each pinned to the version it was made for, and ships the patched driver', () => {
    const { scripts, dependencies } = JSON.parse(readFileSync('package.json', 'utf8')) as {
      scripts: Record<string, string>;
      dependencies: Record<string, string>;
    };
    const strict = 'patch-package --error-on-fail --error-on-warn';
    expect(scripts.postinstall).toMatch(new RegExp(`&& ${strict}$`));
    expect(dockerfile).toMatch(/^COPY patches \.\/patches$/m);
    expect(dockerfile).toContain(`--ignore-scripts && npx ${strict}\n`);
    const patches = readdirSync('patches');
    expect(patches).toEqual(['postgres+3.4.9.patch']);
    for (const patch of patches) {
      const [, name, version] = /^(.+)\+([^+]+)\.patch$/.exec(patch)!;
      expect(dependencies[name!], name).toBe(version);
      expect(dockerfile).toContain(
        `\nCOPY --from=build /app/node_modules/${name!} ./node_modules/${name!}\n`,
      );
    }
  });

  it('sends only the sources the build needs to the image builder', () => {
    const ignore = readFileSync('.dockerignore', 'utf8').split('\n');
    expect(ignore[ignore.findIndex((line) => !line.startsWith('#'))]).toBe('*');
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) =>
      m[1]!.split(' '),
    );
    for (const path of copied)
      expect(ignore, path).toContain(`!${path.replace(/\/?$/, path.includes('.') ? '' : '/')}`);
    for (const shipped of ['dev', 'test', 'bench', '.env', 'node_modules'])
      expect(ignore.join('\n')).not.toContain(`!${shipped}`);
  });

  it('builds with npm run build into the files its entrypoint starts, which run without tsx', async () => {
    // The suite's own bundles: the global setup builds them with build.ts's options
    // (`bundleCommands`), into a directory laid out as dist/ is.
    const root = mkdtempSync(join(tmpdir(), 'erp-bridge-build-'));
    try {
      symlinkSync(inject('commandsDir'), join(root, 'dist'));
      for (const file of Object.values(commands))
        expect(existsSync(join(root, file)), file).toBe(true);
      expect(existsSync(join(root, 'dist/src/server.js.map'))).toBe(true);
      expect(existsSync(join(root, 'dist/dev'))).toBe(false);
      // As in the image: the entrypoint in a directory holding dist/ and node_modules/.
      symlinkSync(resolve('node_modules'), join(root, 'node_modules'));
      const entry = resolve('docker/entrypoint.sh');
      const apikey = await run('sh', [entry, 'apikey', '--role', 'admin'], { cwd: root });
      expect(apikey.stdout).toMatch(/^API key \(admin\): \S+\nAPI_KEYS entry: +admin-/);
      const sync = await run('sh', [entry, 'sync', '--help'], { cwd: root });
      expect(sync.stdout).toMatch(/^Usage: npm run sync -- <command>/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

interface Container {
  name: string;
  image: string;
  args: string[];
  ports?: { name: string; containerPort: number }[];
  env?: { name: string; value: string }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  livenessProbe?: { httpGet: { path: string; port: string } };
  readinessProbe?: { httpGet: { path: string; port: string } };
  startupProbe?: { httpGet: { path: string; port: string } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
}
interface Manifest {
  kind: string;
  metadata: { name: string };
  spec?: {
    template?: {
      spec: {
        containers: Container[];
        terminationGracePeriodSeconds?: number;
        securityContext?: { runAsNonRoot?: boolean };
      };
    };
    ports?: { port: number; targetPort: string }[];
  };
}

describe('deploy/kubernetes', () => {
  const dir = 'deploy/kubernetes';
  const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as {
    resources: string[];
  };
  const manifests = kustomization.resources.flatMap((file) =>
    parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((doc) => doc.toJS() as Manifest),
  );
  const find = (kind: string, name: string) => {
    const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
    expect(found, `${kind} ${name}`).toBeDefined();
    return found!;
  };
  const containerOf = (manifest: Manifest) => manifest.spec!.template!.spec.containers[0]!;
  const portOf = (container: Container, name: string) =>
    container.ports?.find((port) => port.name === name)?.containerPort;

  it('runs the API on its configured port, probed on /health/live and /health/ready, behind a Service', () => {
    const api = containerOf(find('Deployment', 'erp-bridge-api'));
    expect(api.args).toEqual(['api']);
    expect(portOf(api, 'http')).toBe(Number(DEFAULTS.PORT));
    expect(api.env).toContainEqual({ name: 'PORT', value: DEFAULTS.PORT });
    expect(api.livenessProbe?.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(api.readinessProbe?.httpGet).toEqual({ path: '/health/ready', port: 'http' });
    expect(find('Service', 'erp-bridge-api').spec!.ports).toEqual([
      { name: 'http', port: 80, targetPort: 'http' },
    ]);
  });

  it('probes the workers on WORKER_HTTP_PORT and migrates in a one-shot Job', () => {
    const worker = containerOf(find('Deployment', 'erp-bridge-worker'));
    expect(worker.args).toEqual(['worker']);
    expect(portOf(worker, 'health')).toBe(Number(DEFAULTS.WORKER_HTTP_PORT));
    expect(worker.env).toContainEqual({
      name: 'WORKER_HTTP_PORT',
      value: DEFAULTS.WORKER_HTTP_PORT,
    });
    expect(worker.livenessProbe?.httpGet).toEqual({ path: '/health/live', port: 'health' });
    expect(worker.readinessProbe?.httpGet).toEqual({ path: '/health/ready', port: 'health' });
    expect(containerOf(find('Job', 'erp-bridge-migrate')).args).toEqual(['migrate']);
  });

  it("serves the workers' metrics on a port of their own, which only the monitoring namespace reaches", () => {
    const worker = find('Deployment', 'erp-bridge-worker');
    const container = containerOf(worker);
    expect(portOf(container, 'metrics')).toBe(Number(DEFAULTS.WORKER_METRICS_PORT));
    expect(container.env).toContainEqual({
      name: 'WORKER_METRICS_PORT',
      value: DEFAULTS.WORKER_METRICS_PORT,
    });
    expect(container.env?.some((entry) => entry.name === 'WORKER_METRICS_HOST')).toBe(true);
    const policy = find('NetworkPolicy', 'erp-bridge-worker') as unknown as {
      spec: {
        ingress: { ports: { port: number }[] }[];
        egress: { to: { ipBlock?: { cidr: string; except: string[] } }[] }[];
      };
    };
    expect(policy.spec.ingress.flatMap((rule) => rule.ports.map((port) => port.port))).toEqual([
      Number(DEFAULTS.WORKER_METRICS_PORT),
    ]);
    const blocks = policy.spec.egress.flatMap((rule) => rule.to.flatMap((to) => to.ipBlock ?? []));
    expect(blocks.find((block) => block.cidr === '0.0.0.0/0')?.except).toEqual(
      expect.arrayContaining([
        '10.0.0.0/8',
        '127.0.0.0/8',
        '169.254.0.0/16',
        '172.16.0.0/12',
        '192.168.0.0/16',
      ]),
    );
  });

  it('gives every pod its secrets from the Secrets, resources, a read-only root and time to drain', () => {
    const workloads = manifests.filter((m) => m.spec?.template);
    expect(workloads).toHaveLength(3);
    for (const workload of workloads) {
      const pod = workload.spec!.template!.spec;
      const container = containerOf(workload);
      expect(container.image).toBe('erp-bridge');
      expect(container.envFrom).toContainEqual({ secretRef: { name: 'erp-bridge' } });
      expect(container.resources?.requests?.memory, workload.metadata.name).toBeDefined();
      expect(container.resources?.limits?.memory, workload.metadata.name).toBeDefined();
      expect(container.securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
      });
      expect(pod.securityContext?.runAsNonRoot).toBe(true);
      if (workload.kind === 'Deployment') {
        expect(pod.terminationGracePeriodSeconds! * 1_000).toBeGreaterThan(
          Number(DEFAULTS.SHUTDOWN_TIMEOUT_MS) + 5_000,
        );
      }
    }
  });

  it('gives each process the secrets it reads alone: no Odoo secret to the API, the API its own', () => {
    const secrets = new Map(
      parseAllDocuments(readFileSync(join(dir, 'secret.example.yaml'), 'utf8')).map((doc) => {
        const secret = doc.toJS() as { metadata: { name: string }; stringData: object };
        return [secret.metadata.name, Object.keys(secret.stringData)];
      }),
    );
    const keysOf = (kind: string, name: string) =>
      (containerOf(find(kind, name)).envFrom ?? []).flatMap((from) =>
        from.secretRef ? (secrets.get(from.secretRef.name) ?? []) : [],
      );
    const odoo = ['ODOO_PASSWORD', 'ODOO_API_KEY', 'ODOO_API_KEY_SECRET'];
    const api = keysOf('Deployment', 'erp-bridge-api');
    expect(api).toEqual(expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'API_KEYS']));
    for (const key of odoo) expect(api).not.toContain(key);
    for (const [kind, name] of [
      ['Deployment', 'erp-bridge-worker'],
      ['Job', 'erp-bridge-migrate'],
    ] as const) {
      const keys = keysOf(kind, name);
      expect(keys, name).toEqual(expect.arrayContaining(['DATABASE_URL', 'ODOO_PASSWORD']));
      expect(keys, name).not.toContain('API_KEYS');
    }
    // The names of the Odoo are settings, not secrets: every process, the API's status too.
    const configMap = manifests.find((m) => m.kind === 'ConfigMap') as unknown as {
      data: Record<string, string>;
    };
    expect(Object.keys(configMap.data)).toEqual(
      expect.arrayContaining(['ODOO_URL', 'ODOO_DATABASE', 'ODOO_USERNAME']),
    );
  });
});
