/**
 * `npm run sync -- check [--source S] [--json]`: proves the deployment's Odoo sources and its
 * Tryton before the first copy (docs/sources.md, "Checking a deployment"), and prints what it
 * found, a line per check. Needs no `migrate` and no worker: it calls Odoo and Tryton itself, its
 * Odoo calls admitted by the fleet's call budget. Writes nothing to Odoo, Tryton or PostgreSQL.
 */
import type { Config } from '../src/config/config.js';
import type { Db } from '../src/db/create-db.js';
import type { Logger } from '../src/lib/logger.js';
import { reportOf, renderReport, type CheckSection } from '../src/check/check-report.js';
import { checkOdooSection, checkTrytonSection } from '../src/check/check-sections.js';
import { openStores } from '../src/stores/open-stores.js';
import type { QueueRedis } from '../src/stores/redis-connection.js';

/** The check's exit status: 0 when no line says FAIL, 1 otherwise. */
export async function runCheckCommand(input: {
  config: Config;
  db: Db;
  logger: Logger;
  /** One source's Odoo only; every source this process copies, and Tryton, when undefined. */
  source: string | undefined;
  json: boolean;
  write: (text: string) => void;
}): Promise<number> {
  const { config, db, logger } = input;
  // The sources this process copies (SYNC_SOURCES), each with its credentials.
  const sources = config.sources.filter(
    (source) =>
      config.sync.sources.includes(source.name) &&
      (input.source === undefined || source.name === input.source),
  );
  const stores = openStores({ settings: config, role: 'producer', listeners: 1, db, logger });
  try {
    // The call budget's state, once it answers: a Redis that does not leaves the check's calls
    // outside the fleet's budget, and the budget's line says so.
    const shared = (await answers(stores.redis, logger)) ? stores.shared : undefined;
    const sections: CheckSection[] = [];
    for (const source of sources)
      sections.push(await checkOdooSection({ config, source, db, shared, logger }));
    if (config.tryton && input.source === undefined)
      sections.push(await checkTrytonSection({ tryton: config.tryton, logger }));
    const report = reportOf(sections);
    input.write(input.json ? JSON.stringify(report, null, 2) : renderReport(report));
    return report.ok ? 0 : 1;
  } finally {
    await stores
      .close()
      .catch((error: unknown) =>
        logger.debug({ err: error }, 'check: the queue Redis closed with an error'),
      );
  }
}

/** Whether the queue Redis (none: the shared state is PostgreSQL's) is ready for commands. */
async function answers(redis: QueueRedis | undefined, logger: Logger): Promise<boolean> {
  if (redis === undefined || redis.status === 'ready') return true;
  return new Promise<boolean>((resolve) => {
    redis.once('ready', () => resolve(true));
    redis.once('error', (error: Error) => {
      logger.warn({ err: error }, 'check: the queue Redis does not answer');
      resolve(false);
    });
  });
}
