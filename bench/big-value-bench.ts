/**
 * One large value, measured against the memory limits the deployment gives each process
 * (deploy/kubernetes/worker.yaml, api.yaml): an Odoo user writes a text of 100 MB into a BC
 * line's description (`dimagaz.bc.line`.`name`, a `text` field the BC family types: the copy
 * holds it in its column and in `data`), then
 *
 * 1. the compiled worker, started as `npm run start:worker` starts it (its Node options and
 *    memory settings), makes a first copy of the BCs, that line among them, over each transport
 *    asked for; the bench checks the copy is exact (the column and `data` against the text's
 *    digest) and prints the worker's peak RSS (the kernel's VmHWM);
 * 2. the compiled API, started as `npm start` starts it, is sent 12 requests at once for that
 *    record (three reader keys, four requests each: the most `API_MAX_IN_FLIGHT_PER_KEY` lets a
 *    key have), its detail and list and its BC's details, and then 12 downloads of the value
 *    through its field route; the bench prints the API's peak RSS after each, and checks a
 *    download is the text, byte for byte.
 *
 * `npx tsx bench/big-value-bench.ts [--megabytes 100] [--protocol jsonrpc]… [--json]`, or
 * `npm run bench -- bigvalue`. It builds dist/ first, unless `--no-build`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { createOdooClient, type OdooProtocol } from '../src/clients/odoo/index.js';
import { generateApiKey } from '../src/config/api-keys.js';
import type { DbHandle } from '../src/db/create-db.js';
import { BC_LINE_MODEL, BC_MODEL, bcsFamily } from '../src/families/bcs/family.js';
import { modelList } from '../src/http/records/model-list.js';
import { setPaused } from '../src/sync/sync-state.js';
import { startSandboxProcess, stopChild } from '../dev/services/sandbox-process.js';
import { startLocalPostgres, startLocalRedis } from '../test/helpers/local-services.js';
import { startApiProcess } from './bench-api.js';
import { BUILD_OPTIONS, parseBenchArgs, TRANSPORTS } from './bench-args.js';
import { timedSyncRun } from './bench-runtime.js';
import { buildDist, createDatabase, peakRssMb, startWorker } from './sync-bench.js';

/** BCs the sandbox holds, ten lines each: a first copy of a few pages around the large one. */
const ORDERS = 2_000;
const LINES = 10;
/** Requests in flight at once, and the keys they come from (API_MAX_IN_FLIGHT_PER_KEY each). */
const REQUESTS = 12;
const KEYS = 3;

export interface BigValueResult {
  readonly megabytes: number;
  /** The deployment's memory limits, in MB (MiB as Kubernetes writes them). */
  readonly limitsMb: { readonly worker: number; readonly api: number };
  readonly copies: readonly {
    readonly protocol: OdooProtocol;
    readonly seconds: number;
    readonly odooCalls: number;
    readonly workerPeakRssMb: number;
  }[];
  readonly api: {
    /** The API's resident memory once listening, before any request. */
    readonly idleRssMb: number;
    /** Its peak after 12 requests at once for the record (detail and list). */
    readonly recordsPeakRssMb: number;
    /** The largest of those answers, in bytes. */
    readonly largestAnswerBytes: number;
    /** Their HTTP statuses. */
    readonly statuses: readonly number[];
    /** Its peak after 12 downloads of the value at once through the field route. */
    readonly fieldPeakRssMb?: number;
    readonly fieldSeconds?: number;
  };
}

/** A memory limit of a deployment's first container, in MB (deploy/kubernetes/<name>.yaml). */
export function memoryLimitMb(name: string): number {
  const manifest = readFileSync(`deploy/kubernetes/${name}.yaml`, 'utf8');
  const match = /limits:\s*\{[^}]*memory:\s*(\d+)(Mi|Gi)/.exec(manifest);
  if (!match) throw new Error(`no memory limit in deploy/kubernetes/${name}.yaml`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1_024 : 1);
}

/**
 * `bytes` bytes of text in words, some of them accented (two bytes each in UTF-8), as a note is:
 * random enough that PostgreSQL's compression cannot shrink it to nothing.
 */
function noteText(bytes: number): string {
  const words = ['commande', 'livraison', 'bouteille', 'détendeur', 'été', 'gaz', 'échéance'];
  const noise = randomBytes(Math.ceil(bytes / 4));
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i += 1) {
    const word = `${words[noise[i % noise.length]! % words.length]!}${noise[(i * 7) % noise.length]!} `;
    parts.push(word);
    length += Buffer.byteLength(word);
  }
  return Buffer.from(parts.join(''))
    .subarray(0, bytes)
    .toString('utf8')
    .replace(/\uFFFD+$/, '');
}

const md5 = (value: string | Buffer) => createHash('md5').update(value).digest('hex');

export function residentMb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Math.round(Number(match![1]) / 1_024);
}

/** Sends every request at once; resolves with each answer's status and body. */
export async function allAtOnce(
  origin: string,
  requests: readonly { path: string; authorization: string }[],
): Promise<{ status: number; body: Buffer }[]> {
  return Promise.all(
    requests.map(async ({ path, authorization }) => {
      const response = await fetch(`${origin}${path}`, { headers: { authorization } });
      return { status: response.status, body: Buffer.from(await response.arrayBuffer()) };
    }),
  );
}

export async function runBigValueBench(input: {
  megabytes: number;
  protocols: readonly OdooProtocol[];
  /** Whether the API has the field route (the code before it had none). */
  fieldRoute?: boolean;
  /** Extra environment for the API (`API_STATEMENT_TIMEOUT_MS=60000` …). */
  apiEnv?: Record<string, string>;
}): Promise<BigValueResult> {
  const logger = pino({ level: 'warn' });
  const [pg, redis, sandbox] = await Promise.all([
    startLocalPostgres(),
    startLocalRedis(),
    startSandboxProcess({ orders: ORDERS, lines: LINES }),
  ]);
  const closers: (() => Promise<unknown>)[] = [
    () => sandbox.stop(),
    () => redis.stop(),
    () => pg.stop(),
  ];
  try {
    const odoo = createOdooClient(
      {
        url: sandbox.env.ODOO_URL!,
        database: sandbox.env.ODOO_DATABASE!,
        username: sandbox.env.ODOO_USERNAME!,
        password: sandbox.env.ODOO_PASSWORD!,
        protocol: 'jsonrpc',
        timeoutMs: 300_000,
        retries: 0,
      },
      { logger },
    );
    closers.unshift(() => odoo.close());
    const bcId = (
      await odoo.search(BC_MODEL, [], { order: 'id asc', limit: 1, offset: ORDERS / 2 })
    )[0]!;
    const [lineId] = await odoo.search(BC_LINE_MODEL, [['bc_id', '=', bcId]], {
      order: 'id asc',
      limit: 1,
    });
    let text: string | undefined = noteText(input.megabytes * 1_000_000);
    const digest = md5(text);
    const bytes = Buffer.byteLength(text);
    await odoo.executeKw(BC_LINE_MODEL, 'write', [[lineId], { name: text }]);
    text = undefined;

    const copies: BigValueResult['copies'][number][] = [];
    let copied: DbHandle | undefined;
    for (const protocol of input.protocols) {
      const db = await createDatabase(pg.url, `bigvalue_${protocol}`);
      closers.unshift(() => db.close());
      await setPaused(db.db, bcsFamily.name, 'bench');
      const prefix = `bench-${randomBytes(3).toString('hex')}`;
      const worker = await startWorker(
        {
          PATH: process.env.PATH,
          HOME: process.env.HOME ?? '/tmp',
          DATABASE_URL: db.url,
          REDIS_URL: redis.url,
          QUEUE_PREFIX: prefix,
          ODOO_URL: sandbox.env.ODOO_URL,
          ODOO_DATABASE: sandbox.env.ODOO_DATABASE,
          ODOO_USERNAME: sandbox.env.ODOO_USERNAME,
          ODOO_PASSWORD: sandbox.env.ODOO_PASSWORD,
          ODOO_PROTOCOL: protocol,
          SYNC_FAMILIES: bcsFamily.name,
          SYNC_EVERY: '1h',
          WORKER_HTTP_PORT: '0',
          // startWorker waits for the `worker started` line, logged at info.
          LOG_LEVEL: 'info',
          LOG_PRETTY: 'false',
        },
        [],
        false,
      );
      try {
        const { seconds, result } = await timedSyncRun(redis.url, prefix, logger);
        if (result.status !== 'succeeded' || (result.counts.failed ?? 0) > 0)
          throw new Error(`the copy over ${protocol}: ${JSON.stringify(result)}`);
        const copy = {
          protocol,
          seconds,
          odooCalls: result.counts.odooCalls ?? 0,
          workerPeakRssMb: peakRssMb(worker.pid!),
        };
        process.stderr.write(`copied over ${protocol}: ${JSON.stringify(copy)}\n`);
        copies.push(copy);
      } finally {
        await stopChild(worker);
      }
      const [row] = await db.sql!<{ column: string; data: string; bytes: number }[]>`
        select md5(name) as column,
          md5(sync_restored_data('scrap_dimagaz_bc_line', odoo_id, data)->>'name') as data,
          octet_length(name) as bytes
        from scrap_dimagaz_bc_line where odoo_id = ${lineId!}`;
      if (row?.column !== digest || row.data !== digest || row.bytes !== bytes)
        throw new Error(`the copy over ${protocol} is not the text Odoo holds`);
      copied = db;
    }

    const keys = Array.from({ length: KEYS }, (_, i) => generateApiKey(`bench-${i}`, 'reader'));
    const api = await startApiProcess({
      PATH: process.env.PATH ?? '',
      DATABASE_URL: copied!.url!,
      REDIS_URL: redis.url,
      API_KEYS: keys.map((key) => key.entry).join(','),
      LOG_LEVEL: 'warn',
      LOG_PRETTY: 'false',
      ...input.apiEnv,
    });
    closers.unshift(() => stopChild(api.child));
    const idleRssMb = residentMb(api.child.pid!);
    const parentKey = modelList(bcsFamily.children[0]!).parentKey;
    const paths = [
      `/api/models/${BC_LINE_MODEL}/records/${lineId}`,
      `/api/models/${BC_LINE_MODEL}/records?${parentKey}=${bcId}`,
      `/api/bcs/${bcId}`,
      `/api/models/${BC_MODEL}/records/${bcId}`,
    ];
    const requests = Array.from({ length: REQUESTS }, (_, i) => ({
      path: paths[i % paths.length]!,
      authorization: `Bearer ${keys[i % KEYS]!.key}`,
    }));
    const answers = await allAtOnce(api.origin, requests);
    const recordsPeakRssMb = peakRssMb(api.child.pid!);
    const largestAnswerBytes = Math.max(...answers.map((answer) => answer.body.length));
    const statuses = answers.map((answer) => answer.status);
    let field: { fieldPeakRssMb: number; fieldSeconds: number } | undefined;
    if (input.fieldRoute !== false) {
      const startedMs = performance.now();
      const downloads = await allAtOnce(
        api.origin,
        requests.map((request) => ({
          ...request,
          path: `/api/models/${BC_LINE_MODEL}/records/${lineId}/fields/name`,
        })),
      );
      if (downloads.some((d) => d.status !== 200 || md5(d.body) !== digest))
        throw new Error('a download of the field is not the text Odoo holds');
      field = {
        fieldPeakRssMb: peakRssMb(api.child.pid!),
        fieldSeconds: (performance.now() - startedMs) / 1_000,
      };
    }
    return {
      megabytes: input.megabytes,
      limitsMb: { worker: memoryLimitMb('worker'), api: memoryLimitMb('api') },
      copies,
      api: { idleRssMb, recordsPeakRssMb, largestAnswerBytes, statuses, ...field },
    };
  } finally {
    for (const close of closers) await close().catch(() => undefined);
  }
}

/** The result as lines of text. */
export function describeBigValueBench(result: BigValueResult): string[] {
  return [
    ...result.copies.map(
      (copy) =>
        `worker, first copy with a text of ${result.megabytes} MB over ${copy.protocol}: peak RSS ${copy.workerPeakRssMb} MB (limit ${result.limitsMb.worker} MB), ${copy.seconds.toFixed(1)} s, ${copy.odooCalls} Odoo calls`,
    ),
    `API, ${REQUESTS} requests at once for the record (detail and list): peak RSS ${result.api.recordsPeakRssMb} MB (idle ${result.api.idleRssMb} MB; limit ${result.limitsMb.api} MB), largest answer ${result.api.largestAnswerBytes.toLocaleString('en-US')} bytes, statuses ${[...new Set(result.api.statuses)].map((status) => `${status} × ${result.api.statuses.filter((s) => s === status).length}`).join(', ')}`,
    ...(result.api.fieldPeakRssMb === undefined
      ? []
      : [
          `API, ${REQUESTS} downloads of the value at once through its field route: peak RSS ${result.api.fieldPeakRssMb} MB, ${result.api.fieldSeconds!.toFixed(1)} s`,
        ]),
  ];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseBenchArgs({
    command: 'npx tsx bench/big-value-bench.ts',
    about:
      "One large value against the memory limits the deployment gives each process: a text in a BC line's description, copied by the compiled worker over each transport asked for, then read and downloaded 12 times at once through the compiled API; each process's peak RSS.",
    options: {
      megabytes: {
        type: 'string',
        value: 'MB',
        default: '100',
        number: 'decimal',
        about: "the text's size, in millions of bytes",
      },
      protocol: {
        type: 'string',
        value: TRANSPORTS.join('|'),
        multiple: true,
        defaultText: 'jsonrpc',
        choices: TRANSPORTS,
        about: 'a transport the worker copies over',
      },
      ...BUILD_OPTIONS,
      'no-field-route': {
        type: 'boolean',
        about: 'skip the downloads through the field route (code from before it had none)',
      },
      'api-env': {
        type: 'string',
        value: 'K=V',
        multiple: true,
        about: "a setting for the API's environment, say API_STATEMENT_TIMEOUT_MS=60000",
      },
      json: { type: 'boolean', about: 'print the result as JSON' },
    },
    examples: [
      'npx tsx bench/big-value-bench.ts --megabytes 10 --protocol jsonrpc --protocol xmlrpc',
      'npm run bench -- bigvalue',
    ],
  });
  if (!values['no-build']) buildDist();
  const result = await runBigValueBench({
    megabytes: Number(values.megabytes),
    protocols: values.protocol ?? ['jsonrpc'],
    fieldRoute: !values['no-field-route'],
    apiEnv: Object.fromEntries(
      (values['api-env'] ?? []).map((pair) => [
        pair.split('=')[0]!,
        pair.split('=').slice(1).join('='),
      ]),
    ),
  });
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else for (const line of describeBigValueBench(result)) process.stdout.write(`${line}\n`);
  process.exit(0);
}
