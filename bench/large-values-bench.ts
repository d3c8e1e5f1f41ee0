/**
 * A record's large values, measured against the memory limits the deployment gives each process
 * (deploy/kubernetes/worker.yaml, api.yaml). The sandbox, in a process of its own, holds 1,002 BCs
 * of ten lines, among them
 *
 * - a BC holding four values of 99 MB: its notes (html, kept in `data`) and three of its lines'
 *   descriptions (text: a column and `data`), the record the copy reads and writes together;
 * - a BC whose line holds a description of 300 MB, past ODOO_VALUE_MAX_BYTES (256 MiB);
 *
 * then, over each transport asked for, the compiled worker (as `npm run start:worker` starts it)
 * makes a first copy of the family into a database of its own: the bench checks the first BC's
 * copy against its values' digests, that the second failed alone with its line's field and size
 * named in sync_failure, that every other BC is copied and that nothing is left staged, and prints
 * the worker's peak RSS (the kernel's VmHWM) and the time, with the machine's load.
 *
 * The compiled API (as `npm start` starts it) on the last copy is then sent 12 requests at once for
 * that BC (its detail and its children, /api/bcs, its lines' list, a line's detail) and 12
 * downloads at once of its four values through their field routes; the bench checks each download
 * against its digest and prints the API's peak RSS.
 *
 * With `--baseline <checkout>` (another worktree of the project, its dist/ built: main's code), it
 * then times the ordinary records' copy — `--ordinary` BCs of ten lines, no large value — by the
 * baseline's worker and this one's, in turn (A B A B), over each transport, each copy into a
 * database of its own.
 *
 * `npx tsx bench/large-values-bench.ts [--protocol jsonrpc]… [--baseline DIR] [--ordinary N]
 * [--liveness-timeout-ms MS] [--json]`, or `npm run bench -- large-values`. It builds dist/
 * first, unless `--no-build`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { createOdooClient, type OdooProtocol } from '../src/clients/odoo/index.js';
import { generateApiKey } from '../src/config/api-keys.js';
import type { DbHandle } from '../src/db/create-db.js';
import { BC_LINE_MODEL, BC_MODEL, bcsFamily } from '../src/families/bcs/family.js';
import { modelList } from '../src/http/records/model-list.js';
import type { Logger } from '../src/lib/logger.js';
import { setPaused } from '../src/sync/sync-state.js';
import { startSandboxProcess, stopChild } from '../dev/services/sandbox-process.js';
import { startLocalPostgres, startLocalRedis } from '../test/helpers/local-services.js';
import { startApiProcess } from './bench-api.js';
import { BUILD_OPTIONS, parseBenchArgs, TRANSPORTS } from './bench-args.js';
import { timedSyncRun } from './bench-runtime.js';
import { allAtOnce, memoryLimitMb, residentMb } from './big-value-bench.js';
import { buildDist, createDatabase, peakRssMb, startWorker } from './sync-bench.js';

/** Ordinary BCs around the two large ones, ten lines each. */
const ORDINARY = 1_000;
const LINES = 10;
const LARGE_MB = 99;
const TOO_LARGE_MB = 300;
/** Requests in flight at once, and the keys they come from (API_MAX_IN_FLIGHT_PER_KEY each). */
const REQUESTS = 12;
const KEYS = 3;
/** BCs of the ordinary records' copy against a baseline, unless told. */
const ORDINARY_BCS = 10_000;
/**
 * The goals (docs/performance.md): two thirds of the worker's limit and three quarters of the
 * API's, the rest left to the other jobs and requests each process runs meanwhile.
 */
export const LARGE_VALUES_GOALS_MB = { worker: 512, api: 384 } as const;

/** The machine's load over the last minute, on its two cores. */
const load = () => Number(loadavg()[0]!.toFixed(1));

export interface LargeValuesResult {
  readonly limitsMb: { readonly worker: number; readonly api: number };
  readonly copies: readonly {
    readonly protocol: OdooProtocol;
    readonly seconds: number;
    readonly odooCalls: number;
    readonly workerPeakRssMb: number;
    /** What sync_failure says of the BC past the largest value. */
    readonly failure: string;
    readonly load: number;
  }[];
  readonly api: {
    readonly idleRssMb: number;
    /** Its peak after 12 requests at once for the BC of four large values. */
    readonly recordsPeakRssMb: number;
    readonly largestAnswerBytes: number;
    readonly statuses: readonly number[];
    /** Its peak after 12 downloads at once of those values. */
    readonly fieldPeakRssMb: number;
    /** Downloads answered 200 with Odoo's value, byte for byte. */
    readonly downloadsWhole: number;
    readonly fieldSeconds: number;
    readonly load: number;
  };
  /** With a baseline: the ordinary records' copy, each worker in turn. */
  readonly ordinary?: {
    readonly bcs: number;
    readonly copies: readonly {
      readonly protocol: OdooProtocol;
      readonly code: 'this' | 'baseline';
      readonly seconds: number;
      readonly workerPeakRssMb: number;
      readonly load: number;
    }[];
  };
}

/** Bytes of words a note repeats: past the windows PostgreSQL's compressions look back in. */
const NOTE_BLOCK_BYTES = 1_048_576;

/**
 * `bytes` bytes of a note in words, some accented (two bytes in UTF-8), and its MD5: a block of a
 * megabyte of random words, different for each note, repeated, each copy cut after a word. A
 * repeat a megabyte away is past what pglz (4 KiB) and lz4 (64 KiB) look back on, so PostgreSQL's
 * compression shrinks it no more than it would a note written word by word.
 */
function noteOf(bytes: number): { text: string; md5: string } {
  const words = ['commande', 'livraison', 'bouteille', 'détendeur', 'été', 'gaz', 'échéance'].map(
    (word) => Buffer.from(`${word} `),
  );
  const block = Buffer.alloc(NOTE_BLOCK_BYTES + 32);
  const noise = randomBytes(NOTE_BLOCK_BYTES);
  let blockBytes = 0;
  for (let i = 0; blockBytes < NOTE_BLOCK_BYTES; i += 1) {
    blockBytes += words[noise[i]! % words.length]!.copy(block, blockBytes);
    blockBytes += block.write(`${noise[(i * 7) % noise.length]} `, blockBytes);
  }
  const buffer = Buffer.alloc(bytes, 0x20);
  for (let at = 0; at < bytes;) {
    // Cut after a word's space, never inside a character.
    const end = block.lastIndexOf(0x20, Math.min(blockBytes, bytes - at) - 1) + 1;
    if (end === 0) break;
    at += block.copy(buffer, at, 0, end);
  }
  return {
    text: buffer.toString('utf8'),
    md5: createHash('md5').update(buffer).digest('hex'),
  };
}

/**
 * The sandbox of `orders` BCs, a client of it for the bench's reads, and its writes of a value.
 * Each write has a client of its own: building a value takes the bench's event loop for longer
 * than the sandbox keeps an idle connection open, and a client kept from before would write into
 * a connection the sandbox has closed.
 */
async function startOdoo(orders: number, logger: Logger) {
  const sandbox = await startSandboxProcess({
    orders,
    lines: LINES,
    // It holds the values and builds answers of hundreds of megabytes.
    nodeOptions: ['--max-old-space-size=8192'],
    maxBodyBytes: 512 * 1024 * 1024,
  });
  const clientOf = () =>
    createOdooClient(
      {
        url: sandbox.env.ODOO_URL!,
        database: sandbox.env.ODOO_DATABASE!,
        username: sandbox.env.ODOO_USERNAME!,
        password: sandbox.env.ODOO_PASSWORD!,
        protocol: 'jsonrpc',
        timeoutMs: 600_000,
        retries: 0,
      },
      { logger },
    );
  const odoo = clientOf();
  return {
    sandbox,
    odoo,
    /** Writes `values` into one record, over a connection of its own. */
    write: async (model: string, id: number, values: Record<string, string>) => {
      const writer = clientOf();
      try {
        await writer.executeKw(model, 'write', [[id], values]);
      } finally {
        await writer.close();
      }
    },
    close: async () => {
      await odoo.close();
      await sandbox.stop();
    },
  };
}

/** A first copy by a worker process into a database of its own. */
async function copyOnce(input: {
  readonly pgUrl: string;
  readonly redisUrl: string;
  readonly sandboxEnv: Record<string, string>;
  readonly protocol: OdooProtocol;
  readonly name: string;
  readonly logger: Logger;
  /** Another checkout's worker (its dist/ built). */
  readonly cwd?: string;
  /** The worker's REDIS_LIVENESS_TIMEOUT_MS; its default unless given. */
  readonly livenessTimeoutMs?: number;
}): Promise<{
  db: DbHandle;
  seconds: number;
  result: { status: string; counts: Record<string, number> };
  workerPeakRssMb: number;
}> {
  const { sandboxEnv } = input;
  const db = await createDatabase(input.pgUrl, input.name);
  try {
    await setPaused(db.db, bcsFamily.name, 'bench');
    const prefix = `bench-${randomBytes(3).toString('hex')}`;
    const worker = await startWorker(
      {
        PATH: process.env.PATH,
        HOME: process.env.HOME ?? '/tmp',
        DATABASE_URL: db.url,
        REDIS_URL: input.redisUrl,
        QUEUE_PREFIX: prefix,
        ODOO_URL: sandboxEnv.ODOO_URL,
        ODOO_DATABASE: sandboxEnv.ODOO_DATABASE,
        ODOO_USERNAME: sandboxEnv.ODOO_USERNAME,
        ODOO_PASSWORD: sandboxEnv.ODOO_PASSWORD,
        // JSON-2 takes a key; the sandbox takes its password as one.
        ...(input.protocol === 'json2' ? { ODOO_API_KEY: sandboxEnv.ODOO_PASSWORD } : {}),
        ODOO_PROTOCOL: input.protocol,
        SYNC_FAMILIES: bcsFamily.name,
        SYNC_EVERY: '1h',
        WORKER_HTTP_PORT: '0',
        // startWorker waits for the `worker started` line, logged at info.
        LOG_LEVEL: 'info',
        LOG_PRETTY: 'false',
        ...(input.livenessTimeoutMs === undefined
          ? {}
          : { REDIS_LIVENESS_TIMEOUT_MS: String(input.livenessTimeoutMs) }),
      },
      [],
      false,
      undefined,
      input.cwd,
    );
    try {
      const { seconds, result } = await timedSyncRun(input.redisUrl, prefix, input.logger);
      return { db, seconds, result, workerPeakRssMb: peakRssMb(worker.pid!) };
    } finally {
      await stopChild(worker);
    }
  } catch (error) {
    await db.close();
    throw error;
  }
}

export async function runLargeValuesBench(input: {
  protocols: readonly OdooProtocol[];
  baseline?: string;
  ordinary?: number;
  /**
   * The workers' REDIS_LIVENESS_TIMEOUT_MS. A job whose statement is pending half of it is ended
   * and runs again: on a loaded machine the statement that writes a row of a 99 MB value can take
   * longer than its default allows, and a larger one measures the memory there.
   */
  livenessTimeoutMs?: number;
}): Promise<LargeValuesResult> {
  const logger = pino({ level: 'warn' });
  const [pg, redis] = await Promise.all([startLocalPostgres(), startLocalRedis()]);
  const closers: (() => Promise<unknown>)[] = [() => redis.stop(), () => pg.stop()];
  /** Closes now what was to be closed at the end. */
  const closeNow = async (close: () => Promise<unknown>) => {
    closers.splice(closers.indexOf(close), 1);
    await close();
  };
  try {
    const odoo = await startOdoo(ORDINARY + 2, logger);
    closers.unshift(odoo.close);
    // The large ones among the live BCs (the API answers an archived one only when asked); the
    // archived ones counted too, as the copy reads them (active_test false).
    const bcIds = await odoo.odoo.search(BC_MODEL, [], { order: 'id asc' });
    const allBcs = await odoo.odoo.searchCount(BC_MODEL, [], { context: { active_test: false } });
    // Apart, so that no page of the copy holds both (an answer is built whole by Odoo).
    const [largeBc, tooLargeBc] = [bcIds[100]!, bcIds[bcIds.length - 100]!];
    const linesOf = (bc: number) =>
      odoo.odoo.search(BC_LINE_MODEL, [['bc_id', '=', bc]], { order: 'id asc' });
    const largeLines = (await linesOf(largeBc)).slice(0, 3);
    const [tooLargeLine] = await linesOf(tooLargeBc);
    const digests: { model: string; id: number; field: string; md5: string }[] = [];
    for (const [model, id, field] of [
      [BC_MODEL, largeBc, 'notes'],
      ...largeLines.map((line) => [BC_LINE_MODEL, line, 'name'] as const),
    ] as const) {
      const { text, md5 } = noteOf(LARGE_MB * 1_000_000);
      await odoo.write(model, id, { [field]: text });
      digests.push({ model, id, field, md5 });
    }
    await odoo.write(BC_LINE_MODEL, tooLargeLine!, { name: noteOf(TOO_LARGE_MB * 1_000_000).text });

    const copies: LargeValuesResult['copies'][number][] = [];
    let copied: DbHandle | undefined;
    for (const protocol of input.protocols) {
      const { db, seconds, result, workerPeakRssMb } = await copyOnce({
        pgUrl: pg.url,
        redisUrl: redis.url,
        sandboxEnv: odoo.sandbox.env,
        protocol,
        name: `large_values_${protocol}`,
        ...(input.livenessTimeoutMs === undefined
          ? {}
          : { livenessTimeoutMs: input.livenessTimeoutMs }),
        logger,
      });
      closers.unshift(() => db.close());
      const sql = db.sql!;
      if (result.status !== 'partial' || result.counts.failed !== 1)
        throw new Error(`the copy over ${protocol}: ${JSON.stringify(result)}`);
      for (const { model, id, field, md5 } of digests) {
        const table = model === BC_MODEL ? 'scrap_dimagaz_bc' : 'scrap_dimagaz_bc_line';
        const [row] = await sql<{ data: string; column: string | null }[]>`
          select md5(sync_restored_data(${table}, odoo_id, data)->>${field}) as data,
            ${model === BC_MODEL ? sql`null` : sql`md5(name)`} as column
          from ${sql(table)} where odoo_id = ${id}`;
        if (row?.data !== md5 || (model !== BC_MODEL && row.column !== md5))
          throw new Error(`the copy over ${protocol}: ${model} ${id}'s ${field} is not Odoo's`);
      }
      const [failure] = await sql<{ odoo_id: number; error_code: string; error: string }[]>`
        select odoo_id, error_code, error from sync_failure`;
      if (failure?.odoo_id !== tooLargeBc || failure.error_code !== 'SYNC_VALUE_TOO_LARGE')
        throw new Error(`over ${protocol}, sync_failure holds ${JSON.stringify(failure)}`);
      const [counts] = await sql<{ bcs: number; staged: number }[]>`
        select (select count(*)::int from scrap_dimagaz_bc) as bcs,
          (select count(*)::int from sync_large_value) as staged`;
      if (counts?.bcs !== allBcs - 1 || counts.staged !== 0)
        throw new Error(`over ${protocol}: ${JSON.stringify(counts)}`);
      const copy = {
        protocol,
        seconds,
        odooCalls: result.counts.odooCalls ?? 0,
        workerPeakRssMb,
        failure: failure.error,
        load: load(),
      };
      process.stderr.write(`copied over ${protocol}: ${JSON.stringify(copy)}\n`);
      copies.push(copy);
      copied = db;
    }
    await closeNow(odoo.close);

    const keys = Array.from({ length: KEYS }, (_, i) => generateApiKey(`bench-${i}`, 'reader'));
    const api = await startApiProcess({
      PATH: process.env.PATH ?? '',
      DATABASE_URL: copied!.url!,
      REDIS_URL: redis.url,
      API_KEYS: keys.map((key) => key.entry).join(','),
      LOG_LEVEL: 'warn',
      LOG_PRETTY: 'false',
    });
    const stopApi = () => stopChild(api.child);
    closers.unshift(stopApi);
    const idleRssMb = residentMb(api.child.pid!);
    const parentKey = modelList(bcsFamily.children[0]!).parentKey;
    const paths = [
      `/api/models/${BC_MODEL}/records/${largeBc}`,
      `/api/bcs/${largeBc}`,
      `/api/models/${BC_LINE_MODEL}/records?${parentKey}=${largeBc}`,
      `/api/models/${BC_LINE_MODEL}/records/${largeLines[0]!}`,
    ];
    const authorization = (i: number) => `Bearer ${keys[i % KEYS]!.key}`;
    const answers = await allAtOnce(
      api.origin,
      Array.from({ length: REQUESTS }, (_, i) => ({
        path: paths[i % paths.length]!,
        authorization: authorization(i),
      })),
    );
    const recordsPeakRssMb = peakRssMb(api.child.pid!);
    const startedMs = performance.now();
    const downloads = Array.from({ length: REQUESTS }, (_, i) => digests[i % digests.length]!);
    const downloaded = await allAtOnce(
      api.origin,
      downloads.map(({ model, id, field }, i) => ({
        path: `/api/models/${model}/records/${id}/fields/${field}`,
        authorization: authorization(i),
      })),
    );
    // Counted, not thrown: a figure taken while some answers failed says so beside it, and the
    // ordinary records' copy still runs.
    const downloadsWhole = downloaded.filter(
      (download, i) =>
        download.status === 200 &&
        createHash('md5').update(download.body).digest('hex') === downloads[i]!.md5,
    ).length;
    const result: LargeValuesResult = {
      limitsMb: { worker: memoryLimitMb('worker'), api: memoryLimitMb('api') },
      copies,
      api: {
        idleRssMb,
        recordsPeakRssMb,
        largestAnswerBytes: Math.max(...answers.map((answer) => answer.body.length)),
        statuses: answers.map((answer) => answer.status),
        fieldPeakRssMb: peakRssMb(api.child.pid!),
        downloadsWhole,
        fieldSeconds: (performance.now() - startedMs) / 1_000,
        load: load(),
      },
    };
    await closeNow(stopApi);
    if (input.baseline === undefined) return result;
    const ordinary = await timeOrdinary({
      protocols: input.protocols,
      baseline: input.baseline,
      bcs: input.ordinary ?? ORDINARY_BCS,
      pgUrl: pg.url,
      redisUrl: redis.url,
      logger,
    });
    return { ...result, ordinary };
  } finally {
    for (const close of closers) await close().catch(() => undefined);
  }
}

/** The ordinary records' copy by this checkout's worker and the baseline's, in turn (A B A B). */
async function timeOrdinary(input: {
  protocols: readonly OdooProtocol[];
  baseline: string;
  bcs: number;
  pgUrl: string;
  redisUrl: string;
  logger: Logger;
}): Promise<NonNullable<LargeValuesResult['ordinary']>> {
  const odoo = await startOdoo(input.bcs, input.logger);
  try {
    const copies: NonNullable<LargeValuesResult['ordinary']>['copies'][number][] = [];
    for (const protocol of input.protocols)
      for (const [round, code] of (['this', 'baseline', 'this', 'baseline'] as const).entries()) {
        const copy = await copyOnce({
          pgUrl: input.pgUrl,
          redisUrl: input.redisUrl,
          sandboxEnv: odoo.sandbox.env,
          protocol,
          name: `ordinary_${protocol}_${round}`,
          logger: input.logger,
          ...(code === 'baseline' ? { cwd: input.baseline } : {}),
        });
        await copy.db.close();
        if (copy.result.status !== 'succeeded')
          throw new Error(`the ${code} copy over ${protocol}: ${JSON.stringify(copy.result)}`);
        const figure = {
          protocol,
          code,
          seconds: copy.seconds,
          workerPeakRssMb: copy.workerPeakRssMb,
          load: load(),
        };
        process.stderr.write(`ordinary copy: ${JSON.stringify(figure)}\n`);
        copies.push(figure);
      }
    return { bcs: input.bcs, copies };
  } finally {
    await odoo.close();
  }
}

/** Each status and how many answers had it: `200 × 9, 503 × 3`. */
function statusCounts(statuses: readonly number[]): string {
  const counts = new Map<number, number>();
  for (const status of statuses) counts.set(status, (counts.get(status) ?? 0) + 1);
  return [...counts].map(([status, count]) => `${status} × ${count}`).join(', ');
}

/** The result as lines of text. */
export function describeLargeValuesBench(result: LargeValuesResult): string[] {
  const { limitsMb, api } = result;
  const ordinary = result.ordinary;
  return [
    ...result.copies.map(
      (copy) =>
        `worker, first copy of ${ORDINARY.toLocaleString('en-US')} BCs with one holding four values of ${LARGE_MB} MB and one a value of ${TOO_LARGE_MB} MB, over ${copy.protocol}: peak RSS ${copy.workerPeakRssMb} MB (limit ${limitsMb.worker} MB), ${copy.seconds.toFixed(1)} s, ${copy.odooCalls} Odoo calls, load ${copy.load}; refused: ${copy.failure}`,
    ),
    `API, ${REQUESTS} requests at once for the BC of four large values: peak RSS ${api.recordsPeakRssMb} MB (idle ${api.idleRssMb} MB; limit ${limitsMb.api} MB), largest answer ${api.largestAnswerBytes.toLocaleString('en-US')} bytes, statuses ${statusCounts(api.statuses)}`,
    `API, ${REQUESTS} downloads at once of its four values: ${api.downloadsWhole} answered Odoo's value whole, peak RSS ${api.fieldPeakRssMb} MB, ${api.fieldSeconds.toFixed(1)} s, load ${api.load}`,
    ...(ordinary === undefined
      ? []
      : ordinary.copies.map(
          (copy) =>
            `ordinary copy of ${ordinary.bcs.toLocaleString('en-US')} BCs × ${LINES} over ${copy.protocol}, ${copy.code}: ${copy.seconds.toFixed(1)} s, peak RSS ${copy.workerPeakRssMb} MB, load ${copy.load}`,
        )),
  ];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseBenchArgs({
    command: 'npx tsx bench/large-values-bench.ts',
    about:
      "A record's large values against the memory limits the deployment gives each process: the compiled worker's first copy of 1,002 BCs, one holding four values of 99 MB and one a value of 300 MB (past ODOO_VALUE_MAX_BYTES), over each transport asked for; then the compiled API's reads and downloads of that record, 12 at once; each process's peak RSS.",
    options: {
      protocol: {
        type: 'string',
        value: TRANSPORTS.join('|'),
        multiple: true,
        defaultText: TRANSPORTS.join(', '),
        choices: TRANSPORTS,
        about: 'a transport the worker copies over',
      },
      baseline: {
        type: 'string',
        value: 'DIR',
        about:
          "another checkout of the project, its dist/ built: then the ordinary records' copy by its worker and this one's, in turn",
      },
      ordinary: {
        type: 'string',
        value: 'N',
        number: 'whole',
        defaultText: String(ORDINARY_BCS),
        about: "BCs of ten lines, no large value, in the ordinary records' copy --baseline adds",
      },
      'liveness-timeout-ms': {
        type: 'string',
        value: 'MS',
        number: 'whole',
        about:
          "the workers' REDIS_LIVENESS_TIMEOUT_MS, otherwise its default: on a loaded machine, writing a 99 MB value can outlast half of it, which runs the job again",
      },
      ...BUILD_OPTIONS,
      json: { type: 'boolean', about: 'print the result as JSON' },
    },
    examples: [
      'npx tsx bench/large-values-bench.ts --protocol jsonrpc --liveness-timeout-ms 120000',
      'npm run bench -- large-values',
    ],
  });
  if (!values['no-build']) buildDist();
  const result = await runLargeValuesBench({
    protocols: values.protocol ?? TRANSPORTS,
    ...(values.baseline === undefined ? {} : { baseline: values.baseline }),
    ...(values.ordinary === undefined ? {} : { ordinary: Number(values.ordinary) }),
    ...(values['liveness-timeout-ms'] === undefined
      ? {}
      : { livenessTimeoutMs: Number(values['liveness-timeout-ms']) }),
  });
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else for (const line of describeLargeValuesBench(result)) process.stdout.write(`${line}\n`);
  process.exit(0);
}
