/**
 * What ships is production code only: `src/` and `workers/` (the compiled `dist/`) import nothing
 * from `dev/`, `test/` or `bench/`, and no package outside `dependencies`; tsx and PGlite, which
 * only the demo and the tests use, are dev dependencies. And the engine is one for every family:
 * no family's table is named in its code, only in the family's own declaration.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { familyModels } from '../src/families/family.js';
import { CODE_FAMILIES } from '../src/families/registry.js';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter(
      (entry) => entry.isFile() && /\.ts$/.test(entry.name) && !/\.test\.ts$/.test(entry.name),
    )
    .map((entry) => join(entry.parentPath, entry.name));
}

const IMPORT =
  /(?:^|\s)(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function importsOf(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(IMPORT)].map((m) => (m[1] ?? m[2])!);
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

describe('production code', () => {
  const files = [...sources('src'), ...sources('workers')];

  it('imports only production dependencies and Node built-ins', () => {
    const offending = files.flatMap((file) =>
      importsOf(file)
        .filter((spec) => !spec.startsWith('.'))
        .filter((spec) => !spec.startsWith('node:') && !builtinModules.includes(spec))
        .filter((spec) => !(packageName(spec) in pkg.dependencies))
        .map((spec) => `${file}: ${spec}`),
    );
    expect(offending).toEqual([]);
  });

  it('imports nothing from dev/, test/ or bench/', () => {
    const offending = files.flatMap((file) =>
      importsOf(file)
        .filter((spec) => spec.startsWith('.'))
        .map((spec) => relative('.', resolve(file, '..', spec)))
        .filter((target) => /^(dev|test|bench)\//.test(target))
        .map((target) => `${file}: ${target}`),
    );
    expect(offending).toEqual([]);
  });

  it('keeps tsx and PGlite among the dev dependencies', () => {
    for (const name of ['tsx', '@electric-sql/pglite', 'node']) {
      expect(pkg.dependencies, name).not.toHaveProperty(name);
      expect(pkg.devDependencies, name).toHaveProperty(name);
    }
  });
});

describe('the record-family engine', () => {
  const tables = CODE_FAMILIES.flatMap((family) =>
    familyModels(family).map((model) => model.table.name),
  );

  it("names no table of a family outside the family's own folder", () => {
    const offending = [...sources('src'), ...sources('workers')]
      .filter((file) => !/^src\/families\/[^/]+\//.test(relative('.', file)))
      .flatMap((file) => {
        const text = readFileSync(file, 'utf8');
        return tables.filter((table) => text.includes(table)).map((table) => `${file}: ${table}`);
      });
    expect(offending).toEqual([]);
  });
});

/**
 * The architecture, executable (README, "Layout"): the sync domain, the families and the change
 * feed are plain code that knows no queue and no HTTP server; the ERP clients are libraries that
 * know no database and no configuration of this product.
 */
/** Whether `code` branches on a kind of store (Redis, PostgreSQL). */
const testsStoreKind = (code: string) =>
  /\b(?:kind|backend)\s*[!=]==?\s*'(?:redis|postgres)'/.test(code);

describe('the walls between the layers', () => {
  /** Where an import leads: a package name, or a path of the repository (`src/queues/…`). */
  const targetsOf = (file: string) =>
    importsOf(file).map((spec) =>
      spec.startsWith('.') ? relative('.', resolve(file, '..', spec)) : packageName(spec),
    );
  const walls = [
    {
      name: 'src/sync, src/families, src/feed and src/check import no bullmq, fastify, src/queues, src/http or workers',
      layers: ['src/sync', 'src/families', 'src/feed', 'src/check'],
      forbidden: [
        /^bullmq$/,
        /^fastify/,
        /^@fastify\//,
        /^src\/queues\//,
        /^src\/http\//,
        /^workers\//,
      ],
    },
    {
      name: "workers import no src/http: the health routes and key matching they share are src/fastify's",
      layers: ['workers'],
      forbidden: [/^src\/http\//],
    },
    {
      name: 'src/clients imports no src/db or src/config',
      layers: ['src/clients'],
      forbidden: [/^src\/db\//, /^src\/config\//],
    },
  ];

  it.each(walls)('$name', ({ layers, forbidden }) => {
    const offending = layers
      .flatMap((layer) => sources(layer))
      .flatMap((file) =>
        targetsOf(file)
          .filter((target) => forbidden.some((pattern) => pattern.test(target)))
          .map((target) => `${file}: ${target}`),
      );
    expect(offending).toEqual([]);
  });

  /** The room a file is in: the longest of `rooms` it lies in, if any. */
  const roomOf = (rooms: readonly string[], file: string) =>
    rooms.find((room) => file === room || file.startsWith(`${room}/`));

  /** Imports that lead from a room to one above it in `rooms` (listed from the ground up). */
  function upwardImports(rooms: readonly string[], graph: ReadonlyMap<string, string[]>): string[] {
    return [...graph].flatMap(([file, targets]) => {
      const from = roomOf(rooms, file);
      if (from === undefined) return [];
      return targets
        .filter((target) => {
          const to = roomOf(rooms, target);
          return to !== undefined && rooms.indexOf(to) > rooms.indexOf(from);
        })
        .map((target) => `${file} -> ${target}`);
    });
  }

  /** Each loop of files that import one another, as its files (Tarjan's strongly connected sets). */
  function importCycles(graph: ReadonlyMap<string, string[]>): string[][] {
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const cycles: string[][] = [];
    const visit = (file: string) => {
      index.set(file, index.size);
      low.set(file, index.get(file)!);
      stack.push(file);
      onStack.add(file);
      for (const target of graph.get(file) ?? []) {
        if (!graph.has(target)) continue;
        if (!index.has(target)) {
          visit(target);
          low.set(file, Math.min(low.get(file)!, low.get(target)!));
        } else if (onStack.has(target)) low.set(file, Math.min(low.get(file)!, index.get(target)!));
      }
      if (low.get(file) !== index.get(file)) return;
      const members: string[] = [];
      for (let member = stack.pop()!; ; member = stack.pop()!) {
        onStack.delete(member);
        members.push(member);
        if (member === file) break;
      }
      if (members.length > 1) cycles.push(members.sort());
    };
    for (const file of graph.keys()) if (!index.has(file)) visit(file);
    return cycles;
  }

  /** The repository's own imports of `files`, each as the `.ts` file it leads to. */
  const importGraph = (files: readonly string[]) =>
    new Map(
      files.map((file) => [
        relative('.', file),
        targetsOf(file)
          .filter((target) => target.includes('/'))
          .map((target) => target.replace(/\.js$/, '.ts')),
      ]),
    );

  /**
   * The rooms from the ground up, as docs/architecture.md draws them: a room imports only rooms
   * below it. So no loop of imports can join two rooms.
   */
  const ROOMS = [
    'src/lib',
    'src/sources',
    'src/db',
    'src/clients',
    'src/stores',
    'src/families',
    'src/feed',
    'src/sync',
    'src/config',
    'src/queues',
    'src/odoo-budget',
    'src/odoo-link',
    'src/check',
    'src/cli',
    'src/fastify',
    'src/http',
    'src/create-api.ts',
    'workers',
    'src/server.ts',
  ];

  it('has no import from a room to one above it, in the order docs/architecture.md gives', () => {
    const graph = importGraph([...sources('src'), ...sources('workers')]);
    expect([...graph.keys()].filter((file) => roomOf(ROOMS, file) === undefined)).toEqual([]);
    expect(upwardImports(ROOMS, graph)).toEqual([]);
  });

  it('tells the kinds of store apart in src/stores alone (src/config parses QUEUE_BACKEND)', () => {
    const outside = [...sources('src'), ...sources('workers')].filter(
      (file) => !file.startsWith('src/stores/') && !file.startsWith('src/config/'),
    );
    expect(outside.filter((file) => testsStoreKind(readFileSync(file, 'utf8')))).toEqual([]);
    expect(testsStoreKind("if (backend.kind === 'redis') return;")).toBe(true);
    expect(testsStoreKind("config.queues.backend !== 'postgres'")).toBe(true);
  });

  it('has no loop of imports between files, outside the Odoo sandbox', () => {
    const graph = importGraph(
      [...sources('src'), ...sources('workers'), ...sources('dev'), ...sources('bench')].filter(
        (file) => !file.startsWith('dev/sandbox/'),
      ),
    );
    expect(importCycles(graph)).toEqual([]);
  });

  it('finds an import up and a loop when one is there', () => {
    const graph = new Map([
      ['src/lib/a.ts', ['src/http/b.ts']],
      ['src/http/b.ts', ['src/http/c.ts']],
      ['src/http/c.ts', ['src/http/b.ts', 'src/lib/a.ts']],
    ]);
    expect(upwardImports(['src/lib', 'src/http'], graph)).toEqual([
      'src/lib/a.ts -> src/http/b.ts',
    ]);
    expect(importCycles(graph)).toEqual([['src/http/b.ts', 'src/http/c.ts', 'src/lib/a.ts']]);
  });
});
