/**
 * `npm run db:migrate`: applies the migrations to DATABASE_URL and makes the change feed's
 * partitions of the coming days (docs/feed.md, "Retention"), then creates or extends the tables
 * of the families SYNC_FAMILIES_FILE declares from Odoo's `fields_get` (docs/models.md); exits
 * non-zero on failure, naming every problem. With REDIS_URL set, its Odoo calls take their turn
 * in the fleet's call budget (docs/odoo.md, "Call budget"): every instance may run it at start,
 * beside running workers.
 *
 * One connection serves it all, the Odoo client's reads of the stored API key included: no
 * transaction of it waits on Odoo (apply-layouts.ts reads Odoo first), so none waits on a second
 * connection, and PostgreSQL ends a session left idle in a transaction as it does the workers'.
 */
import { loadConfigOrExit } from '../config/config.js';
import {
  applyLayouts,
  LAYOUT_LOCK_WAIT_MS,
  LayoutRefusedError,
  readLayouts,
  type AppliedLayout,
} from '../families/configured/apply-layouts.js';
import {
  describeUnfit,
  forgetUnfitValues,
  readUnfitValues,
  type UnfitField,
} from '../sync/unfit-values.js';
import type { Logger } from '../lib/logger.js';
import { createLogger } from '../lib/logger.js';
import { createOdooLink } from '../odoo-link/odoo-link.js';
import { createDb, type Db } from '../db/create-db.js';
import { waitForDatabase } from '../db/wait-for-database.js';
import { MIGRATION_LOCK_WAIT_MS, runMigrations } from '../db/migrate.js';
import { connectSharedState, migrateQueueStore } from '../stores/open-stores.js';
import { CODE_FAMILIES } from '../families/registry.js';
import { sourceSpec } from '../families/source-family.js';
import { DEFAULT_SOURCE } from '../sources/family-key.js';
import { placeCodeTables } from '../families/source-tables.js';
import { ensureFeedPartitions } from '../feed/feed-partitions.js';
import { answerUsage } from '../lib/command-usage.js';

const USAGE = `Usage: npm run start:migrate   (node dist/src/cli/migrate.js; the image's "migrate")

Applies the migrations to DATABASE_URL, makes the change feed's partitions of the coming days,
and creates or extends the tables of the families SYNC_FAMILIES_FILE declares from Odoo's own
schema (docs/models.md). Run it before the API and the workers start, and again after an
upgrade; every instance may run it at once (a lock makes them take turns).

Configuration comes from the environment and an optional .env (every key: .env.example). It
needs DATABASE_URL, and Odoo's keys (ODOO_* or SYNC_SOURCES_FILE) when SYNC_FAMILIES_FILE is
set. Exits 0 when the database is ready, 1 naming every problem otherwise.

Options:
  -h, --help   this help`;

answerUsage(USAGE);

const config = loadConfigOrExit({
  mode: 'production',
  role: 'migrate',
  codeFamilies: CODE_FAMILIES,
});
const logger = createLogger({ ...config.log, name: 'migrate' });
// A migrator waits for another's locks (and its DDL for the API's reads) longer than a worker's
// statement would, but not without end.
const handle = await createDb({
  ...config.database,
  sessionLimits: {
    lockTimeoutMs: Math.max(MIGRATION_LOCK_WAIT_MS, LAYOUT_LOCK_WAIT_MS),
    idleInTransactionTimeoutMs: config.database.sessionLimits.idleInTransactionTimeoutMs,
  },
  poolMax: 1,
  logger,
});
const otherSources = config.sources.filter((one) => one.name !== DEFAULT_SOURCE);
try {
  await waitForDatabase(() => handle.ping(), { waitMs: config.database.bootWaitMs, logger });
  await runMigrations(handle);
  logger.info('migrations applied');
  const queueTables = await migrateQueueStore(config);
  if (queueTables) logger.info(queueTables, "BullMQ's queue tables migrated");
  // The feed's partitions of the coming days, as the workers' feed-prune job makes them.
  const partitions = await ensureFeedPartitions(handle.db);
  if (partitions.length > 0)
    logger.info({ partitions: partitions.map((p) => p.name) }, "the feed's partitions made");
  // Each other source's tables of the families declared in code, made from public's or brought
  // level with them (docs/sources.md); its configured families' come below, from its Odoo.
  for (const source of otherSources) {
    const families = CODE_FAMILIES.filter((family) => source.families.includes(family.name));
    const placed = await placeCodeTables(handle.db, source.schema, families);
    logger.info(
      { source: source.name, schema: source.schema, statements: placed.length },
      placed.length > 0 ? "a source's tables made or brought level" : "a source's tables are level",
    );
  }
  // The configured families' tables: the default source's in public, each other source's in its
  // schema, each planned from its own Odoo's fields_get (two databases may differ).
  const { configured } = config.sync.families;
  const plans = [
    ...(config.odoo ? [{ odoo: config.odoo, specs: configured, schema: undefined }] : []),
    ...otherSources.map((source) => ({
      odoo: source.odoo,
      specs: configured
        .filter((spec) => source.families.includes(spec.name))
        .map((spec) => sourceSpec(spec, source.name)),
      schema: source.schema,
    })),
  ].filter((plan) => plan.specs.length > 0);
  if (plans.length > 0) {
    const { shared, close: closeShared } = await connectSharedState({
      settings: config,
      db: handle.db,
      logger,
    });
    let refused: LayoutRefusedError | undefined;
    try {
      for (const plan of plans) {
        // The key in use may be one a worker renewed: read through the shared store.
        const odoo = createOdooLink({ db: handle.db, odoo: plan.odoo, logger, shared }).client;
        try {
          for (const applied of await applyLayouts(handle.db, odoo, plan.specs, {
            ...(plan.schema === undefined ? {} : { schema: plan.schema }),
          }))
            reportApplied(logger, applied);
        } catch (error) {
          // The families migrate could apply are applied: say so before naming the refused ones;
          // another source's are applied all the same.
          if (!(error instanceof LayoutRefusedError)) throw error;
          for (const applied of error.applied) reportApplied(logger, applied);
          refused ??= error;
        } finally {
          await odoo.close();
        }
      }
    } finally {
      await closeShared();
    }
    if (refused !== undefined) throw refused;
  }
  await adviseOnUnfitValues(handle.db, logger);
} catch (error) {
  logger.error({ err: error }, 'migration failed');
  process.exitCode = 1;
} finally {
  await handle.close();
}

/**
 * The fields whose values Odoo sends no longer fit their column (src/sync/unfit-values.ts): a
 * column a layout now plans of another kind takes them again, and is forgotten; each other is
 * named with the way out.
 */
async function adviseOnUnfitValues(db: Db, log: Logger): Promise<void> {
  const unfit = await readUnfitValues(db);
  if (unfit.length === 0) return;
  const layouts = await readLayouts(db);
  const columnOf = (row: UnfitField) =>
    layouts
      .get(row.family)
      ?.models.find((model) => model.model === row.model)
      ?.columns.find((column) => column.field === row.field);
  const retyped = unfit.filter((row) => {
    const kind = columnOf(row)?.kind;
    return kind !== undefined && kind !== row.kind;
  });
  await forgetUnfitValues(db, retyped);
  for (const row of unfit.filter((entry) => !retyped.includes(entry))) {
    const column = columnOf(row);
    log.warn(
      { family: row.family, model: row.model, field: row.field, writes: row.writes },
      `family ${row.family}: ${describeUnfit(row)}. ${
        column
          ? `Rename its column (alter table <its table> rename column ${column.column} to ${column.column}_old) and run migrate again: the column is made anew for Odoo's type, and the next reconcile fills it`
          : 'The family is declared in code: declare the field with the kind of its new type'
      }`,
    );
  }
}

/** What migrate did for a family, and per model each stored field it left out and why. */
function reportApplied(log: Logger, applied: AppliedLayout): void {
  const { leftOut, leftBehind, ...counts } = applied;
  log.info(
    counts,
    applied.changed
      ? `family ${applied.family}: tables at layout ${applied.version}; the next reconcile fills what it added`
      : `family ${applied.family}: tables up to date (layout ${applied.version})`,
  );
  const models = [...new Set(leftOut.map((field) => field.model))];
  for (const model of models) {
    const fields = leftOut.filter((field) => field.model === model);
    log.info(
      {
        family: applied.family,
        model,
        leftOut: fields.map(({ field, reason }) => ({ field, reason })),
      },
      `family ${applied.family}: ${model}: ${fields.length} stored fields left out:\n${fields
        .map(({ field, reason }) => `  - ${field}: ${reason}`)
        .join('\n')}`,
    );
  }
  for (const column of leftBehind)
    log.warn(
      { family: applied.family, ...column },
      `family ${applied.family}: column ${column.table}.${column.column} is not written by the ` +
        `family's layout (an earlier layout's, or the family in code's) and ${
          column.holdsValues
            ? 'holds values, which migrate keeps; once they are no longer wanted, drop it'
            : 'holds no value; drop it'
        }: ${column.dropSql}`,
    );
}
