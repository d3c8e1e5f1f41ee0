/** The copy: which families, how often, how much at once (docs/sync.md). Each key once: its parser, its default and its documentation (env-setting.ts). */
import { z } from 'zod';
import { CRON_PATTERN, CRON_PATTERN_MESSAGE } from '../declared-schedule.js';
import { defaulted, setting } from '../env-setting.js';
import { duration, optionalText, ratio, wholeNumber } from '../env-values.js';

export const SYNC_SETTINGS = {
  SYNC_FAMILIES: setting(optionalText(), {
    description:
      'Record families copied, comma-separated: bcs (dimagaz.bc with its lines), partners (res.partner), moves (account.move with its lines), and the families of SYNC_FAMILIES_FILE. Each has its own lease, schedule and state. Unset: bcs, the demo bcs and partners, and with SYNC_FAMILIES_FILE every family it declares.',
    // Applied by the configuration itself: it depends on the mode and on SYNC_FAMILIES_FILE.
    shownDefault: 'bcs',
  }),
  SYNC_FAMILIES_FILE: setting(optionalText(), {
    description:
      "A YAML or JSON file declaring more families to copy, any Odoo model (docs/models.md); `migrate` creates their tables from Odoo's fields_get.",
  }),
  SYNC_SOURCES_FILE: setting(optionalText(), {
    description:
      "A YAML or JSON file declaring more Odoo databases to copy beside ODOO_*'s (the source named default, copied into schema public), each into a PostgreSQL schema of its own, with its families, call budget, schedule and webhook tokens (docs/sources.md). Its credentials are { env: VARIABLE } or { file: PATH } references, never the secrets themselves.",
  }),
  SYNC_SOURCES: setting(optionalText(), {
    description:
      'Sources copied by this process, comma-separated: default (the Odoo of ODOO_*) and the names of SYNC_SOURCES_FILE. Unset: every source.',
  }),
  SYNC_EVERY: defaulted(duration(), '5m', {
    description:
      'Interval of the incremental sync of each family (30s, 5m, 1h), unless its declaration sets its own.',
  }),
  SYNC_OVERLAP_SECONDS: defaulted(
    wholeNumber('a whole number of seconds', 0, 86_400).refine((seconds) => seconds >= 60, {
      error:
        "must be at least 60: Odoo stamps a change with the start of its transaction, so a change committed late carries an older stamp; the overlap must outlast Odoo's longest transaction",
    }),
    '600',
    { description: 'How far before the watermark each run re-reads.' },
  ),
  SYNC_LEASE_SECONDS: defaulted(wholeNumber('a whole number of seconds', 10, 86_400), '120', {
    description: 'Lifetime of the sync lease; a heartbeat extends it while a run is alive.',
  }),
  SYNC_CONCURRENCY: defaulted(wholeNumber('a whole number of jobs', 1, 64), '3', {
    description:
      'Page jobs one worker process runs at once, and as many BC jobs besides. Each page in flight holds its records in memory (up to ODOO_PAGE_MAX_BYTES of them as JSON, several times that as objects): 3 keeps a worker under 250 MB with 2 MiB pages and is as fast as 4 on two cores (docs/performance.md).',
  }),
  SYNC_JOB_ATTEMPTS: defaulted(wholeNumber('a whole number of attempts', 1, 50), '5', {
    description: 'Attempts of a sync job before it fails for good.',
  }),
  SYNC_RUN_PAGES_IN_FLIGHT: defaulted(wholeNumber('a whole number of pages', 1, 10_000), '100', {
    description:
      "Pages a run has queued at once: it queues them in waves of this many, the next once these have settled. Bounds what a large run (a first copy) keeps in Redis and how many of its pages another family's run can wait behind (a small run's pages go first anyway).",
  }),
  SYNC_RECONCILE_CRON: defaulted(
    z.string().trim().regex(CRON_PATTERN, { error: CRON_PATTERN_MESSAGE }),
    '0 3 * * *',
    {
      description:
        "Cron pattern (UTC) of each family's reconcile (then its verify), unless its declaration sets its own: each family's minute is moved by 0-59 minutes, the same for a name on every worker, so that families do not all start at once (0 3 * * * runs between 03:00 and 03:59). A minute that is not one number is kept.",
    },
  ),
  SYNC_RECONCILE_MIN_RATIO: defaulted(ratio(), '0.5', {
    description:
      'Reconcile archives nothing when Odoo lists fewer than this share of the live BCs the copy holds.',
  }),
  SYNC_VERIFY_CYCLE_DAYS: defaulted(wholeNumber('a whole number of days', 1, 365), '7', {
    description:
      "Days in which the nightly verify, after each family's reconcile, compares every record of the copy with Odoo by content: one slice (odoo_id modulo this) a night.",
  }),
  SYNC_JOB_LOCK_MS: defaulted(
    wholeNumber('a whole number of milliseconds', 1_000, 600_000),
    '30000',
    {
      description:
        "How long a job's lock lives without renewal: the jobs of a worker that died are taken over after it.",
    },
  ),
};
