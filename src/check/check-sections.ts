/**
 * The check's sections as a process builds them from its configuration: for an Odoo source, a
 * client of its own as every process builds one (src/odoo-link/odoo-link.ts) — the key the fleet
 * sends (the one a worker renewed, when it did), its calls admitted by the fleet's call budget —
 * its calls counted, and the families the source copies; for
 * Tryton, a client of its own that renews no device cookie and logs out at the end. The sync CLI
 * and the workers (for `GET /api/sync/check`) build them alike.
 *
 * A section's lines are masked as a log line is (src/lib/redact-url.ts): a line names the URL it
 * could not reach, and an error's text may quote it, with its credentials, which the report must
 * not carry to an operator key or to the job's result kept in the queues.
 */
import { sql } from 'drizzle-orm';
import { createTrytonClient } from '../clients/tryton/tryton-client.js';
import type { Config, TrytonConfig } from '../config/config.js';
import type { SourceConfig } from '../config/sources.js';
import type { Db } from '../db/create-db.js';
import { rowsOf } from '../db/sql-rows.js';
import { CODE_FAMILIES } from '../families/registry.js';
import type { SharedState } from '../stores/shared-state.js';
import type { Logger } from '../lib/logger.js';
import { redactUrl } from '../lib/redact-url.js';
import { readCallPause } from '../odoo-budget/call-budget.js';
import { createOdooLink } from '../odoo-link/odoo-link.js';
import type { CheckLine, CheckSection } from './check-report.js';
import type { FamilyToCheck } from './family-check.js';
import { checkOdoo } from './odoo-check.js';
import { checkTryton } from './tryton-check.js';

/** The families a source copies, declared in code or in the declaration file, in its order. */
function familiesOf(config: Config, source: SourceConfig): FamilyToCheck[] {
  return source.families.flatMap((name): FamilyToCheck[] => {
    const code = CODE_FAMILIES.find((family) => family.name === name);
    if (code) return [{ name, code }];
    const spec = config.sync.families.configured.find((family) => family.name === name);
    return spec ? [{ name, spec }] : [];
  });
}

async function postgresNow(db: Db): Promise<Date> {
  const [row] = rowsOf<{ now: Date | string }>(
    await db.execute(sql`select clock_timestamp() as now`),
  );
  return new Date(row!.now);
}

const redacted = (lines: readonly CheckLine[]): CheckLine[] =>
  lines.map((line) => ({
    ...line,
    text: redactUrl(line.text),
    ...(line.action === undefined ? {} : { action: redactUrl(line.action) }),
  }));

/** One source's Odoo, checked. */
export async function checkOdooSection(input: {
  config: Config;
  source: SourceConfig;
  db: Db;
  /**
   * The fleet's shared state: its call budget admits the check's calls. Undefined when it does not
   * answer: the calls go unadmitted, and the budget's line says the pause is unknown.
   */
  shared: SharedState | undefined;
  logger: Logger;
  signal?: AbortSignal;
}): Promise<CheckSection> {
  const { source, db, shared, logger } = input;
  const { odoo } = source;
  let calls = 0;
  // As every process builds it, but a check logs in itself (that is what it checks) and records
  // nothing: it only reads.
  const { client } = createOdooLink({
    db,
    odoo,
    logger,
    shared,
    memoLogin: false,
    records: false,
    observer: {
      attempt: () => {
        calls += 1;
      },
      retry: () => undefined,
    },
  });
  try {
    const lines = await checkOdoo({
      source: source.name,
      odoo,
      client,
      families: familiesOf(input.config, source),
      webhookTokens: source.webhookTokenSha256.length,
      postgresNow: () => postgresNow(db),
      pause: () =>
        shared
          ? readCallPause(shared, odoo).catch(() => 'unknown' as const)
          : Promise.resolve('unknown' as const),
      ...(input.signal ? { signal: input.signal } : {}),
    });
    return {
      kind: 'odoo',
      source: source.name,
      target: `${redactUrl(odoo.url)}, database ${odoo.database}, user ${odoo.username}`,
      lines: redacted(lines),
      calls,
    };
  } finally {
    await client.close();
  }
}

/** The Tryton gateway's trytond, checked. */
export async function checkTrytonSection(input: {
  tryton: TrytonConfig;
  logger: Logger;
  signal?: AbortSignal;
}): Promise<CheckSection> {
  const { tryton, logger } = input;
  const client = createTrytonClient(tryton, { logger, deviceCookie: false });
  try {
    const lines = await checkTryton(client, tryton, input.signal);
    const stats = client.stats();
    return {
      kind: 'tryton',
      target: `${redactUrl(tryton.rpcUrl)}, database ${tryton.database}, user ${tryton.user}`,
      lines: redacted(lines),
      calls: stats.logins + Object.values(stats.calls).reduce((sum, n) => sum + n, 0),
    };
  } finally {
    await client.close();
  }
}
