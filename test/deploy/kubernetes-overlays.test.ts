/**
 * The Kubernetes overlays that put the queues on Redis Sentinel and on Redis Cluster
 * (deploy/kubernetes-overlays/), checked statically, as test/packaging.test.ts checks the base:
 * each overlay is rendered here the way kustomize does it for the fields they use (the base's
 * resources and their own, a strategic merge of the ConfigMap, JSON 6902 patches), and then
 * held to the code and to itself. The settings the pods get load through the app's own
 * configuration; the sentinels and cluster nodes they name are pods that the overlay's
 * StatefulSets and headless Services make, on ports they serve; the network policies let
 * erp-bridge reach them; the scripts list exactly those pods, with three sentinels and a quorum
 * of two. No kubectl runs here: Debian's (1.20) embeds a kustomize too old for `patches:`.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig, type ConfigRole } from '../../src/config/config.js';
import { ENV_KEYS } from '../../src/config/env-schema.js';
import { CODE_FAMILIES } from '../../src/families/registry.js';

type Labels = Record<string, string>;

interface Probe {
  exec?: { command: string[] };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: { name: string; containerPort: number }[];
  env?: { name: string; value: string }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  containers: Container[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
}
interface PeerRule {
  podSelector?: { matchLabels?: Labels };
  namespaceSelector?: unknown;
  ipBlock?: unknown;
}
interface PolicyRule {
  from?: PeerRule[];
  to?: PeerRule[];
  ports?: { port: number; protocol?: string }[];
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Labels };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    replicas?: number;
    serviceName?: string;
    podManagementPolicy?: string;
    selector?: Labels | { matchLabels: Labels };
    template?: { metadata?: { labels?: Labels }; spec: PodSpec };
    volumeClaimTemplates?: { metadata: { name: string } }[];
    clusterIP?: string;
    publishNotReadyAddresses?: boolean;
    ports?: { name: string; port: number; targetPort: string | number }[];
    podSelector?: { matchLabels: Labels };
    policyTypes?: string[];
    ingress?: PolicyRule[];
    egress?: PolicyRule[];
    minAvailable?: number;
    maxUnavailable?: number;
  };
}
interface Kustomization {
  resources?: string[];
  patches?: { path: string; target?: { kind: string; name: string } }[];
  images?: { name: string; newTag: string }[];
}
interface JsonPatchOp {
  op: string;
  path: string;
  value?: unknown;
}

const BASE = 'deploy/kubernetes';
const OVERLAYS = 'deploy/kubernetes-overlays';

/** The documents of a YAML file, each of which must parse without an error. */
function readDocuments(file: string): unknown[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((doc) => {
    expect(doc.errors, file).toEqual([]);
    return doc.toJS() as unknown;
  });
}

/** Objects merged key by key, anything else (lists included) replaced, as for a ConfigMap. */
function mergePatch(target: Record<string, unknown>, patch: Record<string, unknown>) {
  for (const [key, value] of Object.entries(patch)) {
    const current = target[key];
    if (isObject(value) && isObject(current)) mergePatch(current, value);
    else target[key] = value;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `add` and `replace` operations of JSON Patch (RFC 6902); any other fails the test. */
function applyJsonPatch(target: unknown, ops: JsonPatchOp[]) {
  for (const { op, path, value } of ops) {
    const keys = path.split('/').slice(1);
    const last = keys.pop()!;
    let parent = target as Record<string, unknown> | unknown[];
    for (const key of keys) parent = (parent as Record<string, unknown>)[key] as typeof parent;
    expect(parent, `${op} ${path}`).toBeDefined();
    if (op === 'add' && Array.isArray(parent))
      parent.splice(last === '-' ? parent.length : Number(last), 0, value);
    else if (op === 'add' || op === 'replace') {
      if (op === 'replace') expect(parent, path).toHaveProperty(last);
      (parent as Record<string, unknown>)[last] = value;
    } else throw new Error(`unsupported JSON patch operation ${op}`);
  }
}

/**
 * A kustomization's manifests: its resources (a directory is a kustomization too), patched, with
 * its images' tags.
 */
function render(dir: string): Manifest[] {
  const kustomization = parse(
    readFileSync(join(dir, 'kustomization.yaml'), 'utf8'),
  ) as Kustomization;
  const manifests = (kustomization.resources ?? []).flatMap((resource) => {
    const path = join(dir, resource);
    expect(existsSync(path), path).toBe(true);
    return statSync(path).isDirectory() ? render(path) : (readDocuments(path) as Manifest[]);
  });
  for (const patch of kustomization.patches ?? []) {
    const path = join(dir, patch.path);
    expect(existsSync(path), path).toBe(true);
    const [content] = readDocuments(path);
    if (patch.target) {
      const targets = manifests.filter(
        (m) => m.kind === patch.target!.kind && m.metadata.name === patch.target!.name,
      );
      expect(targets, path).toHaveLength(1);
      applyJsonPatch(targets[0], content as JsonPatchOp[]);
    } else {
      const { kind, metadata } = content as Manifest;
      const targets = manifests.filter((m) => m.kind === kind && m.metadata.name === metadata.name);
      expect(targets, path).toHaveLength(1);
      mergePatch(
        targets[0] as unknown as Record<string, unknown>,
        content as Record<string, unknown>,
      );
    }
  }
  for (const { name, newTag } of kustomization.images ?? [])
    for (const container of manifests.flatMap((m) => m.spec?.template?.spec.containers ?? []))
      if (container.image === name) container.image = `${name}:${newTag}`;
  return manifests;
}

/** Whether `labels` has every label of `selector`. */
const matches = (selector: Labels | undefined, labels: Labels | undefined) =>
  selector !== undefined &&
  Object.entries(selector).every(([key, value]) => labels?.[key] === value);

/** Whether a rule's peers (from or to) include pods labelled `labels`, on `port`. */
function ruleAllows(rule: PolicyRule, peers: PeerRule[] | undefined, labels: Labels, port: number) {
  return (
    (peers ?? []).some(
      (peer) => !peer.namespaceSelector && matches(peer.podSelector?.matchLabels, labels),
    ) && (rule.ports ?? []).some((p) => p.port === port)
  );
}

/** A rendered overlay and what the tests ask of it. */
function overlay(name: string) {
  const dir = join(OVERLAYS, name);
  const manifests = render(dir);
  const base = render(BASE);
  const own = manifests.filter(
    (m) => !base.some((b) => b.kind === m.kind && b.metadata.name === m.metadata.name),
  );
  const find = (kind: string, name: string) => {
    const found = manifests.filter((m) => m.kind === kind && m.metadata.name === name);
    expect(found, `${kind} ${name}`).toHaveLength(1);
    return found[0]!;
  };
  const settings = find('ConfigMap', 'erp-bridge').data!;
  const podLabels = (m: Manifest) => m.spec!.template!.metadata!.labels!;
  const scriptOf = (m: Manifest) => {
    const container = m.spec!.template!.spec.containers[0]!;
    expect(container.command).toEqual(['sh', '-c']);
    return container.args![0]!;
  };
  /**
   * The pod behind `host:port` of a setting: host is `<statefulset>-<n>.<service>`, a headless
   * Service whose selector picks the StatefulSet's pods and which is the StatefulSet's own
   * (serviceName), n one of its pods, and port a port of that Service whose target the pod serves.
   */
  const podAt = (address: string) => {
    const match = /^([a-z0-9-]+)-(\d+)\.([a-z0-9-]+):(\d+)$/.exec(address);
    expect(match, address).not.toBeNull();
    const [, set, ordinal, serviceName, port] = match!;
    const statefulSet = find('StatefulSet', set!);
    const service = find('Service', serviceName!);
    expect(statefulSet.spec!.serviceName).toBe(serviceName);
    expect(service.spec!.clusterIP).toBe('None');
    expect(service.spec!.publishNotReadyAddresses).toBe(true);
    expect(matches(service.spec!.selector as Labels, podLabels(statefulSet))).toBe(true);
    expect(Number(ordinal)).toBeLessThan(statefulSet.spec!.replicas!);
    const servicePort = service.spec!.ports!.find((p) => p.port === Number(port));
    expect(servicePort, address).toBeDefined();
    const containerPort = statefulSet.spec!.template!.spec.containers[0]!.ports!.find(
      (p) => p.name === servicePort!.targetPort || p.containerPort === servicePort!.targetPort,
    );
    expect(containerPort?.containerPort, address).toBe(Number(port));
    return { statefulSet, labels: podLabels(statefulSet), port: Number(port) };
  };
  /** Every pod of a StatefulSet by its name under its Service, with `:port` when given. */
  const podNames = (statefulSet: Manifest, port?: number) =>
    Array.from(
      { length: statefulSet.spec!.replicas! },
      (_, i) =>
        `${statefulSet.metadata.name}-${i}.${statefulSet.spec!.serviceName}${port ? `:${port}` : ''}`,
    );
  /** Whether some NetworkPolicy of the overlay admits pods `from` into pods `to` on `port`. */
  const ingressAllows = (from: Labels, to: Labels, port: number) =>
    manifests.some(
      (m) =>
        m.kind === 'NetworkPolicy' &&
        matches(m.spec!.podSelector!.matchLabels, to) &&
        (m.spec!.ingress ?? []).some((rule) => ruleAllows(rule, rule.from, from, port)),
    );
  const workerEgressAllows = (to: Labels, port: number) =>
    (find('NetworkPolicy', 'erp-bridge-worker').spec!.egress ?? []).some((rule) =>
      ruleAllows(rule, rule.to, to, port),
    );
  /**
   * What a process of `role` reads: the ConfigMap, the example Secrets its container names (but
   * the keys `left` out of them), its own env.
   */
  const envOf = (deployment: string, role: ConfigRole, left: readonly string[] = []) => {
    const container = find(deployment === 'erp-bridge-migrate' ? 'Job' : 'Deployment', deployment)
      .spec!.template!.spec.containers[0]!;
    const named = new Set(container.envFrom?.map((from) => from.secretRef?.name));
    const secrets = (readDocuments(join(BASE, 'secret.example.yaml')) as Manifest[]).filter(
      (secret) => named.has(secret.metadata.name),
    );
    const env = {
      ...settings,
      ...Object.assign({}, ...secrets.map((secret) => secret.stringData)),
      ...Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value])),
    } as Record<string, string>;
    for (const key of left) delete env[key];
    return loadConfig(env, { mode: 'production', role, codeFamilies: CODE_FAMILIES });
  };
  return {
    dir,
    manifests,
    own,
    find,
    settings,
    scriptOf,
    podAt,
    podNames,
    ingressAllows,
    workerEgressAllows,
    envOf,
  };
}

const ERP_BRIDGE: Labels = { 'app.kubernetes.io/name': 'erp-bridge' };
const ROLES = [
  ['erp-bridge-api', 'api'],
  ['erp-bridge-worker', 'worker'],
  ['erp-bridge-migrate', 'migrate'],
] as const;

/** A Kubernetes memory quantity in bytes (Mi, Gi), or Redis's (mb, gb). */
function bytes(quantity: string): number {
  const match = /^(\d+)(Mi|Gi|mb|gb)$/.exec(quantity);
  expect(match, quantity).not.toBeNull();
  const unit = { Mi: 2 ** 20, Gi: 2 ** 30, mb: 2 ** 20, gb: 2 ** 30 }[match![2] as 'Mi'];
  return Number(match![1]) * unit;
}

describe.each(['sentinel', 'cluster'])('deploy/kubernetes-overlays/%s', (name) => {
  const o = overlay(name);

  it('renders from the base and files of its own, each of which exists and parses', () => {
    const kustomization = parse(
      readFileSync(join(o.dir, 'kustomization.yaml'), 'utf8'),
    ) as Kustomization;
    expect(kustomization.resources![0]).toBe('../../kubernetes');
    for (const base of render(BASE))
      expect(o.find(base.kind, base.metadata.name).apiVersion).toBe(base.apiVersion);
    const names = o.manifests.map((m) => `${m.kind}/${m.metadata.name}`);
    expect(new Set(names).size).toBe(names.length);
    expect(o.own.map((m) => m.kind)).toEqual(
      expect.arrayContaining(['StatefulSet', 'Service', 'NetworkPolicy', 'PodDisruptionBudget']),
    );
  });

  it('sets only keys erp-bridge knows, keeps the base settings, and loads for every process', () => {
    const known = new Set(ENV_KEYS.map((doc) => doc.key));
    const kustomization = parse(
      readFileSync(join(o.dir, 'kustomization.yaml'), 'utf8'),
    ) as Kustomization;
    const patched = kustomization.patches!.filter((p) => !p.target);
    expect(patched).toHaveLength(1);
    const patch = readDocuments(join(o.dir, patched[0]!.path))[0] as Manifest;
    expect(Object.keys(patch.data!).length).toBeGreaterThan(0);
    for (const key of Object.keys(patch.data!)) expect(known, key).toContain(key);
    const base = render(BASE).find((m) => m.kind === 'ConfigMap')!.data!;
    expect(o.settings).toMatchObject(base);
    expect(o.settings.QUEUE_PREFIX).toBe('{erp-bridge}');
    for (const [deployment, role] of ROLES) expect(() => o.envOf(deployment, role)).not.toThrow();
    // The Tryton cache keeps a Redis of its own, not the queues'.
    expect(o.envOf('erp-bridge-api', 'api').redis.cacheSharesQueue).toBe(false);
  });

  it('runs every Redis non-root on a read-only root, never evicting, append-only, with a volume, probed by redis-cli ping', () => {
    const sets = o.own.filter((m) => m.kind === 'StatefulSet');
    expect(sets.length).toBeGreaterThan(0);
    for (const set of sets) {
      const pod = set.spec!.template!.spec;
      const container = pod.containers[0]!;
      const script = o.scriptOf(set);
      expect(container.image, set.metadata.name).toBe('redis:7-alpine');
      expect(pod.securityContext?.runAsNonRoot).toBe(true);
      expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
      expect(container.securityContext).toEqual({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
      expect(container.resources?.requests?.memory).toBeDefined();
      expect(container.resources?.limits?.memory).toBeDefined();
      expect(set.spec!.volumeClaimTemplates!.map((v) => v.metadata.name)).toEqual(['data']);
      expect(container.volumeMounts).toEqual([{ name: 'data', mountPath: '/data' }]);
      const port = container.ports![0]!.containerPort;
      const ping =
        port === 6379 ? ['redis-cli', 'ping'] : ['redis-cli', '-p', String(port), 'ping'];
      for (const probe of [
        container.livenessProbe,
        container.readinessProbe,
        container.startupProbe,
      ])
        expect(probe?.exec?.command, set.metadata.name).toEqual(ping);
      if (script.includes('--sentinel')) continue;
      expect(script).toMatch(/--maxmemory-policy noeviction/);
      expect(script).toMatch(/--appendonly yes/);
      expect(script).toMatch(/--dir \/data/);
      // Below the memory limit, with room for the fork of an AOF rewrite.
      const maxmemory = /--maxmemory (\S+)/.exec(script)![1]!;
      expect(bytes(maxmemory) * 2).toBeLessThanOrEqual(bytes(container.resources!.limits!.memory!));
    }
  });

  it('admits only erp-bridge and Redis pods into Redis, and each Redis pod is under a policy', () => {
    const redisPods = o.own
      .filter((m) => m.spec?.template)
      .map((m) => m.spec!.template!.metadata!.labels!);
    const policies = o.own.filter((m) => m.kind === 'NetworkPolicy');
    for (const labels of redisPods.filter(
      (l) => l['app.kubernetes.io/component'] !== 'redis-cluster-create',
    ))
      expect(
        policies.some((p) => matches(p.spec!.podSelector!.matchLabels, labels)),
        JSON.stringify(labels),
      ).toBe(true);
    for (const policy of policies) {
      expect(policy.spec!.policyTypes).toEqual(['Ingress']);
      for (const rule of policy.spec!.ingress!)
        for (const peer of rule.from!) {
          expect(Object.keys(peer)).toEqual(['podSelector']);
          expect(['erp-bridge', 'redis']).toContain(
            peer.podSelector!.matchLabels!['app.kubernetes.io/name'],
          );
        }
    }
  });
});

describe('deploy/kubernetes-overlays/sentinel', () => {
  const o = overlay('sentinel');
  const sentinels = o.settings.REDIS_SENTINELS!.split(',');
  const master = o.settings.REDIS_SENTINEL_MASTER!;
  const sentinelSet = o.find('StatefulSet', 'redis-sentinel');
  const redis = o.find('StatefulSet', 'redis-ha');
  const sentinelScript = o.scriptOf(sentinelSet);
  const redisScript = o.scriptOf(redis);
  /** The sentinels a script asks for the primary. */
  const askedIn = (script: string) => /for sentinel in ([^;]+); do/.exec(script)![1]!.split(' ');

  it('points erp-bridge at each of three sentinels by its pod name, as every process reads it', () => {
    expect(sentinels).toEqual(o.podNames(sentinelSet, 26379));
    expect(sentinels).toHaveLength(3);
    for (const sentinel of sentinels) expect(o.podAt(sentinel).statefulSet).toBe(sentinelSet);
    for (const [deployment, role] of ROLES)
      expect(o.envOf(deployment, role).redis.sentinel).toEqual({
        sentinels: sentinels.map((s) => ({ host: s.split(':')[0], port: 26379 })),
        name: master,
      });
  });

  it('has the sentinels monitor the first Redis pod under its Service with a quorum of two, by host names', () => {
    const monitor = /^sentinel monitor (\S+) (\S+) (\d+) (\d+)$/m.exec(sentinelScript);
    expect(monitor).not.toBeNull();
    const [, monitored, , port, quorum] = monitor!;
    expect(monitored).toBe(master);
    expect(Number(quorum)).toBe(2);
    expect(Number(quorum)).toBe(Math.floor(sentinelSet.spec!.replicas! / 2) + 1);
    // The first primary, when no sentinel knows one yet.
    expect(sentinelScript).toContain(`primary=${o.podNames(redis)[0]}\n`);
    expect(o.podAt(`${o.podNames(redis)[0]}:${port}`).statefulSet).toBe(redis);
    for (const line of [
      'sentinel resolve-hostnames yes',
      'sentinel announce-hostnames yes',
      `sentinel announce-ip $(hostname).${sentinelSet.spec!.serviceName}`,
      `sentinel down-after-milliseconds ${master} 5000`,
    ])
      expect(sentinelScript.split('\n')).toContain(line);
    expect(sentinelScript.indexOf('resolve-hostnames')).toBeLessThan(
      sentinelScript.indexOf('sentinel monitor'),
    );
    expect(sentinelScript).toMatch(/exec redis-server \/data\/sentinel\.conf --sentinel$/m);
    // Written once: the sentinel's rewrites of it are kept.
    expect(sentinelScript).toMatch(/^if \[ ! -f \/data\/sentinel\.conf \]; then$/m);
  });

  it('starts each Redis pod as a replica of the primary the sentinels name, announced by its pod name', () => {
    expect(redis.spec!.replicas).toBe(2);
    for (const script of [redisScript, sentinelScript]) {
      expect(askedIn(script)).toEqual(sentinels.map((s) => s.split(':')[0]));
      expect(script).toContain(`-p 26379 sentinel get-master-addr-by-name ${master}`);
    }
    expect(redisScript).toContain(`self="$(hostname).${redis.spec!.serviceName}"`);
    expect(redisScript).toContain(`primary=${o.podNames(redis)[0]}\n`);
    expect(redisScript).toContain('--replica-announce-ip "$self"');
    expect(redisScript).toContain(
      '[ "$primary" = "$self" ] || set -- "$@" --replicaof "$primary" 6379',
    );
  });

  it('lets erp-bridge reach the sentinels and the Redis pods, the workers through their own egress policy', () => {
    const sentinelPods = o.podAt(sentinels[0]!).labels;
    const redisPods = o.podAt(`${o.podNames(redis)[0]}:6379`).labels;
    for (const [to, port] of [
      [sentinelPods, 26379],
      [redisPods, 6379],
    ] as const) {
      expect(o.ingressAllows(ERP_BRIDGE, to, port)).toBe(true);
      expect(o.workerEgressAllows(to, port)).toBe(true);
    }
    // The sentinels watch Redis and each other; Redis asks them at start, and replicates itself.
    expect(o.ingressAllows(sentinelPods, redisPods, 6379)).toBe(true);
    expect(o.ingressAllows(sentinelPods, sentinelPods, 26379)).toBe(true);
    expect(o.ingressAllows(redisPods, sentinelPods, 26379)).toBe(true);
    expect(o.ingressAllows(redisPods, redisPods, 6379)).toBe(true);
    expect(o.ingressAllows({ 'app.kubernetes.io/name': 'odoo' }, redisPods, 6379)).toBe(false);
    // The base's worker policy alone would not let the workers ask the sentinels.
    const baseWorker = render(BASE).find(
      (m) => m.kind === 'NetworkPolicy' && m.metadata.name === 'erp-bridge-worker',
    )!;
    expect(
      baseWorker.spec!.egress!.some((rule) => ruleAllows(rule, rule.to, sentinelPods, 26379)),
    ).toBe(false);
    // A drain leaves the quorum.
    expect(o.find('PodDisruptionBudget', 'redis-sentinel').spec!.minAvailable).toBe(2);
  });
});

describe('deploy/kubernetes-overlays/cluster', () => {
  const o = overlay('cluster');
  const nodes = o.settings.REDIS_CLUSTER_NODES!.split(',');
  const cluster = o.find('StatefulSet', 'redis-cluster');
  const script = o.scriptOf(cluster);
  const job = o.find('Job', 'redis-cluster-create');
  const create = o.scriptOf(job);

  it('points erp-bridge at every node of the StatefulSet by its pod name, as every process reads it', () => {
    expect(cluster.spec!.replicas).toBe(3);
    expect(nodes).toEqual(o.podNames(cluster, 6379));
    for (const node of nodes) expect(o.podAt(node).statefulSet).toBe(cluster);
    for (const [deployment, role] of ROLES)
      expect(o.envOf(deployment, role).redis.cluster).toEqual({
        nodes: nodes.map((node) => ({ host: node.split(':')[0], port: 6379 })),
      });
  });

  it('runs cluster nodes that tell clients their pod names, and find each other again at new addresses', () => {
    expect(script).toContain('--cluster-enabled yes');
    expect(script).toContain(
      `--cluster-announce-hostname "$(hostname).${cluster.spec!.serviceName}"`,
    );
    expect(script).toContain('--cluster-preferred-endpoint-type hostname');
    const refreshed = /for node in ([^;]+); do/.exec(script)![1]!.split(' ');
    expect(refreshed).toEqual(o.podNames(cluster));
    expect(script).toContain(
      'sed -i "s/ [^ ]*:6379@16379,$node / $ip:6379@16379,$node /" /data/nodes.conf',
    );
    // The last pod to start finds every other one.
    expect(cluster.spec!.podManagementPolicy).toBe('OrderedReady');
    expect(cluster.spec!.template!.spec.containers[0]!.ports).toContainEqual({
      name: 'bus',
      containerPort: 16379,
    });
  });

  it("makes exactly the StatefulSet's pods a cluster, only when none has slots yet", () => {
    const command = /redis-cli --cluster create (.+?) \\\n\s*(.+)$/m.exec(create);
    expect(command).not.toBeNull();
    expect(command![1]!.split(' ')).toEqual(nodes);
    expect(command![2]).toBe('--cluster-replicas 0 --cluster-yes');
    expect(/^nodes="(.+)"$/m.exec(create)![1]!.split(' ')).toEqual(o.podNames(cluster));
    // Waits for the nodes, creates only when no node has slots, then waits for cluster_state:ok.
    const at = (text: string) => create.indexOf(text);
    const waitPing = at('ping 2>/dev/null | grep -q PONG');
    const checkSlots = at("grep -q '^cluster_slots_assigned:0'");
    const createAt = at('  redis-cli --cluster create');
    const waitOk = at("grep -q '^cluster_state:ok'");
    expect(waitPing).toBeGreaterThan(0);
    expect(checkSlots).toBeGreaterThan(waitPing);
    expect(createAt).toBeGreaterThan(checkSlots);
    expect(create.slice(checkSlots, createAt)).toContain('if [ -z "$with_slots" ]; then');
    expect(waitOk).toBeGreaterThan(createAt);
    const pod = job.spec!.template!.spec;
    expect(pod.securityContext?.runAsNonRoot).toBe(true);
    expect(pod.containers[0]!.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(pod.containers[0]!.image).toBe(cluster.spec!.template!.spec.containers[0]!.image);
  });

  it('lets erp-bridge and the job reach the nodes, and only the nodes reach their bus', () => {
    const nodePods = o.podAt(nodes[0]!).labels;
    const jobPods = job.spec!.template!.metadata!.labels!;
    expect(o.ingressAllows(ERP_BRIDGE, nodePods, 6379)).toBe(true);
    expect(o.workerEgressAllows(nodePods, 6379)).toBe(true);
    expect(o.ingressAllows(jobPods, nodePods, 6379)).toBe(true);
    expect(o.ingressAllows(nodePods, nodePods, 16379)).toBe(true);
    expect(o.ingressAllows(nodePods, nodePods, 6379)).toBe(true);
    expect(o.ingressAllows(ERP_BRIDGE, nodePods, 16379)).toBe(false);
    expect(o.ingressAllows(jobPods, nodePods, 16379)).toBe(false);
  });
});

describe('deploy/kubernetes-overlays/postgres-queues', () => {
  const o = overlay('postgres-queues');

  it('is the base with the queues in PostgreSQL for every process, and no Redis', () => {
    expect(o.own).toEqual([]);
    const base = render(BASE).find((m) => m.kind === 'ConfigMap')!.data!;
    expect(o.settings).toEqual({ ...base, QUEUE_BACKEND: 'postgres' });
    const secret = readDocuments(join(BASE, 'secret.example.yaml'))[0] as Manifest;
    for (const [deployment, role] of ROLES) {
      const config = o.envOf(deployment, role, ['REDIS_URL', 'CACHE_REDIS_URL']);
      expect(config.queues).toEqual({
        backend: 'postgres',
        databaseUrl: secret.stringData!.DATABASE_URL,
      });
      expect(config.redis.url).toBeUndefined();
    }
  });
});
