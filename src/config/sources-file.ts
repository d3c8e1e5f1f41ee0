/**
 * The Odoo databases a deployment copies beside the one of ODOO_* (`SYNC_SOURCES_FILE`, YAML or
 * JSON; docs/sources.md), read and checked once at boot: every bad entry is named by its path in
 * the file, as a bad key of the environment is. The file holds no secret, so that it may sit in a
 * ConfigMap: a credential is the name of an environment variable or the path of a file (a mounted
 * secret), read here, and a problem names the variable or the file, never what it holds.
 *
 * ```yaml
 * sources:
 *   - name: acme
 *     odoo:
 *       url: https://acme.odoo.example
 *       database: acme
 *       username: sync@acme.example
 *       apiKey: { env: ACME_ODOO_API_KEY }     # or { file: /run/secrets/acme-odoo-key }
 *       apiKeySecret: { env: ACME_ODOO_API_KEY_SECRET }  # seals its renewed key; else ODOO_API_KEY_SECRET
 *     families: [bcs, partners]                # default: those SYNC_FAMILIES copies
 *     budget: { maxConcurrentCalls: 4 }        # default: ODOO_MAX_*
 *     concurrency: 2                           # a worker's jobs of it at once; default: SYNC_CONCURRENCY
 *     schedule: { every: 10m }                 # default: SYNC_EVERY, SYNC_RECONCILE_CRON
 *     schema: acme                             # default: the name
 *     webhookTokens: { env: ACME_WEBHOOK_TOKENS }
 * ```
 *
 * What a source leaves out is the environment's; sources.ts builds each one's settings from both.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import type { RecordFamily } from '../families/family.js';
import type { FamiliesConfig } from '../families/load-families.js';
import { DEFAULT_SOURCE, SOURCE_NAME } from '../sources/family-key.js';
import { MAX_IDENTIFIER } from '../families/table-plan.js';
import { readDeclarationFile } from './declaration-file.js';
import { declaredSchedule } from './declared-schedule.js';
import type { Env } from './env-schema.js';
import { list, odooContextObject, oneOf, url } from './env-values.js';
import { ODOO_PROTOCOLS } from './settings/copy-settings.js';
import { DEFAULT_SCHEMA, type DeclaredSource } from './sources.js';
import { webhookTokenProblems } from './webhook-tokens.js';

/** Where a secret is: never the secret itself, which would then sit in the file. */
const secretReference = z.union(
  [
    z
      .object({
        env: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable'),
      })
      .strict(),
    z.object({ file: z.string().trim().min(1, 'must be a path') }).strict(),
  ],
  {
    error: (issue) =>
      typeof issue.input === 'string'
        ? 'must not be written in the file: use { env: NAME } or { file: PATH }'
        : 'must be { env: NAME } or { file: PATH }',
  },
);
type SecretReference = z.output<typeof secretReference>;

const odooUrl = url(['http:', 'https:']).refine((text) => {
  const parsed = URL.parse(text);
  return parsed === null || (parsed.username === '' && parsed.password === '');
}, 'must not carry credentials (user:password@): give them as password or apiKey');

const calls = (max: number) => {
  const error = `must be a whole number of calls between 0 and ${max}`;
  return z.number({ error }).int({ error }).min(0, { error }).max(max, { error }).optional();
};

const source = z
  .object({
    name: z
      .string()
      .regex(
        SOURCE_NAME,
        'must be a lowercase letter, then up to 30 lowercase letters, digits or _',
      ),
    odoo: z
      .object({
        url: odooUrl,
        database: z.string().trim().min(1, 'must not be empty'),
        username: z.string().trim().min(1, 'must not be empty'),
        password: secretReference.optional(),
        apiKey: secretReference.optional(),
        apiKeySecret: secretReference.optional(),
        apiKeySecretPrevious: secretReference.optional(),
        protocol: oneOf(ODOO_PROTOCOLS).default('auto'),
        context: odooContextObject(
          'must be a mapping such as { lang: fr_FR, tz: Europe/Paris }',
        ).optional(),
      })
      .strict(),
    families: z.array(z.string()).min(1, 'must name a family, or be left out for all').optional(),
    budget: z
      .object({ maxConcurrentCalls: calls(1_000), maxCallsPerSecond: calls(10_000) })
      .strict()
      .default({}),
    concurrency: z
      .number({ error: 'must be a whole number of jobs between 1 and 64' })
      .int({ error: 'must be a whole number of jobs between 1 and 64' })
      .min(1, { error: 'must be a whole number of jobs between 1 and 64' })
      .max(64, { error: 'must be a whole number of jobs between 1 and 64' })
      .optional(),
    schedule: declaredSchedule,
    schema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/, 'must be a lowercase identifier: letters, digits and _')
      .max(MAX_IDENTIFIER, `must be at most ${MAX_IDENTIFIER} characters, as PostgreSQL's names`)
      .optional(),
    webhookTokens: secretReference.optional(),
  })
  .strict();

const file = z.object({ sources: z.array(source).min(1) }).strict();

/** Schemas no source copies into, and why. */
const RESERVED_SCHEMAS = new Map([
  [DEFAULT_SCHEMA, "is the default source's, beside the sync's own tables"],
  ['information_schema', "is PostgreSQL's own"],
  ['bullmq', 'holds the queues with QUEUE_BACKEND=postgres'],
  ['drizzle', "holds the migrations' journal"],
]);

function reservedSchema(schema: string): string | undefined {
  return schema.startsWith('pg_') ? "is PostgreSQL's own (pg_*)" : RESERVED_SCHEMAS.get(schema);
}

/** An Odoo database as its server knows it: two URLs that differ only in case or a final `/` are one. */
function databaseKey(url: string, database: string): string {
  const parsed = URL.parse(url.trim());
  const server = parsed ? `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}` : url.trim();
  return `${server} ${database.trim()}`;
}

interface SourcesFileContext {
  /** Where `{ env }` references are read: the environment the configuration is loaded from. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Family names a source may list; undefined when SYNC_FAMILIES_FILE could not be read. */
  readonly families: readonly string[] | undefined;
  /** ODOO_API_KEY_ROTATE: every source's key is renewed then, from the key itself. */
  readonly rotatesApiKeys: boolean;
  /**
   * ODOO_API_KEY_SECRET and ODOO_API_KEY_SECRET_PREVIOUS: what seals the renewed key of a source
   * without an `apiKeySecret` of its own.
   */
  readonly sharedKeySecret: { readonly secret?: string; readonly previous?: string };
  /**
   * Whether the process reads a source's credentials: it calls that source's Odoo. The API calls
   * none, and a worker only the sources it copies, so each is given only its own (least
   * privilege) and reads the others without them.
   */
  readonly readsSecretsOf: (source: string) => boolean;
}

/**
 * A credential's value: the variable's, or the file's (a relative path is the sources file's
 * neighbour; trimmed, as a mounted secret often ends with a newline). Undefined, and a problem,
 * when there is none.
 */
function readSecret(
  reference: SecretReference,
  where: string,
  { env, dir }: { env: SourcesFileContext['env']; dir: string },
  problems: string[],
): string | undefined {
  if ('env' in reference) {
    const value = env[reference.env]?.trim();
    if (!value) problems.push(`${where}: ${reference.env} is not set`);
    return value || undefined;
  }
  const path = resolve(dir, reference.file);
  let value: string;
  try {
    value = readFileSync(path, 'utf8').trim();
  } catch (error) {
    problems.push(`${where}: ${path} cannot be read: ${(error as NodeJS.ErrnoException).code}`);
    return undefined;
  }
  if (!value) problems.push(`${where}: ${path} is empty`);
  return value || undefined;
}

function readSources(
  path: string,
  context: SourcesFileContext,
): { sources: DeclaredSource[] | undefined; problems: string[] } {
  const read = readDeclarationFile(path, file);
  if (!read.ok) return { sources: undefined, problems: read.problems };

  const problems: string[] = [];
  const names = new Set<string>();
  const schemas = new Set<string>();
  // Who copies each Odoo database, and whose each webhook token is: the default source first.
  const databases = new Map<string, string>();
  const { ODOO_URL, ODOO_DATABASE } = context.env;
  if (ODOO_URL?.trim() && ODOO_DATABASE?.trim())
    databases.set(
      databaseKey(ODOO_URL, ODOO_DATABASE),
      "the default source's (ODOO_URL, ODOO_DATABASE)",
    );
  const tokens = new Map(
    list()
      .parse(context.env.ODOO_WEBHOOK_TOKENS ?? '')
      .map((digest) => [digest.toLowerCase(), "in ODOO_WEBHOOK_TOKENS (the default source's)"]),
  );
  const secret = (reference: SecretReference, where: string) =>
    readSecret(reference, where, { env: context.env, dir: dirname(path) }, problems);

  const sources = read.data.sources.map((entry, i): DeclaredSource => {
    const at = `sources[${i}]`;
    if (entry.name === DEFAULT_SOURCE)
      problems.push(`${at}.name: default is the source of ODOO_*: name this one otherwise`);
    else if (names.has(entry.name))
      problems.push(`${at}.name: ${entry.name} is taken by another source`);
    names.add(entry.name);

    const schema = entry.schema ?? entry.name;
    const reserved = reservedSchema(schema);
    if (reserved)
      problems.push(
        `${at}.schema: ${schema} ${reserved}${entry.schema === undefined ? ': it is the name, set schema' : ''}`,
      );
    else if (schemas.has(schema)) problems.push(`${at}.schema: ${schema} is another source's`);
    schemas.add(schema);

    const database = databaseKey(entry.odoo.url, entry.odoo.database);
    const holder = databases.get(database);
    if (holder)
      problems.push(
        `${at}.odoo: url and database are ${holder} already: one source per Odoo database`,
      );
    databases.set(database, `source ${entry.name}'s`);

    const known = context.families;
    entry.families?.forEach((family, f) => {
      if (known && !known.includes(family))
        problems.push(
          `${at}.families[${f}]: ${family} is not a record family (known: ${known.join(', ')})`,
        );
    });

    const { odoo } = entry;
    const credential = (reference: SecretReference | undefined, where: string) =>
      reference && context.readsSecretsOf(entry.name) ? secret(reference, where) : undefined;
    const password = credential(odoo.password, `${at}.odoo.password`);
    const apiKey = credential(odoo.apiKey, `${at}.odoo.apiKey`);
    if (!odoo.password && !odoo.apiKey)
      problems.push(`${at}.odoo: needs a password or an apiKey, as { env } or { file }`);
    // As for ODOO_API_KEY: JSON-2 takes no password, and a key is renewed from itself.
    if (!odoo.apiKey && odoo.protocol === 'json2')
      problems.push(
        `${at}.odoo.apiKey: is required with protocol json2: JSON-2 takes an API key, never the password`,
      );
    if (!odoo.apiKey && context.rotatesApiKeys)
      problems.push(
        `${at}.odoo.apiKey: is required with ODOO_API_KEY_ROTATE=true: a key is renewed from the key itself`,
      );
    // The secret its renewed key is sealed under: its own, which no other source's worker holds,
    // or the deployment's, which every worker that renews a key without its own holds.
    const ownSecret = credential(odoo.apiKeySecret, `${at}.odoo.apiKeySecret`);
    const ownPrevious = credential(odoo.apiKeySecretPrevious, `${at}.odoo.apiKeySecretPrevious`);
    if (odoo.apiKeySecretPrevious && !odoo.apiKeySecret)
      problems.push(
        `${at}.odoo.apiKeySecretPrevious: needs apiKeySecret, the secret that replaces it`,
      );
    for (const [name, value] of [
      ['apiKeySecret', ownSecret],
      ['apiKeySecretPrevious', ownPrevious],
    ] as const)
      if (value !== undefined && value.length < 32)
        problems.push(
          `${at}.odoo.${name}: must be at least 32 characters (e.g. openssl rand -base64 32)`,
        );
    const sealing = !context.readsSecretsOf(entry.name)
      ? {}
      : odoo.apiKeySecret
        ? { secret: ownSecret, previous: ownPrevious }
        : context.sharedKeySecret;
    if (
      context.rotatesApiKeys &&
      odoo.apiKey &&
      context.readsSecretsOf(entry.name) &&
      !odoo.apiKeySecret &&
      !sealing.secret
    )
      problems.push(
        `${at}.odoo.apiKeySecret: is required with ODOO_API_KEY_ROTATE=true, the renewed key being stored encrypted (or ODOO_API_KEY_SECRET, which then seals it: docs/sources.md, "Renewed keys, per source")`,
      );

    const digests = entry.webhookTokens
      ? list()
          .parse(secret(entry.webhookTokens, `${at}.webhookTokens`) ?? '')
          .map((digest) => digest.toLowerCase())
      : [];
    for (const message of webhookTokenProblems(digests))
      problems.push(`${at}.webhookTokens: ${message}`);
    // A token routes Odoo's webhook to one source.
    digests.forEach((digest, t) => {
      const owner = tokens.get(digest);
      if (owner)
        problems.push(
          `${at}.webhookTokens: entry ${t + 1} is ${owner} too: a token is one source's`,
        );
    });
    for (const digest of digests) tokens.set(digest, `source ${entry.name}'s`);

    return {
      name: entry.name,
      odoo: {
        url: odoo.url,
        database: odoo.database,
        username: odoo.username,
        // Empty beside a problem named above (the configuration is refused then), or where it is
        // not read (the API, a worker of other sources).
        password: password || apiKey || '',
        ...(apiKey ? { apiKey } : {}),
        ...(sealing.secret ? { apiKeySecret: sealing.secret } : {}),
        ...(sealing.previous ? { apiKeySecretPrevious: sealing.previous } : {}),
        protocol: odoo.protocol,
        ...(odoo.context ? { context: odoo.context } : {}),
      },
      ...(entry.families ? { families: [...new Set(entry.families)] } : {}),
      budget: entry.budget,
      ...(entry.concurrency === undefined ? {} : { concurrency: entry.concurrency }),
      schedule: entry.schedule,
      schema,
      webhookTokenSha256: [...new Set(digests)],
    };
  });
  return { sources, problems };
}

/**
 * SYNC_SOURCES_FILE's sources, none without the file; undefined when it could not be read or does
 * not match its schema. Its problems are added to `problems`, under SYNC_SOURCES_FILE.
 */
export function readSourcesFile(
  env: Readonly<Record<string, string | undefined>>,
  parsed: Env | undefined,
  codeFamilies: readonly RecordFamily[],
  families: FamiliesConfig,
  problems: { key: string; message: string }[],
  readsSecretsOf: (source: string) => boolean,
): DeclaredSource[] | undefined {
  const path = env.SYNC_SOURCES_FILE?.trim();
  if (!path) return [];
  // A families file that could not be read is the problem, not the families it did not give.
  const familiesFileFailed = problems.some((problem) => problem.key === 'SYNC_FAMILIES_FILE');
  const read = readSources(path, {
    env,
    families: familiesFileFailed
      ? undefined
      : [
          ...codeFamilies.map((family) => family.name),
          ...families.configured.map((family) => family.name),
        ],
    rotatesApiKeys: parsed?.ODOO_API_KEY_ROTATE === true,
    sharedKeySecret: {
      ...(parsed?.ODOO_API_KEY_SECRET ? { secret: parsed.ODOO_API_KEY_SECRET } : {}),
      ...(parsed?.ODOO_API_KEY_SECRET_PREVIOUS
        ? { previous: parsed.ODOO_API_KEY_SECRET_PREVIOUS }
        : {}),
    },
    readsSecretsOf,
  });
  for (const message of read.problems) problems.push({ key: 'SYNC_SOURCES_FILE', message });
  return read.sources;
}
