import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig, type ConfigMode, type ConfigRole } from './config.js';
import type { SourceConfig } from './sources.js';
import { createKeyCipher } from '../odoo-link/key-cipher.js';
import { CODE_FAMILIES } from '../families/registry.js';
import {
  configRefusal,
  declarationFiles,
  WORKER_ENV as base,
} from '../../test/helpers/config-files.js';

const { dir, write: file } = declarationFiles('sources');

const digest = (char: string) => char.repeat(64);

const load = (
  env: Record<string, string>,
  { mode = 'production', role = 'worker' }: { mode?: ConfigMode; role?: ConfigRole } = {},
) => loadConfig(env, { mode, role, codeFamilies: CODE_FAMILIES });

const refusal = (env: Record<string, string>) => configRefusal(() => load(env));

const problems = (env: Record<string, string>): string[] =>
  refusal(env).problems.map((p) => `${p.key}: ${p.message}`);

/** One source of the file, with what it must have and `extra` lines under its `odoo:`. */
const entry = (name: string, database: string, extra = '') => `
  - name: ${name}
    odoo:
      url: https://${database}.odoo.example
      database: ${database}
      username: sync
      password: { env: SECRET }${extra}`;

const sources = (...entries: string[]) => file(`sources:${entries.join('')}\n`);
/** The environment `entry` reads its password from. */
const withSecret = { ...base, SECRET: 's3cret' };

/** What a source leaves out, from the environment's defaults. */
const inherited = (source: string) => ({
  apiKeyLifecycle: { warnDays: 14, rotate: false, renewDays: 30, lifetimeDays: 89, source },
  readReplica: true,
  timeoutMs: 30_000,
  retries: 3,
  pageSize: 1_000,
  pageMaxBytes: 2 * 1024 * 1024,
  valueMaxBytes: 256 * 1024 * 1024,
});
/** The Odoo ODOO_* name in `base`. */
const prod = {
  ...inherited('default'),
  url: 'http://odoo:8069',
  database: 'prod',
  username: 'sync',
};

describe('SYNC_SOURCES_FILE', () => {
  it('declares sources beside the default one, each with what it sets and the environment for the rest', () => {
    writeFileSync(join(dir, 'beta-key'), 'beta-k3y\n');
    const config = load({
      ...base,
      ODOO_MAX_CALLS_PER_SECOND: '20',
      SYNC_RECONCILE_CRON: '0 2 * * *',
      ACME_ODOO_PASSWORD: 'acme-s3cret',
      ACME_ODOO_API_KEY: 'acme-k3y',
      ACME_WEBHOOK_TOKENS: `${digest('A')}, ${digest('b')}`,
      SYNC_SOURCES_FILE: file(`
sources:
  - name: acme
    odoo:
      url: https://acme.odoo.example/
      database: acme
      username: sync@acme.example
      password: { env: ACME_ODOO_PASSWORD }
      apiKey: { env: ACME_ODOO_API_KEY }
      protocol: json2
      context: { lang: fr_FR, tz: Europe/Paris }
    families: [bcs, partners]
    budget: { maxConcurrentCalls: 2, maxCallsPerSecond: 10 }
    concurrency: 2
    schedule: { every: 10m, reconcileCron: '0 4 * * *' }
    schema: acme_copy
    webhookTokens: { env: ACME_WEBHOOK_TOKENS }
  - name: beta
    odoo:
      url: http://beta.internal:8069
      database: beta
      username: sync
      apiKey: { file: beta-key }
`),
    });
    // What the sources leave out: ODOO_MAX_*, SYNC_EVERY and SYNC_RECONCILE_CRON.
    const budget = { maxConcurrentCalls: 4, maxCallsPerSecond: 20, maxWaitMs: 600_000 };
    const schedule = { everyMs: 300_000, reconcileCron: '0 2 * * *' };
    expect(config.sources).toEqual<SourceConfig[]>([
      {
        name: 'default',
        odoo: {
          ...prod,
          password: 'odoo-s3cret',
          protocol: 'auto',
          budget,
        },
        families: ['bcs'],
        schema: 'public',
        schedule,
        concurrency: 3,
        webhookTokenSha256: [],
      },
      {
        name: 'acme',
        odoo: {
          ...inherited('acme'),
          url: 'https://acme.odoo.example',
          database: 'acme',
          username: 'sync@acme.example',
          password: 'acme-s3cret',
          apiKey: 'acme-k3y',
          protocol: 'json2',
          context: { lang: 'fr_FR', tz: 'Europe/Paris' },
          budget: { maxConcurrentCalls: 2, maxCallsPerSecond: 10, maxWaitMs: 600_000 },
        },
        families: ['bcs', 'partners'],
        schema: 'acme_copy',
        schedule: { everyMs: 600_000, reconcileCron: '0 4 * * *' },
        concurrency: 2,
        webhookTokenSha256: [digest('a'), digest('b')],
      },
      {
        name: 'beta',
        odoo: {
          ...inherited('beta'),
          url: 'http://beta.internal:8069',
          database: 'beta',
          username: 'sync',
          // Odoo takes an API key wherever it takes the password; the file's newline is not the key's.
          password: 'beta-k3y',
          apiKey: 'beta-k3y',
          protocol: 'auto',
          budget,
        },
        families: ['bcs'],
        schema: 'beta',
        schedule,
        concurrency: 3,
        webhookTokenSha256: [],
      },
    ]);
    expect(config.sources[0]?.odoo).toBe(config.odoo);
    expect(config.sync.sources).toEqual(['default', 'acme', 'beta']);
  });

  it('reads JSON too, a secret file by its absolute path, and the families of SYNC_FAMILIES_FILE', () => {
    const secret = join(dir, 'gamma-password');
    writeFileSync(secret, 'gamma-s3cret');
    const config = load({
      ...base,
      SYNC_FAMILIES: 'bcs,tags',
      SYNC_FAMILIES_FILE: file('families:\n  - name: tags\n    model: res.partner.category\n'),
      SYNC_SOURCES_FILE: file(
        JSON.stringify({
          sources: [
            {
              name: 'gamma',
              odoo: {
                url: 'https://gamma.odoo.example',
                database: 'gamma',
                username: 'sync',
                password: { file: secret },
              },
              families: ['tags', 'tags'],
            },
          ],
        }),
        'json',
      ),
    });
    expect(
      config.sources.map(({ name, odoo, families, schema }) => ({
        name,
        password: odoo.password,
        families,
        schema,
      })),
    ).toEqual([
      { name: 'default', password: 'odoo-s3cret', families: ['bcs', 'tags'], schema: 'public' },
      { name: 'gamma', password: 'gamma-s3cret', families: ['tags'], schema: 'gamma' },
    ]);
  });

  it('refuses a credential written in the file, and never shows it', () => {
    const error = refusal({
      ...base,
      SYNC_SOURCES_FILE: file(`
sources:
  - name: acme
    odoo:
      url: https://acme.odoo.example
      database: acme
      username: sync
      password: inline-s3cret
      apiKey: { vault: acme }
    webhookTokens: ${digest('a')}
`),
    });
    expect(error.problems).toEqual([
      {
        key: 'SYNC_SOURCES_FILE',
        message:
          'sources[0].odoo.password: must not be written in the file: use { env: NAME } or { file: PATH }',
      },
      {
        key: 'SYNC_SOURCES_FILE',
        message: 'sources[0].odoo.apiKey: must be { env: NAME } or { file: PATH }',
      },
      {
        key: 'SYNC_SOURCES_FILE',
        message:
          'sources[0].webhookTokens: must not be written in the file: use { env: NAME } or { file: PATH }',
      },
    ]);
    expect(error.message).not.toContain('inline-s3cret');
    expect(error.message).not.toContain(digest('a'));
  });

  it('names a credential it cannot read by its path in the file, never by its value', () => {
    const empty = join(dir, 'empty-secret');
    writeFileSync(empty, '\n');
    const withGamma = (gamma: string) =>
      refusal({
        ...withSecret,
        BLANK_KEY: '  ',
        SYNC_SOURCES_FILE: sources(
          entry('acme', 'acme'),
          `
  - name: beta
    odoo:
      url: https://beta.odoo.example
      database: beta
      username: sync
      password: { env: ACME_ODOO_PASSWORD }
      apiKey: { env: BLANK_KEY }
    webhookTokens: { file: absent-tokens }`,
          `
  - name: gamma
    odoo:
      url: https://gamma.odoo.example
      database: gamma
      username: sync
      password: { file: ${empty} }${gamma}`,
        ),
      });
    // A file the schema refuses is named alone: its references are not read.
    expect(withGamma("\n      apiKey: { env: 'not a name' }").problems).toEqual([
      {
        key: 'SYNC_SOURCES_FILE',
        message: 'sources[2].odoo.apiKey.env: must be the name of an environment variable',
      },
    ]);
    const readable = withGamma('');
    expect(readable.problems.map((p) => `${p.key}: ${p.message}`)).toEqual([
      'SYNC_SOURCES_FILE: sources[1].odoo.password: ACME_ODOO_PASSWORD is not set',
      'SYNC_SOURCES_FILE: sources[1].odoo.apiKey: BLANK_KEY is not set',
      `SYNC_SOURCES_FILE: sources[1].webhookTokens: ${join(dir, 'absent-tokens')} cannot be read: ENOENT`,
      `SYNC_SOURCES_FILE: sources[2].odoo.password: ${empty} is empty`,
    ]);
    expect(readable.message).not.toContain('s3cret');
  });

  it('refuses a source without a secret, JSON-2 or a renewed key without an API key', () => {
    expect(
      problems({
        ...withSecret,
        SYNC_SOURCES_FILE: file(`
sources:
  - name: acme
    odoo: { url: 'https://acme.odoo.example', database: acme, username: sync }
  - name: beta
    odoo:
      url: https://beta.odoo.example
      database: beta
      username: sync
      password: { env: SECRET }
      protocol: json2
`),
      }),
    ).toEqual([
      'SYNC_SOURCES_FILE: sources[0].odoo: needs a password or an apiKey, as { env } or { file }',
      'SYNC_SOURCES_FILE: sources[1].odoo.apiKey: is required with protocol json2: JSON-2 takes an API key, never the password',
    ]);
    expect(
      problems({
        ...withSecret,
        ODOO_API_KEY: 'odoo-k3y',
        ODOO_API_KEY_ROTATE: 'true',
        ODOO_API_KEY_SECRET: 'x'.repeat(32),
        SYNC_SOURCES_FILE: sources(entry('acme', 'acme')),
      }),
    ).toEqual([
      'SYNC_SOURCES_FILE: sources[0].odoo.apiKey: is required with ODOO_API_KEY_ROTATE=true: a key is renewed from the key itself',
    ]);
  });

  it('refuses names and schemas that are taken or reserved, and a database copied twice', () => {
    const found = problems({
      ...withSecret,
      SYNC_SOURCES_FILE: sources(
        entry('default', 'one'),
        entry('acme', 'acme'),
        entry('acme', 'two', '\n    schema: other'),
        entry('beta', 'three', '\n    schema: acme'),
        entry('bullmq', 'four'),
        entry('gamma', 'five', '\n    schema: pg_gamma'),
        entry('delta', 'six', '\n    schema: public'),
        entry('epsilon', 'seven', '\n    schema: information_schema'),
        entry('zeta', 'eight', '\n    schema: drizzle'),
      ),
    });
    expect(found).toEqual([
      'SYNC_SOURCES_FILE: sources[0].name: default is the source of ODOO_*: name this one otherwise',
      'SYNC_SOURCES_FILE: sources[2].name: acme is taken by another source',
      "SYNC_SOURCES_FILE: sources[3].schema: acme is another source's",
      'SYNC_SOURCES_FILE: sources[4].schema: bullmq holds the queues with QUEUE_BACKEND=postgres: it is the name, set schema',
      "SYNC_SOURCES_FILE: sources[5].schema: pg_gamma is PostgreSQL's own (pg_*)",
      "SYNC_SOURCES_FILE: sources[6].schema: public is the default source's, beside the sync's own tables",
      "SYNC_SOURCES_FILE: sources[7].schema: information_schema is PostgreSQL's own",
      "SYNC_SOURCES_FILE: sources[8].schema: drizzle holds the migrations' journal",
    ]);

    // The same database of the same server, however the URL is written.
    expect(
      problems({
        ...withSecret,
        SYNC_SOURCES_FILE: file(`
sources:
  - name: again
    odoo: { url: 'HTTP://Odoo:8069/', database: prod, username: other, password: { env: SECRET } }
  - name: acme
    odoo: { url: 'https://acme.odoo.example', database: acme, username: sync, password: { env: SECRET } }
  - name: acme_too
    odoo: { url: 'https://ACME.odoo.example//', database: acme, username: sync, password: { env: SECRET } }
  - name: acme_test
    odoo: { url: 'https://acme.odoo.example', database: acme_test, username: sync, password: { env: SECRET } }
`),
      }),
    ).toEqual([
      "SYNC_SOURCES_FILE: sources[0].odoo: url and database are the default source's (ODOO_URL, ODOO_DATABASE) already: one source per Odoo database",
      "SYNC_SOURCES_FILE: sources[2].odoo: url and database are source acme's already: one source per Odoo database",
    ]);
  });

  it('names every entry the schema refuses at once', () => {
    expect(
      problems({
        ...base,
        SYNC_SOURCES_FILE: file(`
sources:
  - name: Acme
    odoo:
      url: https://sync:pw@acme.odoo.example
      database: ''
      username: sync
      password: { env: SECRET }
      protocol: soap
      context: { active_test: true }
    families: []
    budget: { maxConcurrentCalls: 1.5, maxCallsPerSecond: -1 }
    schedule: { every: soon, reconcileCron: at night }
    schema: Acme-Copy
    colour: red
  - name: beta
    odoo: { url: 'ftp://beta.odoo.example', database: beta, username: sync, password: { env: SECRET }, context: [lang] }
    schema: ${'s'.repeat(64)}
`),
      }),
    ).toEqual([
      'SYNC_SOURCES_FILE: sources[0].name: must be a lowercase letter, then up to 30 lowercase letters, digits or _',
      'SYNC_SOURCES_FILE: sources[0].odoo.url: must not carry credentials (user:password@): give them as password or apiKey',
      'SYNC_SOURCES_FILE: sources[0].odoo.database: must not be empty',
      'SYNC_SOURCES_FILE: sources[0].odoo.protocol: must be one of auto, xmlrpc, jsonrpc, json2',
      'SYNC_SOURCES_FILE: sources[0].odoo.context: must not set active_test: the sync always reads archived BCs too',
      'SYNC_SOURCES_FILE: sources[0].families: must name a family, or be left out for all',
      'SYNC_SOURCES_FILE: sources[0].budget.maxConcurrentCalls: must be a whole number of calls between 0 and 1000',
      'SYNC_SOURCES_FILE: sources[0].budget.maxCallsPerSecond: must be a whole number of calls between 0 and 10000',
      'SYNC_SOURCES_FILE: sources[0].schedule.every: must be a duration such as 5m',
      'SYNC_SOURCES_FILE: sources[0].schedule.reconcileCron: must be a cron pattern such as "0 3 * * *"',
      'SYNC_SOURCES_FILE: sources[0].schema: must be a lowercase identifier: letters, digits and _',
      'SYNC_SOURCES_FILE: sources[0]: Unrecognized key: "colour"',
      'SYNC_SOURCES_FILE: sources[1].odoo.url: must be a URL (http: or https:)',
      'SYNC_SOURCES_FILE: sources[1].odoo.context: must be a mapping such as { lang: fr_FR, tz: Europe/Paris }',
      "SYNC_SOURCES_FILE: sources[1].schema: must be at most 63 characters, as PostgreSQL's names",
    ]);
  });

  it('refuses families no one declared, unless the families file is what failed', () => {
    expect(
      problems({
        ...withSecret,
        SYNC_SOURCES_FILE: sources(entry('acme', 'acme', '\n    families: [bcs, nobody]')),
      }),
    ).toEqual([
      'SYNC_SOURCES_FILE: sources[0].families[1]: nobody is not a record family (known: bcs, partners, moves)',
    ]);
    expect(
      problems({
        ...withSecret,
        SYNC_FAMILIES: 'bcs',
        SYNC_FAMILIES_FILE: join(dir, 'absent-families.yaml'),
        SYNC_SOURCES_FILE: sources(entry('acme', 'acme', '\n    families: [tags]')),
      }),
    ).toEqual(['SYNC_FAMILIES_FILE: cannot be read: ENOENT']);
  });

  it("refuses webhook tokens that are no digests, or another source's", () => {
    expect(
      problems({
        ...withSecret,
        ODOO_WEBHOOK_TOKENS: digest('d'),
        ACME_TOKENS: `${digest('a')},not-a-digest`,
        BETA_TOKENS: `${digest('A')},${digest('D')},${digest('e')}`,
        SYNC_SOURCES_FILE: sources(
          entry('acme', 'acme', '\n    webhookTokens: { env: ACME_TOKENS }'),
          entry('beta', 'beta', '\n    webhookTokens: { env: BETA_TOKENS }'),
        ),
      }),
    ).toEqual([
      'SYNC_SOURCES_FILE: sources[0].webhookTokens: entry 2 is not the SHA-256 (64 hex characters) of a token',
      "SYNC_SOURCES_FILE: sources[1].webhookTokens: entry 1 is source acme's too: a token is one source's",
      "SYNC_SOURCES_FILE: sources[1].webhookTokens: entry 2 is in ODOO_WEBHOOK_TOKENS (the default source's) too: a token is one source's",
    ]);
  });

  it('says when the file cannot be read or parsed', () => {
    expect(problems({ ...base, SYNC_SOURCES_FILE: join(dir, 'absent.yaml') })).toEqual([
      'SYNC_SOURCES_FILE: cannot be read: ENOENT',
    ]);
    expect(problems({ ...base, SYNC_SOURCES_FILE: file('sources: [\n  - name: x') })).toEqual([
      expect.stringMatching(/^SYNC_SOURCES_FILE: is not valid YAML: /),
    ]);
    expect(problems({ ...base, SYNC_SOURCES_FILE: file('sources: []\n') })).toEqual([
      'SYNC_SOURCES_FILE: sources: Too small: expected array to have >=1 items',
    ]);
  });
});

describe("a source's renewed key", () => {
  const SHARED = 'the-secret-every-worker-held-0123456789';
  const ACME = 'acme-own-secret-no-other-worker-holds-42';
  const KEY = '0123456789abcdef0123456789abcdef01234567';
  /** Key rotation on, the default source's key and acme's, acme's with a secret of its own. */
  const rotating = (acme = '\n      apiKeySecret: { env: ACME_KEY_SECRET }') => ({
    ...base,
    ODOO_API_KEY: 'odoo-k3y',
    ODOO_API_KEY_ROTATE: 'true',
    ODOO_API_KEY_SECRET: SHARED,
    ACME_KEY: 'acme-k3y',
    ACME_KEY_SECRET: ACME,
    SYNC_SOURCES_FILE: sources(
      `
  - name: acme
    odoo:
      url: https://acme.odoo.example
      database: acme
      username: sync
      apiKey: { env: ACME_KEY }${acme}`,
    ),
  });
  const lifecycleOf = (config: ReturnType<typeof load>, name: string) =>
    config.sources.find((source) => source.name === name)!.odoo.apiKeyLifecycle;
  const cipherOf = (config: ReturnType<typeof load>, name: string) => {
    const { source, secret, previousSecret } = lifecycleOf(config, name);
    return createKeyCipher({ source, secret: secret!, previousSecret });
  };

  it("is sealed under its own apiKeySecret: a worker of that source holds no other's secret, and opens no other's key", () => {
    const acmeWorker = load({ ...rotating(), SYNC_SOURCES: 'acme' });
    const defaultWorker = load({ ...rotating(), SYNC_SOURCES: 'default' });
    // Each holds its own sources' secret alone, whatever its environment holds.
    expect(JSON.stringify(acmeWorker)).not.toContain(SHARED);
    expect(JSON.stringify(defaultWorker)).not.toContain(ACME);
    expect(lifecycleOf(acmeWorker, 'acme')).toMatchObject({ source: 'acme', secret: ACME });
    // What the default source's workers sealed, acme's cannot open; nor the other way round.
    const defaultKey = cipherOf(defaultWorker, 'default').seal(KEY);
    expect(() => cipherOf(acmeWorker, 'acme').open(defaultKey)).toThrow(
      expect.objectContaining({ code: 'ODOO_KEY_UNREADABLE' }),
    );
    const acmeKey = cipherOf(acmeWorker, 'acme').seal(KEY);
    expect(() => cipherOf(defaultWorker, 'default').open(acmeKey)).toThrow(
      expect.objectContaining({ code: 'ODOO_KEY_UNREADABLE' }),
    );
    // A worker of both holds both, and opens each.
    const both = load(rotating());
    expect(cipherOf(both, 'default').open(defaultKey)).toBe(KEY);
    expect(cipherOf(both, 'acme').open(acmeKey)).toBe(KEY);
  });

  it('is sealed for its source under ODOO_API_KEY_SECRET when it has no secret of its own', () => {
    const worker = load({ ...rotating(''), SYNC_SOURCES: 'acme' });
    expect(lifecycleOf(worker, 'acme')).toMatchObject({ source: 'acme', secret: SHARED });
    const sealed = cipherOf(worker, 'acme').seal(KEY);
    expect(() => createKeyCipher({ source: 'default', secret: SHARED }).open(sealed)).toThrow(
      expect.objectContaining({ code: 'ODOO_KEY_UNREADABLE' }),
    );
  });

  it('needs a secret of its own or ODOO_API_KEY_SECRET to be renewed, each long enough', () => {
    const { ODOO_API_KEY_SECRET: _shared, ...noShared } = rotating('');
    expect(problems({ ...noShared, SYNC_SOURCES: 'acme' })).toEqual([
      'SYNC_SOURCES_FILE: sources[0].odoo.apiKeySecret: is required with ODOO_API_KEY_ROTATE=true, the renewed key being stored encrypted (or ODOO_API_KEY_SECRET, which then seals it: docs/sources.md, "Renewed keys, per source")',
    ]);
    // Its own is enough: ODOO_API_KEY_SECRET is the default source's.
    expect(
      load({ ...noShared, ...rotating(), ODOO_API_KEY_SECRET: '', SYNC_SOURCES: 'acme' }).sync
        .sources,
    ).toEqual(['acme']);
    expect(
      problems({
        ...rotating(
          '\n      apiKeySecret: { env: SHORT }\n      apiKeySecretPrevious: { env: ACME_KEY_SECRET }',
        ),
        SHORT: 'too-short',
      }),
    ).toEqual([
      'SYNC_SOURCES_FILE: sources[0].odoo.apiKeySecret: must be at least 32 characters (e.g. openssl rand -base64 32)',
    ]);
    expect(problems(rotating('\n      apiKeySecretPrevious: { env: ACME_KEY_SECRET }'))).toEqual([
      'SYNC_SOURCES_FILE: sources[0].odoo.apiKeySecretPrevious: needs apiKeySecret, the secret that replaces it',
    ]);
  });
});

describe("the API's sources", () => {
  it('are read without their credentials: it calls no Odoo, so it is never given them', () => {
    const env = {
      ...base,
      API_KEYS: `front:reader:${digest('a')}:acme`,
      SYNC_SOURCES_FILE: sources(entry('acme', 'acme', `\n      apiKey: { file: absent-key }`)),
    };
    const api = load(env, { role: 'api' });
    // Nor ODOO_*'s secret, though its environment holds it: the default source is the link's.
    expect(
      api.sources.map((source) => [source.name, source.odoo.password, source.odoo.apiKey]),
    ).toEqual([['acme', '', undefined]]);
    expect(api.odoo).toBeUndefined();
    expect(api.odooLink?.database).toBe('prod');
    // A worker reads them, and is refused without them, naming each.
    expect(problems(env)).toEqual([
      'SYNC_SOURCES_FILE: sources[0].odoo.password: SECRET is not set',
      expect.stringMatching(
        /^SYNC_SOURCES_FILE: sources\[0\]\.odoo\.apiKey: .*absent-key cannot be read: ENOENT$/,
      ),
    ]);
  });
});

describe('the default source', () => {
  it('is the Odoo of ODOO_*, as config.odoo, when there is no file', () => {
    const config = load({
      ...base,
      ODOO_PASSWORD: '',
      ODOO_API_KEY: 'odoo-k3y',
      ODOO_PROTOCOL: 'json2',
      ODOO_MAX_CONCURRENT_CALLS: '8',
      ODOO_WEBHOOK_TOKENS: digest('C'),
      SYNC_FAMILIES: 'bcs,partners',
      SYNC_EVERY: '1m',
    });
    expect(config.sources).toEqual<SourceConfig[]>([
      {
        name: 'default',
        odoo: {
          ...prod,
          password: 'odoo-k3y',
          apiKey: 'odoo-k3y',
          protocol: 'json2',
          budget: { maxConcurrentCalls: 8, maxCallsPerSecond: 0, maxWaitMs: 600_000 },
        },
        families: ['bcs', 'partners'],
        schema: 'public',
        schedule: { everyMs: 60_000, reconcileCron: '0 3 * * *' },
        concurrency: 3,
        webhookTokenSha256: [digest('c')],
      },
    ]);
    expect(config.sources[0]?.odoo).toBe(config.odoo);
    expect(config.sync.sources).toEqual(['default']);
  });

  it('is absent where no Odoo is configured: the demo, and the API without the secret', () => {
    const demo = load({}, { mode: 'demo', role: 'demo' });
    expect(demo.odoo).toBeUndefined();
    expect(demo.sources).toEqual([]);
    expect(demo.sync.sources).toEqual([]);
    const { ODOO_PASSWORD: _password, ...withoutSecret } = base;
    const api = load(
      { ...withoutSecret, API_KEYS: `front:reader:${digest('a')}` },
      { role: 'api' },
    );
    expect(api.odooLink?.database).toBe('prod');
    expect(api.sources).toEqual([]);
  });
});

describe('SYNC_SOURCES', () => {
  const withFile = () => ({
    ...withSecret,
    SYNC_SOURCES_FILE: sources(entry('acme', 'acme'), entry('beta', 'beta')),
  });

  it('picks the sources this process copies, every one when unset', () => {
    expect(load(withFile()).sync.sources).toEqual(['default', 'acme', 'beta']);
    expect(load({ ...withFile(), SYNC_SOURCES: ' beta, default,beta ' }).sync.sources).toEqual([
      'beta',
      'default',
    ]);
    // Every source of the file is still read and checked: the API and other workers copy them.
    // The default source is there when this process reads its secret: when it copies it.
    expect(
      load({ ...withFile(), SYNC_SOURCES: 'acme' }).sources.map((source) => source.name),
    ).toEqual(['acme', 'beta']);
  });

  it("starts a worker with the credentials of the sources it copies alone, never another's", () => {
    const { ODOO_PASSWORD: _password, ...withoutDefaultSecret } = base;
    const env = {
      ...withoutDefaultSecret,
      ACME_PASSWORD: 'acme-s3cret',
      SYNC_SOURCES_FILE: sources(
        entry('acme', 'acme').replace('SECRET', 'ACME_PASSWORD'),
        entry('beta', 'beta').replace('SECRET', 'BETA_PASSWORD'),
      ),
      SYNC_SOURCES: 'acme',
    };
    for (const role of ['worker', 'cli'] as const) {
      const config = load(env, { role });
      expect(config.odoo).toBeUndefined();
      expect(config.sync.sources).toEqual(['acme']);
      expect(config.sources.map((source) => [source.name, source.odoo.password])).toEqual([
        ['acme', 'acme-s3cret'],
        ['beta', ''],
      ]);
    }
    // Given the others' secrets all the same, it reads none of them.
    const given = load({ ...env, ODOO_PASSWORD: 'odoo-s3cret', BETA_PASSWORD: 'beta-s3cret' });
    expect(JSON.stringify(given)).not.toMatch(/odoo-s3cret|beta-s3cret/);
    // A worker that copies the default source, or every source, needs its secret and theirs.
    expect(problems({ ...env, SYNC_SOURCES: 'default,acme' })).toEqual([
      'ODOO_PASSWORD: is required',
    ]);
    expect(problems({ ...env, SYNC_SOURCES: '' })).toEqual([
      'ODOO_PASSWORD: is required',
      'SYNC_SOURCES_FILE: sources[1].odoo.password: BETA_PASSWORD is not set',
    ]);
  });

  it('refuses names that are no source', () => {
    expect(problems({ ...withFile(), SYNC_SOURCES: 'acme,nobody,Zeta' })).toEqual([
      'SYNC_SOURCES: "nobody" is not a source (known: default, acme, beta)',
      'SYNC_SOURCES: "Zeta" is not a source (known: default, acme, beta)',
    ]);
    expect(problems({ ...base, SYNC_SOURCES: 'acme' })).toEqual([
      'SYNC_SOURCES: "acme" is not a source (known: default)',
    ]);
    expect(
      configRefusal(() => load({ SYNC_SOURCES: 'default' }, { mode: 'demo', role: 'demo' }))
        .problems,
    ).toEqual([{ key: 'SYNC_SOURCES', message: '"default" is not a source (none is configured)' }]);
    // A file that cannot be read is the problem, not the names it did not give.
    expect(
      problems({ ...base, SYNC_SOURCES_FILE: join(dir, 'absent.yaml'), SYNC_SOURCES: 'acme' }),
    ).toEqual(['SYNC_SOURCES_FILE: cannot be read: ENOENT']);
  });
});

describe('ODOO_CONTEXT, checked as a source’s context is', () => {
  it('must be a JSON object without active_test', () => {
    expect(load({ ...base, ODOO_CONTEXT: '{"lang":"fr_FR"}' }).odoo?.context).toEqual({
      lang: 'fr_FR',
    });
    expect(problems({ ...base, ODOO_CONTEXT: '[1]' })).toEqual([
      'ODOO_CONTEXT: must be a JSON object such as {"lang":"fr_FR"}',
    ]);
    expect(problems({ ...base, ODOO_CONTEXT: '{lang' })).toEqual([
      'ODOO_CONTEXT: must be a JSON object such as {"lang":"fr_FR"}',
    ]);
    expect(problems({ ...base, ODOO_CONTEXT: '{"active_test":true}' })).toEqual([
      'ODOO_CONTEXT: must not set active_test: the sync always reads archived BCs too',
    ]);
  });
});
